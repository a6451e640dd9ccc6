"""Sign-up, login (with throttling), token refresh, profile changes and account deletion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.accounts.passwords import check_password_rules, hash_password, needs_rehash, verify_password
from orchestrator.accounts.throttle import LoginThrottle
from orchestrator.accounts.users import User, UserRepository
from orchestrator.core.errors import InvalidInputError, NotFoundError, TooManyAttemptsError, UnauthorizedError
from orchestrator.core.tokens import InvalidTokenError, TokenIssuer
from orchestrator.storage.objects import ObjectStore

BAD_CREDENTIALS = "incorrect email or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class OwnedByUsers(Protocol):
    async def delete_all(self, owner_id: str) -> int: ...


@dataclass(frozen=True)
class OwnedData:
    """Every collection that holds a user's things, by the name the deletion report gives it; account deletion
    empties each. Handed in by the wiring, so accounts need not know the features that store things."""

    collections: Mapping[str, OwnedByUsers]
    objects: ObjectStore  # generated files live under users/<id>/


class AccountService:
    def __init__(self, users: UserRepository, tokens: TokenIssuer, throttle: LoginThrottle, owned: OwnedData) -> None:
        self.users = users
        self.tokens = tokens
        self.throttle = throttle
        self.owned = owned

    async def sign_up(self, email: str, password: str, display_name: str | None) -> User:
        check_password_rules(password, email)
        return await self.users.create(email.lower(), hash_password(password), display_name)

    async def login(self, email: str, password: str, client: str) -> TokenPair:
        email = email.lower()
        wait = self.throttle.retry_after(email, client)
        if wait is not None:
            raise TooManyAttemptsError("too many failed logins; try again later", wait)
        user = await self.users.by_email(email)
        # Verify even for an unknown email (against a dummy hash): equal timing for both failures.
        verified = verify_password(password, user.password_hash if user else None)
        if user is None or not verified:
            self.throttle.record_failure(email, client)
            raise UnauthorizedError(BAD_CREDENTIALS)
        self.throttle.forget_email(email)
        if needs_rehash(user.password_hash):
            await self.users.update(user.id, {"password_hash": hash_password(password)})
        return await self._issue(user.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        try:
            claims = self.tokens.verify(refresh_token, "refresh")
        except InvalidTokenError as error:
            raise UnauthorizedError("refresh token is invalid or expired") from error
        # Each refresh token works once: a replayed one means it leaked, so every session ends.
        if not await self.users.consume_refresh_token(claims.token_id, claims.user_id):
            await self.users.revoke_refresh_tokens(claims.user_id)
            raise UnauthorizedError("refresh token was already used or revoked")
        return await self._issue(claims.user_id)

    async def _issue(self, user_id: str) -> TokenPair:
        access, _ = self.tokens.issue(user_id, "access")
        refresh, refresh_claims = self.tokens.issue(user_id, "refresh")
        await self.users.remember_refresh_token(refresh_claims.token_id, user_id, refresh_claims.expires_at)
        return TokenPair(access, refresh, int(self.tokens.ttl["access"].total_seconds()))

    async def authenticate(self, access_token: str) -> User:
        try:
            claims = self.tokens.verify(access_token, "access")
        except InvalidTokenError as error:
            raise UnauthorizedError("access token is invalid or expired") from error
        try:
            return await self.users.get(claims.user_id)
        except NotFoundError as error:  # the token of a deleted account
            raise UnauthorizedError("access token is invalid or expired") from error

    async def update_profile(self, user: User, display_name: str | None, new_password: str | None,
                             current_password: str | None) -> User:
        changes: dict[str, Any] = {}
        if display_name is not None:
            changes["display_name"] = display_name
        if new_password is not None:
            if current_password is None or not verify_password(current_password, user.password_hash):
                raise InvalidInputError(403, "changing the password needs the current password")
            check_password_rules(new_password, user.email)
            changes["password_hash"] = hash_password(new_password)
        updated = await self.users.update(user.id, changes) if changes else user
        if new_password is not None:
            await self.users.revoke_refresh_tokens(user.id)
        return updated

    async def delete_account(self, user_id: str) -> dict[str, int]:
        removed = {name: await collection.delete_all(user_id) for name, collection in self.owned.collections.items()}
        # Files first would leave jobs pointing at nothing if storage failed midway; this order
        # leaves only unreachable files, and a retried deletion removes them.
        removed["files"] = await self.owned.objects.delete_prefix(f"users/{user_id}/")
        await self.users.delete(user_id)
        return removed
