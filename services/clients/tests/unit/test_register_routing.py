"""Which register answers which number, and when the KBO's answer is final (fakes for both)."""

from __future__ import annotations

from portal_clients.adapters.kbo_register import KboThenVies
from portal_clients.domain.vat import RefusalReason, RegisterAnswer, RegisterVerdict

VALID = RegisterAnswer(RegisterVerdict.VALID)
NO = RegisterAnswer(RegisterVerdict.INVALID, reason=RefusalReason.VIES_INVALID)
STOPPED = RegisterAnswer(RegisterVerdict.INVALID, reason=RefusalReason.STOPPED, detail="stopped")
NOT_FOUND = RegisterAnswer(RegisterVerdict.INVALID, reason=RefusalReason.NOT_FOUND)
UNKNOWN = RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="no KBO extract loaded")


class Answering:
    def __init__(self, answer: RegisterAnswer) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def check(self, vat_number: str) -> RegisterAnswer:
        self.asked.append(vat_number)
        return self.answer


async def test_other_countries_go_to_vies_only() -> None:
    kbo, vies = Answering(VALID), Answering(NO)
    assert await KboThenVies(kbo, vies).check("NL123456789B01") == NO
    assert kbo.asked == []
    pending = await KboThenVies(kbo, None).check("NL123456789B01")
    assert pending.verdict is RegisterVerdict.UNAVAILABLE


async def test_the_kbo_s_yes_and_its_stopped_are_final() -> None:
    for answer in (VALID, STOPPED):
        vies = Answering(VALID)
        assert await KboThenVies(Answering(answer), vies).check("BE0403170701") == answer
        assert vies.asked == []


async def test_vies_is_the_second_opinion_when_the_kbo_does_not_know() -> None:
    assert await KboThenVies(Answering(NOT_FOUND), Answering(VALID)).check("BE0403170701") == VALID
    assert await KboThenVies(Answering(NOT_FOUND), Answering(NO)).check("BE0403170701") == NOT_FOUND
    never = await KboThenVies(Answering(UNKNOWN), Answering(NO)).check("BE0403170701")
    assert never.verdict is RegisterVerdict.UNAVAILABLE  # no extract: never invalid
    alone = await KboThenVies(Answering(NOT_FOUND), None).check("BE0403170701")
    assert alone == NOT_FOUND


async def test_the_setting_names_the_register() -> None:
    from pymongo import AsyncMongoClient

    from portal_clients.adapters.kbo_register import KboRegister
    from portal_clients.adapters.mongo_kbo import MongoKbo
    from portal_clients.adapters.vies import SkippedRegister, ViesRegister
    from portal_clients.bootstrap import register_of
    from portal_clients.config import Settings
    from portal_servicekit.settings import PlatformSettings

    platform = PlatformSettings.model_validate(
        {"KAFKA_BOOTSTRAP_SERVERS": "x", "MONGODB_URI": "mongodb://x", "PORTAL_JWT_KEY": "k" * 32}
    )
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(connect=False)
    kbo = MongoKbo(client["clients"])
    chosen = [
        register_of(Settings(platform=platform, **fields), kbo)  # type: ignore[arg-type]
        for fields in (
            {},
            {"vat_register": "vies"},
            {"vat_register": "kbo"},
            {"vat_register": "off"},
            {"vies_enabled": False},
        )
    ]
    try:
        default, vies, kbo_only, off, disabled = chosen
        assert isinstance(default, KboThenVies)
        assert isinstance(default.kbo, KboRegister)
        assert isinstance(default.vies, ViesRegister)
        assert isinstance(vies, ViesRegister)
        assert isinstance(kbo_only, KboThenVies)
        assert kbo_only.vies is None
        assert isinstance(off, SkippedRegister)
        assert isinstance(disabled, SkippedRegister)
    finally:
        for register in chosen:
            if isinstance(register, ViesRegister | KboThenVies):
                await register.aclose()
        await client.close()
