"""The aiosmtplib adapter against a real aiosmtpd server on loopback."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from portal_invitations.adapters.smtp import SmtpMailer, SmtpRelay
from portal_invitations.ports import MailRefused

pytestmark = pytest.mark.integration


def message(number: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "no-reply@portal.example"
    msg["To"] = "marie@example.be"
    msg["Subject"] = f"Invitation {number}"
    msg["Message-ID"] = f"<invitation.{number}@portal.example>"
    msg.set_content("Bonjour")
    return msg


def mailer(server: Any, **overrides: Any) -> SmtpMailer:
    relay = SmtpRelay(host=server.host, port=server.port, security="none", timeout_s=5)
    for key, value in overrides.items():
        relay = SmtpRelay(**{**relay.__dict__, key: value})
    return SmtpMailer(relay)


async def test_messages_reach_the_relay_over_reused_connections(smtp_server: Any) -> None:
    sender = mailer(smtp_server, pool_size=2)
    try:
        for number in range(5):
            await sender.send(message(number))
    finally:
        await sender.close()
    received = await smtp_server.handler.wait_for(5)
    assert [r.message["Message-ID"] for r in received] == [
        f"<invitation.{n}@portal.example>" for n in range(5)
    ]
    assert received[0].rcpt_tos == ["marie@example.be"]


async def test_a_4xx_is_temporary(smtp_server: Any) -> None:
    smtp_server.handler.refuse_rcpt.append("451 4.3.0 Try again later")
    sender = mailer(smtp_server)
    try:
        with pytest.raises(MailRefused) as caught:
            await sender.send(message())
        assert not caught.value.permanent
        assert caught.value.reason.startswith("smtp 451")
        await sender.send(message())  # the next attempt goes through on a fresh connection
    finally:
        await sender.close()
    assert len(await smtp_server.handler.wait_for(1)) == 1


async def test_a_5xx_is_permanent_with_its_reason(smtp_server: Any) -> None:
    smtp_server.handler.refuse_rcpt.append("550 5.1.1 No such user here")
    sender = mailer(smtp_server)
    try:
        with pytest.raises(MailRefused) as caught:
            await sender.send(message())
    finally:
        await sender.close()
    assert caught.value.permanent
    assert caught.value.reason == "smtp 550: 5.1.1 No such user here"


async def test_a_connection_refused_is_temporary(smtp_server: Any) -> None:
    smtp_server.stop()
    sender = mailer(smtp_server, timeout_s=2)
    try:
        with pytest.raises(MailRefused) as caught:
            await sender.send(message())
    finally:
        await sender.close()
    assert not caught.value.permanent


async def test_a_connection_the_relay_closed_while_idle_is_replaced(smtp_server: Any) -> None:
    sender = mailer(smtp_server)
    try:
        await sender.send(message(1))
        smtp_server.stop()  # drops every open connection
        smtp_server.start()
        await sender.send(message(2))
    finally:
        await sender.close()
    assert len(await smtp_server.handler.wait_for(2)) == 2
