"""Listeners' 👍/👎 on recommended tracks (collection `track_feedback`): one verdict per user and track,
the latest wins. Owned like every user's thing: read, changed and deleted only by its owner, and emptied
with the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pymongo import ReturnDocument

from orchestrator.storage.mongo import MongoStore, translate_errors
from orchestrator.storage.owned import Document, OwnedCollection

MAX_REMEMBERED = 500  # the newest verdicts a ranking takes into account


class Verdict(StrEnum):
    LIKE = "like"
    DISLIKE = "dislike"


@dataclass(frozen=True)
class TrackFeedback:
    id: str
    owner_id: str
    track_id: str  # bare Spotify id
    verdict: Verdict
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, document: Document) -> TrackFeedback:
        return cls(str(document["_id"]), str(document["owner_id"]), str(document["track_id"]),
                   Verdict(document["verdict"]), document["created_at"],
                   document.get("updated_at") or document["created_at"])


class FeedbackRepository(OwnedCollection[TrackFeedback]):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "track_feedback", "feedback", TrackFeedback.from_document)

    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        async with translate_errors():
            await self.collection.create_index([("owner_id", 1), ("track_id", 1)], unique=True)

    async def record(self, owner_id: str, track_id: str, verdict: Verdict) -> tuple[TrackFeedback, bool]:
        """The stored verdict, and whether it is new (a second verdict on a track replaces the first)."""
        now = datetime.now(UTC)
        async with translate_errors():
            before = await self.collection.find_one_and_update(
                {"owner_id": owner_id, "track_id": track_id},
                {"$set": {"verdict": verdict.value, "updated_at": now},
                 "$setOnInsert": {"owner_id": owner_id, "track_id": track_id, "created_at": now}},
                upsert=True, return_document=ReturnDocument.BEFORE)
            document = await self.collection.find_one({"owner_id": owner_id, "track_id": track_id})
        assert document is not None  # nosec B101  # just upserted; an invariant for mypy
        return TrackFeedback.from_document(document), before is None

    async def of(self, owner_id: str) -> list[TrackFeedback]:
        """The owner's newest verdicts (at most `MAX_REMEMBERED`)."""
        async with translate_errors():
            found = self.collection.find({"owner_id": owner_id}).sort([("updated_at", -1)]).limit(MAX_REMEMBERED)
            return [TrackFeedback.from_document(d) async for d in found]

    async def forget(self, owner_id: str, track_id: str) -> bool:
        async with translate_errors():
            result = await self.collection.delete_one({"owner_id": owner_id, "track_id": track_id})
        return result.deleted_count == 1
