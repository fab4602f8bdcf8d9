"""``Retry-After`` (RFC 9110 §10.2.3), as the remote APIs send it with a 429 or a 503: the wait
becomes ``Problem.retry_after`` and the ledger's scheduler honours it (a worker never sleeps on
it)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from typing import Any


def retry_after(headers: Any) -> timedelta | None:
    """Seconds, or an HTTP date; None when absent or unreadable."""
    raw = str(headers.get("retry-after") or "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(timedelta(0), when - datetime.now(UTC))
