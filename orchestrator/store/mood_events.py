"""The `mood_events` collection: one document per analysed input (face photo, text, or both)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from orchestrator.errors import NotFoundError
from orchestrator.store.mongo import MongoStore, translate_errors

COLLECTION = "mood_events"


@dataclass
class MoodEvent:
    source: str  # "face", "text" or "fused"
    models: list[dict[str, str]]  # name and version of every model that contributed
    mood: dict[str, Any] | None
    faces: list[dict[str, Any]] | None = None
    text: dict[str, Any] | None = None  # scores and length only: the user's words are not stored
    fusion: dict[str, Any] | None = None
    owner_id: str | None = None  # set once users exist
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str | None = None


DOCUMENT_FIELDS = tuple(f.name for f in fields(MoodEvent) if f.name != "id")


class MoodEventRepository:
    def __init__(self, store: MongoStore) -> None:
        self.collection = store.db[COLLECTION]

    async def ensure_indexes(self) -> None:
        async with translate_errors():
            await self.collection.create_index([("owner_id", 1), ("created_at", -1)])

    async def add(self, event: MoodEvent) -> MoodEvent:
        document = {name: getattr(event, name) for name in DOCUMENT_FIELDS}
        async with translate_errors():
            result = await self.collection.insert_one(document)
        event.id = str(result.inserted_id)
        return event

    async def get(self, event_id: str) -> MoodEvent:
        try:
            key = ObjectId(event_id)
        except (InvalidId, TypeError) as error:
            raise NotFoundError(f"mood event {event_id!r}") from error
        async with translate_errors():
            document = await self.collection.find_one({"_id": key})
        if document is None:
            raise NotFoundError(f"mood event {event_id!r}")
        document["id"] = str(document.pop("_id"))
        return MoodEvent(**{k: v for k, v in document.items() if k in DOCUMENT_FIELDS or k == "id"})
