"""The track catalog in MongoDB (collection `tracks`, one document per Spotify track id) and the in-memory
`FeatureMatrix` that ranking reads: every track's audio features and where the track-mood model places it.

Every write that changes the catalog goes through `TrackCatalog.upsert`, which bumps a version counter
(collection `catalog_versions`, one document per catalog collection). `TrackCatalog.matrix()` keeps the
last snapshot and reloads it only when that version differs from the snapshot's: a request costs one
find_one by _id, not a scan of the catalog. Writes that bypass `TrackCatalog` (a manual delete) are not
seen until the next `upsert` or `reload()`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from orchestrator.catalog.features import FEATURES, known_values
from orchestrator.catalog.track_moods import MoodPlacement, TrackMoodModel, feature_columns
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.storage.mongo import MongoStore, translate_errors

Document = dict[str, Any]

_TRACK_ID = re.compile(r"(?:spotify:track:)?([0-9A-Za-z]{22})")
VERSIONS_COLLECTION = "catalog_versions"
DEFAULT_BATCH_SIZE = 1000
LOOKUP_CHUNK = 100


def parse_track_id(value: str) -> str:
    """`spotify:track:<22 base62>` or the bare 22-character id → the bare id; anything else: ValueError."""
    match = _TRACK_ID.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not a Spotify track id (spotify:track:<22 base62> or 22 base62): {value!r}")
    return match.group(1)


@dataclass(frozen=True)
class CatalogTrack:
    """One track and its Spotify audio features (natural units; None where the source had no value)."""

    track_id: str  # bare 22-character base62 id
    artist: str
    name: str
    valence: float | None = None
    energy: float | None = None
    danceability: float | None = None
    tempo: float | None = None  # bpm; 0 = no beat detected
    acousticness: float | None = None
    mode: int | None = None  # 1 major, 0 minor
    popularity: int | None = None
    year: int | None = None
    key: int | None = None
    loudness: float | None = None
    speechiness: float | None = None
    instrumentalness: float | None = None
    liveness: float | None = None
    duration_ms: int | None = None
    time_signature: int | None = None

    @property
    def unknown(self) -> list[str]:
        """The audio features this track lacks (tempo 0 counts: no beat was found)."""
        return [name for name in FEATURES if getattr(self, name) is None or (name == "tempo" and self.tempo == 0)]

    def feature_row(self) -> list[float]:
        return [np.nan if (value := getattr(self, name)) is None else float(value) for name in FEATURES]

    def to_document(self) -> Document:
        return {name: value for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CatalogTrack:
        return cls(**{f.name: document[f.name] for f in fields(cls) if f.name in document})


@dataclass(frozen=True)
class UpsertResult:
    imported: int  # new tracks
    updated: int  # existing tracks whose fields changed
    unchanged: int


@dataclass(frozen=True, eq=False)
class FeatureMatrix:
    """An immutable snapshot of the catalog for ranking. Row i of every array is track `ids[i]`.

    raw: float64 (n, len(FEATURES)), natural units, NaN where unknown (tempo 0 included: no beat).
    placement: the track-mood model's probabilities and positions for every row (and their explanations).
    standardised: float64 (n, model features), (value − median) / scale, 0 where unknown: for similarity.
    popularity: int16 (n,), -1 when unknown. artist_codes: int32 (n,), one code per artist (case-folded).
    """

    ids: tuple[str, ...]
    artists: tuple[str, ...]
    names: tuple[str, ...]
    popularity: np.ndarray
    raw: np.ndarray
    model: TrackMoodModel
    placement: MoodPlacement
    model_values: np.ndarray  # (n, model features): `raw` in the model's column order
    standardised: np.ndarray
    artist_codes: np.ndarray
    index: Mapping[str, int]
    version: int = 0  # the catalog version it was loaded at

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_columns(cls, ids: Sequence[str], artists: Sequence[str], names: Sequence[str],
                     popularity: Sequence[int | None], raw: np.ndarray, model: TrackMoodModel, version: int = 0,
                     ) -> FeatureMatrix:
        raw = known_values(np.asarray(raw, dtype=np.float64).reshape(len(ids), len(FEATURES)))
        codes: dict[str, int] = {}
        artist_codes = np.fromiter((codes.setdefault(a.strip().casefold(), len(codes)) for a in artists),
                                   dtype=np.int32, count=len(artists))
        popularity_array = np.fromiter((-1 if p is None else p for p in popularity), dtype=np.int16,
                                       count=len(popularity))
        model_values = feature_columns(model, FEATURES, raw)
        placement = model.place(model_values)
        standardised = np.nan_to_num((model_values - model.medians) / model.scales, nan=0.0)
        for array in (popularity_array, raw, model_values, standardised, artist_codes, placement.probabilities,
                      placement.positions, placement.leaves):
            array.flags.writeable = False
        index = {track_id: i for i, track_id in enumerate(ids)}
        if len(index) != len(ids):
            raise ValueError("duplicate track ids in a feature matrix")
        return cls(tuple(ids), tuple(artists), tuple(names), popularity_array, raw, model, placement,
                   model_values, standardised, artist_codes, index, version)

    @classmethod
    def from_tracks(cls, tracks: Sequence[CatalogTrack], model: TrackMoodModel, version: int = 0) -> FeatureMatrix:
        raw = np.array([t.feature_row() for t in tracks], dtype=np.float64).reshape(len(tracks), len(FEATURES))
        return cls.from_columns([t.track_id for t in tracks], [t.artist for t in tracks],
                                [t.name for t in tracks], [t.popularity for t in tracks], raw, model, version)

    def positions(self, track_ids: Iterable[str]) -> np.ndarray:
        """Row numbers (int64) of the ids present in the matrix (bare or spotify:track: ids), unique."""
        found: dict[int, None] = {}
        for value in track_ids:
            try:
                row = self.index.get(parse_track_id(value))
            except ValueError:
                continue
            if row is not None:
                found[row] = None
        return np.fromiter(found, dtype=np.int64, count=len(found))


class TrackCatalog:
    """The catalog collection. Ids are bare 22-character Spotify ids (field `track_id`, unique index)."""

    def __init__(self, store: MongoStore, model: TrackMoodModel | None = None, collection: str = "tracks") -> None:
        self.model = model  # None: an importer, which writes tracks but never ranks them
        self.name = collection
        self.collection: AsyncCollection[Document] = store.db[collection]
        self.versions: AsyncCollection[Document] = store.db[VERSIONS_COLLECTION]
        self._matrix: FeatureMatrix | None = None
        self._lock = asyncio.Lock()

    async def ensure_indexes(self) -> None:
        async with translate_errors():
            await self.collection.create_index("track_id", unique=True)

    async def upsert(self, tracks: Sequence[CatalogTrack], batch_size: int = DEFAULT_BATCH_SIZE) -> UpsertResult:
        """Insert new tracks and update changed ones, `batch_size` per bulk write; unchanged tracks are not
        written. Bumps the catalog version after each batch that wrote anything."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        imported = updated = unchanged = 0
        for start in range(0, len(tracks), batch_size):
            batch = {t.track_id: t for t in tracks[start:start + batch_size]}  # a later duplicate wins
            existing = await self._documents(list(batch))
            now = datetime.now(UTC)
            operations = []
            for track_id, track in batch.items():
                document = track.to_document()
                old = existing.get(track_id)
                if old == document:  # stored without _id and timestamps: the same fields, the same values
                    unchanged += 1
                    continue
                if old is None:
                    imported += 1
                else:
                    updated += 1
                unset = {k: "" for k in _OPTIONAL_FIELDS if old is not None and k in old and k not in document}
                update: Document = {"$set": {**document, "updated_at": now}, "$setOnInsert": {"created_at": now}}
                if unset:
                    update["$unset"] = unset
                operations.append(UpdateOne({"track_id": track_id}, update, upsert=True))
            if operations:
                try:
                    async with translate_errors():
                        await self.collection.bulk_write(operations, ordered=False)
                finally:  # even a partly applied batch may have changed the catalog
                    await self._bump_version()
        return UpsertResult(imported, updated, unchanged)

    async def _bump_version(self) -> None:
        async with translate_errors():
            await self.versions.update_one({"_id": self.name},
                                           {"$inc": {"version": 1}, "$set": {"updated_at": datetime.now(UTC)}},
                                           upsert=True)

    async def count(self) -> int:
        async with translate_errors():
            return int(await self.collection.count_documents({}))

    async def version(self) -> int:
        async with translate_errors():
            document = await self.versions.find_one({"_id": self.name})
        return 0 if document is None else int(document["version"])

    async def get_many(self, track_ids: Iterable[str]) -> dict[str, CatalogTrack]:
        """The catalog's tracks among `track_ids` (bare or spotify:track: ids; others are not found), by bare id."""
        wanted = []
        for value in track_ids:
            try:
                wanted.append(parse_track_id(value))
            except ValueError:
                continue
        documents = await self._documents(list(dict.fromkeys(wanted)))
        return {track_id: CatalogTrack.from_document(document) for track_id, document in documents.items()}

    async def matrix(self) -> FeatureMatrix:
        """The current snapshot; reloaded when the catalog's version changed since it was taken."""
        async with self._lock:
            current = await self.version()
            if self._matrix is None or self._matrix.version != current:
                self._matrix = await self.load_matrix(current)
            return self._matrix

    async def non_empty_matrix(self) -> FeatureMatrix:
        """The snapshot, or 503 while no catalog has been imported (nothing can be ranked yet)."""
        matrix = await self.matrix()
        if len(matrix.ids) == 0:
            raise DependencyUnavailableError("track catalog", "it is empty: import one with "
                                             "python -m orchestrator.catalog.import_csv")
        return matrix

    async def reload(self) -> FeatureMatrix:
        async with self._lock:
            self._matrix = await self.load_matrix()
            return self._matrix

    async def load_matrix(self, version: int | None = None) -> FeatureMatrix:
        """Read every track's id, artist, name, popularity and ranking features into a new snapshot."""
        if self.model is None:
            raise RuntimeError("this TrackCatalog has no track-mood model: it cannot build a FeatureMatrix")
        model = self.model
        if version is None:
            version = await self.version()
        projection = {"_id": 0, "track_id": 1, "artist": 1, "name": 1, "popularity": 1,
                      **{name: 1 for name in FEATURES}}
        ids: list[str] = []
        artists: list[str] = []
        names: list[str] = []
        popularity: list[int | None] = []
        raw: list[float] = []
        async with translate_errors():
            async for document in self.collection.find({}, projection, batch_size=5000).sort("track_id", 1):
                ids.append(document["track_id"])
                artists.append(document["artist"])
                names.append(document["name"])
                popularity.append(document.get("popularity"))
                raw.extend(np.nan if (v := document.get(name)) is None else float(v) for name in FEATURES)
        # Placing 14k tracks takes a moment of CPU: off the event loop, once per catalog version.
        return await asyncio.to_thread(FeatureMatrix.from_columns, ids, artists, names, popularity,
                                       np.array(raw, dtype=np.float64).reshape(len(ids), len(FEATURES)),
                                       model, version)

    async def _documents(self, track_ids: list[str]) -> dict[str, Document]:
        documents: dict[str, Document] = {}
        # $in lists of ~100: a real MongoDB does not mind, the Mongo-wire test server slows down on long ones.
        for start in range(0, len(track_ids), LOOKUP_CHUNK):
            async with translate_errors():
                found = self.collection.find({"track_id": {"$in": track_ids[start:start + LOOKUP_CHUNK]}},
                                             {"_id": 0, "created_at": 0, "updated_at": 0})
                documents.update({document["track_id"]: document async for document in found})
        return documents


_OPTIONAL_FIELDS = tuple(f.name for f in fields(CatalogTrack) if f.default is None)
