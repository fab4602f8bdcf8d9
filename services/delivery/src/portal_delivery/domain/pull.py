"""The pulled channel: the office's agent (a program on its own server) fetches its documents.

A delivery to an agent connection is never pushed. When it is due the scheduler makes it
*available* (``Delivery.dispatch``); the agent's feed *leases* it (``lease``: like a visibility
timeout, only the holder of the lease token may acknowledge it); the agent downloads the files,
writes them into its folder and *acknowledges* the item (``acknowledge``), which marks the
delivery sent with the agent's word as the receipt — the one channel with a true end-to-end
receipt. A lease that runs out without an ack makes the item available again (the scheduler
claims it like any expired lease), under the same attempt number: the agent finds its files
in place (same name, same sha256) and acknowledges without downloading twice. An agent that says
it could not write the files (``refuse``: disk full, folder denied) is a transient failure with
back-off, as for any channel. An item leased ``MAX_LEASES`` times and never acknowledged (an
agent that dies on it each time) fails instead of going round for ever.

A lease token is shown once, to the agent that leased; the ledger keeps its sha256 only.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from portal_delivery.domain.delivery import Delivery, Problem, Receipt, State
from portal_delivery.domain.retry import RetryPolicy

MAX_LEASES = 10


class LeaseLost(Exception):
    """The ack or refusal names a lease that is no longer this item's (it ran out and another
    poll took the item, or it was never this item's)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lease(
    delivery: Delivery,
    now: datetime,
    lease_for: timedelta,
    policy: RetryPolicy,
    rng: random.Random,
) -> str | None:
    """Lease an available item to the agent asking; returns the lease token (None when the
    item may not be leased: it is not available, or it was leased too often already and failed
    instead)."""
    if delivery.state is not State.AVAILABLE or not delivery.attempts:
        return None
    current = delivery.attempts[-1]
    leases = int(current.progress.get("leases", 0))
    if leases >= MAX_LEASES:
        delivery.fail(
            Problem("agent.never_acknowledged", f"{leases} leases", retryable=False),
            now,
            policy,
            rng,
        )
        return None
    token = secrets.token_urlsafe(24)
    current.outcome, current.started_at = "sending", now
    current.progress.update({"leases": leases + 1, "lease": digest(token)})
    delivery.state, delivery.due_at = State.SENDING, now + lease_for
    return token


def _holds(delivery: Delivery, token: str) -> bool:
    if not delivery.attempts or delivery.state not in {State.SENDING, State.AVAILABLE}:
        return False
    expected = str(delivery.attempts[-1].progress.get("lease", ""))
    return bool(expected) and hmac.compare_digest(expected, digest(token))


class NotWhatWasSent(Exception):
    """The agent acknowledged files whose sha256 is not the documents' (a corrupt write)."""


def acknowledge(
    delivery: Delivery, token: str, agent: str, files: list[dict[str, Any]], now: datetime
) -> bool:
    """The agent has the files in place (``files``: name, path and the sha256 it read back):
    the delivery is sent. True when this call marked it sent, False when it was already sent
    under this lease (an ack repeated after a lost answer). A lease that ran out is still
    accepted while nobody else leased the item: the files landed, and only this agent has them.
    """
    if delivery.state is State.SENT and delivery.attempts:
        if delivery.attempts[-1].progress.get("lease") == digest(token):
            return False
        raise LeaseLost(delivery.delivery_id)
    if not _holds(delivery, token):
        raise LeaseLost(delivery.delivery_id)
    reported = {str(f.get("name")): str(f.get("sha256", "")) for f in files}
    if any(reported.get(f.name) != f.sha256 for f in delivery.files):
        raise NotWhatWasSent(delivery.delivery_id)
    kept = [{"name": str(f["name"]), "path": str(f.get("path", ""))[:500]} for f in files]
    receipt = Receipt(f"acknowledged by agent {agent}", {"agent": agent, "files": kept})
    sent = [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in delivery.files]
    delivery.succeed(receipt, sent, now)
    return True


def refuse(
    delivery: Delivery,
    token: str,
    reason: str,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    """The agent could not write the files: tried again later (back-off), as any transient
    failure; the agent's words are kept as the detail (never shown as ours)."""
    if not _holds(delivery, token):
        raise LeaseLost(delivery.delivery_id)
    delivery.fail(Problem("agent.refused", reason[:300]), now, policy, rng)
