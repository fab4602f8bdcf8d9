"""The "+ Add client" form: HTML fields named by the clients API's field paths, so a field
problem the API answers (``company.vat_number``) lands beside its field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCALARS = (
    "company.vat_number",
    "company.name",
    "company.vat_frequency",
    "company.internal_reference",
    "company.subscription_mode",
    "user.first_name",
    "user.last_name",
    "user.email",
    "user.mobile_phone",
    "user.language",
    "group_id",
    "integration.target.kind",
    "integration.target.all",
    "integration.target.purchase",
    "integration.target.sales",
    "integration.target.misc",
    "integration.target.connection",
    "integration.target.folder",
    "integration.accounting_software",
    "integration.credit_card_statements",
    "task_list.follow_transactions_without_documents",
)
CHECKBOXES = (
    "company.coda_plus",
    "task_list.hide_documents_without_transactions",
    "skip_vat_check",
)
TARGET_FIELDS = {
    "manual": (),
    "email": ("all", "purchase", "sales", "misc"),
    "sftp": ("connection", "folder"),
    "agent": ("connection", "folder"),
    "onedrive": ("folder",),
    "api": (),
}


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def client_body(form: Mapping[str, str], lists: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The JSON body of ``POST/PUT /v1/clients`` from the submitted form."""
    body: dict[str, Any] = {}
    kind = form.get("integration.target.kind", "") or "manual"
    for path in SCALARS:
        value = form.get(path, "").strip()
        if path.startswith("integration.target.") and path != "integration.target.kind":
            if path.rsplit(".", 1)[1] not in TARGET_FIELDS.get(kind, ()):
                continue
        if value:
            _put(body, path, value)
    for path in CHECKBOXES:
        if path != "skip_vat_check":
            _put(body, path, form.get(path) == "on")
    body["skip_vat_check"] = form.get("skip_vat_check") == "on"
    body["bank_accounts"] = [b.strip() for b in lists.get("bank_accounts", ()) if b.strip()]
    when = form.get("integration.timing.when", "")
    if when:
        timing: dict[str, Any] = {"when": when}
        if when == "delayed":
            timing["delay_days"] = form.get("integration.timing.delay_days", "").strip() or None
        _put(body, "integration.timing", timing)
    if form.get("task_list.follow_mode") == "specific":
        _put(body, "task_list.follow_from", form.get("task_list.follow_from", "").strip() or None)
    codes = lists.get("ledger.code", ())
    labels = lists.get("ledger.label", ())
    default = form.get("ledger.default", "")
    accounts = []
    for index, code in enumerate(codes):
        label = labels[index] if index < len(labels) else ""
        if code.strip() or label.strip():
            accounts.append(
                {"code": code.strip(), "label": label.strip(), "default": default == str(index)}
            )
    body["sales_ledger_accounts"] = accounts
    return body


def flatten(client: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values of a client the API answered (for the edit page)."""
    values: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        else:
            values[prefix] = node

    walk(
        "", {k: v for k, v in client.items() if k not in ("bank_accounts", "sales_ledger_accounts")}
    )
    values["bank_accounts"] = list(client.get("bank_accounts") or [])
    values["ledger"] = list(client.get("sales_ledger_accounts") or [])
    timing = (client.get("integration") or {}).get("timing")
    values["integration.timing.when"] = (timing or {}).get("when", "")
    values["integration.timing.delay_days"] = (timing or {}).get("delay_days", "")
    follow_from = (client.get("task_list") or {}).get("follow_from")
    values["task_list.follow_mode"] = "specific" if follow_from else "registration"
    return values


def submitted(form: Mapping[str, str], lists: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """What the person typed, to show again beside the errors."""
    values: dict[str, Any] = dict(form)
    values["bank_accounts"] = list(lists.get("bank_accounts", ()))
    codes, labels = lists.get("ledger.code", ()), lists.get("ledger.label", ())
    default = form.get("ledger.default", "")
    values["ledger"] = [
        {"code": c, "label": labels[i] if i < len(labels) else "", "default": default == str(i)}
        for i, c in enumerate(codes)
    ]
    for path in CHECKBOXES:
        values[path] = form.get(path) == "on"
    return values


# What each kind of connection's form sends: its settings, then its secrets (delivery's
# domain/connections.py says which are required and checks them; empty fields are left out,
# so an edit never blanks a stored secret).
CONNECTION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sftp": (("host", "port", "username", "host_key", "base_folder"), ("password", "private_key")),
    "onedrive": (("tenant_id", "client_id", "drive_id", "base_folder"), ("client_secret", "certificate")),
    "clearfacts": ((), ("token",)),
    "agent": (("base_folder",), ()),
}  # fmt: skip


def connection_body(form: dict[str, str]) -> dict[str, Any]:
    """The delivery API's body from one kind's form (an unknown kind goes as sent: refused there)."""
    kind = form.get("kind", "")
    settings_keys, secret_keys = CONNECTION_FIELDS.get(kind, ((), ()))
    settings: dict[str, Any] = {
        k: form[k].strip() for k in settings_keys if form.get(k, "").strip()
    }
    if str(settings.get("port", "")).isdigit():
        settings["port"] = int(settings["port"])
    secrets = {k: form[k] for k in secret_keys if form.get(k, "").strip()}
    return {
        "name": form.get("name", "").strip(),
        "kind": kind,
        "settings": settings,
        "secrets": secrets,
    }
