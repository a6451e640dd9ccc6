"""Collections of documents that belong to one user: every read and write is filtered by owner, so
someone else's id behaves exactly like an id that does not exist (404). Each collection turns its
documents into its own typed record on the way out, so no raw document leaves a repository."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from orchestrator.core.errors import NotFoundError
from orchestrator.storage.ids import decode_cursor, encode_cursor, object_id_or_404
from orchestrator.storage.mongo import MongoStore, translate_errors

Document = dict[str, Any]
Record = TypeVar("Record")


class OwnedCollection(Generic[Record]):
    def __init__(self, store: MongoStore, name: str, what: str, to_record: Callable[[Document], Record]) -> None:
        self.collection: AsyncCollection[Document] = store.db[name]
        self.what = what
        self.to_record = to_record

    async def ensure_indexes(self) -> None:
        async with translate_errors():
            await self.collection.create_index([("owner_id", 1), ("created_at", -1), ("_id", -1)])

    async def insert(self, document: Document) -> Record:
        async with translate_errors():
            result = await self.collection.insert_one(document)
        return self.to_record({**document, "_id": result.inserted_id})

    async def get(self, owner_id: str, item_id: str) -> Record:
        async with translate_errors():
            document = await self.collection.find_one({"_id": object_id_or_404(item_id, self.what),
                                                       "owner_id": owner_id})
        if document is None:
            raise NotFoundError(f"{self.what} {item_id!r}")
        return self.to_record(document)

    async def update(self, owner_id: str, item_id: str, changes: Document) -> Record:
        async with translate_errors():
            document = await self.collection.find_one_and_update(
                {"_id": object_id_or_404(item_id, self.what), "owner_id": owner_id}, {"$set": changes},
                return_document=ReturnDocument.AFTER)
        if document is None:
            raise NotFoundError(f"{self.what} {item_id!r}")
        return self.to_record(document)

    async def delete(self, owner_id: str, item_id: str) -> None:
        async with translate_errors():
            result = await self.collection.delete_one({"_id": object_id_or_404(item_id, self.what),
                                                       "owner_id": owner_id})
        if result.deleted_count == 0:
            raise NotFoundError(f"{self.what} {item_id!r}")

    async def delete_all(self, owner_id: str) -> int:
        async with translate_errors():
            result = await self.collection.delete_many({"owner_id": owner_id})
        return int(result.deleted_count)

    async def page(self, owner_id: str, limit: int, cursor: str | None = None, filters: Document | None = None,
                   ) -> tuple[list[Record], str | None]:
        """Newest first. The cursor is the (created_at, _id) of the last item returned."""
        query: Document = {"owner_id": owner_id, **(filters or {})}
        if cursor:
            created_at, key = decode_cursor(cursor)
            query["$or"] = [{"created_at": {"$lt": created_at}},
                            {"created_at": created_at, "_id": {"$lt": key}}]
        async with translate_errors():
            found = self.collection.find(query).sort([("created_at", -1), ("_id", -1)]).limit(limit + 1)
            documents = [d async for d in found]
        next_cursor = None
        if len(documents) > limit:
            documents = documents[:limit]
            last = documents[-1]
            next_cursor = encode_cursor(last["created_at"], last["_id"])
        return [self.to_record(d) for d in documents], next_cursor

    async def all_since(self, owner_id: str, since: datetime) -> list[Record]:
        async with translate_errors():
            found = self.collection.find({"owner_id": owner_id, "created_at": {"$gte": since}})
            return [self.to_record(d) async for d in found]
