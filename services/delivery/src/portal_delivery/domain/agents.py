"""The keys an office's agents authenticate with (one agent install, one key, per connection).

A key is a random token (256 bits) made when an admin creates the agent connection or asks for
a new key; it is shown once, then only its sha256 is kept (a fast hash is enough for a random
256-bit secret: there is nothing to guess). An admin revokes a key, or deletes the connection,
and the agent is refused from the next request on. A key sees only its own office's
deliveries to its own connection.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

PREFIX = "pda_"  # recognisable in a leaked-secret scan


@dataclass(frozen=True)
class AgentKey:
    key_id: str  # shown to the admin to tell keys apart; not a secret
    office_id: str
    connection: str  # the connection's name as the admin wrote it
    created_at: datetime
    last_seen_at: datetime | None = None

    @property
    def connection_key(self) -> str:
        return self.connection.casefold()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key(office_id: str, connection: str, now: datetime) -> tuple[AgentKey, str]:
    token = new_token()
    return AgentKey(secrets.token_hex(6), office_id, connection, now), token
