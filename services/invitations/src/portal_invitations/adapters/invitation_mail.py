"""The invitation e-mail: Jinja2 templates (autoescaped HTML + plain text) in the client's language.

No images, no remote resources, no tracking: the only link is the call to action. Every value
that lands in a header is checked for line breaks before the message is built, and the
Message-ID is derived from the invitation id so a re-sent attempt carries the same one.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from portal_invitations.adapters.mail_texts import MONTHS, TEXTS
from portal_invitations.domain.headers import refuse_line_breaks
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.office import OfficeProfile

BRUSSELS = ZoneInfo("Europe/Brussels")
DEFAULT_LANGUAGE = "fr"

_env = Environment(
    loader=PackageLoader("portal_invitations.adapters", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    auto_reload=False,  # packaged templates never change; no stat per e-mail
)


@dataclass(frozen=True)
class Sender:
    """Who invitations come from and where their link points (``{token}`` is replaced)."""

    address: str
    name: str
    message_id_domain: str
    accept_url: str


@dataclass(frozen=True)
class RenderedInvitation:
    subject: str
    text: str
    html: str


_OWN = frozenset({"message-id", "date", "to"})


class _FoldedOnce(BaseHeader):
    """A header folds to the same text for a given policy (it is immutable): a reused one is
    folded once, not once per e-mail (folding is a fifth of flattening an invitation)."""

    def fold(self, *, policy: Policy) -> str:
        # By what folding reads: the generator clones its policy for every part it writes.
        key = (policy.linesep, policy.max_line_length, getattr(policy, "utf8", False))
        folds: dict[tuple[str, int | None, bool], str] = self.__dict__.setdefault("_folds", {})
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold(policy=policy)
        return folded


class _ReusedHeaders(HeaderRegistry):
    """The standard header factory, but a header parsed once is reused (headers are immutable
    strings) and each kind's class is built once (the standard one builds a new class per
    header). Parsing headers is most of the cost of composing an e-mail, and the same sender,
    subject, language and MIME headers go to thousands of clients. Same headers, same bytes."""

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed: functools._lru_cache_wrapper[BaseHeader] = functools.lru_cache(maxsize=256)(
            super().__call__
        )

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        kind = self._classes.get(key)
        if kind is None:
            kind = self._classes[key] = super().__getitem__(name)
        return kind

    def __call__(self, name: str, value: Any) -> BaseHeader:
        # Not the headers each e-mail has its own of: kept, they would only evict the others
        # (and a cache full of parse trees is what the garbage collector then walks).
        if isinstance(value, str) and name.lower() not in _OWN and "boundary=" not in value:
            return self._parsed(name, value)
        return super().__call__(name, value)


POLICY = policy.default.clone(header_factory=_ReusedHeaders())


@functools.lru_cache(maxsize=16)
def _mailbox(name: str, address: str) -> str:
    return str(Address(display_name=name, addr_spec=address))


def message_id(invitation_id: str, domain: str) -> str:
    return f"<invitation.{invitation_id}@{domain}>"


def accept_link(accept_url: str, token: str) -> str:
    return accept_url.replace("{token}", quote(token, safe=""))


def _when(moment: datetime, lang: str) -> str:
    local = moment.astimezone(BRUSSELS)
    month = MONTHS[lang][local.month - 1]
    return f"{local.day} {month} {local.year} {TEXTS[lang]['at']} {local:%H:%M}"


def render(
    *, lang: str, first_name: str, office: str | None, link: str, expires_at: datetime
) -> RenderedInvitation:
    lang = lang if lang in TEXTS else DEFAULT_LANGUAGE
    words = TEXTS[lang]
    office_name = office or words["unknown_office"]
    values = {"office": office_name, "first_name": first_name, "date": _when(expires_at, lang)}
    texts = {key: text.format(**values) for key, text in words.items()}
    # Attributes, not dict keys: Jinja tries ``t.intro`` as an attribute first, and the
    # AttributeError of a dict cost a third of composing an e-mail.
    context = {"t": SimpleNamespace(**texts), "link": link, "office": office_name, "lang": lang}
    subject = texts["subject"]
    return RenderedInvitation(
        subject=subject,
        text=_env.get_template("invitation.txt").render(context),
        html=_env.get_template("invitation.html").render({**context, "subject": subject}),
    )


def compose(
    access: ClientAccess,
    invitation: Invitation,
    token: str,
    office: OfficeProfile | None,
    sender: Sender,
    now: datetime,
) -> EmailMessage:
    """The message for one attempt; raises HeaderInjection before anything is built."""
    profile = access.profile
    if invitation.expires_at is None:
        raise ValueError("an attempt must have started (expires_at) before composing")
    rendered = render(
        lang=profile.language,
        first_name=profile.first_name,
        office=office.name if office else None,
        link=accept_link(sender.accept_url, token),
        expires_at=invitation.expires_at,
    )
    to_name = f"{profile.first_name} {profile.last_name}".strip()
    refuse_line_breaks(
        **{
            "user.first_name": profile.first_name,
            "user.last_name": profile.last_name,
            "user.email": invitation.email,
            "office.name": office.name if office else None,
            "office.sender_name": office.sender_name if office else None,
            "subject": rendered.subject,
            "sender.name": sender.name,
            "sender.address": sender.address,
        }
    )
    message = EmailMessage(policy=POLICY)
    message["Subject"] = rendered.subject
    # From: the office's sender name (or its name) on the platform's address, so the client
    # sees who invites them; the platform's name while the office has no profile.
    message["From"] = _mailbox(office.sends_as if office else sender.name, sender.address)
    message["To"] = Address(display_name=to_name, addr_spec=invitation.email)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(invitation.invitation_id, sender.message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, cte="quoted-printable")  # what it would pick, unsniffed
    message.make_alternative()
    # A boundary of 128 random bits, set here: nobody can predict it to put it in a part, so the
    # generator need not search the whole message for a collision (half of its cost). A token
    # (no quotes): a quoted one costs a slow parse per e-mail.
    boundary = f"invitation_{secrets.token_hex(16)}"
    message.replace_header("Content-Type", f"multipart/alternative; boundary={boundary}")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    message["Content-Language"] = profile.language  # after set_content, which drops Content-*
    return message
