"""Checking import rows: each row against the shared client rules, then the rows against each other
(duplicates inside the file) and against the platform (e-mails and VAT numbers that cannot be
used for a new client).

:func:`check_row` is pure and picklable-friendly so the service may run it in worker processes;
the cross-row checks need every row's keys and run once the rows are all checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from portal_client_rules import ClientRulesError, OfficeRules, check_client
from portal_contracts.clients import ClientData
from portal_contracts.values import InvalidValue, normalise_email, normalise_vat_number
from portal_importer.domain.columns import column_for_path
from portal_importer.domain.rows import Cells, GroupNames, catalogue_key, to_raw


@dataclass(frozen=True)
class RowProblem:
    key: str | None  # catalogue column key (None: the whole row)
    code: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowContext:
    """What rows are checked against: the office's rules and its group names."""

    office: OfficeRules
    groups: GroupNames = field(default_factory=GroupNames)


@dataclass(frozen=True)
class CheckedRow:
    """One row after the per-row checks; ``email``/``vat`` are normalised when readable."""

    row: int
    cells: Cells  # left empty where only the outcome is kept (offline validation)
    problems: tuple[RowProblem, ...]
    invite: bool
    email: str | None = None
    vat: str | None = None
    reference: str | None = None
    unreadable: tuple[str, ...] = ()  # keys of formula cells without a cached value
    # The normalised client of a valid row (ClientData as JSON-ready data), kept when the row is
    # stored so that confirming needs no second pass through the rules.
    client: Mapping[str, Any] | None = None
    skip_vat_check: bool = False  # "don't check the VAT number": the register is not asked

    def outcome(self) -> CheckedRow:
        """The same row without its cells: what the cross-row checks and the report need."""
        return CheckedRow(
            self.row,
            {},
            self.problems,
            self.invite,
            self.email,
            self.vat,
            self.reference,
            self.unreadable,
            skip_vat_check=self.skip_vat_check,
        )

    @property
    def valid(self) -> bool:
        return not self.problems


def check_row(
    row: int,
    cells: Cells,
    context: RowContext,
    blocked_keys: frozenset[str] = frozenset(),
    *,
    keep_client: bool = False,
    not_text_keys: frozenset[str] = frozenset(),
) -> CheckedRow:
    """Every rule of the clients service that needs no write, on one row.

    ``blocked_keys`` are columns whose cell could not be read (a formula without a cached value):
    they get that problem, and the rules' complaints about the same cells are left out.
    ``keep_client``: a valid row keeps its normalised client (~5 µs a row).
    """
    mapped = to_raw(cells, context.groups)
    problems = [RowProblem(key, "cell.formula_without_value") for key in sorted(blocked_keys)]
    problems += [RowProblem(key, "text.not_text") for key in sorted(not_text_keys - blocked_keys)]
    quiet = blocked_keys | not_text_keys  # the rules' complaints about those cells are left out
    if mapped.invite is None:
        problems.append(RowProblem("invite", "field.boolean"))
    if mapped.skip_vat_check is None:
        problems.append(RowProblem("skip_vat_check", "field.boolean"))
    data: ClientData | None = None
    try:
        data = check_client(mapped.raw, context.office)
    except ClientRulesError as error:
        for violation in error.violations:
            column = column_for_path(catalogue_key(violation.field, mapped.ledger_positions))
            key = column.key if column else None
            if key not in quiet:
                problems.append(RowProblem(key, violation.code, dict(violation.params)))
    if data is not None:
        email: str | None = data.user.email
        vat: str | None = data.company.vat_number
        reference = data.company.internal_reference
    else:
        email = _quietly(normalise_email, cells.get("user.email"))
        vat = _quietly(normalise_vat_number, cells.get("company.vat_number"))
        reference = cells.get("company.internal_reference") or None
    return CheckedRow(
        row,
        cells,
        tuple(problems),
        bool(mapped.invite),
        email,
        vat,
        reference,
        tuple(sorted(blocked_keys)),
        data.model_dump(mode="json") if keep_client and data is not None and not problems else None,
        skip_vat_check=bool(mapped.skip_vat_check),
    )


def client_data(checked: CheckedRow, context: RowContext) -> ClientData:
    """The normalised client of a valid row (what ImportValidated carries)."""
    return check_client(to_raw(checked.cells, context.groups).raw, context.office)


def _quietly(normaliser: object, text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normaliser(text)  # type: ignore[operator, no-any-return]
    except InvalidValue:
        return None


def duplicates_in_file(rows: Iterable[CheckedRow]) -> dict[int, list[RowProblem]]:
    """Rows sharing an e-mail, or a VAT number with the same internal reference: every
    occurrence is flagged, naming the other rows, since nobody can tell which one is right."""
    by_email: dict[str, list[int]] = defaultdict(list)
    by_company: dict[tuple[str, str], list[int]] = defaultdict(list)
    for checked in rows:
        if checked.email:
            by_email[checked.email].append(checked.row)
        if checked.vat:
            by_company[(checked.vat, (checked.reference or "").casefold())].append(checked.row)
    found: dict[int, list[RowProblem]] = defaultdict(list)
    for group, key, code in (
        (by_email, "user.email", "email.duplicate_in_file"),
        (by_company, "company.vat_number", "vat.duplicate_in_file"),
    ):
        for rows_with_value in group.values():
            if len(rows_with_value) > 1:
                for row in rows_with_value:
                    others = ", ".join(str(r) for r in rows_with_value if r != row)
                    found[row].append(RowProblem(key, code, {"rows": others}))
    return found


class Holder(StrEnum):
    """Who holds a value the platform refuses for a new client."""

    OFFICE = "office"  # a client of the caller's own office
    ELSEWHERE = "elsewhere"  # not said: the platform does not tell who (another office, perhaps)


@dataclass(frozen=True)
class Availability:
    """The platform's answer: the e-mails and VAT numbers a new client cannot use (normalised
    values; every value not listed is available)."""

    emails: Mapping[str, Holder] = field(default_factory=dict)
    vat_numbers: Mapping[str, Holder] = field(default_factory=dict)


_UNUSABLE = {
    ("user.email", Holder.OFFICE): "email.taken_in_office",
    ("user.email", Holder.ELSEWHERE): "email.unavailable",
    ("company.vat_number", Holder.OFFICE): "vat.taken_in_office",
    ("company.vat_number", Holder.ELSEWHERE): "vat.unavailable",
}


def unusable_on_platform(
    rows: Iterable[CheckedRow], availability: Availability
) -> dict[int, list[RowProblem]]:
    found: dict[int, list[RowProblem]] = defaultdict(list)
    for checked in rows:
        for key, value, held in (
            ("user.email", checked.email, availability.emails),
            ("company.vat_number", checked.vat, availability.vat_numbers),
        ):
            holder = held.get(value) if value else None
            if holder is not None:
                found[checked.row].append(RowProblem(key, _UNUSABLE[key, holder]))
    return found


def uniqueness_keys(rows: Sequence[CheckedRow]) -> tuple[list[str], list[str]]:
    """The e-mails and VAT numbers to ask the platform about, each once."""
    emails = sorted({r.email for r in rows if r.email})
    vats = sorted({r.vat for r in rows if r.vat})
    return emails, vats
