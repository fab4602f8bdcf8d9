"""What goes wrong with a document, as data: every problem names its field and the rule it breaks.

Checks collect all problems and raise them together, so a person fixes a document in one pass.
Messages here are English; the HTTP edge picks the caller's language from the rule id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # a dotted path into the intake, e.g. "lines.3.vat_category"
    rule: str  # an EN 16931 / Peppol rule id (BR-CO-15) or one of ours (UBL-PDF-01)
    message: str


class DocumentError(Exception):
    """Base of the domain's errors."""


class RejectedDocument(DocumentError):
    """The input breaks one or more rules; nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: [{p.rule}] {p.message}" for p in problems))
        self.problems = problems


class UnknownClient(DocumentError):
    """Not a client of the submitter's office that the submitter may see, or not heard of yet
    (its ClientCreated has not reached this service): one answer for all, so it reveals nothing."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"unknown client {client_id[:64]!r}")
        self.client_id = client_id


class ArchivedClient(DocumentError):
    """The office archived this client: it takes no new documents until it is restored
    (documents accepted before are still delivered)."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"client {client_id[:64]!r} is archived")
        self.client_id = client_id


class UnknownProfile(DocumentError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown UBL profile {name!r}")
        self.name = name


class InvalidOutput(DocumentError):
    """A UBL file we produced fails the UBL 2.1 schema: our defect, stored as a failed document."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"[{p.rule}] {p.message}" for p in problems))
        self.problems = problems


def reject_if(problems: list[Problem]) -> None:
    if problems:
        raise RejectedDocument(problems)
