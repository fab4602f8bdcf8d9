"""Conditional requests: the version an edit is based on, from its ``If-Match`` header."""

from __future__ import annotations

from portal_servicekit.problems import ProblemError

ANY_VERSION = None
"""``If-Match: *``: RFC 9110 §13.1.1, true when the resource has a current representation;
the edit proceeds on whichever version is current."""


MAX_VERSION_DIGITS = 18
"""A version is a 64-bit integer where it is stored; 18 digits are always below 2**63."""


def if_match_version(if_match: str | None) -> int | None:
    """``"7"`` (or ``W/"7"``) → 7, ``*`` → :data:`ANY_VERSION`; no header → 428
    ``precondition.required``; anything else → 412 ``precondition.failed``."""
    if not if_match or not if_match.strip():
        raise ProblemError(428, "precondition.required")
    text = if_match.strip()
    if text == "*":
        return ANY_VERSION
    text = text.removeprefix("W/").strip('"')
    # ASCII digits only ("²" and "٣" are digits to str.isdigit), and a version MongoDB can hold:
    # 5,000 digits or 2**64 were a ValueError / OverflowError, answered 500.
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_VERSION_DIGITS:
        raise ProblemError(412, "precondition.failed")
    return int(text)
