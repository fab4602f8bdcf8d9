"""Conditional requests: the version an edit is based on, from its ``If-Match`` header."""

from __future__ import annotations

from portal_servicekit.problems import ProblemError

ANY_VERSION = None
"""``If-Match: *``: RFC 9110 §13.1.1, true when the resource has a current representation;
the edit proceeds on whichever version is current."""


def if_match_version(if_match: str | None) -> int | None:
    """``"7"`` (or ``W/"7"``) → 7, ``*`` → :data:`ANY_VERSION`; no header → 428
    ``precondition.required``; anything else → 412 ``precondition.failed``."""
    if not if_match or not if_match.strip():
        raise ProblemError(428, "precondition.required")
    text = if_match.strip()
    if text == "*":
        return ANY_VERSION
    text = text.removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ProblemError(412, "precondition.failed")
    return int(text)
