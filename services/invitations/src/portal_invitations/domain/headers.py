"""Header-injection defence: no value that ends up in an e-mail header may break a line."""

from __future__ import annotations

import unicodedata

from portal_invitations.domain.errors import HeaderInjection

# Line separators that some mail software treats as line breaks, beyond the C0/C1 controls.
_EXTRA_BREAKS = frozenset("\u2028\u2029\x85")


def is_header_safe(value: str) -> bool:
    return not any(ch in _EXTRA_BREAKS or unicodedata.category(ch) == "Cc" for ch in value)


def refuse_line_breaks(**values: str | None) -> None:
    """Raise :class:`HeaderInjection` naming the first field holding CR, LF or a control char."""
    for field, value in values.items():
        if value is not None and not is_header_safe(value):
            raise HeaderInjection(field)
