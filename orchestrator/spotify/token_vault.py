"""Spotify tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from settings.

The key is MUSEAIKA_SPOTIFY_TOKEN_KEY (a Fernet key: 32 url-safe base64 bytes). Development derives one
from the JWT secret so the demo needs no setup; production refuses to start without its own key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def derived_key(secret: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(b"museaika spotify tokens|" + secret.encode()).digest()).decode()


class TokenVault:
    def __init__(self, key: str) -> None:
        self.fernet = Fernet(key.encode())

    def seal(self, token: str) -> str:
        return self.fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """None when the key changed since sealing: the user has to link Spotify again."""
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
