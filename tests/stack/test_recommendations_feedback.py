"""👍/👎 on recommended tracks through the real orchestrator: stored per user, owner-checked, used by the next
ranking (a disliked track is not offered again, and the "why" says what feedback moved), deleted with the
account. (Named to run after test_recommendations.py, whose first test needs the shared stack's catalog empty.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from launcher.stack import Stack
from tests.stack.test_recommendations import import_catalog
from tests.support.api_client import new_user


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        import_catalog(embedded_stack)
        yield client


def recommend(api: httpx.Client, headers: dict[str, str], label: str = "happy") -> list[dict[str, object]]:
    answer = api.post("/v1/recommendations", headers=headers, json={"mood": {"label": label}, "limit": 10})
    assert answer.status_code == 200, answer.text
    tracks: list[dict[str, object]] = answer.json()["tracks"]
    return tracks


def test_a_disliked_track_stops_appearing_and_the_why_says_so(api: httpx.Client) -> None:
    user = new_user(api)
    first = recommend(api, user)
    disliked = [str(t["track_id"]) for t in first[:3]]
    for track_id in disliked:
        stored = api.post("/v1/recommendations/feedback", headers=user,
                          json={"track_id": track_id, "verdict": "dislike"})
        assert stored.status_code == 201 and stored.json()["verdict"] == "dislike", stored.text
    liked = str(first[3]["track_id"])
    assert api.post("/v1/recommendations/feedback", headers=user,
                    json={"track_id": f"spotify:track:{liked}", "verdict": "like"}).status_code == 201
    again = recommend(api, user)
    assert not {t["track_id"] for t in again} & set(disliked)
    assert any("feedback" in t["why"] for t in again)  # type: ignore[operator]
    answer = api.post("/v1/recommendations", headers=user, json={"mood": {"label": "happy"}}).json()
    assert answer["sources"]["feedback"] == {"used": True, "liked": 1, "disliked": 3}
    # Someone else's ranking is untouched by this user's verdicts.
    assert [t["track_id"] for t in recommend(api, new_user(api))] == [t["track_id"] for t in first]


def test_verdicts_are_replaced_listed_and_owner_checked(api: httpx.Client) -> None:
    owner, stranger = new_user(api), new_user(api)
    track_id = str(recommend(api, owner)[0]["track_id"])
    assert api.post("/v1/recommendations/feedback", headers=owner,
                    json={"track_id": track_id, "verdict": "like"}).status_code == 201
    changed = api.post("/v1/recommendations/feedback", headers=owner, json={"track_id": track_id,
                                                                           "verdict": "dislike"})
    assert changed.status_code == 200 and changed.json()["verdict"] == "dislike"
    listed = api.get("/v1/recommendations/feedback", headers=owner).json()["items"]
    assert [(f["track_id"], f["verdict"]) for f in listed] == [(track_id, "dislike")]
    assert api.get("/v1/recommendations/feedback", headers=stranger).json()["items"] == []
    assert api.delete(f"/v1/recommendations/feedback/{track_id}", headers=stranger).status_code == 404
    assert api.delete(f"/v1/recommendations/feedback/{track_id}", headers=owner).status_code == 204
    assert api.get("/v1/recommendations/feedback", headers=owner).json()["items"] == []


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"track_id": "0" * 22, "verdict": "like"}, 404, "not found"),
    ({"track_id": "not a track id at all!", "verdict": "like"}, 422, "track_id"),
    ({"track_id": "0" * 22, "verdict": "meh"}, 422, "verdict"),
])
def test_bad_feedback_is_refused_with_a_reason(api: httpx.Client, body: dict[str, str], status: int,
                                               text: str) -> None:
    response = api.post("/v1/recommendations/feedback", headers=new_user(api), json=body)
    assert response.status_code == status and text in response.text.lower(), response.text


def test_feedback_needs_an_account_and_goes_with_it(api: httpx.Client) -> None:
    track_id = str(recommend(api, new_user(api))[0]["track_id"])
    assert api.post("/v1/recommendations/feedback", json={"track_id": track_id, "verdict": "like"}).status_code == 401
    user = new_user(api)
    api.post("/v1/recommendations/feedback", headers=user, json={"track_id": track_id, "verdict": "like"})
    deleted = api.delete("/v1/users/me", headers=user)
    assert deleted.status_code == 200 and deleted.json()["deleted"]["track_feedback"] == 1
