"""The office as invitations knows it: the profile the clients service owns, kept from
OfficeProfileChanged (newest version wins). Its name goes into the invitation's text and the
onboarding page, its sender name (or its name) into the From header."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeProfile:
    name: str
    sender_name: str | None = None
    languages: tuple[str, ...] = ()

    @property
    def sends_as(self) -> str:
        """The display name of the From header: the sender name the office chose, or its name."""
        return self.sender_name or self.name
