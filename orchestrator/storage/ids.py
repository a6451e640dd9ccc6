"""Ids and pagination cursors as the API shows them; malformed ones are the client's error (422)."""

from __future__ import annotations

import base64
from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId

from orchestrator.core.errors import InvalidInputError, NotFoundError


def object_id(value: str, what: str) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as error:
        raise InvalidInputError(422, f"{what} id {value!r} is malformed") from error


def object_id_or_404(value: str, what: str) -> ObjectId:
    """For paths: an id that cannot exist is simply not found."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as error:
        raise NotFoundError(f"{what} {value!r}") from error


def encode_cursor(created_at: datetime, key: ObjectId) -> str:
    raw = f"{created_at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, ObjectId]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, key = raw.split("|")
        return datetime.fromisoformat(stamp), ObjectId(key)
    except (ValueError, InvalidId, UnicodeDecodeError) as error:
        raise InvalidInputError(422, "cursor is malformed; pass back next_cursor unchanged") from error
