"""The shared client rules (portal_client_rules), applied with this office's settings and groups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from portal_client_rules import ClientRulesError, OfficeRules, check_client
from portal_clients.domain.errors import FieldIssue, Invalid
from portal_clients.domain.office import Group, OfficeSettings
from portal_contracts.clients import ClientData
from portal_contracts.values import TransferMethod


def office_rules(
    settings: OfficeSettings,
    groups: list[Group],
    today: date,
    connections: Mapping[str, TransferMethod] | None,
) -> OfficeRules:
    return OfficeRules(
        enabled_transfer_methods=frozenset(settings.enabled_transfer_methods),
        group_ids=frozenset(g.group_id for g in groups),
        today=today,
        connections=connections,
    )


def apply_rules(
    raw: Mapping[str, Any], office: OfficeRules, *, kept_follow_from: date | None = None
) -> ClientData:
    """Normalised ClientData, or Invalid listing every broken rule.

    ``kept_follow_from``: the date already stored. Sent back unchanged, it is not judged again
    against "at most 90 days in the past", which it may have become since it was chosen.
    """
    raw = dict(raw)
    task_list = raw.get("task_list")
    keep = (
        kept_follow_from is not None
        and isinstance(task_list, Mapping)
        and str(task_list.get("follow_from") or "") == kept_follow_from.isoformat()
    )
    if keep and isinstance(task_list, Mapping):
        raw["task_list"] = {k: v for k, v in task_list.items() if k != "follow_from"}
    try:
        data = check_client(raw, office)
    except ClientRulesError as exc:
        raise Invalid(
            [FieldIssue(v.field, v.code, dict(v.params)) for v in exc.violations]
        ) from exc
    if keep:
        task = data.task_list.model_copy(update={"follow_from": kept_follow_from})
        data = data.model_copy(update={"task_list": task})
    return data
