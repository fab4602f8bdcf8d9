"""The VAT register for Belgian numbers: the KBO as loaded from its Open Data extracts
(adapters/mongo_kbo.py, ``python -m portal_clients.entrypoints.load_kbo``), with VIES for the
other member states and as a second opinion on a Belgian number the KBO extract does not hold.

Why a second opinion: the extract is a monthly picture, so a company registered since is not
in it; VIES (for Belgium fed by the KBO itself, live) knows it if it is VAT-registered. A
stopped enterprise is refused on the KBO's word alone.
"""

from __future__ import annotations

import logging

from pymongo.errors import PyMongoError

from portal_clients.adapters.mongo_kbo import MongoKbo
from portal_clients.adapters.vies import SkippedRegister
from portal_clients.domain.kbo import answer_for
from portal_clients.domain.vat import (
    RefusalReason,
    RegisterAnswer,
    RegisterVerdict,
    with_second_opinion,
)
from portal_clients.ports import VatRegister

logger = logging.getLogger(__name__)


class KboRegister:
    """Answers Belgian numbers ("BE" + ten digits) from the loaded KBO extract."""

    def __init__(self, store: MongoKbo) -> None:
        self.store = store

    async def check(self, vat_number: str) -> RegisterAnswer:
        if not vat_number.startswith("BE"):
            return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="not a Belgian number")
        try:
            enterprise = await self.store.find(vat_number[2:])
            loaded = enterprise is not None or await self.store.extract_loaded()
        except PyMongoError as exc:
            logger.warning("KBO store unreachable: %r", exc)
            return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail=type(exc).__name__)
        return answer_for(enterprise, extract_loaded=loaded)


class KboThenVies:
    """Belgian numbers by the KBO (then VIES when the KBO does not hold them), the others by
    VIES. Without VIES (``vies`` None) the KBO's answer is final and other countries pend."""

    def __init__(self, kbo: VatRegister, vies: VatRegister | None) -> None:
        self.kbo = kbo
        self.vies = vies

    async def check(self, vat_number: str) -> RegisterAnswer:
        if not vat_number.startswith("BE"):
            return await (self.vies or SkippedRegister()).check(vat_number)
        answer = await self.kbo.check(vat_number)
        if self.vies is None or answer.verdict is RegisterVerdict.VALID:
            return answer
        if answer.reason in (RefusalReason.STOPPED, RefusalReason.NOT_ACTIVE):
            return answer
        return with_second_opinion(answer, await self.vies.check(vat_number))

    async def aclose(self) -> None:
        for register in (self.kbo, self.vies):
            close = getattr(register, "aclose", None)
            if close is not None:
                await close()
