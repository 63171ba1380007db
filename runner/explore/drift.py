"""``--diff-examples``: how a live response's shape differs from its saved ``example``.

Only structure and types are compared, never values: ids, timestamps and text
change on every call and are not drift.  An array's items are merged into one
shape (every key any item has, every type any item takes), so a list of three
and a list of thirty compare equal.  A stream compares the merged shape of its
JSON events.  The status code and the kind of body (JSON, text, stream) are
compared too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..model import ExampleSpec


@dataclass
class Change:
    """One difference: ``added``, ``removed`` or ``type``, at a JSONPath-like place."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        marks = {"added": "+", "removed": "-", "type": "~", "status": "~", "body": "~"}
        return f"{marks.get(self.kind, '~')} {self.path}  {self.detail}"


def type_name(value: Any) -> str:
    """The JSON type of a value: object, array, string, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape(value: Any) -> dict[str, Any]:
    """The shape of a JSON value: ``{"types": {...}, "keys": {name: shape}, "items": shape}``."""
    node: dict[str, Any] = {"types": {type_name(value)}}
    if isinstance(value, dict):
        node["keys"] = {str(key): shape(item) for key, item in value.items()}
    elif isinstance(value, list):
        node["items"] = merge([shape(item) for item in value])
    return node


def merge(shapes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One shape that every shape of ``shapes`` fits (``None`` for none: an empty array says nothing)."""
    if not shapes:
        return None
    merged: dict[str, Any] = {"types": set()}
    for node in shapes:
        merged["types"] |= node["types"]
        if "keys" in node:
            keys = merged.setdefault("keys", {})
            for name, child in node["keys"].items():
                keys[name] = merge([keys[name], child]) if name in keys else child
        if node.get("items") is not None:
            merged["items"] = merge([merged["items"], node["items"]]) if merged.get("items") is not None else node["items"]
    return merged


def compare(old: dict[str, Any] | None, new: dict[str, Any] | None, path: str = "$") -> list[Change]:
    """Every change from the ``old`` shape (the example) to the ``new`` one (the live response)."""
    if old is None or new is None:  # an empty array on either side: nothing to compare
        return []
    changes: list[Change] = []
    old_types, new_types = old["types"] - {"null"}, new["types"] - {"null"}
    if old["types"] != new["types"] and old_types != new_types:
        changes.append(Change("type", path, f"{_types(old['types'])} -> {_types(new['types'])}"))
    elif old["types"] != new["types"]:
        changes.append(Change("type", path, f"{_types(old['types'])} -> {_types(new['types'])} (nullable)"))
    old_keys, new_keys = old.get("keys"), new.get("keys")
    if old_keys is not None and new_keys is not None:
        for name in new_keys:
            if name not in old_keys:
                changes.append(Change("added", _child(path, name), f"new field ({_types(new_keys[name]['types'])})"))
        for name in old_keys:
            if name not in new_keys:
                changes.append(Change("removed", _child(path, name), "field gone"))
            else:
                changes.extend(compare(old_keys[name], new_keys[name], _child(path, name)))
    changes.extend(compare(old.get("items"), new.get("items"), f"{path}[*]"))
    return changes


def _types(types: set[str]) -> str:
    return " | ".join(sorted(types))


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"


def response_drift(example: ExampleSpec, response: Any) -> list[Change]:
    """How ``response`` differs from the saved ``example``: status, body kind, JSON shape."""
    changes: list[Change] = []
    if example.status != response.status:
        changes.append(Change("status", "status", f"{example.status} -> {response.status}"))
    old_kind, old_value = _example_body(example)
    new_kind, new_value = _response_body(response)
    if old_kind != new_kind:
        changes.append(Change("body", "body", f"{old_kind} -> {new_kind}"))
        return changes
    if old_kind == "json":
        changes.extend(compare(shape(old_value), shape(new_value)))
    elif old_kind == "events":
        changes.extend(compare(merge([shape(item) for item in old_value]), merge([shape(item) for item in new_value]), "events[*]"))
    return changes


def _example_body(example: ExampleSpec) -> tuple[str, Any]:
    if example.events is not None:
        return "events", [item for item in (_parsed(event) for event in example.events) if item is not None]
    if example.has_json:
        return "json", example.json
    if example.body:
        return "text", None
    return "empty", None


def _response_body(response: Any) -> tuple[str, Any]:
    from ..query import MISSING

    if response.events is not None:
        return "events", [data for data in (event.json for event in response.events) if data is not MISSING and isinstance(data, (dict, list))]
    if not response.body:
        return "empty", None
    try:
        data = json.loads(response.text)
    except ValueError:
        return "text", None
    content_type = response.headers.get("content-type", "").lower()
    return ("json", data) if "json" in content_type or isinstance(data, (dict, list)) else ("text", None)


def _parsed(event: Any) -> Any:
    if isinstance(event, (dict, list)):
        return event
    if isinstance(event, str):
        try:
            data = json.loads(event)
        except ValueError:
            return None
        return data if isinstance(data, (dict, list)) else None
    return None
