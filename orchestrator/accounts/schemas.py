"""Bodies of the account routes: sign-up, profile, tokens, deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field

from orchestrator.accounts.passwords import MAX_LENGTH as PASSWORD_MAX
from orchestrator.accounts.passwords import MIN_LENGTH as PASSWORD_MIN
from orchestrator.http.bodies import RequestModel

PASSWORD_LENGTH: dict[str, Any] = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


class SignUpRequest(RequestModel):
    email: EmailStr
    # The length in the schema; checked with the other rules (accounts/passwords.py), which word the refusal.
    password: str = Field(json_schema_extra=PASSWORD_LENGTH,
                          description="Not only letters or only digits, and not containing the email's name")
    display_name: str | None = Field(default=None, max_length=80)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    created_at: datetime


def _optional_password_length(schema: dict[str, Any]) -> None:
    schema["anyOf"][0].update(PASSWORD_LENGTH)


class UserPatch(RequestModel):
    display_name: str | None = Field(default=None, max_length=80)
    password: str | None = Field(default=None, json_schema_extra=_optional_password_length,
                                 description="A new password (the sign-up rules); needs current_password")
    current_password: str | None = Field(default=None, max_length=PASSWORD_MAX)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")


class RefreshRequest(RequestModel):
    refresh_token: str


class AccountDeletedOut(BaseModel):
    deleted: dict[str, int]
