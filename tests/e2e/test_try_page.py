"""The try-it page (/try/) in a real headless Chromium against a real stack: the models, the worker, Redis, S3 and
the track catalog. The page is driven like a person would: upload a photo, type, click (or only the keyboard);
what it shows is compared with what the API answers for the same inputs.

Needs Debian's `chromium` and `chromium-driver` (./museaika setup installs them); Selenium Manager is never used.
Screenshots of the key states go to this run's temporary folder (their paths are printed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image
from pymongo import MongoClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from launcher import services
from launcher.stack import Stack, StackConfig
from tests.support.api_client import PASSWORD
from tests.support.images import ASTRONAUT

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOG_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "spotify_tracks_small.csv"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SENTENCE = "What a wonderful day, I finally got the job!"
WINDOW_WIDTH = 1280

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="the browser test needs Debian's chromium and chromium-driver on PATH (./museaika setup installs them)")

T = TypeVar("T")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, mongo_database: str, redis_url: str,
          s3_endpoint: services.S3Endpoint) -> Iterator[Stack]:
    """A stack of its own (default models and the worker) on its own database and Redis database."""
    database = f"{mongo_database}_web"
    config = StackConfig(run_dir=tmp_path_factory.mktemp("try_page_stack"), mongo_url=mongo_url,
                         mongo_database=database, redis_url=f"{redis_url.rsplit('/', 1)[0]}/3", s3=s3_endpoint,
                         s3_bucket="museaika-web", start_worker=True)
    with Stack(config) as started:
        yield started
    with MongoClient(mongo_url) as client:
        client.drop_database(database)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.orchestrator_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # A fake camera (Chromium's test pattern, no face in it) that needs no permission prompt.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio",
                     "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--window-size={WINDOW_WIDTH},1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("try_page_screenshots")


# -- helpers ------------------------------------------------------------------------------------------------------
def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T], timeout_s: float = 20,
             what: str = "the page") -> T:
    result: T = WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(
        condition, message=f"{what} after {timeout_s} s")
    return result


def browser_log(driver: WebDriver, kind: str) -> list[dict[str, Any]]:
    """Chromium's `browser` (console) or `performance` (DevTools events) log since the last read."""
    entries: list[dict[str, Any]] = driver.execute(Command.GET_LOG, {"type": kind})["value"]  # get_log is untyped
    return entries


def by_id(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


def open_fresh(driver: WebDriver, stack: Stack) -> None:
    """The page as a new visitor sees it: signed out, nothing chosen."""
    driver.get(f"{stack.orchestrator_url}/try/")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    browser_log(driver, "browser")  # start each test with empty logs
    browser_log(driver, "performance")


def message(driver: WebDriver, element_id: str, kind: str, timeout_s: float = 30) -> str:
    """The text of a section's aria-live message once it is of `kind` (error, warning, success)."""
    element = by_id(driver, element_id)
    wait_for(driver, lambda _: element.get_attribute("data-kind") == kind, timeout_s,
             f"no {kind} in #{element_id} (it says {element.text!r})")
    assert element.get_attribute("aria-live") == "polite"
    text: str = element.text
    assert text and "{" not in text and "\"detail\"" not in text, text  # words, never raw JSON
    return text


def shown_mood(driver: WebDriver) -> dict[str, str]:
    shown: dict[str, str] = driver.execute_script("return {...document.getElementById('mood-result').dataset}")
    return shown


def wait_for_mood(driver: WebDriver, previous_event: str | None = None) -> dict[str, str]:
    wait_for(driver, lambda d: shown_mood(d).get("state") == "done" and shown_mood(d).get("eventId") != previous_event,
             30, "no mood shown")
    return shown_mood(driver)


def screenshot(driver: WebDriver, path: Path) -> Path:
    """The whole page: the window is made as tall as the page first."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(WINDOW_WIDTH, height + 140)  # + the window's frame
    time.sleep(0.2)
    assert driver.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
    return path


def assert_no_script_errors(driver: WebDriver) -> None:
    """The console has no errors but the browser's own notes on refused requests (expected 4xx/5xx)."""
    errors = [entry["message"] for entry in browser_log(driver, "browser") if entry["level"] == "SEVERE"
              and "Failed to load resource" not in entry["message"]]
    assert not errors, errors


def import_catalog(stack: Stack) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "orchestrator.catalog.import_csv", str(CATALOG_CSV), "--mongo-url", stack.mongo_url,
         "--database", stack.config.mongo_database], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr


def fill(element: WebElement, text: str) -> None:
    element.clear()
    element.send_keys(text)


def api_mood(api: httpx.Client, image: Path | None, text: str | None, token: str | None = None) -> dict[str, Any]:
    files = {"image": (image.name, image.read_bytes(), "image/jpeg")} if image else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = api.post("/v1/moods", files=files, data={"text": text} if text else None, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def copy_if_ignored(path: Path) -> None:
    """tests/output/try_page.png, only where git ignores that folder (otherwise the screenshot stays in tmp)."""
    target = REPO_ROOT / "tests" / "output" / "try_page.png"
    git = shutil.which("git")
    if git is None:
        return
    ignored = subprocess.run([git, "check-ignore", "-q", str(target.relative_to(REPO_ROOT))], cwd=REPO_ROOT,
                             check=False, capture_output=True).returncode == 0
    if ignored:
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
        print(f"screenshot copied to {target}")


# -- tests --------------------------------------------------------------------------------------------------------
def test_photo_and_words_give_the_apis_mood_faces_boxed_and_tracks(browser: WebDriver, stack: Stack,
                                                                  api: httpx.Client, shots: Path) -> None:
    open_fresh(browser, stack)
    by_id(browser, "photo-file").send_keys(str(ASTRONAUT))
    wait_for(browser, lambda d: by_id(d, "photo-preview").get_attribute("naturalWidth") not in (None, "0"))
    by_id(browser, "feeling-text").send_keys(SENTENCE)
    # The catalog is still empty: the API answers 503 and the page says so in words, with the wait.
    assert api.post("/v1/recommendations", json={"mood": {"label": "happy"}}).status_code == 503
    by_id(browser, "find-mood").click()
    shown = wait_for_mood(browser)

    expected = api_mood(api, ASTRONAUT, SENTENCE)  # the same deterministic models, straight from the API
    mood = expected["mood"]
    assert shown["label"] == mood["label"] == by_id(browser, "mood-label").text
    assert float(shown["valence"]) == mood["valence"] and float(shown["arousal"]) == mood["arousal"]
    assert float(shown["confidence"]) == mood["confidence"]
    assert number(by_id(browser, "mood-valence").text) == pytest.approx(mood["valence"], abs=0.005)
    assert number(by_id(browser, "mood-arousal").text) == pytest.approx(mood["arousal"], abs=0.005)
    point = browser.find_element(By.ID, "va-point")
    assert float(point.get_attribute("data-valence") or "nan") == mood["valence"]
    assert "Valence" in by_id(browser, "va-plane").text and "Arousal" in by_id(browser, "va-plane").text

    faces = expected["face"]["faces"]
    boxes = browser.find_elements(By.CSS_SELECTOR, "#face-boxes .face-box")
    assert len(boxes) == len(faces) >= 1
    for box, face in zip(boxes, faces, strict=True):
        assert box.is_displayed() and box.size["width"] > 20 and box.size["height"] > 20
        assert box.get_attribute("data-top-emotion") == face["top_emotion"]
        assert box.text.startswith(face["top_emotion"])
    image = by_id(browser, "photo-preview")
    scale = image.size["width"] / Image.open(ASTRONAUT).width
    assert boxes[0].size["width"] == pytest.approx(faces[0]["box"]["width"] * scale, abs=2)
    assert "Face 1: " + faces[0]["top_emotion"] in by_id(browser, "face-list").text

    unavailable = message(browser, "tracks-message", "error")
    assert re.search(r"service we depend on \(track catalog\) is down, try again in \d+ s", unavailable), unavailable
    screenshot(browser, shots / "1-mood-empty-catalog.png")

    import_catalog(stack)
    by_id(browser, "find-mood").click()
    wait_for_mood(browser, shown["eventId"])
    message(browser, "tracks-message", "success")
    tracks = browser.find_elements(By.CSS_SELECTOR, "#track-list li.track")
    ranked = api.post("/v1/recommendations", json={"mood": {"valence": mood["valence"], "arousal": mood["arousal"]},
                                                    "limit": 8}).json()["tracks"]
    assert [t.get_attribute("data-track-id") for t in tracks] == [t["track_id"] for t in ranked]
    first = tracks[0]
    assert ranked[0]["name"] in first.text and ranked[0]["artist"] in first.text
    chips = [(chip.get_attribute("data-feature"), chip.text)
             for chip in first.find_elements(By.CSS_SELECTOR, ".why-list .why")]
    why = ranked[0]["why"]
    assert chips[0][0] == "mood" and chips[0][1].startswith(why["mood"])
    assert [text for kind, text in chips if kind == "word"] == why["features"]
    screenshot(browser, shots / "2-mood-and-tracks.png")
    assert_no_script_errors(browser)


def test_a_photo_without_a_face_is_explained_in_words(browser: WebDriver, stack: Stack, shots: Path,
                                                      tmp_path: Path) -> None:
    gray = tmp_path / "gray.png"
    Image.new("RGB", (480, 360), (128, 128, 128)).save(gray)
    open_fresh(browser, stack)
    by_id(browser, "photo-file").send_keys(str(gray))
    by_id(browser, "find-mood").click()
    said = message(browser, "mood-message", "error")
    assert "No face was found in the photo" in said
    assert shown_mood(browser)["state"] == "none" and not by_id(browser, "mood-result").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "#face-boxes .face-box")
    screenshot(browser, shots / "3-no-face.png")
    assert_no_script_errors(browser)


def test_a_network_failure_is_said_in_words(browser: WebDriver, stack: Stack) -> None:
    open_fresh(browser, stack)
    by_id(browser, "feeling-text").send_keys(SENTENCE)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/v1/moods"]})  # as if the server were gone
    try:
        by_id(browser, "find-mood").click()
        assert "Could not reach MuseAIka" in message(browser, "mood-message", "error")
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    by_id(browser, "find-mood").click()  # back: the same button works again
    assert wait_for_mood(browser)["state"] == "done"
    assert_no_script_errors(browser)


def test_a_photo_from_the_camera_is_sent(browser: WebDriver, stack: Stack, shots: Path) -> None:
    open_fresh(browser, stack)
    by_id(browser, "camera-start").click()
    snap = by_id(browser, "camera-snap")
    wait_for(browser, lambda d: snap.is_displayed() and d.execute_script(
        "return document.getElementById('camera-video').videoWidth") > 0, what="no camera picture")
    snap.click()
    wait_for(browser, lambda d: "taken with the camera" in by_id(d, "photo-chosen").text)
    assert not by_id(browser, "camera-video").is_displayed()  # the camera is off again
    by_id(browser, "find-mood").click()
    # The fake camera films a test pattern: the JPEG is accepted and read, and it has no face.
    assert "No face was found in the photo" in message(browser, "mood-message", "error")
    screenshot(browser, shots / "4-camera.png")
    assert_no_script_errors(browser)


def test_the_keyboard_alone_finds_a_mood(browser: WebDriver, stack: Stack, api: httpx.Client) -> None:
    open_fresh(browser, stack)
    keys = ActionChains(browser)

    def tab_to(element_id: str) -> WebElement:
        for _ in range(15):
            keys.send_keys(Keys.TAB).perform()
            active: WebElement = browser.switch_to.active_element
            if active.get_attribute("id") == element_id:
                return active
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("feeling-text")
    keys.send_keys(SENTENCE).perform()
    button = tab_to("find-mood")
    assert button.tag_name == "button"
    outline = browser.execute_script("const s = getComputedStyle(document.activeElement); "
                                     "return [s.outlineStyle, s.outlineWidth]")
    assert outline[0] != "none" and outline[1] != "0px", outline  # the focus is visible
    keys.send_keys(Keys.ENTER).perform()
    shown = wait_for_mood(browser)
    expected = api_mood(api, None, SENTENCE)["mood"]
    assert (shown["label"], float(shown["valence"]), float(shown["arousal"])) == (
        expected["label"], expected["valence"], expected["arousal"])
    assert browser.switch_to.active_element.get_attribute("id") == "find-mood"  # focus stays where it was
    assert_no_script_errors(browser)


def test_sign_up_sign_in_history_and_a_melody_with_live_progress(browser: WebDriver, stack: Stack,
                                                                  api: httpx.Client, shots: Path) -> None:
    open_fresh(browser, stack)
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    fill(by_id(browser, "account-email"), email)
    fill(by_id(browser, "account-password"), "short")
    by_id(browser, "sign-up").click()
    assert "password must have at least 10 characters" in message(browser, "account-message", "error")

    fill(by_id(browser, "account-password"), PASSWORD)
    by_id(browser, "sign-up").click()
    assert email in message(browser, "account-message", "success")
    assert by_id(browser, "account-who").text == email
    by_id(browser, "sign-out").click()
    wait_for(browser, lambda d: by_id(d, "account-form").is_displayed())
    fill(by_id(browser, "account-email"), email)
    fill(by_id(browser, "account-password"), PASSWORD + Keys.ENTER)  # Enter submits: sign in
    wait_for(browser, lambda d: by_id(d, "signed-in").is_displayed())
    wait_for(browser, lambda d: by_id(d, "history-result").is_displayed())
    assert "No moods in the last 7 days" in by_id(browser, "history-counts").text
    token = browser.execute_script("return JSON.parse(sessionStorage.getItem('museaika.session')).accessToken")
    assert api.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"}).json()["email"] == email

    # Signed in, a mood joins the history and the week's chart.
    by_id(browser, "photo-file").send_keys(str(ASTRONAUT))
    by_id(browser, "feeling-text").send_keys(SENTENCE)
    by_id(browser, "find-mood").click()
    mood = wait_for_mood(browser)
    chart = by_id(browser, "history-chart")
    wait_for(browser, lambda _: chart.get_attribute("data-events") == "1", what="no history point")
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.history-dot")) == 2  # valence and arousal today
    summary = api.get("/v1/moods/summary?period=7d", headers={"Authorization": f"Bearer {token}"}).json()
    assert summary["events"] == 1 and summary["counts"] == {mood["label"]: 1}
    assert f"{mood['label']} ×1" in by_id(browser, "history-counts").text

    browser.execute_script("""
        const stage = document.getElementById('melody-stage');
        window.seenStages = [];
        new MutationObserver(() => window.seenStages.push(stage.dataset.stage))
            .observe(stage, {attributes: true, attributeFilter: ['data-stage']});""")
    fill(by_id(browser, "melody-bars"), "2")
    by_id(browser, "make-melody").click()
    audio = by_id(browser, "melody-audio")
    wait_for(browser, lambda _: bool(audio.get_attribute("src")), 90, "no melody in the player")
    stages = [s for s in browser.execute_script("return window.seenStages") if s]
    assert stages[-1] == "done" and set(stages) <= {"queued", "generating", "rendering", "uploading", "done"}, stages
    assert len(stages) >= 2, stages  # progress was shown on the way
    assert float(by_id(browser, "melody-progress").get_attribute("value") or 0) == 1.0
    assert "ready" in message(browser, "melody-message", "success")
    sockets = [entry["message"] for entry in browser_log(browser, "performance")
               if "Network.webSocketCreated" in entry["message"]]
    assert any("/events?access_token=" in s for s in sockets), "the progress did not come over the WebSocket"

    wait_for(browser, lambda d: d.execute_script("return arguments[0].readyState", audio) >= 1, 20,
             "the player could not read the melody")
    assert browser.execute_script("return arguments[0].duration", audio) > 0
    source = audio.get_attribute("src") or ""
    played = httpx.get(source, timeout=30)
    assert played.status_code == 200 and played.content[:4] in (b"OggS", b"RIFF")
    for kind in ("midi", "wav", "ogg"):
        assert (by_id(browser, f"download-{kind}").get_attribute("href") or "").startswith("http")
    # Every part the job made can be muted: its stem has a player and a box that mutes it.
    assert by_id(browser, "melody-parts").is_displayed()
    assert (by_id(browser, "stem-melody").get_attribute("src") or "").startswith("http")
    by_id(browser, "part-chords").click()
    assert browser.execute_script("return document.getElementById('stem-chords').muted") is True
    assert browser.execute_script("return document.getElementById('stem-melody').muted") is False
    assert "bpm" in by_id(browser, "melody-summary").text
    final = screenshot(browser, shots / "5-signed-in-melody.png")
    copy_if_ignored(final)
    assert_no_script_errors(browser)
