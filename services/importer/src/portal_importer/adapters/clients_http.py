"""The clients service over HTTP: platform-wide availability of e-mails and VAT numbers (one
batch call), and the office's groups and enabled transfer methods.

``POST {CLIENTS_URL}/v1/clients/availability`` with ``{"emails": [...], "vat_numbers": [...]}``
(normalised values; at most 20,000 a list, so a big import asks in pages) answers a status per
value, ``{"emails": {value: status}, "vat_numbers":
{value: status}}`` (see :func:`availability_of`);
``GET {CLIENTS_URL}/v1/groups`` answers a list (or ``{"items": [...]}``) of ``{"group_id"|"id", "name"}``
and ``GET {CLIENTS_URL}/v1/settings`` answers ``{"settings": {"enabled_transfer_methods": [...]},
"connections": [{"name", "kind"}] | null}``; the
caller's bearer token is forwarded so the clients service applies its own tenancy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from portal_contracts.identity import Caller
from portal_contracts.values import TransferMethod
from portal_importer.domain.validation import Availability, Holder
from portal_importer.ports import OfficeSettings, PlatformUnavailable

logger = logging.getLogger(__name__)


class ClientsServiceHttp:
    def __init__(
        self,
        base_url: str,
        *,
        service_token: str | None = None,
        timeout_s: float = 10.0,
        page_values: int = 20_000,
        in_flight: int = 3,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service_token = service_token
        self.timeout = httpx.Timeout(timeout_s)
        self.page_values = page_values  # the clients service refuses longer lists (422)
        self.in_flight = in_flight

    async def check(
        self, emails: Sequence[str], vat_numbers: Sequence[str], *, bearer_token: str | None = None
    ) -> Availability:
        """In pages of at most ``page_values`` values (e-mails and VAT numbers together), a few
        at a time; one page unanswered and the check is not made."""
        values = [("emails", e) for e in emails] + [("vat_numbers", v) for v in vat_numbers]
        pages = [values[i : i + self.page_values] for i in range(0, len(values), self.page_values)]
        token = bearer_token or self.service_token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        turns = asyncio.Semaphore(self.in_flight)

        async def ask(http: httpx.AsyncClient, page: list[tuple[str, str]]) -> Availability:
            body = {kind: [v for k, v in page if k == kind] for kind in ("emails", "vat_numbers")}
            async with turns:
                response = await http.post(
                    f"{self.base_url}/v1/clients/availability", json=body, headers=headers
                )
            response.raise_for_status()
            return availability_of(response.json())

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http, asyncio.TaskGroup() as tg:
                answers = [tg.create_task(ask(http, page)) for page in pages]
        except* (httpx.HTTPError, ValueError, AttributeError) as failed:
            logger.warning("availability check failed: %r", failed.exceptions[0])
            raise PlatformUnavailable(str(failed.exceptions[0])) from None
        found = [task.result() for task in answers]
        return Availability(
            {k: v for answer in found for k, v in answer.emails.items()},
            {k: v for answer in found for k, v in answer.vat_numbers.items()},
        )

    async def settings(self, caller: Caller, bearer_token: str) -> OfficeSettings:
        headers = {"authorization": f"Bearer {bearer_token}"}
        groups: dict[str, str] | None = None
        methods: frozenset[TransferMethod] | None = None
        connections: dict[str, TransferMethod] | None = None
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            try:
                response = await http.get(f"{self.base_url}/v1/groups", headers=headers)
                response.raise_for_status()
                groups = _groups(response.json())
            except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
                logger.warning("office groups unavailable for %s: %r", caller.office_id, exc)
            try:
                response = await http.get(f"{self.base_url}/v1/settings", headers=headers)
                response.raise_for_status()
                answer = response.json()
                body = answer.get("settings", answer)  # {"settings": {...}, "version": n}
                methods = frozenset(TransferMethod(m) for m in body["enabled_transfer_methods"])
                if answer.get("connections") is not None:
                    connections = {
                        str(c["name"]): TransferMethod(c["kind"]) for c in answer["connections"]
                    }
            except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
                logger.warning("office settings unavailable for %s: %r", caller.office_id, exc)
        return OfficeSettings(groups, methods, connections)


_HOLDERS = {"available": None, "taken_in_office": Holder.OFFICE}


def availability_of(body: Any) -> Availability:
    """The clients service's status per value. ``available``: usable; ``taken_in_office``: a
    client of the caller's office; anything else (``unavailable``, and the older ``taken``,
    ``on_platform``, ``invalid``, or a status not known here) cannot be used, for a reason the
    report does not name."""

    def held(statuses: dict[str, str]) -> dict[str, Holder]:
        found = {
            value: _HOLDERS.get(status, Holder.ELSEWHERE) for value, status in statuses.items()
        }
        return {value: holder for value, holder in found.items() if holder is not None}

    return Availability(held(body.get("emails") or {}), held(body.get("vat_numbers") or {}))


def _groups(body: Any) -> dict[str, str]:
    items = body.get("items", []) if isinstance(body, dict) else body
    return {
        str(g.get("group_id") or g["id"]): str(g.get("name") or g.get("group_id") or g["id"])
        for g in items
    }
