"""Spotify's search query syntax (https://developer.spotify.com/documentation/web-api/reference/search), as far
as the catalogue can answer it."""

from __future__ import annotations

import re

from standins.spotify.catalog import CatalogTrack

_QUERY_TOKEN = re.compile(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)')
Filter = tuple[str | None, str]  # (field or None for a free word or phrase, lower-cased value)


def search_tracks(query: str, tracks: list[CatalogTrack]) -> list[CatalogTrack]:
    """The tracks the query matches, exact name matches first, then by popularity: free words and "phrases"
    match the track, artist or album name; field filters artist:, track:, album:, year:2019 / year:2015-2020,
    isrc:. Filters on what the catalogue does not have (genre:, tag:, upc:) match nothing."""
    filters = _parse(query)
    found = [track for track in tracks if all(_matches(track, f) for f in filters)]
    exact = {value for field_name, value in filters if field_name in (None, "track")}
    return sorted(found, key=lambda t: (t.name.lower() not in exact, -t.popularity))


def _parse(query: str) -> list[Filter]:
    filters: list[Filter] = []
    for match in _QUERY_TOKEN.finditer(query):
        quoted_field, quoted_value, plain_field, plain_value, phrase, word = match.groups()
        field_name = quoted_field or plain_field
        value = next(v for v in (quoted_value, plain_value, phrase, word) if v is not None)
        if field_name is None and value in {"AND", "OR", "NOT"}:
            continue  # operators: every filter must match anyway
        filters.append((field_name.lower() if field_name else None, value.lower()))
    return filters


def _matches(track: CatalogTrack, search_filter: Filter) -> bool:
    field_name, value = search_filter
    if field_name is None:
        return value in track.name.lower() or value in track.artist_name.lower()
    if field_name in ("track", "album"):  # a catalogue track is its own single-track album
        return value in track.name.lower()
    if field_name == "artist":
        return value in track.artist_name.lower()
    if field_name == "year":
        low, _, high = value.partition("-")
        try:
            return int(low) <= track.year <= int(high or low)
        except ValueError:
            return False
    if field_name == "isrc":
        return value == track.isrc.lower()
    return False
