"""The invitation e-mail: language, office name, call to action, escaping, headers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from portal_invitations.adapters.invitation_mail import Sender, compose, message_id
from portal_invitations.domain.errors import HeaderInjection
from portal_invitations.domain.model import ClientAccess, ClientProfile, Invitation
from portal_invitations.domain.office import OfficeProfile

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENDER = Sender(
    address="no-reply@portal.example",
    name="Portail comptable",
    message_id_domain="portal.example",
    accept_url="https://portal.example/invitation?token={token}",
)
TOKEN = "tok_" + "A" * 40


def access(language: str = "fr", **changes: object) -> tuple[ClientAccess, Invitation]:
    profile = ClientProfile(
        client_id="c-1",
        office_id="office-1",
        group_id="everyone",
        email="marie@example.be",
        first_name="Marie",
        last_name="Dubois",
        language=language,
        subscription_mode="full_follow_up",
        status="not_invited",
        mobile_phone="+32470123456",
        version=1,
    )
    profile = replace(profile, **changes)  # type: ignore[arg-type]
    inv = Invitation("inv-1", profile.email, NOW, "accountant", expires_at=NOW + timedelta(days=14))
    return ClientAccess(profile=profile, invitation=inv), inv


def parts(message: EmailMessage) -> tuple[str, str]:
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("language", "subject", "cta", "expiry"),
    [
        ("fr", "Fiduciaire Dupont vous invite", "Activer mon accès", "16 mars 2026 à 10:00"),
        (
            "nl",
            "Fiduciaire Dupont nodigt u uit",
            "Mijn toegang activeren",
            "16 maart 2026 om 10:00",
        ),
        ("en", "Fiduciaire Dupont invites you", "Activate my access", "16 March 2026 at 10:00"),
    ],
)
def test_the_e_mail_speaks_the_client_s_language(
    language: str, subject: str, cta: str, expiry: str
) -> None:
    client, inv = access(language)
    message = compose(client, inv, TOKEN, OfficeProfile("Fiduciaire Dupont"), SENDER, NOW)
    assert str(message["Subject"]).startswith(subject)
    assert message["Content-Language"] == language
    text, html = parts(message)
    link = f"https://portal.example/invitation?token={TOKEN}"
    for body in (text, html):
        assert "Marie" in body
        assert "Fiduciaire Dupont" in body
        assert cta in body
        assert link in body
        assert expiry in body
    assert f'href="{link}"' in html


def test_no_tracking_and_no_remote_resources() -> None:
    client, inv = access()
    _, html = parts(compose(client, inv, TOKEN, OfficeProfile("Fiduciaire Dupont"), SENDER, NOW))
    lowered = html.lower()
    assert "<img" not in lowered
    assert "<script" not in lowered
    assert "src=" not in lowered
    assert lowered.count("href=") == 2  # the button and its copyable fallback, nothing else


def test_names_are_escaped_in_html() -> None:
    client, inv = access(first_name="<b>Marie</b>")
    text, html = parts(compose(client, inv, TOKEN, OfficeProfile("A & B <Fidu>"), SENDER, NOW))
    assert "&lt;b&gt;Marie&lt;/b&gt;" in html
    assert "A &amp; B &lt;Fidu&gt;" in html
    assert "<b>Marie</b>" in text  # the plain-text part is not HTML: nothing to escape


def test_an_unknown_office_gets_a_neutral_name() -> None:
    client, inv = access("nl")
    message = compose(client, inv, TOKEN, None, SENDER, NOW)
    assert str(message["Subject"]).startswith("Uw boekhoudkantoor nodigt u uit")


def test_headers_and_deterministic_message_id() -> None:
    client, inv = access()
    message = compose(client, inv, TOKEN, OfficeProfile("Fiduciaire Dupont"), SENDER, NOW)
    assert message["Message-ID"] == message_id("inv-1", "portal.example")
    assert message["Message-ID"] == compose(client, inv, "other", None, SENDER, NOW)["Message-ID"]
    assert message["To"].addresses[0].addr_spec == "marie@example.be"
    assert message["From"].addresses[0].addr_spec == "no-reply@portal.example"
    assert message["From"].addresses[0].display_name == "Fiduciaire Dupont"  # the office's name
    neutral = compose(client, inv, TOKEN, None, SENDER, NOW)["From"].addresses[0]
    assert neutral.display_name == SENDER.name  # no profile yet: the platform's name


def test_the_office_s_sender_name_is_the_from_display_name_and_is_checked() -> None:
    client, inv = access()
    office = OfficeProfile("Fiduciaire Dupont", "Dupont via OkiOki")
    message = compose(client, inv, TOKEN, office, SENDER, NOW)
    assert message["From"].addresses[0].display_name == "Dupont via OkiOki"
    assert str(message["Subject"]).startswith("Fiduciaire Dupont")
    with pytest.raises(HeaderInjection) as caught:
        compose(client, inv, TOKEN, OfficeProfile("Fidu", "X\r\nBcc: y@evil.example"), SENDER, NOW)
    assert caught.value.field == "office.sender_name"


@pytest.mark.parametrize(
    ("changes", "office", "field"),
    [
        ({"first_name": "Marie\r\nBcc: x@evil.example"}, "Fidu", "user.first_name"),
        ({"last_name": "Dubois\n"}, "Fidu", "user.last_name"),
        ({}, "Fidu\r\nBcc: x@evil.example", "office.name"),
    ],
    ids=["first name", "last name", "office name"],
)
def test_header_injection_is_refused_before_a_message_exists(
    changes: dict[str, str], office: str, field: str
) -> None:
    client, inv = access(**changes)
    with pytest.raises(HeaderInjection) as caught:
        compose(client, inv, TOKEN, OfficeProfile(office), SENDER, NOW)
    assert caught.value.field == field


def test_a_line_break_in_the_address_is_refused() -> None:
    client, inv = access()
    inv.email = "marie@example.be\r\nBcc: x@evil.example"
    with pytest.raises(HeaderInjection):
        compose(client, inv, TOKEN, OfficeProfile("Fidu"), SENDER, NOW)
