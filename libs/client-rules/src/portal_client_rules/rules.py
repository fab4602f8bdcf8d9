"""Field-by-field rules of a client; every problem is collected, none stops the others."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from portal_client_rules.checker import ClientRulesError, OfficeRules, Violation, _as_text, _Checker
from portal_client_rules.people import normalise_client_email, normalise_person_name
from portal_contracts.clients import (
    AgentTarget,
    ApiTarget,
    ClientData,
    ClientUser,
    Company,
    CreditCardStatements,
    EmailTarget,
    FollowTransactions,
    Integration,
    ManualTarget,
    OneDriveTarget,
    SalesLedgerAccount,
    SendTiming,
    SftpTarget,
    TaskListSettings,
    Timing,
)
from portal_contracts.values import (
    AccountingSoftware,
    Language,
    SubscriptionMode,
    TransferMethod,
    VatFrequency,
    normalise_folder,
    normalise_iban,
    normalise_mobile_phone,
    normalise_vat_number,
)

MAX_FOLLOW_FROM_DAYS = 90
DEFAULT_GROUP = "everyone"

__all__ = ["ClientRulesError", "OfficeRules", "Violation", "check_client"]


def check_client(raw: Mapping[str, Any], office: OfficeRules) -> ClientData:
    """Normalise and check every field; raise ClientRulesError with ALL violations."""
    c = _Checker(raw)
    company = _company(c)
    user = _user(c)
    banks = _bank_accounts(c, company)
    group = c.text(raw, "group_id", "group_id", required=False) or DEFAULT_GROUP
    if office.group_ids is not None and group not in office.group_ids:
        c.add("group_id", "group.unknown")
    integration = _integration(c, office)
    ledgers = _sales_ledger_accounts(c)
    task_list = _task_list(c, office)
    if c.violations or company is None or user is None or integration is None or task_list is None:
        raise ClientRulesError(c.violations or [Violation("body", "field.invalid")])
    return ClientData(
        company=company,
        user=user,
        bank_accounts=banks,
        group_id=group,
        integration=integration,
        sales_ledger_accounts=ledgers,
        task_list=task_list,
    )


def _company(c: _Checker) -> Company | None:
    data = c.section("company")
    vat = c.normalised(data.get("vat_number"), "company.vat_number", normalise_vat_number)
    name = c.text(data, "name", "company.name", required=True)
    frequency = c.choice(
        data, "vat_frequency", "company.vat_frequency", VatFrequency, required=True
    )
    reference = c.text(
        data, "internal_reference", "company.internal_reference", required=False, max_len=50
    )
    mode = c.choice(
        data, "subscription_mode", "company.subscription_mode", SubscriptionMode, required=True
    )
    coda_plus = c.flag(data, "coda_plus", "company.coda_plus")
    if vat is None or name is None or frequency is None or mode is None:
        return None
    return Company(
        vat_number=vat,
        name=name,
        vat_frequency=frequency,
        internal_reference=reference,
        subscription_mode=mode,
        coda_plus=coda_plus,
    )


def _user(c: _Checker) -> ClientUser | None:
    data = c.section("user")
    first = c.text(data, "first_name", "user.first_name", required=True, max_len=100)
    last = c.text(data, "last_name", "user.last_name", required=True, max_len=100)
    if first is not None:
        first = c.normalised(first, "user.first_name", normalise_person_name)
    if last is not None:
        last = c.normalised(last, "user.last_name", normalise_person_name)
    email = c.normalised(data.get("email"), "user.email", normalise_client_email)
    phone = c.normalised(data.get("mobile_phone"), "user.mobile_phone", normalise_mobile_phone)
    language = c.choice(data, "language", "user.language", Language, required=True)
    if first is None or last is None or email is None or phone is None or language is None:
        return None
    return ClientUser(
        first_name=first, last_name=last, email=email, mobile_phone=phone, language=language
    )


def _bank_accounts(c: _Checker, company: Company | None) -> list[str]:
    raw = c.raw.get("bank_accounts") or []
    if isinstance(raw, str):
        raw = [raw]
    accounts: list[str] = []
    for index, value in enumerate(raw):
        if value is None or str(value).strip() == "":
            continue
        iban = c.normalised(value, f"bank_accounts.{index}", normalise_iban)
        if iban is None:
            continue
        if iban in accounts:
            c.add(f"bank_accounts.{index}", "iban.duplicate")
            continue
        accounts.append(iban)
    if (
        company is not None
        and company.subscription_mode is SubscriptionMode.ACCOUNTANT_MANAGED
        and not accounts
        and not any(v.field.startswith("bank_accounts.") for v in c.violations)
    ):
        c.add("bank_accounts", "bank_accounts.required_for_managed")
    return accounts


def _integration(c: _Checker, office: OfficeRules) -> Integration | None:
    data = c.section("integration")
    target_raw = data.get("target") or {}
    if not isinstance(target_raw, Mapping):
        c.add("integration.target", "field.invalid")
        return None
    kind = c.choice(target_raw, "kind", "integration.target.kind", TransferMethod, required=False)
    kind = kind or TransferMethod.MANUAL
    if kind is not TransferMethod.MANUAL and kind not in office.enabled_transfer_methods:
        c.add("integration.target.kind", "transfer_method.not_enabled", method=kind.value)
    target = _target(c, kind, target_raw)
    if isinstance(target, SftpTarget | AgentTarget):
        _connection_known(c, target.connection, kind, office)
    timing = _timing(c, data, kind)
    software = c.choice(
        data,
        "accounting_software",
        "integration.accounting_software",
        AccountingSoftware,
        required=kind is not TransferMethod.MANUAL,
    )
    statements = c.choice(
        data,
        "credit_card_statements",
        "integration.credit_card_statements",
        CreditCardStatements,
        required=False,
    )
    if target is None:
        return None
    return Integration(
        target=target,
        timing=timing,
        accounting_software=software,
        credit_card_statements=statements,
    )


def _target(c: _Checker, kind: TransferMethod, data: Mapping[str, Any]) -> Any:
    path = "integration.target"
    if kind is TransferMethod.MANUAL:
        return ManualTarget()
    if kind is TransferMethod.API:
        return ApiTarget()
    if kind is TransferMethod.EMAIL:
        addresses: dict[str, str | None] = {}
        for key in ("all", "purchase", "sales", "misc"):
            value = data.get(key)
            present = value is not None and str(value).strip() != ""
            addresses[key] = (
                c.normalised(value, f"{path}.{key}", normalise_client_email) if present else None
            )
        if not any(data.get(k) for k in ("all", "purchase", "sales", "misc")):
            c.add(f"{path}.all", "email_target.required")
        elif data.get("all") and any(data.get(k) for k in ("purchase", "sales", "misc")):
            c.add(f"{path}.all", "email_target.all_or_per_type")
        return EmailTarget(**addresses)
    folder = c.normalised(data.get("folder"), f"{path}.folder", normalise_folder)
    if kind is TransferMethod.ONEDRIVE:
        return OneDriveTarget(folder=folder) if folder else None
    connection = c.text(data, "connection", f"{path}.connection", required=True, max_len=100)
    if folder is None or connection is None:
        return None
    target_cls = SftpTarget if kind is TransferMethod.SFTP else AgentTarget
    return target_cls(connection=connection, folder=folder)


def _connection_known(c: _Checker, name: str, kind: TransferMethod, office: OfficeRules) -> None:
    """An sFTP or agent target names one of the office's connections of that kind. Names match
    as the accountant sees them: case and spacing aside."""
    if office.connections is None:
        return
    known = {" ".join(n.split()).casefold(): k for n, k in office.connections.items()}
    found = known.get(" ".join(name.split()).casefold())
    names = ", ".join(sorted(n for n, k in office.connections.items() if k is kind)) or "—"
    if found is None:
        c.add("integration.target.connection", "connection.unknown", name=name, known=names)
    elif found is not kind:
        c.add(
            "integration.target.connection",
            "connection.wrong_kind",
            name=name,
            kind=found.value,
            method=kind.value,
            known=names,
        )


def _timing(c: _Checker, data: Mapping[str, Any], kind: TransferMethod) -> Timing | None:
    raw = data.get("timing")
    if raw is None or raw == {} or (isinstance(raw, Mapping) and not raw.get("when")):
        return None  # follow the office's general settings
    if not isinstance(raw, Mapping):
        c.add("integration.timing", "field.invalid")
        return None
    if kind is TransferMethod.MANUAL:
        c.add("integration.timing.when", "timing.manual")
        return None
    when = c.choice(raw, "when", "integration.timing.when", SendTiming, required=True)
    days = raw.get("delay_days")
    if when is SendTiming.DELAYED:
        try:
            delay = int(_as_text(days))
        except (TypeError, ValueError):
            c.add("integration.timing.delay_days", "timing.delay_days")
            return None
        if not 1 <= delay <= 365:
            c.add("integration.timing.delay_days", "timing.delay_days")
            return None
        return Timing(when=when, delay_days=delay)
    if days not in (None, ""):
        c.add("integration.timing.delay_days", "timing.delay_without_delayed")
    return Timing(when=when) if when else None


def _sales_ledger_accounts(c: _Checker) -> list[SalesLedgerAccount]:
    raw = c.raw.get("sales_ledger_accounts") or []
    accounts: list[SalesLedgerAccount] = []
    codes: set[str] = set()
    for index, item in enumerate(raw):
        path = f"sales_ledger_accounts.{index}"
        if not isinstance(item, Mapping):
            c.add(path, "field.invalid")
            continue
        code = c.text(item, "code", f"{path}.code", required=True, max_len=20)
        label = c.text(item, "label", f"{path}.label", required=True, max_len=100)
        if code is None or label is None:
            continue
        if code in codes:
            c.add(f"{path}.code", "ledger.duplicate")
            continue
        codes.add(code)
        accounts.append(
            SalesLedgerAccount(
                code=code, label=label, default=c.flag(item, "default", f"{path}.default")
            )
        )
    if len(accounts) == 1:
        accounts[0] = accounts[0].model_copy(update={"default": True})
    elif len(accounts) >= 2 and sum(a.default for a in accounts) != 1:
        c.add("sales_ledger_accounts", "ledger.one_default")
    return accounts


def _task_list(c: _Checker, office: OfficeRules) -> TaskListSettings | None:
    data = c.section("task_list")
    follow_from: date | None = None
    raw_from = data.get("follow_from")
    if raw_from not in (None, ""):
        follow_from = _date(raw_from)
        if follow_from is None:
            c.add("task_list.follow_from", "date.format")
        elif follow_from > office.today:
            c.add("task_list.follow_from", "task_list.follow_from_future")
        elif follow_from < office.today - timedelta(days=MAX_FOLLOW_FROM_DAYS):
            c.add(
                "task_list.follow_from",
                "task_list.follow_from_too_old",
                days=str(MAX_FOLLOW_FROM_DAYS),
            )
    follow = (
        c.choice(
            data,
            "follow_transactions_without_documents",
            "task_list.follow_transactions_without_documents",
            FollowTransactions,
            required=False,
        )
        or FollowTransactions.NO
    )
    hide = c.flag(
        data, "hide_documents_without_transactions", "task_list.hide_documents_without_transactions"
    )
    return TaskListSettings(
        follow_from=follow_from,
        follow_transactions_without_documents=follow,
        hide_documents_without_transactions=hide,
    )


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
