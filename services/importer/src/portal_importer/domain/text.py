"""How the importer compares what people type: headers and drop-down labels match whatever the
case, the accents or the punctuation (``"Numéro de TVA *"`` and ``"numero de tva"`` are one)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Excel and copy-pasted web text bring non-breaking and zero-width spaces along.
_INVISIBLE = str.maketrans(
    {"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\ufeff": ""}
)


@lru_cache(maxsize=8192)  # drop-down cells repeat the same few labels on every row
def match_key(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: the key headers and labels match on."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", ascii_only.casefold()).strip()


def typed_not_text(value: Any) -> bool:
    """A cell Excel stored as a true/false, a decimal or a date: in a text column it cannot be
    what the accountant meant (a company called `true` reads "yes", `1e308` "1e+308")."""
    if isinstance(value, bool):
        return True
    if isinstance(value, float):
        return not (value.is_integer() and abs(value) < 1e17)
    return isinstance(value, datetime | date | time)


def cell_text(value: Any) -> str:
    """A cell as the accountant meant it, trimmed; numbers Excel typed keep their digits.

    ``470123456.0`` (a phone typed as a number) reads ``"470123456"``; a date reads ISO 8601.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        if value.isascii():  # nothing invisible to replace: skip the translation (hot path)
            return value.strip()
        return value.translate(_INVISIBLE).strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()
