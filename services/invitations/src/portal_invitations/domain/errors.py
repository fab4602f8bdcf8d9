"""Small named exceptions the domain raises; the HTTP edge maps each to one problem code."""

from __future__ import annotations


class InvitationError(Exception):
    """Base of the domain's refusals; ``code`` is the stable problem code."""

    code = "invitation.error"


class ClientAlreadyActive(InvitationError):
    code = "invitation.client_active"


class ClientArchived(InvitationError):
    """The office archived the client: no invitation or activation until it is restored."""

    code = "invitation.client_archived"


class NoOpenInvitation(InvitationError):
    code = "invitation.none_open"


class NotAccountantManaged(InvitationError):
    code = "activation.not_accountant_managed"


class InvitationLinkInvalid(InvitationError):
    """Expired, used, revoked, replaced or unknown: one error on purpose (nothing to enumerate)."""

    code = "invitation.link_invalid"


class MobileMismatch(InvitationError):
    code = "invitation.mobile_mismatch"


class HeaderInjection(InvitationError):
    """A line break (or another control character) where an e-mail header value is built."""

    code = "mail.header_injection"

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class WeakPassword(InvitationError):
    code = "password.policy"

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes
