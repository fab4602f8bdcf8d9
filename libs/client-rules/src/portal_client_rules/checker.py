"""The machinery that collects violations while reading a raw client, field by field."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar, cast

from portal_contracts.values import InvalidValue, TransferMethod, check_single_line

E = TypeVar("E", bound=StrEnum)


@functools.cache
def _members(enum: type[E]) -> dict[str, E]:
    return {member.value: member for member in enum}


@dataclass(frozen=True)
class Violation:
    field: str  # ClientData path, e.g. "user.email" or "bank_accounts.0"
    code: str  # stable, e.g. "email.syntax"; picks the message in messages.py
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


class ClientRulesError(ValueError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.code}" for v in violations))
        self.violations = violations


@dataclass(frozen=True)
class OfficeRules:
    """What the office's settings allow; ``group_ids=None`` skips the group-exists check.

    ``connections``: the office's sFTP and agent connections by name (delivery owns them and
    announces each change); ``None`` when the checker has not heard of them yet, which skips the
    check (the name is then only checked when delivering)."""

    enabled_transfer_methods: frozenset[TransferMethod]
    group_ids: frozenset[str] | None
    today: date
    connections: Mapping[str, TransferMethod] | None = None


class _Checker:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.violations: list[Violation] = []

    def add(self, path: str, code: str, **params: str) -> None:
        self.violations.append(Violation(path, code, params))

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(name, "field.invalid")
            return {}
        return value

    def text(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool, max_len: int = 200
    ) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, "field.required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            # JSON true or 1e308 where text is expected: str() would store "True" or "1e+308",
            # not what the person typed. Whole numbers are their digits (a reference 1001).
            self.add(path, "text.not_text")
            return None
        text = str(value).strip()
        try:
            check_single_line(text)
        except InvalidValue as exc:
            self.add(path, exc.code, **exc.params)
            return None
        if len(text) > max_len:
            self.add(path, "text.too_long", max=str(max_len))
            return None
        return text

    def normalised(self, value: Any, path: str, normaliser: Callable[[str], str]) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.add(path, "field.required")
            return None
        try:
            return normaliser(_as_text(value))
        except InvalidValue as exc:
            self.add(path, exc.code, **exc.params)
            return None

    def choice(
        self, data: Mapping[str, Any], key: str, path: str, enum: type[E], *, required: bool
    ) -> E | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, "field.required")
            return None
        text = str(value).strip().lower().replace(" ", "_").replace("-", "_").replace("/", "_")
        member = cast("dict[str, E]", _members(enum)).get(text)
        if member is not None:
            return member
        self.add(path, "field.choice", choices=", ".join(m.value for m in enum))
        return None

    def flag(self, data: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
        value = data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "oui", "ja", "1", "y"}:
            return True
        if text in {"false", "no", "non", "nee", "0", "n"}:
            return False
        self.add(path, "field.boolean")
        return default


def _as_text(value: Any) -> str:
    # Excel types phones and VAT numbers as numbers: 470123456.0 must read as "470123456".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
