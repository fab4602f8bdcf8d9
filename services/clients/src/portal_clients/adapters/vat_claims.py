"""Which office a company (a VAT number) belongs to: ``company_vats/<vat number>``.

A company is a client of one office on the platform: when a second office adds it, creation does
not duplicate it but answers "already on the platform" (naming nothing of the other office); a
second client with the same VAT number in the SAME office is refused too (a duplicate file is
an accountant's mistake, and the connection-request flow will need one owner per company).

The claim is an insert keyed by the VAT number, so two offices racing for one company cannot
both win. A claim left behind by a crash (its client was never written) is recognised after a
grace period and taken over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from portal_clients.domain.errors import Conflict, FieldIssue

Document = dict[str, Any]

ON_PLATFORM = FieldIssue("company.vat_number", "company.on_platform")
TAKEN_IN_OFFICE = FieldIssue("company.vat_number", "vat.taken_in_office")


class VatClaims:
    def __init__(
        self,
        claims: AsyncCollection[Document],
        clients: AsyncCollection[Document],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        grace: timedelta = timedelta(seconds=60),
    ) -> None:
        self.claims = claims
        self.clients = clients
        self.clock = clock
        self.grace = grace

    async def claim(self, vat: str, office_id: str, client_id: str) -> None:
        for _ in range(3):
            try:
                await self.claims.insert_one(
                    {"_id": vat, "office_id": office_id, "client_id": client_id, "at": self.clock()}
                )
                return
            except DuplicateKeyError:
                held = await self.claims.find_one({"_id": vat})
            if held is None:
                continue  # released meanwhile: try again
            if held["client_id"] == client_id:
                return  # ours already (a re-consumed import row, a retried request)
            if await self._orphan(held):
                await self.claims.delete_one({"_id": vat, "client_id": held["client_id"]})
                continue
            if held["office_id"] == office_id:
                raise Conflict("client.conflict", [TAKEN_IN_OFFICE])
            raise Conflict("company.on_platform", [ON_PLATFORM])
        raise Conflict("client.conflict", [TAKEN_IN_OFFICE])

    async def claim_many(
        self, claims: list[tuple[str, str, str]], *, import_ref: str = ""
    ) -> dict[str, Conflict]:
        """Claim (vat, office id, client id) triples in bulk; returns client id -> refusal."""
        refused: dict[str, Conflict] = {}
        now = self.clock()
        for start in range(0, len(claims), 500):
            batch = claims[start : start + 500]
            docs = [
                {"_id": v, "office_id": o, "client_id": c, "at": now, "import_ref": import_ref}
                for v, o, c in batch
            ]
            try:
                await self.claims.insert_many(docs, ordered=False)
                continue
            except BulkWriteError as exc:
                failed = {err["index"] for err in exc.details.get("writeErrors", [])}
            for index in sorted(failed):
                vat, office_id, client_id = batch[index]
                try:
                    await self.claim(vat, office_id, client_id)
                except Conflict as conflict:
                    refused[client_id] = conflict
        return refused

    async def release(self, vat: str, client_id: str) -> None:
        await self.claims.delete_one({"_id": vat, "client_id": client_id})

    async def owners(self, vats: list[str]) -> dict[str, str]:
        """VAT number -> owning office id, for those on the platform.

        By key, a thousand at a time: ``{_id: {$in: [...]}}`` uses the `_id` index on MongoDB and
        on our FerretDB build (portal_infra/ferretdb_patches.py).
        """
        wanted = list(dict.fromkeys(vats))
        owners: dict[str, str] = {}
        for start in range(0, len(wanted), 1000):
            batch = wanted[start : start + 1000]
            async for held in self.claims.find({"_id": {"$in": batch}}, {"office_id": 1}):
                owners[held["_id"]] = held["office_id"]
        return owners

    async def _orphan(self, held: Document) -> bool:
        at = held.get("at")
        if at is not None:
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
            if self.clock() - at < self.grace:
                return False  # its client may be being written right now
        head = await self.clients.find_one({"_id": held["client_id"]})
        return head is None or head["data"]["company"]["vat_number"] != held["_id"]
