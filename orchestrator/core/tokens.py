"""Short-lived access tokens and rotating refresh tokens (JWT, HS256).

A token is honoured for at most its kind's lifetime from when it says it was issued, whatever `exp` it carries:
a token minted with a leaked or default secret and an `exp` a century ahead is refused, and one issued before
the lifetime was shortened lives only as long as the new one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"
CLOCK_SKEW = timedelta(seconds=30)  # an `iat` this far in the future is another host's clock, not a forgery


class InvalidTokenError(Exception):
    """Expired, forged, malformed or of the wrong type: always answered with the same 401."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_id: str
    expires_at: datetime


class TokenIssuer:
    def __init__(self, secret: str, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        self.secret = secret
        self.ttl: dict[TokenType, timedelta] = {"access": access_ttl, "refresh": refresh_ttl}

    def issue(self, user_id: str, kind: TokenType) -> tuple[str, TokenClaims]:
        now = datetime.now(UTC)
        claims = TokenClaims(user_id, uuid.uuid4().hex, now + self.ttl[kind])
        token = jwt.encode({"sub": user_id, "jti": claims.token_id, "typ": kind, "iat": now,
                            "exp": claims.expires_at}, self.secret, algorithm=ALGORITHM)
        return token, claims

    def verify(self, token: str, kind: TokenType) -> TokenClaims:
        try:
            # Pinned: a token naming any other algorithm ("none", HS512, RS256 …) is refused before its
            # signature is looked at, so the header never chooses how it is checked.
            payload = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                 options={"require": ["sub", "jti", "typ", "iat", "exp"]})
        except jwt.PyJWTError as error:
            raise InvalidTokenError(str(error)) from error
        if payload["typ"] != kind:
            raise InvalidTokenError(f"expected a {kind} token")
        issued, expires = (datetime.fromtimestamp(payload[claim], UTC) for claim in ("iat", "exp"))
        now = datetime.now(UTC)
        if issued > now + CLOCK_SKEW:
            raise InvalidTokenError("issued in the future")
        if expires - issued > self.ttl[kind]:  # with `exp` passed refused above, this caps the lifetime too
            raise InvalidTokenError(f"lives longer than a {kind} token may")
        return TokenClaims(str(payload["sub"]), str(payload["jti"]), expires)
