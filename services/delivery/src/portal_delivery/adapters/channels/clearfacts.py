"""The Clearfacts channel (its public GraphQL API, ``uploadFile``): the document lands in the
Inbox of the client's administration, as a purchase or a sales invoice.

- One ``POST /graphql``, ``multipart/form-data`` with the parts ``query``, ``variables`` (JSON
  text) and ``file`` — Clearfacts' own shape, not the GraphQL multipart request spec
  (``operations``/``map``); ``Authorization: Bearer`` the office's token (80 characters).
- The administration is the client's enterprise number (10 digits, planned into the delivery's
  folder with the type); ``invoicetype`` is ``PURCHASE`` or ``SALE``. Clearfacts takes the UBL
  (it shows the PDF embedded in it), or the PDF of a PDF-only document: one inbox document.
- At most ``uploads_per_token`` uploads at once per token (1–2: Clearfacts publishes no limit;
  its own connector polls every 10 minutes).
- The returned ``uuid`` is the receipt, noted in the ledger the moment it arrives, before the
  delivery is marked sent: an attempt resumed after a crash finds it and does not upload again.
  What cannot be avoided: an answer lost on the way back (a timeout after the file was sent)
  leaves no uuid, and the retry may make a second inbox document — Clearfacts has no
  idempotency key and no way to look a document up but by its uuid. The file name carries the
  document's id, so a duplicate is recognisable.
- GraphQL errors come with HTTP 200 in ``errors``: "Internal server error" is retried, anything
  else fails at once with Clearfacts' words; 401/403 fail (the token); 429/5xx retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from typing import Any

import httpx

from portal_delivery.adapters.channels.throttling import retry_after
from portal_delivery.domain.connections import Connection, Kind
from portal_delivery.domain.delivery import ChannelError, Problem, Receipt
from portal_delivery.ports import Parcel, Probe

API_URL = "https://api.clearfacts.be/graphql"
UPLOAD = (
    "mutation upload($vatNumber: String!, $fileName: String!, "
    "$invoiceType: InvoiceTypeArgument!) { uploadFile(vatnumber: $vatNumber, "
    "filename: $fileName, invoicetype: $invoiceType) { uuid amountOfPages } }"
)
INVOICE_TYPE = {"purchase": "PURCHASE", "sales": "SALE"}
NOTE = "clearfacts_upload"


class ClearfactsChannel:
    def __init__(
        self, *, url: str = API_URL, uploads_per_token: int = 2, timeout_s: float = 60.0
    ) -> None:
        self.url = url
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self._slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(uploads_per_token)
        )

    async def deliver(self, parcel: Parcel) -> Receipt:
        connection = parcel.connection
        if connection is None or connection.kind is not Kind.CLEARFACTS:
            raise ChannelError(Problem("clearfacts.connection_unknown", retryable=False))
        vat, _, kind = parcel.delivery.folder.partition("/")
        if not (vat.isdigit() and len(vat) == 10):
            raise ChannelError(Problem("clearfacts.vat_invalid", vat, retryable=False))
        invoice_type = INVOICE_TYPE.get(kind)
        if invoice_type is None:
            raise ChannelError(Problem("clearfacts.type_unsupported", kind, retryable=False))
        file, data = parcel.files[0]
        uploaded = parcel.noted(NOTE)
        if not isinstance(uploaded, dict):  # not uploaded by an earlier try of this delivery
            token = connection.secrets["token"]
            async with self._slots[hashlib.sha256(token.encode()).hexdigest()]:
                body = await self._post(token, vat, invoice_type, file.name, file.media_type, data)
            result = (body.get("data") or {}).get("uploadFile") or {}
            if not result.get("uuid"):
                raise ChannelError(Problem("clearfacts.unavailable", "no uuid in the answer"))
            uploaded = {"uuid": str(result["uuid"]), "pages": result.get("amountOfPages")}
            await parcel.note(NOTE, uploaded)  # before the delivery is marked sent
        return Receipt(
            f"clearfacts {uploaded['uuid']}",
            {
                "uuid": uploaded["uuid"],
                "amount_of_pages": uploaded.get("pages"),
                "administration": vat,
                "invoice_type": invoice_type,
                "file": file.name,
            },
        )

    async def _post(
        self, token: str, vat: str, invoice_type: str, name: str, media_type: str, data: bytes
    ) -> dict[str, Any]:
        variables = {"vatNumber": vat, "fileName": name, "invoiceType": invoice_type}
        try:
            answer = await self.http.post(
                self.url,
                headers={"Authorization": f"Bearer {token}"},
                data={"query": UPLOAD, "variables": json.dumps(variables)},
                files={"file": (name, data, media_type)},
            )
        except httpx.TimeoutException as exc:
            # Sent, maybe received: the one window where a retry can make a duplicate.
            raise ChannelError(Problem("clearfacts.no_answer", type(exc).__name__)) from exc
        except httpx.HTTPError as exc:
            raise ChannelError(Problem("clearfacts.unreachable", type(exc).__name__)) from exc
        return _answer(answer)

    async def probe(self, connection: Connection) -> Probe:
        """Ask for the administrations the token may upload to (a query, nothing written)."""
        try:
            answer = await self.http.post(
                self.url,
                headers={"Authorization": f"Bearer {connection.secrets.get('token', '')}"},
                json={"query": "{ administrations { name companyNumber } }"},
            )
            _answer(answer)
        except ChannelError as exc:
            return Probe(None, exc.problem)
        except httpx.HTTPError as exc:
            return Probe(None, Problem("clearfacts.unreachable", type(exc).__name__))
        return Probe(None, None)

    async def aclose(self) -> None:
        await self.http.aclose()


def _answer(answer: httpx.Response) -> dict[str, Any]:
    status = answer.status_code
    if status in (401, 403):
        raise ChannelError(Problem("clearfacts.token_refused", str(status), retryable=False))
    if status in (429, 503):
        raise ChannelError(
            Problem("clearfacts.unavailable", str(status), retry_after=retry_after(answer.headers))
        )
    if status >= 500:
        raise ChannelError(Problem("clearfacts.unavailable", str(status)))
    try:
        body: dict[str, Any] = answer.json()
    except ValueError as exc:
        raise ChannelError(Problem("clearfacts.unavailable", f"{status} not JSON")) from exc
    errors = body.get("errors") or []
    if errors:
        words = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
        if "internal server error" in words.casefold():
            raise ChannelError(Problem("clearfacts.unavailable", words[:300]))
        raise ChannelError(Problem("clearfacts.refused", words[:300], retryable=False))
    if status != 200:
        raise ChannelError(Problem("clearfacts.refused", str(status), retryable=False))
    return body
