"""Argon2id password hashing (argon2-cffi defaults, RFC 9106 low-memory profile), off the loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher


class Argon2Hasher:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    async def hash(self, password: str) -> str:
        # Deliberately slow and memory-hard: run it in a thread, never on the event loop.
        return await asyncio.to_thread(self._hasher.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except Exception:
            return False
