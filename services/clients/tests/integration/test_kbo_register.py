"""The KBO register on the real MongoDB-wire server: extracts written in the official layout
are loaded (a full zip, an update with a delete and an insert, refused updates out of order,
an unpacked folder, the command itself), and Belgian clients are checked against them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from portal_clients.adapters.kbo_register import KboRegister, KboThenVies
from portal_clients.adapters.mongo_kbo import MongoKbo
from portal_clients.bootstrap import Service, bootstrap
from portal_clients.config import Settings
from portal_clients.domain.kbo import ExtractOutOfOrder, KboFormatError
from portal_clients.domain.vat import RefusalReason, RegisterVerdict
from portal_clients.entrypoints.load_kbo import LEASE, AnotherLoadRunning, Progress, load_extract
from portal_clients.service.events import recheck_vat
from portal_clients.testing.samples import client_form, normalised_vat, vat_number
from portal_servicekit.leases import Lease

from ..kbo_extracts import write_extract

pytestmark = pytest.mark.integration

ACTIVE, BANKRUPT, PERSON, GONE, NEW = (vat_number(n) for n in (801, 802, 803, 804, 805))


def be(number: str) -> str:
    return "BE" + number.replace(".", "")


FULL_ROWS = [
    (ACTIVE, "AC", "000", "2", "09-08-1960"),
    (BANKRUPT, "AC", "012", "2", "01-02-2001"),
    (PERSON, "AC", "000", "1", "15-03-2019"),
    (GONE, "AC", "000", "2", ""),
]


@pytest.fixture
async def kbo(mongo_db) -> MongoKbo:
    store = MongoKbo(mongo_db)
    await store.prepare()
    return store


async def _load(path: Path, store: MongoKbo) -> tuple[dict[str, int], str]:
    out = io.StringIO()
    _, counts = await load_extract(path, store, batch=2, progress=Progress(out, every_s=0))
    return counts, out.getvalue()


async def test_a_full_extract_then_its_update_then_refused_ones(kbo, tmp_path) -> None:
    register = KboRegister(kbo)
    before = await register.check(be(ACTIVE))
    assert before.verdict is RegisterVerdict.UNAVAILABLE  # nothing loaded: nobody knows yet

    # Another process (the worker) with its own store: it asks again after 30 s whether an
    # extract was loaded meanwhile.
    now = [0.0]
    worker_register = KboRegister(MongoKbo(kbo.enterprises.database, clock=lambda: now[0]))
    assert (await worker_register.check(be(NEW))).verdict is RegisterVerdict.UNAVAILABLE

    counts, progress = await _load(write_extract(tmp_path, 140, "full", FULL_ROWS), kbo)
    assert (await worker_register.check(be(NEW))).verdict is RegisterVerdict.UNAVAILABLE
    now[0] = 31.0
    assert (await worker_register.check(be(NEW))).verdict is RegisterVerdict.INVALID
    assert counts == {"written": 4, "deleted": 0}
    assert "rows/s" in progress
    assert "extract 140 (full) applied" in progress
    # The codes refused as stopped, as the extract's own code.csv names them.
    assert "refused as stopped: 012 (bankruptcy): code.csv says 'Ouverture de faillite'" in progress
    assert (
        "refused as stopped: 014 (dissolution or liquidation): code.csv says 'NOTHING" in progress
    )
    assert (await register.check(be(ACTIVE))).verdict is RegisterVerdict.VALID
    assert (await register.check(be(PERSON))).verdict is RegisterVerdict.VALID
    stopped = await register.check(be(BANKRUPT))
    assert (stopped.verdict, stopped.reason) == (RegisterVerdict.INVALID, RefusalReason.STOPPED)
    assert stopped.detail == "stopped (juridical situation 012: bankruptcy)"
    unknown = await register.check(be(NEW))
    assert (unknown.verdict, unknown.detail) == (RegisterVerdict.INVALID, "not in the KBO")

    # The update: GONE deleted, NEW inserted, BANKRUPT changed (deleted and inserted again).
    update = write_extract(
        tmp_path,
        141,
        "update",
        [(NEW, "AC", "000", "2", "01-10-2026"), (BANKRUPT, "AC", "000", "2", "01-02-2001")],
        deleted=[GONE, BANKRUPT],
    )
    counts, _ = await _load(update, kbo)
    assert counts == {"written": 2, "deleted": 2}
    assert await kbo.find(be(GONE)[2:]) is None
    assert (await register.check(be(GONE))).verdict is RegisterVerdict.INVALID
    assert (await register.check(be(NEW))).verdict is RegisterVerdict.VALID
    assert (await register.check(be(BANKRUPT))).verdict is RegisterVerdict.VALID

    # Out of order, or twice: refused with the number expected, nothing written.
    skipped = write_extract(
        tmp_path, 143, "update", [(GONE, "AC", "000", "2", "")], deleted=[ACTIVE]
    )
    with pytest.raises(ExtractOutOfOrder, match="142 is expected"):
        await _load(skipped, kbo)
    with pytest.raises(ExtractOutOfOrder, match="not the next one"):
        await _load(update, kbo)
    assert await kbo.find(be(ACTIVE)[2:]) is not None
    assert await kbo.find(be(GONE)[2:]) is None
    assert await kbo.extracts.find_one({"_id": 143}) is None
    last = await kbo.last("applied")
    assert last is not None
    assert last.number == 141

    # A newer full extract (unpacked in a folder) replaces everything.
    folder = write_extract(
        tmp_path, 150, "full", [(PERSON, "AC", "000", "1", "15-03-2019")], as_zip=False
    )
    counts, _ = await _load(folder, kbo)
    assert counts == {"written": 1, "deleted": 3}
    assert await kbo.enterprises.count_documents({}) == 1
    assert (await register.check(be(ACTIVE))).detail == "not in the KBO"


def _command(path: Path, mongodb_uri: str, database: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MONGODB_URI": mongodb_uri,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",  # never contacted by the loader
        "PORTAL_JWT_KEY": "x" * 32,
        "CLIENTS_DATABASE": database,
    }
    return subprocess.run(
        [sys.executable, "-m", "portal_clients.entrypoints.load_kbo", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_command_loads_and_refuses_with_a_clear_message(
    kbo, mongo_db, mongodb_uri, tmp_path
) -> None:
    update = write_extract(tmp_path, 141, "update", [], deleted=[GONE])
    refused = _command(update, mongodb_uri, mongo_db.name)
    assert refused.returncode == 2, refused.stderr
    assert "update extract 141 needs a full extract first; nothing loaded" in refused.stderr

    applied = _command(write_extract(tmp_path, 140, "full", FULL_ROWS), mongodb_uri, mongo_db.name)
    assert applied.returncode == 0, applied.stderr
    assert "applied KBO extract 140 (full" in applied.stdout
    assert "4 written" in applied.stdout
    assert await kbo.enterprises.count_documents({}) == 4


@pytest.fixture
async def kbo_service(settings: Settings, fake_vies) -> AsyncIterator[Service]:
    """The service as configured by default (vat_register "kbo+vies"): the KBO for Belgian
    numbers, the fake VIES for the rest and as the second opinion."""
    service = bootstrap(settings)
    assert isinstance(service.deps.register, KboThenVies)
    await service.prepare()
    yield service
    await service.close()


@pytest.fixture
async def kbo_api(kbo_service):
    import httpx

    from portal_clients.entrypoints.http import create_app

    transport = httpx.ASGITransport(app=create_app(kbo_service))
    async with httpx.AsyncClient(transport=transport, base_url="http://clients") as client:
        yield client


class _Later:
    """The service's clock a day ahead: every pending check is due."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now() + timedelta(days=1)

    def today(self) -> date:
        return self.now().date()


async def test_a_belgian_company_not_liable_to_vat_is_accepted_from_the_kbo(
    kbo_service, kbo_api, auth, fake_vies, tmp_path
) -> None:
    fake_vies.default = "invalid"  # none of these companies is registered for VAT
    for n in (801, 802):  # no extract yet: saved, checked again later
        pending = await kbo_api.post("/v1/clients", json=client_form(n), headers=auth())
        assert pending.status_code == 201, pending.text
        assert pending.json()["vat_check"] == "pending"

    assert kbo_service.kbo is not None
    rows = [*FULL_ROWS, (vat_number(808), "AC", "012", "2", "")]
    await _load(write_extract(tmp_path, 140, "full", rows), kbo_service.kbo)

    added = await kbo_api.post("/v1/clients", json=client_form(803), headers=auth())
    assert added.status_code == 201, added.text
    assert added.json()["vat_check"] == "valid"

    stopped = await kbo_api.post("/v1/clients", json=client_form(808), headers=auth(lang="fr"))
    assert stopped.status_code == 422
    error = stopped.json()["errors"][0]
    assert (error["field"], error["code"]) == ("company.vat_number", "vat.company_stopped")
    assert "juridical situation 012: bankruptcy" in error["message"]
    assert "Ne vérifiez pas" in error["message"]

    unknown = await kbo_api.post("/v1/clients", json=client_form(806), headers=auth())
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["code"] == "vat.not_registered"

    # Registered for VAT since the extract was taken: VIES's yes is enough.
    fake_vies.answer(normalised_vat(807), "valid")
    recent = await kbo_api.post("/v1/clients", json=client_form(807), headers=auth())
    assert recent.status_code == 201
    assert recent.json()["vat_check"] == "valid"

    # The background checks of the two pending clients: the list row says why one is refused.
    deps = kbo_service.deps
    real_clock, deps.clock = deps.clock, _Later(deps.clock)
    try:
        assert await recheck_vat(deps) == 2
    finally:
        deps.clock = real_clock
    listed = await kbo_api.get("/v1/clients", params={"limit": 50}, headers=auth())
    rows_by_vat = {r["vat_number"]: r for r in listed.json()["items"]}
    ok, refused = rows_by_vat[normalised_vat(801)], rows_by_vat[normalised_vat(802)]
    assert (ok["vat_check"], ok["vat_check_reason"]) == ("valid", None)
    assert (refused["vat_check"], refused["vat_check_reason"]) == ("invalid", "vat.company_stopped")
    assert refused["vat_check_detail"] == "stopped (juridical situation 012: bankruptcy)"
    one = await kbo_api.get(f"/v1/clients/{refused['client_id']}", headers=auth())
    assert one.json()["vat_check_detail"] == "stopped (juridical situation 012: bankruptcy)"


async def test_an_interrupted_load_is_finished_by_loading_it_again(kbo, tmp_path) -> None:
    await _load(write_extract(tmp_path / "a", 140, "full", FULL_ROWS), kbo)
    new = (NEW, "AC", "000", "2", "01-10-2026")
    broken = write_extract(
        tmp_path / "b", 141, "update", [new, new, ("04.03", "AC", "000", "2", "")], deleted=[GONE]
    )
    with pytest.raises(KboFormatError, match=r"enterprise_insert\.csv line 4"):
        await _load(broken, kbo)  # the first batch was written, then the bad line
    assert await kbo.find(be(NEW)[2:]) is not None
    later = write_extract(tmp_path / "c", 142, "update", [], deleted=[ACTIVE])
    with pytest.raises(ExtractOutOfOrder, match="load of extract 141 was interrupted"):
        await _load(later, kbo)

    fixed = write_extract(tmp_path / "d", 141, "update", [new], deleted=[GONE])
    counts, _ = await _load(fixed, kbo)
    assert counts == {"written": 1, "deleted": 0}  # GONE went the first time
    await _load(later, kbo)
    assert await kbo.find(be(ACTIVE)[2:]) is None

    # A newer full extract replaces an interrupted load too.
    with pytest.raises(KboFormatError):
        await _load(
            write_extract(
                tmp_path / "e", 143, "update", [new, new, (NEW, "AC", "000", "2", "2026-10-01")]
            ),
            kbo,
        )
    await _load(write_extract(tmp_path / "f", 150, "full", FULL_ROWS), kbo)
    assert await kbo.last("loading") is None
    assert (await kbo.extracts.find_one({"_id": 143}))["state"] == "superseded"


async def test_one_load_at_a_time(kbo, mongo_db, tmp_path) -> None:
    running = Lease(mongo_db["leases"], LEASE, ttl=timedelta(minutes=2))
    assert await running.hold()  # another loader, mid-way
    full = write_extract(tmp_path, 140, "full", FULL_ROWS)
    with pytest.raises(AnotherLoadRunning, match="another KBO load is running"):
        await _load(full, kbo)
    assert await kbo.extracts.count_documents({}) == 0
    await running.release()
    await _load(full, kbo)
    assert await mongo_db["leases"].count_documents({"_id": LEASE}) == 0  # released after
