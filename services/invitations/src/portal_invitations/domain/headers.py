"""Header-injection defence: no value that ends up in an e-mail header may break a line, and the
recipient's address must be one the e-mail can carry without SMTPUTF8.

Both checks are the clients' own rules (``portal_contracts.values``, the functions
``portal_client_rules`` applies when a client is added, edited or imported): one line holds no
control, format, line or paragraph separator character; an address is ASCII with one local part
and one domain (the clients store the domain's IDNA A-label). So whatever a client was saved with
can be invited, and what the e-mail would refuse is refused here, before anything is queued.
"""

from __future__ import annotations

from portal_contracts.values import is_sendable_address, is_single_line
from portal_invitations.domain.errors import HeaderInjection

_ADDRESS_FIELDS = frozenset({"user.email", "sender.address"})


def is_header_safe(value: str) -> bool:
    return is_single_line(value)


def refuse_line_breaks(**values: str | None) -> None:
    """Raise :class:`HeaderInjection` naming the first field holding CR, LF, U+2028, another
    control or invisible character, or (``user.email``, ``sender.address``) an address the
    e-mail cannot carry."""
    for field, value in values.items():
        if value is None:
            continue
        if not is_single_line(value) or (
            field in _ADDRESS_FIELDS and not is_sendable_address(value)
        ):
            raise HeaderInjection(field)
