"""Dynamic answers: a response body generated from a JSON Schema, valid against it, the same for the same seed.

Why our own small generator and not a library (measured here, 2026-12-01, on
``schemas/mistral/``):

- ``jsf`` 0.11 cannot follow a ``$ref`` to another file (``usage.json``) and,
  on the self-contained ``model.json``, 3 of 20 bodies were invalid (it ignores
  ``if``/``then``); it seeds through the global ``random`` state.
- ``hypothesis-jsonschema`` 0.23 fails inside ``find()`` with the installed
  Hypothesis 6.170 (``'many' object has no attribute 'more'``), its
  ``.example()`` is not for use outside tests (it warns), and either way it
  brings Hypothesis' shrinking engine into a server.

This walks the schema (``$ref`` through the ``referencing`` resolver the
validator already has, ``allOf`` merged, one branch of ``oneOf``/``anyOf``),
prefers the schema's own ``examples``/``default``, checks the result with the
validator and tries other branches (another seed) when it does not fit. A body is
generated once per route and seed and cached (``DynamicAnswers``), so a dynamic
route is as fast as a saved one after its first request.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Any

_MAX_DEPTH = 6  # objects and arrays nested deeper get only their required keys, and no items
_MAX_HOPS = 64  # $ref, allOf, oneOf steps without nesting: a self-referencing schema ends here
_ATTEMPTS = 12


def generate(schema: Any, validator: Any, seed: int = 0) -> tuple[Any, bool]:
    """A value for ``schema`` and whether ``validator`` accepts it (the last try is returned if none fits)."""
    resolver = getattr(validator, "_resolver", None)  # jsonschema's referencing resolver: follows $ref like the validator
    value: Any = None
    for attempt in range(_ATTEMPTS):
        rng = random.Random(seed * 1009 + attempt)
        value = _Generator(rng, use_examples=attempt < _ATTEMPTS // 2).value(schema, resolver, 0, "")
        if validator.is_valid(value):
            return value, True
    return value, False


class _Generator:
    def __init__(self, rng: random.Random, use_examples: bool):
        self.rng = rng
        self.use_examples = use_examples

    def value(self, schema: Any, resolver: Any, depth: int, name: str, hops: int = 0) -> Any:
        """A value for ``schema``; ``depth`` counts nested objects and arrays, ``hops`` the $ref/allOf/oneOf steps."""
        if schema is True or not isinstance(schema, dict) or hops > _MAX_HOPS:
            return "string" if schema is True else None
        if "$ref" in schema and resolver is not None:
            resolved = resolver.lookup(schema["$ref"])
            rest = {key: item for key, item in schema.items() if key not in ("$ref", "$schema", "$id")}
            target = resolved.contents
            if rest and isinstance(target, dict):
                target = _merge(target, rest)
            return self.value(target, resolved.resolver, depth, name, hops + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and schema["enum"]:
            return self.rng.choice(schema["enum"])
        if self.use_examples:
            for key in ("examples", "example", "default"):
                if key in schema and schema[key] is not None:
                    found = schema[key]
                    return found[0] if key == "examples" and isinstance(found, list) and found else found
        if "allOf" in schema:
            merged = {key: item for key, item in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                if isinstance(part, dict) and "$ref" in part and resolver is not None:
                    resolved = resolver.lookup(part["$ref"])
                    part, resolver = resolved.contents, resolved.resolver
                if isinstance(part, dict):
                    merged = _merge(merged, part)
            return self.value(merged, resolver, depth, name, hops + 1)
        for key in ("oneOf", "anyOf"):
            if key in schema and schema[key]:
                branches = [b for b in schema[key] if not (isinstance(b, dict) and b.get("type") == "null")] or schema[key]
                choice = branches[0] if self.rng.random() < 0.5 else self.rng.choice(branches)
                rest = {k: v for k, v in schema.items() if k not in (key, "discriminator")}
                return self.value(_merge(rest, choice) if isinstance(choice, dict) and "$ref" not in choice else choice, resolver, depth, name, hops + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or kind
            kind = kinds[0]
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return self._typed(kind, schema, resolver, depth, name)

    def _typed(self, kind: str, schema: dict[str, Any], resolver: Any, depth: int, name: str) -> Any:
        rng = self.rng
        if kind == "object":
            out: dict[str, Any] = {}
            required = set(schema.get("required", ()))
            for key, sub in (schema.get("properties") or {}).items():
                # all keys near the top (SDK models want the optional ones too), and a const or default
                # anywhere: a discriminator such as a model card's "type" is one
                pinned = isinstance(sub, dict) and ("const" in sub or "default" in sub)
                if key in required or pinned or (depth < _MAX_DEPTH and (depth < 5 or rng.random() < 0.5)):
                    out[key] = self.value(sub, resolver, depth + 1, key)
            for key in required - out.keys():
                out[key] = "string"
            return out
        if kind == "array":
            low = int(schema.get("minItems", 1 if depth < 4 else 0))
            high = int(schema.get("maxItems", max(low, 3)))
            count = min(max(low, rng.randint(low, max(low, min(high, low + 2)))), high) if depth < _MAX_DEPTH else 0
            prefix = schema.get("prefixItems") or []
            items = [self.value(sub, resolver, depth + 1, name) for sub in prefix[:count]]
            items += [self.value(schema.get("items", {}), resolver, depth + 1, name) for _ in range(count - len(items))]
            return items
        if kind == "integer":
            low, high = _bounds(schema, 0, 1000)
            return rng.randint(int(low), int(max(low, high)))
        if kind == "number":
            low, high = _bounds(schema, 0.0, 1.0)
            return round(rng.uniform(low, max(low, high)), 4)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        return _text(schema, rng, name)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **{key: value for key, value in extra.items() if key not in ("properties", "required")}}
    if "properties" in base or "properties" in extra:
        merged["properties"] = {**base.get("properties", {}), **extra.get("properties", {})}
    if "required" in base or "required" in extra:
        merged["required"] = sorted(set(base.get("required", ())) | set(extra.get("required", ())))
    return merged


def _bounds(schema: dict[str, Any], low: float, high: float) -> tuple[float, float]:
    if "minimum" in schema:
        low = schema["minimum"]
    if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], (int, float)):
        low = schema["exclusiveMinimum"] + 1
    if "maximum" in schema:
        high = schema["maximum"]
    if "exclusiveMaximum" in schema and isinstance(schema["exclusiveMaximum"], (int, float)):
        high = schema["exclusiveMaximum"] - 1
    return low, max(low, high)


_SIMPLE_PATTERN = re.compile(r"^\^\[([^\]]+)\](?:\{(\d+)(,(\d*))?\}|\+)\$$")


def _expand_class(spec: str) -> str:
    """The characters of a regex class such as ``0-9a-f`` or ``A-Za-z0-9_-``."""
    chars, index = [], 0
    while index < len(spec):
        if index + 2 < len(spec) and spec[index + 1] == "-":
            chars += [chr(code) for code in range(ord(spec[index]), ord(spec[index + 2]) + 1)]
            index += 3
        else:
            chars.append(spec[index])
            index += 1
    return "".join(chars) or "a"


def _text(schema: dict[str, Any], rng: random.Random, name: str) -> str:
    fmt = schema.get("format", "")
    if fmt == "date-time":
        return f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z"
    if fmt == "date":
        return f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    if fmt == "uuid":
        return "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))
    if fmt in ("uri", "url"):
        return f"https://example.com/{name or 'item'}/{rng.randint(1, 999)}"
    if fmt == "email":
        return f"user{rng.randint(1, 999)}@example.com"
    pattern = _SIMPLE_PATTERN.match(str(schema.get("pattern", "")))
    if pattern:  # ^[0-9a-f]{32}$ and the like: ids and hashes; other patterns are not generated
        chars = _expand_class(pattern.group(1))
        low = int(pattern.group(2) or 1)
        if pattern.group(3) is None:  # {n} exactly, or + (one or more)
            high = low if pattern.group(2) else low + 8
        else:  # {m,n} or {m,}
            high = int(pattern.group(4)) if pattern.group(4) else low + 8
        return "".join(rng.choice(chars) for _ in range(rng.randint(low, max(low, high))))
    text = f"{name or 'text'}-{rng.getrandbits(32):08x}"
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(low, len(text))))
    text = (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]
    return text


class DynamicAnswers:
    """Generated bodies, once per (key, seed): the mock stays as fast as with saved examples."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._cache: dict[Any, tuple[Any, bool]] = {}
        self._lock = threading.Lock()

    def body(self, key: Any, schema: Any, validator: Any) -> tuple[Any, bool]:
        """The generated body for ``key`` (a route), and whether it is valid against the schema."""
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = generate(schema, validator, self.seed)
            with self._lock:
                found = self._cache.setdefault(key, found)
        return found
