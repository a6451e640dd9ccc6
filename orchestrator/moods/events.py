"""The `mood_events` collection: one document per analysed input (face photo, text, or both)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from orchestrator.core.errors import NotFoundError
from orchestrator.storage.ids import object_id_or_404
from orchestrator.storage.mongo import MongoStore, translate_errors
from orchestrator.storage.owned import Document, OwnedCollection

COLLECTION = "mood_events"


@dataclass
class MoodEvent:
    source: str  # "face", "text" or "fused"
    models: list[dict[str, str]]  # name and version of every model that contributed
    mood: dict[str, Any] | None
    faces: list[dict[str, Any]] | None = None
    text: dict[str, Any] | None = None  # scores and length only: the user's words are not stored
    fusion: dict[str, Any] | None = None
    owner_id: str | None = None  # None: an anonymous call, stored under nobody
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str | None = None


DOCUMENT_FIELDS = tuple(f.name for f in fields(MoodEvent) if f.name != "id")


def to_event(document: Document) -> MoodEvent:
    values: dict[str, Any] = {k: document.get(k) for k in DOCUMENT_FIELDS}
    return MoodEvent(id=str(document["_id"]), **values)


class MoodEventRepository(OwnedCollection[MoodEvent]):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, COLLECTION, "mood event", to_event)

    async def add(self, event: MoodEvent) -> MoodEvent:
        document: Document = {name: getattr(event, name) for name in DOCUMENT_FIELDS}
        if event.owner_id is None:
            # Anyone holding the id may read an anonymous event (get_visible), and ObjectIds are a timestamp
            # plus a counter: neighbours would be guessable. 96 random bits instead; owned events keep
            # ordered ids (history pages by them) and are filtered by owner anyway.
            document["_id"] = ObjectId(secrets.token_bytes(12))
        event.id = (await self.insert(document)).id
        return event

    async def get_visible(self, event_id: str, viewer_id: str | None) -> MoodEvent:
        """An owned event only to its owner; an anonymous one to whoever holds its id."""
        async with translate_errors():
            document = await self.collection.find_one({"_id": object_id_or_404(event_id, "mood event")})
        if document is None or document.get("owner_id") not in (None, viewer_id):
            raise NotFoundError(f"mood event {event_id!r}")
        return to_event(document)

    async def history(self, owner_id: str, limit: int, cursor: str | None, source: str | None,
                      since: datetime | None, until: datetime | None) -> tuple[list[MoodEvent], str | None]:
        filters: Document = {}
        if source:
            filters["source"] = source
        if since or until:
            filters["created_at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
        return await self.page(owner_id, limit, cursor, filters)
