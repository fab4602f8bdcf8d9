"""The VAT register (VIES) through a local fake speaking its REST API: valid, invalid, slow and
unavailable, the skip option, and the re-check with backoff of pending checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_clients.adapters.vies import ViesRegister
from portal_clients.domain.vat import RegisterVerdict
from portal_clients.service.events import recheck_vat
from portal_clients.testing.samples import client_form, normalised_vat

pytestmark = pytest.mark.integration


async def test_the_adapter_reads_each_kind_of_answer(fake_vies) -> None:
    register = ViesRegister(fake_vies.endpoint, timeout_s=0.5)
    try:
        fake_vies.answer("BE0200000043", "invalid")
        fake_vies.answer("BE0200000142", "slow")
        fake_vies.answer("BE0200000538", "unavailable")
        fake_vies.answer("BE0201234517", "ms_unavailable")
        valid = await register.check("BE0209999951")
        assert valid.verdict is RegisterVerdict.VALID
        assert valid.name == "FAKE COMPANY NV"
        assert (await register.check("BE0200000043")).verdict is RegisterVerdict.INVALID
        assert (await register.check("BE0200000142")).verdict is RegisterVerdict.UNAVAILABLE
        assert (await register.check("BE0200000538")).verdict is RegisterVerdict.UNAVAILABLE
        assert (await register.check("BE0201234517")).verdict is RegisterVerdict.UNAVAILABLE
        assert fake_vies.requests[0] == {"countryCode": "BE", "vatNumber": "0209999951"}
        # A 404 (the endpoint moved) or a body of another shape says nothing about the number.
        fake_vies.answer("BE0200000637", "not_found")
        fake_vies.answer("BE0200000736", "malformed")
        for number in ("BE0200000637", "BE0200000736"):
            answer = await register.check(number)
            assert answer.verdict is RegisterVerdict.UNAVAILABLE, (number, answer)
    finally:
        await register.aclose()
    closed = ViesRegister("http://127.0.0.1:9", timeout_s=0.5)  # nothing listens there
    try:
        assert (await closed.check("BE0209999951")).verdict is RegisterVerdict.UNAVAILABLE
    finally:
        await closed.aclose()


async def test_an_unknown_company_is_refused_unless_the_check_is_skipped(
    api, auth, fake_vies
) -> None:
    fake_vies.answer(normalised_vat(700), "invalid")
    refused = await api.post("/v1/clients", json=client_form(700), headers=auth(lang="fr"))
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert (error["field"], error["code"]) == ("company.vat_number", "vat.not_registered")
    assert "Ne vérifiez pas" in error["message"]

    skipped = await api.post(
        "/v1/clients", json={**client_form(700), "skip_vat_check": True}, headers=auth()
    )
    assert skipped.status_code == 201
    assert skipped.json()["vat_check"] == "skipped"
    requests_before = len(fake_vies.requests)
    bad_checksum = await api.post(
        "/v1/clients",
        json={**client_form(701, company={"vat_number": "0403.170.702"}), "skip_vat_check": True},
        headers=auth(),
    )
    assert bad_checksum.status_code == 422  # skipping the register never skips the checksum
    assert len(fake_vies.requests) == requests_before


async def test_an_unreachable_register_saves_pending_then_a_recheck_settles_it(
    api, auth, fake_vies, service
) -> None:
    vat = normalised_vat(710)
    fake_vies.answer(vat, "slow")  # slower than the 1 s timeout
    created = await api.post("/v1/clients", json=client_form(710), headers=auth())
    assert created.status_code == 201
    assert created.json()["vat_check"] == "pending"  # saved, never blocked, never "valid"
    client_id = created.json()["client_id"]

    deps = service.deps
    clients = service.runtime.db["clients"]

    async def pending() -> dict:
        return await clients.find_one({"_id": client_id}, {"due_at": 1, "recheck_attempts": 1})

    first = await pending()
    assert timedelta(seconds=29) < first["due_at"] - deps.clock.now() <= timedelta(minutes=1)
    assert first["recheck_attempts"] == 0

    real_clock = deps.clock

    class Later:
        def __init__(self, shift: timedelta) -> None:
            self.shift = shift

        def now(self):
            return real_clock.now() + self.shift

        def today(self):
            return self.now().date()

    deps.clock = Later(timedelta(hours=1))
    try:
        fake_vies.answer(vat, "unavailable")
        assert await recheck_vat(deps) == 1
        again = await pending()
        assert again["recheck_attempts"] == 1  # backed off, still pending
        assert again["due_at"] > first["due_at"] + timedelta(minutes=30)
        assert await recheck_vat(deps) == 0  # not due again yet
        fake_vies.answer(vat, "valid")
        deps.clock = Later(timedelta(days=1))
        assert await recheck_vat(deps) == 1
    finally:
        deps.clock = real_clock
    read = (await api.get(f"/v1/clients/{client_id}", headers=auth())).json()
    assert read["vat_check"] == "valid"
    assert read["version"] == 2
    assert "due_at" not in await pending()  # settled: nothing left to ask
