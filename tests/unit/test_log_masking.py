"""Credential masking in log lines (orchestrator/core/logs.py), case by case: every way a credential reaches
a message (a dict or its repr, JSON text, JSON inside JSON, a repr with `name='…'`, a form body, a query string,
an Authorization header, an extra field, a traceback) with credentials that hold `"`, `'` and `\\`: nothing of
the credential is left in the line, the line is still JSON, and what follows the credential is kept.
tests/stack/test_secrets_in_logs.py does the same end to end, on a real stack's logs."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from orchestrator.core.logs import REDACTED, RedactingJsonFormatter, redact


@dataclass(frozen=True)
class Secret:
    """A credential around awkward characters, with random parts on both sides: if either part is in a line, the
    masking stopped early (the usual failure: cut at the first quote or backslash) or never started."""
    head: str
    middle: str
    tail: str

    @property
    def value(self) -> str:
        return f"{self.head}{self.middle}{self.tail}"


MIDDLES = {"single quote": "it's", "double quote": 'say "hi"', "backslash": "back\\slash", "all three": "'\"\\",
           "escaped quote": '\\"', "trailing backslash": "\\"}
TRAILING = MIDDLES["trailing backslash"]


def new_secret(middle: str) -> Secret:
    # The trailing-backslash credential ends with it: nothing after it to find.
    return Secret(f"H{secrets.token_hex(6)}", middle, "" if middle == TRAILING else f"T{secrets.token_hex(6)}")


@dataclass(frozen=True)
class Logged:
    message: str
    extra: dict[str, Any] | None = None
    error: Exception | None = None


def pymongo_style(value: str) -> Logged:
    # pymongo's structured command log: a JSON message whose `command` is JSON text again (escaped twice here).
    return Logged(json.dumps({"message": "Command started", "command": json.dumps(
        {"insert": "users", "documents": [{"email": "a@example.com", "password_hash": value, "name": "kept"}]})}))


# Each case: what a credential `value` becomes in the log call, and a text after it that must survive.
CASES: dict[str, tuple[Callable[[str], Logged], str | None]] = {
    "dict repr": (lambda v: Logged(str({"password": v, "user": "kept"})), "kept"),
    "JSON text": (lambda v: Logged(json.dumps({"refresh_token": v, "user": "kept"})), "kept"),
    "JSON in JSON": (pymongo_style, "kept"),
    "repr, single quotes": (lambda v: Logged(f"Settings(jwt_secret={v!r}, log_level='kept')"), "kept"),
    "repr, double quotes": (lambda v: Logged(f"Vault(spotify_token_key={json.dumps(v)}) and kept"), "kept"),
    "suffixed name": (lambda v: Logged(f"{{'s3_secret_key': {v!r}, 'bucket': 'kept'}}"), "kept"),
    "form body": (lambda v: Logged(urlencode({"code": v, "grant_type": "kept"})), "grant_type=kept"),
    "bytes form body": (lambda v: Logged(repr(f"password={quote(v)}&username=kept".encode())), "username=kept"),
    "query string": (lambda v: Logged(f'"WebSocket /v1/jobs/1/events?access_token={quote(v)}" kept'), "kept"),
    "extra field": (lambda v: Logged("signing in", extra={"password": v, "email": "kept@example.com"}), "kept@"),
    "traceback": (lambda v: Logged("failed", error=ValueError(f"refused {{'client_secret': {v!r}}} kept")), "kept"),
    # A library cutting a long document short: the literal never closes; the line must still be JSON.
    "cut short": (lambda v: Logged(json.dumps({"password": v + "x" * 50})[:-20] + "..."), None),
}


@pytest.fixture
def formatted() -> Iterator[Callable[[Logged], str]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("tests.log_masking")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)

    def log(logged: Logged) -> str:
        stream.seek(0)
        stream.truncate()
        if logged.error is None:
            logger.info("%s", logged.message, extra=logged.extra)
        else:
            try:
                raise logged.error
            except ValueError:
                logger.exception("%s", logged.message)
        return stream.getvalue()

    yield log
    logger.handlers[:] = []


@pytest.mark.parametrize("middle", MIDDLES.values(), ids=MIDDLES.keys())
@pytest.mark.parametrize("case", CASES.keys())
def test_a_credential_is_masked_whole_whatever_it_holds(formatted: Callable[[Logged], str], case: str,
                                                        middle: str) -> None:
    make, kept = CASES[case]
    secret = new_secret(middle)
    line = formatted(make(secret.value))
    decoded = json.loads(line)  # still one JSON object
    assert REDACTED in line, line
    for part in filter(None, (secret.head, secret.tail)):
        assert part not in line, f"{case}: {part!r} left in {line}"
    # A closing quote right after a backslash cannot be told from an escaped one without knowing how many times
    # the text was escaped: such a credential is masked on to the next quote or the end of the field (more
    # than needed, never less), and what follows it may go too.
    if kept is not None and middle != TRAILING:
        assert kept in json.dumps(decoded), f"{case}: {kept!r} was masked too: {line}"


@pytest.mark.parametrize("line, expected", [
    # The whole value, not up to its first quote or backslash.
    (json.dumps({"message": str({"password": "it's-S3cret"})}), '{"message": "{\'password\': \\"[redacted]\\"}"}'),
    (json.dumps({"message": json.dumps({"password": 'ab"cd'})}),
     '{"message": "{\\"password\\": \\"[redacted]\\"}"}'),
    (json.dumps({"message": "Settings(jwt_secret='abc\\'def', debug=False)"}),
     '{"message": "Settings(jwt_secret=\'[redacted]\', debug=False)"}'),
    # A form body that starts with the parameter; a query parameter.
    (json.dumps({"message": "code=abc123&state=xyz&grant_type=authorization_code"}),
     '{"message": "code=[redacted]&state=[redacted]&grant_type=authorization_code"}'),
    (json.dumps({"message": "GET /cb?x=1&code=abc HTTP/1.1"}), '{"message": "GET /cb?x=1&code=[redacted] HTTP/1.1"}'),
    (json.dumps({"message": "Authorization: Bearer abc.def-ghi~ next"}),
     '{"message": "Authorization: Bearer [redacted] next"}'),
    # Not credentials: left alone.
    (json.dumps({"message": "encode='utf-8' token_type='bearer' x_code=1"}),
     json.dumps({"message": "encode='utf-8' token_type='bearer' x_code=1"})),
])
def test_redact_examples(line: str, expected: str) -> None:
    assert redact(line) == expected
