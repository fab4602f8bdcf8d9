"""Secrets at rest: AES-256-GCM (``cryptography``) with a key from configuration.

Each secret is sealed with a fresh 96-bit nonce and bound to where it belongs (office,
connection, field) as associated data, so a sealed value copied onto another connection or field
does not open. The key is ``DELIVERY_SECRETS_KEY`` (32 bytes, URL-safe base64; no default). A key
can be rotated: seal with the first of ``keys``, open with any (each sealed value names its key
by a short fingerprint).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SecretUnreadable(Exception):
    """A sealed secret that no configured key opens (a lost or rotated-away key)."""


def key_from_text(text: str) -> bytes:
    key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(key) != 32:
        raise ValueError("DELIVERY_SECRETS_KEY must be 32 bytes, URL-safe base64")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class SecretBox:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key")
        self._keys = {self._fingerprint(k): AESGCM(k) for k in keys}
        self._current = self._fingerprint(keys[0])

    @staticmethod
    def _fingerprint(key: bytes) -> str:
        return hashlib.sha256(key).hexdigest()[:8]

    def seal(self, clear: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, clear.encode(), context.encode())
        return f"v1:{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, *, context: str) -> str:
        try:
            version, fingerprint, body = sealed.split(":", 2)
            raw = base64.b64decode(body)
            if version != "v1" or fingerprint not in self._keys:
                raise SecretUnreadable("no configured key opens this secret")
            return self._keys[fingerprint].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise SecretUnreadable("the secret does not open with this key") from exc
