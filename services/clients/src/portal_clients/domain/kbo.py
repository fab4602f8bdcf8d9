"""The Belgian register of enterprises (KBO/BCE, Crossroads Bank for Enterprises) as its Open
Data extract describes a company, and what that means for a VAT number check.

Why the KBO and not only VIES: VIES knows VAT-registered companies only, so a Belgian company not
liable to VAT (a non-profit, a holding, a doctor's practice) is "unknown" there although it
exists. The product's help article checks Belgian numbers "in the KBO".

The extract (the public monthly "KboOpenData_<number>_<yyyy>_<mm>_Full|Update.zip"): its
``enterprise.csv`` has the header
``"EnterpriseNumber","Status","JuridicalSituation","TypeOfEnterprise","JuridicalForm",
"JuridicalFormCAC","StartDate"``, every value quoted, numbers as ``0403.170.701``, dates as
``dd-mm-yyyy``; ``meta.csv`` has ``Variable,Value`` rows (``SnapshotDate``,
``ExtractTimestamp``, ``ExtractType`` full/update, ``ExtractNumber``). An update extract has
``enterprise_delete.csv`` (one column of numbers) and ``enterprise_insert.csv`` (the columns of
enterprise.csv), applied delete first. These names were checked against public loaders of the
extract (several open-source KBO importers read exactly these columns); the FPS Economy's own
technical manual was not at hand here.

Nothing here does I/O: the adapters read the files and the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal_clients.domain.vat import RefusalReason, RegisterAnswer, RegisterVerdict

ENTERPRISE_COLUMNS = (
    "EnterpriseNumber",
    "Status",
    "JuridicalSituation",
    "TypeOfEnterprise",
    "JuridicalForm",
    "JuridicalFormCAC",
    "StartDate",
)
ACTIVE = "AC"
NORMAL_SITUATION = "000"

# Juridical situations that mean the enterprise has stopped (or is being wound up), so a new
# client with this number is refused. Deliberately small and explicit: 012 (opening of
# bankruptcy) is the one code we are sure of; 014/015 (dissolution, liquidation) and 100/101
# (closings) follow the description of the code list and were NOT checked against the
# extract's own code.csv (category JuridicalSituation): the loader prints what that file calls
# each of them, so whoever loads a real extract sees whether they still mean "stopped".
# A situation not listed here (a prorogation, a merger being registered, a code added later)
# does not refuse: the enterprise is still active (Status AC), and a wrong refusal would block
# the accountant where a wrong acceptance only shows a valid check.
STOPPED_SITUATIONS: Mapping[str, str] = {
    "012": "bankruptcy",
    "014": "dissolution or liquidation",
    "015": "dissolution or liquidation",
    "100": "closed",
    "101": "closed",
}

_NUMBER = re.compile(r"^\d{4}\.?\d{3}\.?\d{3}$")
_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


class KboFormatError(ValueError):
    """A file of the extract is not in the layout this reader knows."""


class ExtractType(StrEnum):
    FULL = "full"
    UPDATE = "update"


class EnterpriseType(StrEnum):
    NATURAL_PERSON = "1"
    LEGAL_PERSON = "2"


@dataclass(frozen=True)
class Enterprise:
    """One line of enterprise.csv, read."""

    number: str  # ten digits, no dots: "0403170701"
    status: str
    juridical_situation: str
    type_of_enterprise: str
    juridical_form: str | None
    start_date: date | None


@dataclass(frozen=True)
class ExtractMeta:
    """meta.csv of one extract."""

    number: int
    type: ExtractType
    snapshot_date: date
    extract_timestamp: str


class ExtractOutOfOrder(Exception):
    """An extract that would not leave the store as the register says it is."""


def enterprise_number(text: str) -> str:
    """``"0403.170.701"`` (or without dots) to ``"0403170701"``."""
    value = text.strip()
    if not _NUMBER.match(value):
        raise KboFormatError(f"not an enterprise number: {text!r}")
    return value.replace(".", "")


def kbo_date(text: str) -> date | None:
    """``dd-mm-yyyy``; empty is None."""
    value = text.strip()
    if not value:
        return None
    match = _DATE.match(value)
    if not match:
        raise KboFormatError(f"not a dd-mm-yyyy date: {text!r}")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise KboFormatError(f"not a date: {text!r}") from exc


def check_enterprise_header(header: Iterable[str]) -> None:
    missing = [c for c in ENTERPRISE_COLUMNS if c not in set(header)]
    if missing:
        raise KboFormatError(f"enterprise file without column(s) {', '.join(missing)}")


def enterprise_from_row(row: Mapping[str, str]) -> Enterprise:
    return Enterprise(
        number=enterprise_number(row["EnterpriseNumber"]),
        status=row["Status"].strip(),
        juridical_situation=row["JuridicalSituation"].strip(),
        type_of_enterprise=row["TypeOfEnterprise"].strip(),
        juridical_form=row["JuridicalForm"].strip() or None,
        start_date=kbo_date(row["StartDate"]),
    )


def deleted_number(row: Mapping[str, str]) -> str:
    """enterprise_delete.csv names its one column EnterpriseNumber (EntityNumber in the other
    *_delete files); either is read."""
    for column in ("EnterpriseNumber", "EntityNumber"):
        if column in row:
            return enterprise_number(row[column])
    raise KboFormatError("delete file without an EnterpriseNumber or EntityNumber column")


def meta_from_rows(rows: Iterable[Mapping[str, str]]) -> ExtractMeta:
    values = {r.get("Variable", "").strip(): r.get("Value", "").strip() for r in rows}
    try:
        number = int(values["ExtractNumber"])
        kind = ExtractType(values["ExtractType"].casefold())
        snapshot = kbo_date(values["SnapshotDate"])
    except (KeyError, ValueError) as exc:
        raise KboFormatError(f"meta.csv lacks or misstates {exc}") from exc
    if snapshot is None:
        raise KboFormatError("meta.csv has an empty SnapshotDate")
    return ExtractMeta(number, kind, snapshot, values.get("ExtractTimestamp", ""))


def may_apply(
    incoming: ExtractMeta, last_applied: ExtractMeta | None, unfinished: ExtractMeta | None = None
) -> None:
    """An update applies on top of the one before it only (each holds the changes since the
    previous extract): skipping one would lose its changes, applying one twice or late would
    bring back what a later one changed. A full extract replaces everything, but not with an
    older picture than the one loaded. An interrupted load is finished before anything else
    (loading it again is safe: every step is idempotent), unless a full extract at least as
    new replaces it."""
    replaces = (
        unfinished is not None
        and incoming.type is ExtractType.FULL
        and incoming.number >= unfinished.number
    )
    if unfinished is not None and unfinished.number != incoming.number and not replaces:
        raise ExtractOutOfOrder(
            f"the load of extract {unfinished.number} was interrupted; load that extract "
            f"again before extract {incoming.number}; nothing loaded"
        )
    if incoming.type is ExtractType.FULL:
        if last_applied is not None and incoming.number < last_applied.number:
            raise ExtractOutOfOrder(
                f"full extract {incoming.number} is older than the applied extract "
                f"{last_applied.number}; nothing loaded"
            )
        return
    if last_applied is None:
        raise ExtractOutOfOrder(
            f"update extract {incoming.number} needs a full extract first; nothing loaded"
        )
    expected = last_applied.number + 1
    if incoming.number != expected:
        raise ExtractOutOfOrder(
            f"update extract {incoming.number} is not the next one: extract "
            f"{last_applied.number} is applied, so {expected} is expected; nothing loaded"
        )


# --- what the register answers ----------------------------------------------------------------


def answer_for(enterprise: Enterprise | None, *, extract_loaded: bool) -> RegisterAnswer:
    """The KBO's verdict on one Belgian number. Not found counts as "no" only once an extract
    is loaded; before that nobody knows, and the check stays pending."""
    if enterprise is None:
        if not extract_loaded:
            return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="no KBO extract loaded")
        return RegisterAnswer(
            RegisterVerdict.INVALID, reason=RefusalReason.NOT_FOUND, detail="not in the KBO"
        )
    if enterprise.status != ACTIVE:
        return RegisterAnswer(
            RegisterVerdict.INVALID,
            reason=RefusalReason.NOT_ACTIVE,
            detail=f"not active in the KBO (status {enterprise.status})",
        )
    situation = enterprise.juridical_situation
    if situation in STOPPED_SITUATIONS:
        return RegisterAnswer(
            RegisterVerdict.INVALID,
            reason=RefusalReason.STOPPED,
            detail=f"stopped (juridical situation {situation}: {STOPPED_SITUATIONS[situation]})",
        )
    # The enterprise file carries no name (denomination.csv does; not read).
    detail = "" if situation == NORMAL_SITUATION else f"juridical situation {situation}"
    return RegisterAnswer(RegisterVerdict.VALID, detail=detail)
