"""Security headers on the real orchestrator (uvicorn): every answer has them, API answers are never cached, the
try-it page's Content-Security-Policy allows exactly what the page loads, and /docs has a policy of its own that
allows what FastAPI's Swagger UI and ReDoc pages load. That the page still works under its policy in a browser is
tests/e2e/test_try_page.py (Chromium reports every CSP violation as a console error, which that test refuses)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.remote.command import Command

from launcher.stack import Stack
from orchestrator.app import create_app
from orchestrator.core.settings import Settings
from tests.support.api_client import PASSWORD, bearer, new_email
from tests.support.stacks import SharedServices

WEB = Path(__file__).resolve().parents[2] / "orchestrator" / "web"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    """No models and no worker: headers do not depend on them."""
    with shared.stack("headers", database="headers", redis_db=7, models=[]) as started:
        yield started


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def allows(directives: dict[str, list[str]], directive: str, url: str, page_origin: str) -> bool:
    sources = directives.get(directive, directives["default-src"])
    parsed = urlparse(url)
    if not parsed.scheme:  # relative: this origin
        return "'self'" in sources
    origin = f"{parsed.scheme}://{parsed.netloc}"
    return ("'self'" in sources and origin == page_origin) or origin in sources or f"{parsed.scheme}:" in sources


class Resources(HTMLParser):
    """What a page loads: (directive, URL) for every script, stylesheet and image; inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline_styles += "style" in attributes
        self.inline_scripts += any(name.startswith("on") for name in attributes)  # onclick= … handlers
        if tag == "script":
            if attributes.get("src"):
                self.loads.append(("script-src", attributes["src"] or ""))
            else:
                self._in_script = True
        elif tag == "link" and attributes.get("href"):
            relation = attributes.get("rel") or ""
            if "stylesheet" in relation:
                self.loads.append(("style-src", attributes["href"] or ""))
            elif "icon" in relation:
                self.loads.append(("img-src", attributes["href"] or ""))
        elif tag == "img" and attributes.get("src"):
            self.loads.append(("img-src", attributes["src"] or ""))
        elif tag == "style":
            self.inline_styles += 1

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def resources(html: str) -> Resources:
    parser = Resources()
    parser.feed(html)
    return parser


def test_every_answer_has_the_headers(api: httpx.Client) -> None:
    answers = [
        api.get("/healthz"),
        api.get("/try/"),
        api.get("/try/app.js"),
        api.get("/openapi.json"),
        api.get("/docs"),
        api.get("/v1/users/me"),  # 401 from an error handler
        api.get("/no/such/path"),  # 404 from the router
        api.post("/v1/users", content=b"{" + b" " * 300_000 + b"}",  # 413 from the body-limit middleware
                 headers={"content-type": "application/json"}),
        api.post("/v1/users", json={"email": "not-an-email", "password": PASSWORD}),  # 422 from validation
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 401, 404, 413, 422]
    for answer in answers:
        for name, value in ALWAYS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name, answer.headers)
        assert "camera=(self)" in answer.headers["permissions-policy"]
        assert "microphone=()" in answer.headers["permissions-policy"]
        csp = policy(answer.headers["content-security-policy"])
        assert csp["frame-ancestors"] == ["'none'"] and csp["default-src"] == ["'none'"]
        assert "strict-transport-security" not in answer.headers, "HSTS only when SERVED_OVER_HTTPS says so"


def test_answers_with_user_data_or_tokens_are_never_cached(api: httpx.Client) -> None:
    email = new_email()
    assert api.post("/v1/users", json={"email": email, "password": PASSWORD}).headers["cache-control"] == "no-store"
    login = api.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    refreshed = api.post("/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"
    me = api.get("/v1/users/me", headers=bearer(refreshed.json()))
    assert me.status_code == 200 and me.headers["cache-control"] == "no-store"
    assert "no-store" not in api.get("/try/style.css").headers.get("cache-control", ""), "static files may be cached"


def test_the_try_page_policy_allows_what_the_page_loads_and_no_inline_code(api: httpx.Client,
                                                                           stack: Stack) -> None:
    page = api.get("/try/")
    csp = policy(page.headers["content-security-policy"])
    for directive in ("script-src", "style-src"):
        assert csp[directive] == ["'self'"], "no 'unsafe-inline', no 'unsafe-eval', no other origin"
    assert csp["base-uri"] == ["'none'"] and csp["connect-src"] == ["'self'"]
    assert stack.s3 is not None and stack.s3.url in csp["media-src"], "the player streams presigned S3 URLs"
    assert "blob:" in csp["img-src"], "the chosen photo's preview is a blob: URL"
    found = resources(page.text)
    assert found.inline_scripts == 0 and found.inline_styles == 0
    assert found.loads, "the page loads its script and stylesheet"
    for directive, url in found.loads:
        assert allows(csp, directive, url, stack.orchestrator_url), (directive, url)
    for script in WEB.glob("*.js"):  # code that would need 'unsafe-eval' or write inline handlers
        source = script.read_text()
        for forbidden in ("eval(", "new Function(", "setAttribute(\"on", "document.write("):
            assert forbidden not in source, f"{script.name} uses {forbidden}"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_have_their_own_policy_that_allows_their_cdn(api: httpx.Client, stack: Stack,
                                                                     path: str) -> None:
    page = api.get(path)
    assert page.status_code == 200
    csp = policy(page.headers["content-security-policy"])
    assert csp != policy(api.get("/try/").headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"] and csp["connect-src"] == ["'self'"]
    found = resources(page.text)
    assert found.loads
    for directive, url in found.loads:  # FastAPI moving its bundles to another CDN fails here
        assert allows(csp, directive, url, stack.orchestrator_url), (path, directive, url)
    if found.inline_scripts:
        assert "'unsafe-inline'" in csp["script-src"]
    if found.inline_styles:
        assert "'unsafe-inline'" in csp["style-src"]


def test_hsts_only_when_the_deployment_says_it_is_served_over_https() -> None:
    # /healthz and the 413 need no dependency, so the app runs without its lifespan here.
    plain = TestClient(create_app(Settings(log_level="WARNING")))
    assert "strict-transport-security" not in plain.get("/healthz").headers
    secure = TestClient(create_app(Settings(served_over_https=True, log_level="WARNING")))
    hsts = secure.get("/healthz").headers["strict-transport-security"]
    assert hsts.startswith("max-age=") and int(hsts.removeprefix("max-age=")) >= 180 * 24 * 3600
    too_big = secure.post("/v1/moods/text", content=b"x" * 400_000, headers={"content-type": "application/json"})
    assert too_big.status_code == 413 and "strict-transport-security" in too_big.headers


def test_cors_answers_get_the_headers_too() -> None:
    client = TestClient(create_app(Settings(cors_origins=["https://app.museaika.example"], log_level="WARNING")))
    preflight = client.options("/v1/moods/text", headers={"Origin": "https://app.museaika.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in preflight.headers


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver on PATH (./museaika test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: WebDriver) -> list[str]:
    entries: list[dict[str, Any]] = driver.execute(Command.GET_LOG, {"type": "browser"})["value"]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def test_the_browser_enforces_the_page_policy(browser: WebDriver, stack: Stack) -> None:
    """What the policy is for: injected markup cannot run script, nor can code from a string, and media come only
    from here and the object storage. (The page's own flows under this policy: tests/e2e/test_try_page.py.)"""
    assert stack.s3 is not None
    browser.get(f"{stack.orchestrator_url}/try/")
    assert browser.execute_script("return document.readyState") == "complete"
    assert console_errors(browser) == [], "the page loads without a violation"
    browser.execute_script("""
        setTimeout('window.injectedString = true', 0);  // code from a string: needs 'unsafe-eval'
        const script = document.createElement('script');
        script.textContent = 'window.injectedScript = true';
        document.body.appendChild(script);
        const holder = document.createElement('div');
        holder.innerHTML = '<img src="data:," onload="window.injectedHandler = true">';
        document.body.appendChild(holder);
        for (const source of arguments) { const audio = new Audio(source); audio.load(); }
        """, f"{stack.s3.url}/museaika-headers/allowed.ogg", "http://127.0.0.1:9/elsewhere.ogg")
    # Chromium reports each violation as a console error (which tests/e2e/test_try_page.py refuses on its page), once
    # the timer, the image's load event and both media requests have happened: wait for all four, on a loaded
    # machine too. (Each read of the console log returns the entries since the last one.)
    violations = ("Evaluating a string as JavaScript violates", "Executing inline script violates",
                  "Executing inline event handler violates", "elsewhere.ogg' violates")
    refused: list[str] = []
    deadline = time.monotonic() + 15
    while True:
        refused += console_errors(browser)
        if all(any(v in line for line in refused) for v in violations) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    ran = browser.execute_script("return [window.injectedString, window.injectedScript, window.injectedHandler]")
    assert ran == [None, None, None], "no injected code ran"
    for violation in violations:
        assert sum(violation in line for line in refused) == 1, (violation, refused)
    assert not any("allowed.ogg" in line for line in refused), "the object storage is an allowed media source"
