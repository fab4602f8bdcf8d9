"""Backward compatibility of event schemas: what a consumer built on the old schema still reads.

A change is breaking when it removes a field, narrows a type (fewer accepted JSON types, fewer enum
values, a constraint tightened, a const changed) or makes a field required that was not. Adding an
optional field or widening a type is fine. ``breaking_changes(old, new)`` lists every break found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portal_contracts.topics import EVENTS

Schema = dict[str, Any]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_schemas() -> dict[str, Schema]:
    return {event.EVENT_TYPE: event.model_json_schema(mode="serialization") for event in EVENTS}


def write_snapshots(directory: Path = SCHEMA_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in current_schemas().items():
        (directory / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        ref = schema["$ref"].removeprefix("#/$defs/")
        schema = {**root["$defs"][ref], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _variants(schema: Schema, root: Schema) -> list[Schema]:
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out: list[Schema] = []
            for sub in schema[key]:
                out.extend(_variants(sub, root))
            return out
    return [schema]


def _json_types(schema: Schema) -> set[str]:
    if "const" in schema:
        return {f"const:{json.dumps(schema['const'])}"}
    if "enum" in schema:
        return {f"const:{json.dumps(v)}" for v in schema["enum"]}
    kind = schema.get("type")
    if kind is None:
        return {"any"}
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "integer" in kinds:
        kinds.add("number:int")
    return kinds


_BOUNDS_TIGHTER = {
    "minimum": 1,
    "exclusiveMinimum": 1,
    "minLength": 1,
    "minItems": 1,
    "maximum": -1,
    "exclusiveMaximum": -1,
    "maxLength": -1,
    "maxItems": -1,
}


def breaking_changes(
    old: Schema,
    new: Schema,
    *,
    path: str = "$",
    old_root: Schema | None = None,
    new_root: Schema | None = None,
) -> list[str]:
    old_root = old_root or old
    new_root = new_root or new
    problems: list[str] = []
    old_variants = _variants(old, old_root)
    new_variants = _variants(new, new_root)
    new_types: set[str] = set()
    for variant in new_variants:
        new_types |= _json_types(variant)
    if "any" not in new_types:
        for variant in old_variants:
            for kind in _json_types(variant):
                accepted = kind in new_types or (
                    kind.startswith("const:") and _const_fits(kind, new_types)
                )
                if not accepted:
                    problems.append(f"{path}: no longer accepts {kind}")
    # Objects: compare properties and required fields of the object variants.
    old_obj = next(
        (v for v in old_variants if v.get("type") == "object" or "properties" in v), None
    )
    new_obj = next(
        (v for v in new_variants if v.get("type") == "object" or "properties" in v), None
    )
    if old_obj is not None and new_obj is not None:
        old_props, new_props = old_obj.get("properties", {}), new_obj.get("properties", {})
        for name, sub in old_props.items():
            if name not in new_props:
                problems.append(f"{path}.{name}: removed")
                continue
            problems += breaking_changes(
                sub, new_props[name], path=f"{path}.{name}", old_root=old_root, new_root=new_root
            )
        added_required = set(new_obj.get("required", [])) - set(old_obj.get("required", []))
        for name in sorted(added_required):
            problems.append(f"{path}.{name}: became required")
    old_arr = next((v for v in old_variants if v.get("type") == "array"), None)
    new_arr = next((v for v in new_variants if v.get("type") == "array"), None)
    if old_arr is not None and new_arr is not None and "items" in old_arr and "items" in new_arr:
        problems += breaking_changes(
            old_arr["items"],
            new_arr["items"],
            path=f"{path}[]",
            old_root=old_root,
            new_root=new_root,
        )
    for old_v in old_variants:
        for new_v in new_variants:
            if old_v.get("type") != new_v.get("type"):
                continue
            for bound, direction in _BOUNDS_TIGHTER.items():
                if bound in new_v and (
                    bound not in old_v or (new_v[bound] - old_v[bound]) * direction > 0
                ):
                    problems.append(f"{path}: {bound} tightened to {new_v[bound]}")
            if new_v.get("pattern") and new_v.get("pattern") != old_v.get("pattern"):
                problems.append(f"{path}: pattern changed to {new_v['pattern']}")
    return sorted(set(problems))


def _const_fits(kind: str, new_types: set[str]) -> bool:
    value = json.loads(kind.removeprefix("const:"))
    json_kind = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(type(value))
    return (
        json_kind in new_types
        or (json_kind == "integer" and "number" in new_types)
        or (value is None and "null" in new_types)
    )
