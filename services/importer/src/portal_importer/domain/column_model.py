"""What a column of the import template is: its headers and help in fr/nl/en, how a cell reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

LANGUAGES = ("fr", "nl", "en")
Texts = Mapping[str, str]


def _t(fr: str, nl: str, en: str) -> Texts:
    return {"fr": fr, "nl": nl, "en": en}


class Kind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    YES_NO = "yes_no"
    INTEGER = "integer"
    DATE = "date"
    GROUP = "group"  # a name (or id) of one of the office's groups


@dataclass(frozen=True)
class Choice:
    value: str  # the enum value the rules expect, e.g. "monthly"
    labels: Texts  # what the drop-down shows


@dataclass(frozen=True)
class Column:
    # ClientData field path ("company.vat_number", "bank_accounts.0"), or a flag of the row
    # itself: "invite", "skip_vat_check" (domain/rows.py ROW_FLAGS)
    key: str
    headers: Texts
    help: Texts
    kind: Kind = Kind.TEXT
    choices: tuple[Choice, ...] = ()
    required: bool = False  # for the instructions only: the shared rules decide
    as_text: bool = False  # formatted as text so Excel keeps leading zeros and "+"
    width: int = 20
    example: str = ""
    aliases: tuple[str, ...] = ()

    def header(self, language: str) -> str:
        return self.headers.get(language) or self.headers["en"]

    def label(self, value: str, language: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.labels.get(language) or choice.labels["en"]
        return value
