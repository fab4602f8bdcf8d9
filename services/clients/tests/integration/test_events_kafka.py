"""Events on the real Kafka: ClientCreated / ClientUpdated relayed from the outbox, and the
status and invitation state moved by ClientInvited / ClientActivated / ClientInvitationFailed /
ClientInvitationRevoked (idempotent on redelivery, stale ones ignored)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal_clients.testing.samples import client_form
from portal_contracts.broker import publish_event
from portal_contracts.clients import (
    ActivatedBy,
    ClientActivated,
    ClientActivatedPayload,
    ClientCreated,
    ClientInvitationFailed,
    ClientInvitationFailedPayload,
    ClientInvitationRevoked,
    ClientInvitationRevokedPayload,
    ClientInvited,
    ClientInvitedPayload,
    ClientUpdated,
)
from portal_contracts.delivery import ConnectionName, ConnectionsChanged, ConnectionsChangedPayload
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged
from portal_contracts.values import TransferMethod

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SETTINGS = {
    "enabled_transfer_methods": ["sftp", "email"],
    "default_timing": {"when": "delayed", "delay_days": 3},
    "credit_card_statements": "with_misc",
    "accounting_softwares": ["adsolut"],
}


async def _wait_for(predicate, timeout: float = 45.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_created_and_updated_go_out_with_the_full_snapshot(
    api, auth, worker, topics, read_topic
) -> None:
    created = (await api.post("/v1/clients", json=client_form(800), headers=auth())).json()
    url = f"/v1/clients/{created['client_id']}"
    edited = await api.put(
        url,
        json=client_form(800, company={"name": "Renamed"}, user={"language": "fr"}),
        headers={**auth(), "If-Match": '"1"'},
    )
    assert edited.status_code == 200

    [record] = await read_topic(topics.of(ClientCreated), 1)
    event = ClientCreated.model_validate(record["value"])
    assert record["key"] == created["client_id"]
    assert record["headers"]["event_id"] == str(event.event_id)
    assert event.office_id == "office-a"
    assert created.pop("invitation") is None  # the API's own view, not in the snapshot
    assert (created.pop("vat_check_reason"), created.pop("vat_check_detail")) == (None, None)
    assert event.payload.client.model_dump(mode="json") == created
    [record] = await read_topic(topics.of(ClientUpdated), 1)
    updated = ClientUpdated.model_validate(record["value"])
    assert updated.payload.client.model_dump(mode="json") == {
        k: v
        for k, v in edited.json().items()
        if k not in ("invitation", "vat_check_reason", "vat_check_detail")
    }
    assert sorted(updated.payload.changed) == ["company.name", "user.language"]

    async def outbox_drained() -> bool:
        return await worker.runtime.db["outbox"].count_documents({}) == 0

    await _wait_for(outbox_drained)


async def test_each_settings_save_goes_out_with_its_version(
    api, auth, worker, topics, read_topic
) -> None:
    """Delivery keeps the office's defaults from OfficeSettingsChanged: one per save, in the
    save's transaction, carrying the version that orders them."""
    admin = auth()
    first = await api.put("/v1/settings", json=SETTINGS, headers={**admin, "If-Match": '"0"'})
    assert first.status_code == 200, first.text
    immediate = {**SETTINGS, "default_timing": {"when": "immediately"}}
    second = await api.put("/v1/settings", json=immediate, headers={**admin, "If-Match": '"1"'})
    assert second.status_code == 200, second.text
    stale = await api.put("/v1/settings", json=SETTINGS, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412

    records = await read_topic(topics.of(OfficeSettingsChanged), 2)
    events = [OfficeSettingsChanged.model_validate(r["value"]) for r in records]
    assert [r["key"] for r in records] == ["office-a", "office-a"]
    assert [e.payload.version for e in events] == [1, 2]
    assert [m.value for m in events[0].payload.enabled_transfer_methods] == [
        "email",
        "manual",
        "sftp",
    ]
    assert events[0].payload.default_timing.delay_days == 3
    assert events[1].payload.default_timing.when.value == "immediately"
    assert events[0].payload.credit_card_statements.value == "with_misc"


def _connections(version: int, **names: str) -> ConnectionsChanged:
    return ConnectionsChanged.new(
        office_id="office-a",
        payload=ConnectionsChangedPayload(
            version=version,
            connections=[ConnectionName(name=n, kind=TransferMethod(k)) for n, k in names.items()],
        ),
    )


async def test_an_sftp_client_names_a_connection_delivery_announced(
    api, auth, worker, topics
) -> None:
    """ConnectionsChanged from delivery: clients keeps the newest list of names and refuses a
    client naming none of the office's sFTP connections, saying which exist."""
    admin = auth()
    body = {**SETTINGS, "enabled_transfer_methods": ["sftp"]}
    assert (await api.put("/v1/settings", json=body, headers={**admin, "If-Match": "*"})).is_success

    def form(n: int, connection: str) -> dict:
        target = {"kind": "sftp", "connection": connection, "folder": f"client{n}"}
        return client_form(n, integration={"target": target, "accounting_software": "adsolut"})

    await publish_event(
        worker.runtime.broker, topics, _connections(2, Kantoor="sftp", Agent="agent")
    )
    await publish_event(worker.runtime.broker, topics, _connections(1, Oud="sftp"))  # stale, late

    async def refused_with_names() -> bool:
        answer = await api.post("/v1/clients", json=form(830, "Oud"), headers=admin)
        return answer.status_code == 422

    await _wait_for(refused_with_names)
    refused = await api.post(
        "/v1/clients", json=form(830, "Oud"), headers={**admin, "Accept-Language": "en"}
    )
    [problem] = refused.json()["errors"]
    assert problem["field"] == "integration.target.connection"
    assert problem["code"] == "connection.unknown"
    assert "(Kantoor)" in problem["message"], problem
    wrong = await api.post("/v1/clients", json=form(831, "Agent"), headers=admin)
    assert wrong.json()["errors"][0]["code"] == "connection.wrong_kind"
    accepted = await api.post("/v1/clients", json=form(832, "kantoor"), headers=admin)
    assert accepted.status_code == 201, accepted.text
    await asyncio.sleep(1)  # the stale list came after on the same partition: still ignored
    assert (await api.post("/v1/clients", json=form(833, "Oud"), headers=admin)).status_code == 422
    known = (await api.get("/v1/settings", headers=admin)).json()["connections"]
    assert known == [{"name": "Agent", "kind": "agent"}, {"name": "Kantoor", "kind": "sftp"}]


async def test_invitation_events_move_the_status_once(
    api, auth, worker, topics, read_topic
) -> None:
    created = (await api.post("/v1/clients", json=client_form(810), headers=auth())).json()
    client_id = created["client_id"]
    invited = ClientInvited.new(
        office_id="office-a",
        payload=ClientInvitedPayload(
            client_id=client_id,
            invitation_id=uuid.uuid4().hex,
            email=created["user"]["email"],
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ),
    )
    await publish_event(worker.runtime.broker, topics, invited)
    await publish_event(worker.runtime.broker, topics, invited)  # redelivered

    async def status_is(expected: str) -> bool:
        body = (await api.get(f"/v1/clients/{client_id}", headers=auth())).json()
        return body["status"] == expected

    await _wait_for(lambda: status_is("inactive"))
    activated = ClientActivated.new(
        office_id="office-a",
        payload=ClientActivatedPayload(client_id=client_id, by=ActivatedBy.CLIENT),
    )
    await publish_event(worker.runtime.broker, topics, activated)
    await _wait_for(lambda: status_is("active"))
    # A late ClientInvited (another partition, delivered after) does not step back.
    await publish_event(worker.runtime.broker, topics, invited)
    other_office = ClientActivated.new(
        office_id="office-b",
        payload=ClientActivatedPayload(client_id=client_id, by=ActivatedBy.ACCOUNTANT),
    )
    await publish_event(worker.runtime.broker, topics, other_office)
    updates = await read_topic(topics.of(ClientUpdated), 2)
    statuses = [ClientUpdated.model_validate(r["value"]).payload.client.status for r in updates]
    assert [s.value for s in statuses] == ["inactive", "active"]
    await asyncio.sleep(2)
    body = (await api.get(f"/v1/clients/{client_id}", headers=auth())).json()
    assert (body["status"], body["version"]) == ("active", 3)


async def test_a_failed_then_revoked_invitation_shows_on_the_client_and_in_the_list(
    api, auth, worker, topics
) -> None:
    created = (await api.post("/v1/clients", json=client_form(820), headers=auth())).json()
    client_id, broker = created["client_id"], worker.runtime.broker
    start = datetime.now(UTC)
    invited = ClientInvited.new(
        office_id="office-a",
        payload=ClientInvitedPayload(
            client_id=client_id,
            invitation_id="inv-1",
            email=created["user"]["email"],
            expires_at=start + timedelta(days=7),
        ),
    ).model_copy(update={"occurred_at": start})
    failed = ClientInvitationFailed.new(
        office_id="office-a",
        payload=ClientInvitationFailedPayload(
            client_id=client_id,
            invitation_id="inv-2",
            reason="mail.rejected",
            detail="smtp 550: no such user",
        ),
    ).model_copy(update={"occurred_at": start + timedelta(seconds=1)})
    revoked = ClientInvitationRevoked.new(
        office_id="office-a",
        payload=ClientInvitationRevokedPayload(client_id=client_id, invitation_id="inv-2"),
    ).model_copy(update={"occurred_at": start + timedelta(seconds=2)})

    async def shown(status: str, invitation: dict | None) -> bool:
        body = (await api.get(f"/v1/clients/{client_id}", headers=auth())).json()
        got = body["invitation"] and {k: body["invitation"][k] for k in invitation or {}}
        return body["status"] == status and got == invitation

    async def row() -> dict:
        page = (await api.get("/v1/clients", params={"q": "Peeters 820"}, headers=auth())).json()
        [line] = [r for r in page["items"] if r["client_id"] == client_id]
        return line

    await publish_event(broker, topics, invited)
    await _wait_for(lambda: shown("inactive", {"state": "sent", "invitation_id": "inv-1"}))
    await publish_event(broker, topics, failed)
    await publish_event(broker, topics, failed)  # redelivered
    failure = {"state": "failed", "reason": "mail.rejected", "detail": "smtp 550: no such user"}
    await _wait_for(lambda: shown("not_invited", failure))
    line = await row()
    assert line["status"] == "not_invited"
    assert {k: line["invitation"][k] for k in failure} == failure
    assert (line["group_name"], line["actions"]) == (
        "Everyone",
        ["invite", "archive"],
    )  # invite again

    await publish_event(broker, topics, revoked)
    await _wait_for(lambda: shown("not_invited", None))
    await publish_event(broker, topics, invited)  # older than the revocation: ignored
    await publish_event(broker, topics, revoked)  # redelivered
    await asyncio.sleep(2)
    body = (await api.get(f"/v1/clients/{client_id}", headers=auth())).json()
    assert (body["status"], body["invitation"], body["version"]) == ("not_invited", None, 4)
    line = await row()
    assert (line["status"], line["invitation"]) == ("not_invited", None)
    assert line["actions"] == ["invite", "archive"]


async def test_the_office_profile_is_saved_by_an_admin_and_goes_out_as_state(
    api, auth, worker, topics, read_topic
) -> None:
    """The office's own profile: an admin saves it (If-Match), bad names are refused in the
    caller's language and change nothing, and each version is published, keyed by office."""
    admin = auth()
    empty = await api.get("/v1/office/profile", headers=admin)
    assert empty.status_code == 200
    assert empty.json() == {"profile": None, "version": 0}
    profile = {"name": "  Fiduciaire   Dupont ", "languages": ["fr", "nl"], "sender_name": ""}
    first = await api.put("/v1/office/profile", json=profile, headers={**admin, "If-Match": '"0"'})
    assert first.status_code == 200, first.text
    assert first.json()["profile"] == {
        "name": "Fiduciaire Dupont",
        "languages": ["fr", "nl"],
        "sender_name": None,
    }
    assert first.headers["ETag"] == '"1"'

    injected = {**profile, "sender_name": "Dupont\r\nBcc: all@example.com"}
    refused = await api.put(
        "/v1/office/profile",
        json=injected,
        headers={**admin, "If-Match": '"1"', "Accept-Language": "nl"},
    )
    assert refused.status_code == 422
    (problem,) = refused.json()["errors"]
    assert problem["field"] == "sender_name"
    assert problem["code"] == "office.header_unsafe"
    assert "één regel" in problem["message"]
    repeated = {**profile, "languages": ["fr", "fr"]}
    again = await api.put("/v1/office/profile", json=repeated, headers={**admin, "If-Match": "*"})
    assert again.json()["errors"][0]["code"] == "office.languages_repeated"
    staff = auth(role="staff")
    forbidden = await api.put(
        "/v1/office/profile", json=profile, headers={**staff, "If-Match": "*"}
    )
    assert forbidden.status_code == 403
    stale = await api.put("/v1/office/profile", json=profile, headers={**admin, "If-Match": '"0"'})
    assert stale.status_code == 412
    assert (await api.get("/v1/office/profile", headers=staff)).json()["version"] == 1

    renamed = {"name": "Dupont & Fils", "languages": ["nl"], "sender_name": "Dupont via OkiOki"}
    second = await api.put("/v1/office/profile", json=renamed, headers={**admin, "If-Match": '"1"'})
    assert second.status_code == 200, second.text
    records = await read_topic(topics.of(OfficeProfileChanged), 2)
    assert [r["key"] for r in records] == ["office-a", "office-a"]
    events = [OfficeProfileChanged.model_validate(r["value"]) for r in records]
    assert [(e.payload.version, e.payload.name) for e in events] == [
        (1, "Fiduciaire Dupont"),
        (2, "Dupont & Fils"),
    ]
    assert events[1].payload.sender_name == "Dupont via OkiOki"
    assert [lang.value for lang in events[1].payload.languages] == ["nl"]
