"""A minimal instance of a JSON Schema (OpenAPI flavour): request bodies and examples the spec does not give.

Minimal means: required properties only, the shortest arrays allowed, the first enum
value, the first branch of ``oneOf``/``anyOf`` that is not ``null``.  ``$ref`` is followed
through the document it came from; recursion and depth are bounded.
"""

from __future__ import annotations

import re
from typing import Any, Callable

_MAX_DEPTH = 12
_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com",
    "url": "https://example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "byte": "",
    "binary": "",
}


def sample(schema: Any, resolve: Callable[[str], Any], depth: int = 0, seen: frozenset[str] = frozenset(), examples: bool = True) -> Any:
    """A small value valid against ``schema`` (best effort); ``resolve`` turns a ``$ref`` into its schema.

    ``examples=False`` ignores the schema's own ``example``/``examples``/``default`` (a spec's example may contradict it).
    """
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return None
        target = resolve(ref)
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}} if isinstance(target, dict) else {}
        return sample(merged, resolve, depth + 1, seen | {ref}, examples)
    if "const" in schema:
        return schema["const"]
    for key in ("example", "default") if examples else ():
        if key in schema:
            return schema[key]
    listed = schema.get("examples") if examples else None
    if isinstance(listed, list) and listed:
        return listed[0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "allOf" in schema and isinstance(schema["allOf"], list):
        return _all_of(schema, resolve, depth, seen, examples)
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            branch = next((b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")), branches[0])
            rest = {k: v for k, v in schema.items() if k not in (key, "discriminator")}
            if isinstance(branch, dict) and "$ref" in branch:
                return sample({**rest, "allOf": [branch]} if rest.get("properties") else branch, resolve, depth + 1, seen, examples)
            return sample({**rest, **branch} if isinstance(branch, dict) else rest, resolve, depth + 1, seen, examples)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema or "required" in schema else "array" if "items" in schema else None
    if kind == "object":
        return _object(schema, resolve, depth, seen, examples)
    if kind == "array":
        count = max(int(schema.get("minItems", 0) or 0), 0)
        item = sample(schema.get("items", {}), resolve, depth + 1, seen, examples) if count else None
        return [item for _ in range(count)]
    if kind == "string":
        text = _STRING_FORMATS.get(str(schema.get("format", "")), "string")
        if isinstance(schema.get("pattern"), str):
            text = _from_pattern(schema["pattern"]) or text
        minimum = int(schema.get("minLength", 0) or 0)
        maximum = schema.get("maxLength")
        if len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        if isinstance(maximum, int) and len(text) > maximum:
            text = text[:maximum]
        return text
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return False
    return None


_ATOM = re.compile(r"(\\[dDwWsS.\\/\-]|\[\^?\]?[^\]]*\]|[^\\\[\](){}|*+?^$])(\{(\d+)(?:,(\d*))?\}|[*+?])?")


def _from_pattern(pattern: str) -> str | None:
    """The shortest text matching a simple regular expression (classes, escapes, quantifiers); ``None`` otherwise."""
    body = pattern.removeprefix("^").removesuffix("$")
    out, position = [], 0
    while position < len(body):
        match = _ATOM.match(body, position)
        if not match:
            return None
        atom, quantifier, low = match.group(1), match.group(2), match.group(3)
        count = int(low) if low else 1 if quantifier in (None, "+") else 0
        char = {"\\d": "0", "\\w": "a", "\\s": " ", "\\D": "a", "\\W": "-", "\\S": "a"}.get(atom)
        if char is None:
            if atom.startswith("[") and not atom.startswith("[^"):
                char = atom[1]
            elif atom.startswith("\\"):
                char = atom[1]
            elif atom == ".":
                char = "a"
            elif atom.startswith("[^"):
                return None
            else:
                char = atom
        out.append(char * count)
        position = match.end()
    text = "".join(out)
    return text if re.fullmatch(pattern.removeprefix("^").removesuffix("$"), text) else None


def _all_of(schema: dict[str, Any], resolve: Callable[[str], Any], depth: int, seen: frozenset[str], examples: bool = True) -> Any:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        while isinstance(part, dict) and isinstance(part.get("$ref"), str) and part["$ref"] not in seen:
            seen = seen | {part["$ref"]}
            part = {**(resolve(part["$ref"]) or {}), **{k: v for k, v in part.items() if k != "$ref"}}
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            elif key == "allOf":
                merged.setdefault("allOf_more", []).extend(value)
            else:
                merged.setdefault(key, value)
    if merged.get("allOf_more"):
        merged["allOf"] = merged.pop("allOf_more")
        return _all_of(merged, resolve, depth + 1, seen, examples)
    merged.pop("allOf_more", None)
    return sample(merged, resolve, depth + 1, seen, examples)


def _object(schema: dict[str, Any], resolve: Callable[[str], Any], depth: int, seen: frozenset[str], examples: bool = True) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    out: dict[str, Any] = {}
    for name in schema.get("required", []) or []:
        out[name] = sample(properties.get(name, {}), resolve, depth + 1, seen, examples)
    return out


def _number(schema: dict[str, Any], kind: str) -> int | float:
    value: float = 0
    if isinstance(schema.get("minimum"), (int, float)):
        value = schema["minimum"]
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema.get("exclusiveMinimum"), bool):
        value = schema["exclusiveMinimum"] + 1
    elif schema.get("exclusiveMinimum") is True:  # OpenAPI 3.0 form
        value += 1
    if isinstance(schema.get("maximum"), (int, float)) and value > schema["maximum"]:
        value = schema["maximum"]
    multiple = schema.get("multipleOf")
    if isinstance(multiple, (int, float)) and multiple > 0 and value % multiple:
        value = (value // multiple + 1) * multiple
    return int(value) if kind == "integer" else value
