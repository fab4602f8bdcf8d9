"""Every domain event goes out as its contract envelope: a revocation as ClientInvitationRevoked,
a failed e-mail as ClientInvitationFailed with a stable code (what the clients service shows)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_contracts.clients import ClientInvitationFailed, ClientInvitationRevoked
from portal_invitations.adapters.event_mapping import failure_code, to_envelope
from portal_invitations.domain.events import Cause, InvitationFailed, InvitationRevoked

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CAUSE = Cause(correlation_id="5f0e7d1c-7d1a-4d4b-a1a4-0b5f8f0f6b10")


def test_a_revocation_is_published_as_client_invitation_revoked() -> None:
    envelope = to_envelope(InvitationRevoked("c-1", "office-1", "inv-1", NOW, CAUSE))
    assert isinstance(envelope, ClientInvitationRevoked)
    assert (envelope.payload.client_id, envelope.payload.invitation_id) == ("c-1", "inv-1")
    assert (envelope.office_id, envelope.key()) == ("office-1", b"c-1")
    assert str(envelope.correlation_id) == CAUSE.correlation_id


def test_a_failure_is_published_with_a_stable_code_and_the_relay_s_words() -> None:
    event = InvitationFailed("c-1", "office-1", "inv-1", "smtp 550: no such user", NOW, CAUSE)
    envelope = to_envelope(event)
    assert isinstance(envelope, ClientInvitationFailed)
    assert (envelope.payload.reason, envelope.payload.detail) == (
        "mail.rejected",
        "smtp 550: no such user",
    )
    assert envelope.key() == b"c-1"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("smtp 550: no such user", ("mail.rejected", "smtp 550: no such user")),
        ("retries_exhausted: smtp 421: later", ("mail.retries_exhausted", "smtp 421: later")),
        ("mail.header_injection: user.email", ("mail.header_injection", "user.email")),
        ("mail.invalid_address: ValueError", ("mail.invalid_address", "ValueError")),
        ("something else", ("mail.failed", "something else")),
    ],
)
def test_failure_codes(reason: str, expected: tuple[str, str]) -> None:
    assert failure_code(reason) == expected
