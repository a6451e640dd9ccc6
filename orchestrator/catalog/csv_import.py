"""Spotify-features CSV files → validated `CatalogTrack`s, and their import into the catalog.

Two layouts are met in practice, and both are read:

    ,artist,track,track_id,popularity,year,danceability,energy,key,loudness,mode,speechiness,acousticness,
    instrumentalness,liveness,valence,tempo,type,duration_ms,time_signature
    name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy,instrumentalness,
    liveness,valence,loudness,speechiness,tempo,key,time_signature,mood

`id`, `name` and `length` are read as `track_id`, `track` and `duration_ms` (`COLUMN_ALIASES`) when the file
has no column of the canonical name. A leading unnamed index column is optional, the column order is free and
unknown columns are ignored. The identity columns (`IDENTITY_COLUMNS`) and at least one audio feature must be
present, or the file is refused as a whole, naming what is missing. An audio feature the file has no column
for, or an empty cell, is unknown for that track: the track is imported, the report counts it per feature
(`ImportReport.unknown`), and ranking treats the feature as unknown (`track_moods`), never as zero.

Every data row either becomes a track or is reported with its line number (the file's physical line, the
header being line 1) and every reason it was refused: a field that is not a number, a feature outside its
range (`RANGES`), an id that is neither `spotify:track:<22 base62>` nor the bare 22-character id, or an id
already seen on an earlier line (the first one is kept). Nothing is skipped silently (a blank line, or one
of empty cells only, is not a row). With `strict`, one bad row refuses the whole file and nothing is written.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from orchestrator.catalog.features import FEATURES
from orchestrator.catalog.features import RANGES as FEATURE_RANGES
from orchestrator.catalog.store import DEFAULT_BATCH_SIZE, CatalogTrack, TrackCatalog, parse_track_id

IDENTITY_COLUMNS: tuple[str, ...] = ("artist", "track", "track_id")
COLUMN_ALIASES: dict[str, str] = {"id": "track_id", "name": "track", "length": "duration_ms"}
# column → (kind, lowest, highest), both inclusive. Spotify's documented ranges; tempo 0 and time signature 0
# are what Spotify reports when it finds no beat (rain, noise), so they are accepted.
RANGES: dict[str, tuple[type, float, float]] = {
    **{name: (int if name == "mode" else float, low, high) for name, (low, high) in FEATURE_RANGES.items()},
    "key": (int, -1, 11),
    "popularity": (int, 0, 100),
    "year": (int, 1900, 2100),
    "duration_ms": (int, 1, 24 * 3600 * 1000),
    "time_signature": (int, 0, 7),
}


class CatalogCsvError(Exception):
    """The file as a whole cannot be imported (unreadable, not CSV text, no header, missing columns)."""


class MissingColumnsError(CatalogCsvError):
    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__(f"missing required column(s): {', '.join(missing)}")
        self.missing = tuple(missing)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    track_id: str | None = None  # as written in the file, when there was one


@dataclass
class ParsedCatalog:
    tracks: list[CatalogTrack] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    rows: int = 0  # data rows read (blank lines are not rows)
    absent: tuple[str, ...] = ()  # audio features the file has no column for

    def unknown(self) -> dict[str, int]:
        """Per audio feature, how many imported tracks lack it (no column, an empty cell, tempo 0)."""
        counts = {name: 0 for name in FEATURES}
        for track in self.tracks:
            for name in track.unknown:
                counts[name] += 1
        return {name: count for name, count in counts.items() if count}


@dataclass
class ImportReport:
    source: str
    rows: int
    imported: int = 0  # new tracks
    updated: int = 0  # tracks already in the catalog whose fields changed
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    strict: bool = False
    written: bool = True  # False when strict mode refused the file
    unknown: dict[str, int] = field(default_factory=dict)  # feature → tracks that lack it (ranked as unknown)
    absent: tuple[str, ...] = ()  # features the file has no column for

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rejected": [asdict(row) for row in self.rejected]}

    def format(self) -> str:
        lines = [f"{self.source}: {self.rows} rows, {self.imported} imported, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.rejected)} rejected"]
        if self.unknown:
            counts = ", ".join(f"{name} in {count}" + (" (no column)" if name in self.absent else "")
                               for name, count in self.unknown.items())
            lines.append(f"unknown features, ranked as unknown: {counts}")
        if not self.written:
            lines.append("strict mode: the file was refused because of rejected rows; nothing was written")
        lines.extend(f"line {row.line}: {row.reason}" for row in self.rejected)
        return "\n".join(lines)


def parse_catalog_csv(source: Path | str | TextIO) -> ParsedCatalog:
    """Parse a whole file (a path, or an open text stream) into tracks and rejected rows."""
    if isinstance(source, str | Path):
        try:
            with open(source, encoding="utf-8-sig", newline="") as stream:
                return _parse(stream)
        except OSError as error:
            raise CatalogCsvError(f"cannot read {source}: {error.strerror or error}") from error
    return _parse(source)


def _parse(stream: TextIO) -> ParsedCatalog:
    reader = csv.reader(stream)
    rows = _rows(reader)
    try:
        _, header = next(rows)
    except StopIteration:
        raise CatalogCsvError("empty file: no header row") from None
    columns = [name.strip().lstrip("\ufeff").lower() for name in header]
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise CatalogCsvError(f"duplicate column(s): {', '.join(duplicated)}")
    position = {name: i for i, name in enumerate(columns)}
    for alias, canonical in COLUMN_ALIASES.items():
        if canonical not in position and alias in position:
            position[canonical] = position.pop(alias)
    missing = [name for name in IDENTITY_COLUMNS if name not in position]
    if not any(name in position for name in FEATURES):
        missing.append(f"at least one audio feature ({', '.join(FEATURES)})")
    if missing:
        raise MissingColumnsError(missing)
    parsed = ParsedCatalog(absent=tuple(name for name in FEATURES if name not in position))
    first_seen: dict[str, int] = {}
    for line, row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        parsed.rows += 1
        raw_id = row[position["track_id"]].strip() if len(row) > position["track_id"] else None
        if len(row) != len(columns):
            parsed.rejected.append(RejectedRow(line, f"expected {len(columns)} fields, got {len(row)}", raw_id))
            continue
        track, reasons = _track(row, position)
        if track is not None and track.track_id in first_seen:
            reasons.append(f"duplicate track_id {track.track_id} (first on line {first_seen[track.track_id]})")
        if reasons or track is None:
            parsed.rejected.append(RejectedRow(line, "; ".join(reasons), raw_id))
            continue
        first_seen[track.track_id] = line
        parsed.tracks.append(track)
    return parsed


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields); a record may span lines inside quotes."""
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise CatalogCsvError(f"not UTF-8 text near line {start}: {error.reason}") from error
    except csv.Error as error:
        raise CatalogCsvError(f"line {reader.line_num}: {error}") from error


def _track(row: list[str], position: dict[str, int]) -> tuple[CatalogTrack | None, list[str]]:
    reasons: list[str] = []
    values: dict[str, Any] = {}
    try:
        values["track_id"] = parse_track_id(row[position["track_id"]])
    except ValueError:
        reasons.append(f"bad track_id {row[position['track_id']].strip()!r} "
                       "(want spotify:track:<22 base62> or the bare id)")
    for column in ("artist", "track"):
        text = row[position[column]].strip()
        if not text:
            reasons.append(f"empty {column}")
        values["name" if column == "track" else column] = text
    for column, (kind, low, high) in RANGES.items():
        if column not in position:
            continue
        text = row[position[column]].strip()
        if not text:  # unknown for this track
            continue
        try:
            value = _number(text, kind)
        except ValueError as error:
            reasons.append(f"{column} {text!r}: {error}")
            continue
        if not low <= value <= high:
            reasons.append(f"{column} {text} outside [{_plain(low)}, {_plain(high)}]")
            continue
        values[column] = value
    if not reasons and not any(name in values for name in FEATURES):
        reasons.append("no audio feature at all: nothing to place the track by")
    if reasons:
        return None, reasons
    return CatalogTrack(**values), reasons


def _number(text: str, kind: type) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if kind is int:
        if not value.is_integer():
            raise ValueError("not a whole number")
        return int(value)
    return value


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


async def import_csv(source: Path | str | TextIO, catalog: TrackCatalog, strict: bool = False,
                     batch_size: int = DEFAULT_BATCH_SIZE) -> ImportReport:
    """Parse, then upsert the good rows (all or nothing with `strict`). Raises `CatalogCsvError` for a file
    that cannot be imported at all, `DependencyUnavailableError` when MongoDB is unreachable."""
    parsed = parse_catalog_csv(source)
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "<stream>")
    report = ImportReport(source=str(name), rows=parsed.rows, rejected=parsed.rejected, strict=strict,
                          unknown=parsed.unknown(), absent=parsed.absent)
    if strict and parsed.rejected:
        report.written = False
        return report
    await catalog.ensure_indexes()
    result = await catalog.upsert(parsed.tracks, batch_size=batch_size)
    report.imported, report.updated, report.unchanged = result.imported, result.updated, result.unchanged
    return report
