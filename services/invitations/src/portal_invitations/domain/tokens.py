"""Invitation tokens: 256 bits from the OS CSPRNG; only their SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits; token_urlsafe(32) yields 43 characters
MAX_TOKEN_LENGTH = 256


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """A fast hash is enough: the token has 256 bits of entropy, so it cannot be brute-forced."""
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def plausible_token(token: str) -> bool:
    """Refuse absurd input before hashing it (length, alphabet of token_urlsafe)."""
    return 16 <= len(token) <= MAX_TOKEN_LENGTH and all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in token
    )
