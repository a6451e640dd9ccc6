"""JSON logs on stdout for the orchestrator, the worker and uvicorn, with credentials masked.

Masking happens on each finished line (message, extra fields, traceback), so no logger (ours, uvicorn's,
a library's) can write one: uvicorn logs every request line and WebSocket handshake with its query string,
and the job progress WebSocket takes `?access_token=` (browsers cannot set its headers), the Spotify
callback `?code=&state=`, a presigned URL `X-Amz-Signature=`.

A credential held in a quoted literal (a dict or JSON text in a message, a repr such as `jwt_secret='…'`) is
masked whole, up to its closing quote, whatever it contains: quotes of the other kind, escaped quotes and
backslashes. The line being JSON, a literal's closing quote is told from an escaped one by the backslashes
before it (tests/unit/test_log_masking.py)."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
# Where a name starts: not inside a longer word, or right after an escaped line break or tab of the JSON line.
_START = r"(?:(?<![\w-])|(?<=\\[nrt]))"
# Query or form parameters that carry a credential, whatever the URL: after `?` or `&`, or opening a form body
# (a message, a quoted string or a line of its own).
SECRET_PARAMETERS = ("access_token", "refresh_token", "id_token", "token", "code", "state", "code_verifier",
                     "password", "client_secret", "x-amz-signature", "x-amz-credential", "x-amz-security-token")
_PARAMETER = re.compile(
    rf"(?i)((?:^|(?<=[?&\s\"'])|(?<=\\[nrt]))(?:{'|'.join(SECRET_PARAMETERS)})=)[^&#\s\"'\\]+")
# The same credentials as fields of a dict or JSON text in a message (a library logging a request body), or as
# `name='…'` in a repr (settings, a dataclass); also any name ending in `_<one of these>` (s3_secret_key,
# new_password). JSON inside a JSON log line has its quotes escaped once more per level (pymongo's command log
# at DEBUG): the literal's opening quote is taken with its backslashes, and its closing one has as many.
SECRET_FIELDS = ("access_token", "refresh_token", "id_token", "token", "code", "code_verifier", "client_secret",
                 "secret", "password", "password_hash", "secret_key", "token_key")
_QUOTED_VALUE = re.compile(
    rf"(?i){_START}(?:\w*_)?(?:{'|'.join(SECRET_FIELDS)})(?:\\*[\"']\s*:|\s*=)\s*(?P<escapes>\\*)(?P<quote>[\"'])")
# One character of JSON text with the run of backslashes before it.
_ESCAPED_CHARACTER = re.compile(r"(\\*)([^\\])", re.DOTALL)
# A JWT anywhere (three base64url parts, header and payload JSON objects); the signature may be empty (alg none).
_JWT = re.compile(r"\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[\w~+/.-]+=*")


def _literal_end(line: str, start: int, escapes: int, quote: str) -> int:
    """Where the literal whose content starts at `start` ends: at its closing quote (`quote` after exactly
    `escapes` backslashes, like its opening one), or at the end of the JSON string holding it (a `"` after an
    even number of backslashes), for a literal cut short (a library shortening a long document)."""
    for character in _ESCAPED_CHARACTER.finditer(line, start):
        backslashes, char = len(character[1]), character[2]
        if (char == quote and backslashes == escapes) or (char == '"' and backslashes % 2 == 0):
            return character.start()
    return len(line)


def _mask_quoted_values(line: str) -> str:
    parts: list[str] = []
    position = 0
    while match := _QUOTED_VALUE.search(line, position):
        parts += [line[position:match.end()], REDACTED]
        position = _literal_end(line, match.end(), len(match["escapes"]), match["quote"])
    parts.append(line[position:])
    return "".join(parts)


def redact(line: str) -> str:
    """`line` (JSON text: one log line) with every credential it holds replaced by [redacted]."""
    line = _JWT.sub(REDACTED, line)
    line = _BEARER.sub(rf"\g<1>{REDACTED}", line)
    line = _mask_quoted_values(line)
    return _PARAMETER.sub(rf"\g<1>{REDACTED}", line)


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                                rename_fields={"asctime": "time", "levelname": "level"}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
