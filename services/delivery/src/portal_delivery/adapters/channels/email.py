"""The e-mail channel (aiosmtplib): one document per message, to the address of its type.

- From: the office's sending identity (the address the accounting package must allow, e.g.
  Exact Online's "allowed senders"), else the platform's; through the platform's SMTP relay.
- Message-ID ``<delivery.{delivery id}@{domain}>``: the same for every attempt of a delivery, so
  a retry after a timeout (the relay may have accepted: RFC 1047's duplicate window) is
  recognisable by the recipient.
- Attachments: the UBL (its PDF embedded) and the PDF beside it under the same base name where
  the profile says so. The message's size is checked before sending against the package's
  limit (Basecone 15 MB, Clearfacts 20 MB, otherwise 10 MB; DELIVERY.md §4).
- Replies: 2xx sent (the final reply, "250 … queued as …", is the receipt); 4xx and a lost
  connection retry later; 5xx fail with the relay's words.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib

from portal_delivery.domain.delivery import ChannelError, Problem, Receipt
from portal_delivery.ports import Parcel

MB = 1024 * 1024
PACKAGE_LIMITS = {"basecone": 15 * MB, "clearfacts": 20 * MB}
DEFAULT_LIMIT = 10 * MB
SUBJECTS = {
    "purchase_invoice": "Purchase invoice",
    "sales_invoice": "Sales invoice",
    "credit_note": "Credit note",
    "misc_document": "Document",
    "credit_card_statement": "Credit card statement",
}


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    sender: str  # the platform's address, when an office has no identity of its own
    message_id_domain: str
    security: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    connections: int = 8  # messages in flight at once (one connection each)


class EmailChannel:
    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay
        self._slots = asyncio.Semaphore(relay.connections)

    def compose(self, parcel: Parcel) -> EmailMessage:
        delivery = parcel.delivery
        message = EmailMessage()
        sender = parcel.sender.sender if parcel.sender else self.relay.sender
        # The identity's own display name, else the office's (its profile's sender name or
        # name, from clients), else none.
        name = (parcel.sender.display_name if parcel.sender else "") or parcel.office_sends_as or ""
        message["From"] = formataddr((name, sender)) if name else sender
        message["To"] = delivery.destination
        stem = delivery.files[-1].name.rsplit(".", 1)[0] if delivery.files else delivery.document_id
        message["Subject"] = f"{SUBJECTS.get(delivery.kind.value, 'Document')} {stem}"
        message["Message-ID"] = f"<delivery.{delivery.delivery_id}@{self.relay.message_id_domain}>"
        message["Date"] = formatdate(localtime=False)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(f"{SUBJECTS.get(delivery.kind.value, 'Document')}: {stem}\n")
        for file, data in parcel.files:
            maintype, _, subtype = file.media_type.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=file.name)
        return message

    async def deliver(self, parcel: Parcel) -> Receipt:
        message = self.compose(parcel)
        raw = message.as_bytes()
        limit = PACKAGE_LIMITS.get(parcel.package, DEFAULT_LIMIT)
        if len(raw) > limit:
            raise ChannelError(
                Problem("email.too_large", f"{len(raw)} > {limit} bytes", retryable=False)
            )
        async with self._slots:
            try:
                _, reply = await aiosmtplib.send(
                    message,
                    hostname=self.relay.host,
                    port=self.relay.port,
                    username=self.relay.username,
                    password=self.relay.password,
                    use_tls=self.relay.security == "tls",
                    start_tls=self.relay.security == "starttls",
                    timeout=self.relay.timeout_s,
                )
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [r.code for r in exc.recipients]
                raise _refused(
                    min(codes, default=550), "; ".join(r.message for r in exc.recipients)
                ) from exc
            except aiosmtplib.SMTPResponseException as exc:
                raise _refused(exc.code, exc.message) from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise ChannelError(Problem("email.relay_unreachable", type(exc).__name__)) from exc
        return Receipt(
            reply,
            {
                "message_id": message["Message-ID"],
                "to": parcel.delivery.destination,
                "bytes": len(raw),
            },
        )


def _refused(code: int, text: str) -> ChannelError:
    if 400 <= code < 500:
        return ChannelError(Problem("email.deferred", f"{code} {text}"[:300]))
    return ChannelError(Problem("email.rejected", f"{code} {text}"[:300], retryable=False))
