"""What delivery knows of a client: where and how its documents go (a read model)."""

from __future__ import annotations

from dataclasses import dataclass

from portal_contracts.clients import ClientSnapshot, Integration


@dataclass(frozen=True)
class ClientRoute:
    """The integration settings of one client, as of a given snapshot version."""

    office_id: str
    client_id: str
    version: int
    integration: Integration

    @classmethod
    def from_snapshot(cls, office_id: str, snapshot: ClientSnapshot) -> ClientRoute:
        return cls(office_id, snapshot.client_id, snapshot.version, snapshot.integration)

    def is_newer_than(self, other: ClientRoute | None) -> bool:
        # Events of one client are ordered by key, but a replay may bring an old snapshot back.
        return other is None or self.version > other.version
