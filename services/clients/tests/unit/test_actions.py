"""The Actions of a list row (issue 14 point 1): one rule in the domain, carried by each row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_clients.domain.invitation import (
    Action,
    ClientInvitation,
    InvitationState,
    allowed_actions,
)

AT = datetime(2026, 12, 3, tzinfo=UTC)
SENT = ClientInvitation("inv-1", InvitationState.SENT, AT)
FAILED = ClientInvitation("inv-1", InvitationState.FAILED, AT, "mail.rejected", "550 no user")
ACCEPTED = ClientInvitation("inv-1", InvitationState.ACCEPTED, AT)


@pytest.mark.parametrize(
    ("status", "managed", "invitation", "actions"),
    [
        ("not_invited", False, None, [Action.INVITE]),
        ("not_invited", True, None, [Action.INVITE, Action.ACTIVATE]),
        ("not_invited", False, FAILED, [Action.INVITE]),  # a failed e-mail: invite again
        ("inactive", False, SENT, [Action.RESEND, Action.REVOKE]),
        ("active", False, ACCEPTED, []),  # onboarded: nothing left to do with access
        ("active", True, None, [Action.INVITE]),  # activated silently: may still be invited
        ("active", True, SENT, [Action.RESEND, Action.REVOKE]),  # ... and stays active
        ("active", True, FAILED, [Action.INVITE]),
        ("active", True, ACCEPTED, []),
    ],
)
def test_each_state_offers_what_the_article_says(
    status: str, managed: bool, invitation: ClientInvitation | None, actions: list[Action]
) -> None:
    assert allowed_actions(status, managed, invitation) == [*actions, Action.ARCHIVE]
    assert allowed_actions(status, managed, invitation, archived=True) == [Action.RESTORE]
