"""Every handler of the importer in one place: ``verb(command_or_event, deps)``.

The HTTP edge calls the accountant's use cases, the Kafka edge the answers of the clients
service, the worker's loop the resumption of an interrupted confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal_importer.service.answers import record_commitment, record_rejection
from portal_importer.service.confirmation import confirm, resume_confirmation
from portal_importer.service.imports import (
    delete_row,
    edit_row,
    list_imports,
    new_version,
    offer_choices,
    revalidate,
    show_import,
    upload,
)

HANDLERS: dict[str, Callable[..., Any]] = {
    # HTTP: the accountant
    "offer_choices": offer_choices,
    "upload": upload,
    "list_imports": list_imports,
    "show_import": show_import,
    "edit_row": edit_row,
    "delete_row": delete_row,
    "new_version": new_version,
    "revalidate": revalidate,
    "confirm": confirm,
    # Kafka: the clients service's answers
    "record_commitment": record_commitment,
    "record_rejection": record_rejection,
    # the worker's loop
    "resume_confirmation": resume_confirmation,
}
