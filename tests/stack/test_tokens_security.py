"""The JWT algorithm is pinned: a token whose header names another algorithm ("none" in any spelling, HS384/HS512
with the right secret, RS256/ES256 with a key of the attacker's) is refused, by TokenIssuer and, through the
real orchestrator, with a 401. A token made the same way but with HS256 and the server's secret is accepted,
so each refusal is the algorithm's doing."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from launcher.stack import Stack
from orchestrator.core.tokens import InvalidTokenError, TokenIssuer, TokenType
from tests.support.api_client import bearer, sign_up_and_login
from tests.support.stacks import SharedServices

SECRET = secrets.token_urlsafe(64)  # long enough for HS512, so only the algorithm differs


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims(user_id: str, kind: str = "access") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": user_id, "jti": secrets.token_hex(8), "typ": kind, "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp())}


def unsigned(payload: dict[str, Any], alg: str) -> str:
    """alg "none" (and its spellings) with an empty signature, or the server's signature kept from HS256."""
    return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(payload)}."


def forged_tokens(user_id: str) -> dict[str, str]:
    payload = claims(user_id)
    genuine = jwt.encode(payload, SECRET, algorithm="HS256")
    _, body, signature = genuine.split(".")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return {
        "alg none": unsigned(payload, "none"),
        "alg None": unsigned(payload, "None"),
        "alg NONE": unsigned(payload, "NONE"),
        # The HS256 signature kept, the header changed to "none": the signature no longer matters if alg is trusted.
        "none header, HS256 signature": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{body}.{signature}",
        "HS384 with the server's secret": jwt.encode(payload, SECRET, algorithm="HS384"),
        "HS512 with the server's secret": jwt.encode(payload, SECRET, algorithm="HS512"),
        "RS256 with the attacker's key": jwt.encode(payload, rsa_key, algorithm="RS256"),
        "ES256 with the attacker's key": jwt.encode(payload, ec_key, algorithm="ES256"),
        "no iat": jwt.encode({k: v for k, v in payload.items() if k != "iat"}, SECRET, algorithm="HS256"),
    }


def test_the_issuer_refuses_every_other_algorithm() -> None:
    issuer = TokenIssuer(SECRET, timedelta(minutes=5), timedelta(days=1))
    own, _ = issuer.issue("user-1", "access")
    assert jwt.get_unverified_header(own)["alg"] == "HS256"
    assert issuer.verify(jwt.encode(claims("user-1"), SECRET, algorithm="HS256"), "access").user_id == "user-1"
    for name, token in forged_tokens("user-1").items():
        with pytest.raises(InvalidTokenError):
            issuer.verify(token, "access")
            pytest.fail(f"{name} was accepted")


def test_a_token_is_honoured_for_its_kinds_lifetime_at_most() -> None:
    """Before: a token signed with the secret and an `exp` a century ahead was accepted. Now the lifetime counts
    from `iat` and is capped by the issuer's, whatever `exp` says."""
    issuer = TokenIssuer(SECRET, timedelta(minutes=5), timedelta(days=1))
    now = datetime.now(UTC)

    def signed(issued: datetime, expires: datetime, kind: str = "access") -> str:
        return jwt.encode({**claims("user-1", kind), "iat": int(issued.timestamp()), "exp": int(expires.timestamp())},
                          SECRET, algorithm="HS256")

    assert issuer.verify(signed(now - timedelta(minutes=1), now + timedelta(minutes=4)), "access")  # the control
    assert issuer.verify(signed(now, now + timedelta(hours=23), "refresh"), "refresh")
    for name, token in {
        "exp a century ahead": signed(now, now + timedelta(days=36525)),
        "an hour-long access token": signed(now, now + timedelta(hours=1)),
        "issued 20 minutes ago, exp still ahead": signed(now - timedelta(minutes=20), now + timedelta(minutes=1)),
        "issued tomorrow": signed(now + timedelta(days=1), now + timedelta(days=1, minutes=4)),
        "a refresh token of two days": signed(now, now + timedelta(days=2), "refresh"),
    }.items():
        kind: TokenType = "refresh" if "refresh" in name else "access"
        with pytest.raises(InvalidTokenError):
            issuer.verify(token, kind)
            pytest.fail(f"{name} was accepted")


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    """No models, no worker; a JWT secret of this test's own."""
    with shared.stack("tokens", database="tokens", redis_db=9, models=[],
                      extra_env={"MUSEAIKA_JWT_SECRET": SECRET}) as started:
        yield started


def test_the_api_answers_401_to_a_token_of_another_algorithm(api: httpx.Client) -> None:
    _, tokens = sign_up_and_login(api)
    user_id = api.get("/v1/users/me", headers=bearer(tokens)).json()["id"]
    made_here = jwt.encode(claims(user_id), SECRET, algorithm="HS256")
    assert api.get("/v1/users/me", headers={"Authorization": f"Bearer {made_here}"}).status_code == 200
    for name, token in forged_tokens(user_id).items():
        answer = api.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
        assert answer.headers["www-authenticate"] == "Bearer"
    refresh_none = unsigned(claims(user_id, "refresh"), "none")
    assert api.post("/v1/auth/refresh", json={"refresh_token": refresh_none}).status_code == 401
