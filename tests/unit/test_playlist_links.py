"""A playlist's `spotify_url` ends up in an <a href>: only https links are stored (issue 23: `javascript:` was)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrator.playlists.schemas import PlaylistIn, PlaylistPatch


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,<b>",
                                 "http://open.spotify.com/playlist/1", "https://", "https://user@evil.example/",
                                 " https://open.spotify.com/playlist/1", "https://open.spotify.com/a b"])
def test_anything_but_an_https_link_is_refused(url: str) -> None:
    for model in (PlaylistIn, PlaylistPatch):
        with pytest.raises(ValidationError, match="spotify_url"):
            model.model_validate({"name": "Evening", "spotify_url": url})


def test_an_https_link_and_no_link_are_kept() -> None:
    url = "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=abc"
    assert PlaylistIn.model_validate({"name": "Evening", "spotify_url": url}).spotify_url == url
    assert PlaylistPatch.model_validate({"spotify_url": None}).spotify_url is None
