"""The rules of a client's fields, shared by the clients service (the "+ Add client" form) and the
importer (every Excel row), so both accept and refuse exactly the same things; invitations checks
its e-mail headers with the same functions (:mod:`portal_client_rules.people`).

``check_client(raw, office)`` normalises a ClientData-shaped mapping of raw values and returns a
:class:`ClientData`, or raises :class:`ClientRulesError` listing every broken rule with its field
path and stable code. ``messages.message(code, lang, params)`` says in fr/nl/en what is wrong and
how to fix it. No I/O: rules that need a write or a lookup (uniqueness, the VAT register) live in
the services.
"""

from portal_client_rules import messages
from portal_client_rules.people import (
    is_sendable_address,
    is_single_line,
    normalise_client_email,
    normalise_person_name,
)
from portal_client_rules.rules import (
    ClientRulesError,
    OfficeRules,
    Violation,
    check_client,
)

__all__ = [
    "ClientRulesError",
    "OfficeRules",
    "Violation",
    "check_client",
    "is_sendable_address",
    "is_single_line",
    "messages",
    "normalise_client_email",
    "normalise_person_name",
]
