"""Invite → e-mail (real aiosmtpd) → accept, on the real MongoDB-wire server, through the HTTP API.

The sender is driven pass by pass (``send_due``) and time by a settable clock, so retries and
expiry are checked without waiting.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal_invitations.domain.office import OfficeProfile
from portal_invitations.service.commands import RememberOfficeProfile
from portal_invitations.service.handlers import remember_office_profile

from ..support import bearer, client_created, client_updated, token_in

pytestmark = pytest.mark.integration

OFFICE = "office-a"
PASSWORD = "cheval correct agrafe pile"
MOBILE = "0470 12 34 56"  # the number on record, written the local way


async def invited_and_sent(h: Any, client_id: str = "c-1", **kw: Any) -> str:
    await h.record(client_created(OFFICE, client_id, **kw))
    response = await h.http.post(f"/v1/invitations/clients/{client_id}", headers=bearer(OFFICE))
    assert response.status_code == 202, response.text
    before = len(h.smtp.handler.received)
    assert await h.send_due() >= 1
    received = await h.smtp.handler.wait_for(before + 1)
    return token_in(received[-1])


async def accept(h: Any, token: str, **overrides: str) -> Any:
    body = {"token": token, "password": PASSWORD, "mobile_phone": MOBILE, **overrides}
    return await h.http.post("/v1/invitations/accept", json=body)


async def status(h: Any, client_id: str = "c-1", office: str = OFFICE) -> Any:
    return await h.http.get(f"/v1/invitations/clients/{client_id}", headers=bearer(office))


async def test_the_e_mail_is_in_the_client_s_language_with_the_office_name(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await invited_and_sent(h, language="nl", first_name="Jan")
    (received,) = h.smtp.handler.received
    message = received.message
    assert received.rcpt_tos == ["marie@example.be"]
    assert str(message["Subject"]) == "Fiduciaire Dupont nodigt u uit op uw klantenportaal"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Beste Jan," in text
    assert "Mijn toegang activeren" in html
    assert "https://portal.example/invitation?token=" in html
    state = (await status(h)).json()["invitation"]
    assert message["Message-ID"] == f"<invitation.{state['invitation_id']}@portal.example>"
    assert state["state"] == "sent"
    assert state["expires_at"] is not None


async def test_the_link_works_once(make_harness: Any) -> None:
    h = await make_harness()
    token = await invited_and_sent(h)
    doc = await h.document("c-1")
    assert token not in str(doc)  # only the hash is stored

    first = await accept(h, token)
    assert first.status_code == 200, first.text
    assert first.json() == {"client_id": "c-1", "login": "marie@example.be", "active": True}
    second = await accept(h, token)
    assert second.status_code == 400
    assert second.json()["code"] == "invitation.link_invalid"

    body = (await status(h)).json()
    assert body["active"] is True
    assert body["activated_by"] == "client"
    assert body["invitation"]["state"] == "accepted"
    doc = await h.document("c-1")
    assert doc["login"]["password_hash"].startswith("$argon2id$")
    events = await h.outbox("c-1")  # committed with the state, in order
    assert [e["event_type"] for e in events] == ["ClientInvited", "ClientActivated"]
    assert events[1]["body"]["payload"] == {"client_id": "c-1", "by": "client"}


async def test_resend_voids_the_old_link(make_harness: Any) -> None:
    h = await make_harness()
    old = await invited_and_sent(h)
    response = await h.http.post("/v1/invitations/clients/c-1/resend", headers=bearer(OFFICE))
    assert response.status_code == 202
    await h.send_due()
    new = token_in((await h.smtp.handler.wait_for(2))[-1])
    assert (await accept(h, old)).status_code == 400
    assert (await accept(h, new)).status_code == 200
    past = (await status(h)).json()["previous_invitations"]
    assert [(p["state"], p["end_reason"]) for p in past] == [("revoked", "resent")]


async def test_the_link_expires(make_harness: Any) -> None:
    h = await make_harness(token_ttl_days=14)
    token = await invited_and_sent(h)
    h.clock.advance(days=14)
    response = await accept(h, token)
    assert response.status_code == 400
    assert response.json()["code"] == "invitation.link_invalid"
    assert (await status(h)).json()["invitation"]["state"] == "expired"


async def test_revoke_voids_the_link(make_harness: Any) -> None:
    h = await make_harness()
    token = await invited_and_sent(h)
    response = await h.http.delete("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert response.status_code == 204
    assert (await accept(h, token)).status_code == 400
    assert (await status(h)).json()["invitation"]["state"] == "revoked"
    # Published with the revocation (same transaction): the clients service un-invites the client.
    events = await h.outbox("c-1")
    assert [e["event_type"] for e in events] == ["ClientInvited", "ClientInvitationRevoked"]
    assert events[1]["body"]["payload"] == {
        "client_id": "c-1",
        "invitation_id": events[0]["body"]["payload"]["invitation_id"],
    }
    again = await h.http.delete("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert again.status_code == 409


async def test_a_4xx_is_retried_then_delivered(make_harness: Any) -> None:
    h = await make_harness(retry_base_s=10)
    await h.record(client_created(OFFICE, "c-1"))
    await h.http.post("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    h.smtp.handler.refuse_rcpt.extend(["451 4.3.0 Mailbox busy", "421 4.7.0 Try later"])
    await h.send_due()
    first = (await status(h)).json()["invitation"]
    assert first["state"] == "pending"
    assert first["last_error"] == "smtp 451: 4.3.0 Mailbox busy"
    assert await h.send_due() == 0  # not yet due: backing off
    h.clock.advance(seconds=5)  # base 10 s, jitter 0 → 5 s
    await h.send_due()
    h.clock.advance(seconds=10)  # second failure → 10 s
    await h.send_due()
    (received,) = await h.smtp.handler.wait_for(1)
    final = (await status(h)).json()["invitation"]
    assert final["state"] == "sent"
    assert final["attempts"] == 3
    assert (await accept(h, token_in(received))).status_code == 200


async def test_a_5xx_is_marked_failed_without_blocking_others(make_harness: Any) -> None:
    h = await make_harness(send_concurrency=1)
    await h.record(client_created(OFFICE, "c-1"))
    await h.record(client_created(OFFICE, "c-2", email="paul@example.be"))
    for client in ("c-1", "c-2"):
        await h.http.post(f"/v1/invitations/clients/{client}", headers=bearer(OFFICE))
    h.smtp.handler.refuse_rcpt.append("550 5.1.1 No such user here")
    assert await h.send_due() == 2
    (received,) = await h.smtp.handler.wait_for(1)
    assert received.rcpt_tos == ["paul@example.be"]
    failed = (await status(h, "c-1")).json()["invitation"]
    assert failed["state"] == "failed"
    assert failed["failure_reason"] == "smtp 550: 5.1.1 No such user here"
    (event,) = await h.outbox("c-1")
    assert event["event_type"] == "ClientInvitationFailed"
    assert event["body"]["payload"] == {
        "client_id": "c-1",
        "invitation_id": failed["invitation_id"],
        "reason": "mail.rejected",
        "detail": "smtp 550: 5.1.1 No such user here",
    }
    assert await h.send_due() == 0
    h.clock.advance(hours=2)
    assert await h.send_due() == 0  # never retried


async def test_redelivered_client_created_sends_nothing_new(make_harness: Any) -> None:
    h = await make_harness()
    event = client_created(OFFICE, "c-1", invite=True)
    await h.record(event)
    await h.record(event)
    await h.send_due()
    await h.record(event)
    await h.send_due()
    await h.smtp.handler.wait_for(1)
    assert len(h.smtp.handler.received) == 1
    assert (await status(h)).json()["previous_invitations"] == []


async def test_an_e_mail_change_voids_the_old_link_and_invites_the_new_address(
    make_harness: Any,
) -> None:
    h = await make_harness()
    old = await invited_and_sent(h)
    await h.record(client_updated(OFFICE, "c-1", email="marie.dubois@example.be", version=2))
    await h.send_due()
    received = await h.smtp.handler.wait_for(2)
    assert received[-1].rcpt_tos == ["marie.dubois@example.be"]
    assert (await accept(h, old)).status_code == 400
    accepted = await accept(h, token_in(received[-1]))
    assert accepted.json()["login"] == "marie.dubois@example.be"


async def test_an_archived_client_s_link_stops_working_and_it_is_not_invited_again(
    make_harness: Any,
) -> None:
    h = await make_harness()
    token = await invited_and_sent(h)
    await h.record(client_updated(OFFICE, "c-1", version=2, status="inactive", archived=True))
    assert (await accept(h, token)).status_code == 400
    assert (await status(h)).json()["invitation"]["state"] == "revoked"
    events = await h.outbox("c-1")  # clients hears it: the client is not invited any more
    assert [e["event_type"] for e in events] == ["ClientInvited", "ClientInvitationRevoked"]
    headers = {**bearer(OFFICE), "Accept-Language": "nl"}
    refused = await h.http.post("/v1/invitations/clients/c-1", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "invitation.client_archived"
    assert "gearchiveerd" in refused.json()["title"]
    await h.record(client_updated(OFFICE, "c-1", version=3))  # restored
    again = await h.http.post("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert again.status_code == 202, again.text


async def test_activation_sends_nothing(make_harness: Any) -> None:
    h = await make_harness()
    await h.record(client_created(OFFICE, "c-1", mode="accountant_managed"))
    response = await h.http.post("/v1/invitations/clients/c-1/activation", headers=bearer(OFFICE))
    assert response.status_code == 200, response.text
    assert response.json()["activated_by"] == "accountant"
    assert await h.send_due() == 0
    assert h.smtp.handler.received == []
    (event,) = await h.outbox("c-1")
    assert event["body"]["payload"] == {"client_id": "c-1", "by": "accountant"}
    await h.record(client_created(OFFICE, "c-2"))
    refused = await h.http.post("/v1/invitations/clients/c-2/activation", headers=bearer(OFFICE))
    assert refused.status_code == 409
    assert refused.json()["code"] == "activation.not_accountant_managed"


async def test_a_silently_activated_client_can_be_invited_later(make_harness: Any) -> None:
    h = await make_harness()
    await h.record(client_created(OFFICE, "c-1", mode="accountant_managed"))
    assert (
        await h.http.post("/v1/invitations/clients/c-1/activation", headers=bearer(OFFICE))
    ).is_success
    invited = await h.http.post("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert invited.status_code == 202, invited.text
    assert await h.send_due() == 1
    (received,) = await h.smtp.handler.wait_for(1)
    assert (await status(h)).json()["active"] is True  # still active while invited
    assert (await accept(h, token_in(received))).status_code == 200
    body = (await status(h)).json()
    assert (body["active"], body["activated_by"]) == (True, "client")
    events = [e["event_type"] for e in await h.outbox("c-1")]
    assert events == ["ClientActivated", "ClientInvited", "ClientActivated"]
    again = await h.http.post("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert again.status_code == 409  # logged in now: nothing left to invite to


async def test_another_office_s_client_is_not_found(make_harness: Any) -> None:
    h = await make_harness()
    await h.record(client_created(OFFICE, "c-1", group_id="group-1"))
    other = bearer("office-b")
    assert (await h.http.get("/v1/invitations/clients/c-1", headers=other)).status_code == 404
    assert (await h.http.post("/v1/invitations/clients/c-1", headers=other)).status_code == 404
    assert (
        await h.http.post("/v1/invitations/clients/c-1/activation", headers=other)
    ).status_code == 404
    staff = bearer(OFFICE, role="staff", groups=("group-2",))
    assert (await h.http.post("/v1/invitations/clients/c-1", headers=staff)).status_code == 404
    assert (await status(h)).json()["invitation"] is None


async def test_header_injection_is_refused_before_anything_is_queued(make_harness: Any) -> None:
    h = await make_harness()
    await h.record(client_created(OFFICE, "c-1", last_name="Dubois\r\nBcc: victim@example.com"))
    response = await h.http.post("/v1/invitations/clients/c-1", headers=bearer(OFFICE))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "user.last_name"
    assert await h.send_due() == 0
    await h.record(client_created(OFFICE, "c-2", invite=True, first_name="Eve\nBcc: x@y.z"))
    failed = (await status(h, "c-2")).json()["invitation"]
    assert failed["state"] == "failed"
    assert failed["failure_reason"] == "mail.header_injection: user.first_name"
    assert h.smtp.handler.received == []


async def test_a_refused_accept_changes_nothing(make_harness: Any) -> None:
    h = await make_harness()
    token = await invited_and_sent(h)
    wrong_mobile = await accept(h, token, mobile_phone="+32470999999")
    assert wrong_mobile.status_code == 422
    assert wrong_mobile.json()["errors"][0]["field"] == "mobile_phone"
    weak = await accept(h, token, password="marie1234567")
    assert weak.status_code == 422
    assert {e["code"] for e in weak.json()["errors"]} == {"password.personal_data"}
    assert (await status(h)).json()["invitation"]["state"] == "sent"
    assert (await accept(h, token)).status_code == 200


async def test_guesses_are_rate_limited(make_harness: Any) -> None:
    h = await make_harness(accept_ip_limit=5)
    codes = [(await accept(h, f"guess-{n:02d}-" + "x" * 40)).status_code for n in range(7)]
    assert codes[:5] == [400] * 5
    assert codes[5:] == [429, 429]
    limited = await accept(h, "another-" + "y" * 40)
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["code"] == "invitation.too_many_attempts"


async def test_wrong_mobile_numbers_lock_the_link_for_a_while(make_harness: Any) -> None:
    h = await make_harness(accept_token_limit=3)
    token = await invited_and_sent(h)
    codes = [(await accept(h, token, mobile_phone="+32470999999")).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    assert (await accept(h, token)).status_code == 429  # even the right number, for a while
    h.clock.advance(minutes=31)
    assert (await accept(h, token)).status_code == 200


async def test_the_office_limit_delays_and_never_drops(make_harness: Any) -> None:
    h = await make_harness(office_hourly_limit=2)
    h.clock.moment = h.clock.moment.replace(minute=10)
    for n in range(3):
        await h.record(client_created(OFFICE, f"a-{n}", email=f"a{n}@example.be", invite=True))
    await h.record(client_created("office-b", "b-0", email="b0@example.be", invite=True))
    await h.send_due()
    await h.send_due()
    received = await h.smtp.handler.wait_for(3)
    addresses = sorted(r.rcpt_tos[0] for r in received)
    assert addresses.count("b0@example.be") == 1  # another office is not held back
    states = [(await status(h, f"a-{n}")).json()["invitation"]["state"] for n in range(3)]
    assert sorted(states) == ["pending", "sent", "sent"]
    h.clock.advance(hours=1)
    await h.send_due()
    received = await h.smtp.handler.wait_for(4)
    assert sorted(r.rcpt_tos[0] for r in received) == [
        "a0@example.be",
        "a1@example.be",
        "a2@example.be",
        "b0@example.be",
    ]


async def test_the_office_profile_from_clients_names_the_e_mail_and_its_sender(
    make_harness: Any,
) -> None:
    """OfficeProfileChanged (newest version kept, an older or repeated one ignored) gives the
    e-mail its office name and its From display name; invitations has no office endpoint."""
    h = await make_harness()
    offices = h.service.deps.offices

    async def remember(version: int, name: str, sender: str | None = None) -> bool:
        cmd = RememberOfficeProfile("office-c", version, OfficeProfile(name, sender, ("fr",)))
        return bool(await remember_office_profile(cmd, h.service.deps))

    assert await offices.profile_of("office-c") is None
    assert await remember(2, "Cabinet Lemaire", "Lemaire via OkiOki")
    assert not await remember(1, "Ancien nom")  # late and older
    assert not await remember(2, "Cabinet Lemaire", "Lemaire via OkiOki")  # redelivered
    assert await offices.profile_of("office-c") == OfficeProfile(
        "Cabinet Lemaire", "Lemaire via OkiOki", ("fr",)
    )
    await h.record(client_created("office-c", "c-9", invite=True))
    await h.send_due()
    (received,) = await h.smtp.handler.wait_for(1)
    assert str(received.message["Subject"]).startswith("Cabinet Lemaire vous invite")
    assert received.message["From"].addresses[0].display_name == "Lemaire via OkiOki"
    gone = await h.http.put("/v1/office/name", json={"name": "X"}, headers=bearer("office-c"))
    assert gone.status_code == 404


async def link(h: Any, token: str) -> dict[str, Any]:
    response = await h.http.get("/v1/invitations/link", params={"token": token})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_the_link_says_what_it_opens(make_harness: Any) -> None:
    """The onboarding page asks before it shows the form: valid (with the office and the login),
    then used once accepted; revoked; expired; and a token that leads nowhere is invalid."""
    h = await make_harness(token_ttl_days=14)
    token = await invited_and_sent(h, language="nl")
    assert await link(h, token) == {
        "state": "valid",
        "language": "nl",
        "office_name": "Fiduciaire Dupont",
        "login": "marie@example.be",
    }
    assert (await accept(h, token)).status_code == 200
    assert await link(h, token) == {
        "state": "used",
        "language": "nl",
        "office_name": None,
        "login": None,
    }

    revoked = await invited_and_sent(h, client_id="c-2")
    await h.http.delete("/v1/invitations/clients/c-2", headers=bearer(OFFICE))
    assert (await link(h, revoked))["state"] == "revoked"

    expiring = await invited_and_sent(h, client_id="c-3")
    h.clock.advance(days=14)
    assert (await link(h, expiring))["state"] == "expired"

    assert await link(h, "A" * 43) == {
        "state": "invalid",
        "language": None,
        "office_name": None,
        "login": None,
    }
