"""The committed JSON Schema of every event guards backward compatibility.

If a test here fails after you changed an event: a consumer built on the committed schema would
break. Add a new optional field instead, or publish a new event version on a new topic. If the
change is compatible (and only then), refresh the snapshots with
`uv run python -c "from portal_contracts.compatibility import write_snapshots; write_snapshots()"`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from portal_contracts.compatibility import SCHEMA_DIR, breaking_changes, current_schemas

CURRENT = current_schemas()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_event_schema_is_committed_and_compatible(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.json"
    assert path.exists(), f"{path} is missing: commit the schema of {name}"
    committed = json.loads(path.read_text())
    assert breaking_changes(committed, CURRENT[name]) == []


def test_every_committed_schema_still_has_its_event() -> None:
    committed = {p.stem for p in SCHEMA_DIR.glob("*.json")}
    assert committed <= set(CURRENT), f"events removed: {committed - set(CURRENT)}"


def _client_created() -> dict[str, Any]:
    return copy.deepcopy(CURRENT["ClientCreated"])


def test_removing_a_field_is_breaking() -> None:
    new = _client_created()
    del new["$defs"]["ClientUser"]["properties"]["mobile_phone"]
    assert any(
        "mobile_phone: removed" in p for p in breaking_changes(CURRENT["ClientCreated"], new)
    )


def test_making_a_field_required_is_breaking() -> None:
    new = _client_created()
    new["$defs"]["Company"]["required"].append("internal_reference")
    assert any(
        "internal_reference: became required" in p
        for p in breaking_changes(CURRENT["ClientCreated"], new)
    )


def test_narrowing_a_type_is_breaking() -> None:
    new = _client_created()
    new["$defs"]["Company"]["properties"]["internal_reference"] = {"type": "string"}  # was str|None
    assert any(
        "no longer accepts null" in p for p in breaking_changes(CURRENT["ClientCreated"], new)
    )


def test_removing_an_enum_value_is_breaking() -> None:
    new = _client_created()
    new["$defs"]["Language"]["enum"].remove("en")
    assert any(
        'no longer accepts const:"en"' in p for p in breaking_changes(CURRENT["ClientCreated"], new)
    )


def test_adding_an_optional_field_is_compatible() -> None:
    new = _client_created()
    new["$defs"]["Company"]["properties"]["trade_name"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert breaking_changes(CURRENT["ClientCreated"], new) == []


def test_tightening_a_bound_is_breaking() -> None:
    new = copy.deepcopy(CURRENT["ImportValidated"])
    new["$defs"]["ImportRow"]["properties"]["row_number"]["minimum"] = 2
    assert breaking_changes(CURRENT["ImportValidated"], new) != []
