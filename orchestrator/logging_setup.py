"""JSON logs on stdout for the orchestrator, the worker and uvicorn, with credentials masked.

Masking happens on each finished line (message, extra fields, traceback), so no logger (ours, uvicorn's,
a library's) can write one: uvicorn logs every request line and WebSocket handshake with its query string,
and the job progress WebSocket takes `?access_token=` (browsers cannot set its headers), the Spotify
callback `?code=&state=`, a presigned URL `X-Amz-Signature=`."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
# Query parameters that carry a credential, whatever the URL.
SECRET_PARAMETERS = ("access_token", "refresh_token", "id_token", "token", "code", "state", "code_verifier",
                     "password", "client_secret", "x-amz-signature", "x-amz-credential", "x-amz-security-token")
_PARAMETER = re.compile(rf"(?i)((?<=[?&])(?:{'|'.join(SECRET_PARAMETERS)})=)[^&#\s\"'\\]+")
# The same credentials as fields of a dict or JSON text in a message (a library logging a request body).
# JSON inside a JSON log line has its quotes escaped once more per level (pymongo's command log at DEBUG).
SECRET_FIELDS = ("access_token", "refresh_token", "id_token", "code", "code_verifier", "client_secret", "password",
                 "password_hash", "secret_key")
_FIELD = re.compile(rf"(?i)((?:{'|'.join(SECRET_FIELDS)})\\*[\"']\s*:\s*\\*[\"'])[^\"'\\]+")
# A JWT anywhere (three base64url parts, header and payload JSON objects); the signature may be empty (alg none).
_JWT = re.compile(r"\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[\w~+/.-]+=*")


def redact(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    text = _FIELD.sub(rf"\g<1>{REDACTED}", text)
    return _PARAMETER.sub(rf"\g<1>{REDACTED}", text)


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
