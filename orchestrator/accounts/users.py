"""Accounts and their refresh tokens. Documents become `User` records here: nothing above this module
reads a raw user document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from orchestrator.core.errors import InvalidInputError, NotFoundError
from orchestrator.storage.ids import object_id_or_404
from orchestrator.storage.mongo import MongoStore, translate_errors

Document = dict[str, Any]


@dataclass(frozen=True)
class SpotifyLink:
    """A user's link to their Spotify account; the tokens stay sealed (token_vault) until used."""

    spotify_user_id: str | None
    display_name: str | None
    product: str | None
    scope: str | None
    linked_at: datetime | None
    sealed_access_token: str
    sealed_refresh_token: str
    expires_at: float

    @classmethod
    def from_document(cls, document: Document) -> SpotifyLink:
        return cls(document.get("user_id"), document.get("display_name"), document.get("product"),
                   document.get("scope"), document.get("linked_at"), str(document.get("access_token", "")),
                   str(document.get("refresh_token", "")), float(document.get("expires_at", 0)))


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password_hash: str
    display_name: str | None
    created_at: datetime
    updated_at: datetime
    spotify: SpotifyLink | None = None

    @classmethod
    def from_document(cls, document: Document) -> User:
        link = document.get("spotify")
        return cls(id=str(document["_id"]), email=str(document["email"]), password_hash=str(document["password_hash"]),
                   display_name=document.get("display_name"), created_at=document["created_at"],
                   updated_at=document.get("updated_at") or document["created_at"],
                   spotify=SpotifyLink.from_document(link) if link else None)


class UserRepository:
    def __init__(self, store: MongoStore) -> None:
        self.users: AsyncCollection[Document] = store.db["users"]
        self.refresh_tokens: AsyncCollection[Document] = store.db["refresh_tokens"]

    async def ensure_indexes(self) -> None:
        async with translate_errors():
            await self.users.create_index("email", unique=True)
            await self.refresh_tokens.create_index("user_id")

    async def create(self, email: str, password_hash: str, display_name: str | None) -> User:
        now = datetime.now(UTC)
        document: Document = {"email": email, "password_hash": password_hash, "display_name": display_name,
                              "created_at": now, "updated_at": now}
        try:
            async with translate_errors():
                result = await self.users.insert_one(document)
        except DuplicateKeyError as error:
            raise InvalidInputError(409, "an account with this email already exists") from error
        return User.from_document({**document, "_id": result.inserted_id})

    async def by_email(self, email: str) -> User | None:
        async with translate_errors():
            document = await self.users.find_one({"email": email})
        return None if document is None else User.from_document(document)

    async def get(self, user_id: str) -> User:
        async with translate_errors():
            document = await self.users.find_one({"_id": object_id_or_404(user_id, "user")})
        if document is None:
            raise NotFoundError("user")
        return User.from_document(document)

    async def update(self, user_id: str, changes: Document) -> User:
        async with translate_errors():
            document = await self.users.find_one_and_update(
                {"_id": object_id_or_404(user_id, "user")},
                {"$set": {**changes, "updated_at": datetime.now(UTC)}}, return_document=ReturnDocument.AFTER)
        if document is None:
            raise NotFoundError("user")
        return User.from_document(document)

    async def delete(self, user_id: str) -> None:
        async with translate_errors():
            await self.users.delete_one({"_id": object_id_or_404(user_id, "user")})
            await self.refresh_tokens.delete_many({"user_id": user_id})

    # -- refresh tokens: each is usable once; using it revokes it -----------------------------
    async def remember_refresh_token(self, token_id: str, user_id: str, expires_at: datetime) -> None:
        async with translate_errors():
            await self.refresh_tokens.insert_one({"_id": token_id, "user_id": user_id, "expires_at": expires_at})

    async def consume_refresh_token(self, token_id: str, user_id: str) -> bool:
        async with translate_errors():
            result = await self.refresh_tokens.delete_one({"_id": token_id, "user_id": user_id})
        return result.deleted_count == 1

    async def revoke_refresh_tokens(self, user_id: str) -> None:
        async with translate_errors():
            await self.refresh_tokens.delete_many({"user_id": user_id})
