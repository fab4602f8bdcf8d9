"""Small named failures the domain and handlers raise; the HTTP edge maps them in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field


@dataclass(frozen=True)
class FieldIssue:
    """One broken rule on one field, with a stable code (and params for its message)."""

    field: str
    code: str
    params: Mapping[str, str] = _field(default_factory=dict)


class ClientsError(Exception):
    """Base of the service's named failures."""


class NotFound(ClientsError):
    """Unknown here, or belongs to another office, or hidden from this caller (all look alike)."""


class StaleVersion(ClientsError):
    """The If-Match version is not the current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class Conflict(ClientsError):
    """A uniqueness or state rule refused the change (409)."""

    def __init__(self, code: str, issues: list[FieldIssue] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.issues = issues or []


class Invalid(ClientsError):
    """Field rules refused the input (422); every issue is listed."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__("; ".join(f"{i.field}: {i.code}" for i in issues))
        self.issues = issues


class Forbidden(ClientsError):
    """The caller may not do this (a staff member outside the group, an admin-only action)."""

    def __init__(self, code: str, field_name: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field_name = field_name


class RateLimited(ClientsError):
    """The office used up its allowance for this call; it may try again after ``retry_after_s``."""

    def __init__(self, code: str, retry_after_s: int) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after_s = retry_after_s


class RowsRefused(ClientsError):
    """Rows of an import lost a uniqueness race while being stored: nothing of it was kept."""

    def __init__(self, rows: dict[str, FieldIssue]) -> None:
        super().__init__(", ".join(rows))
        self.rows = rows  # client id -> the rule it broke
