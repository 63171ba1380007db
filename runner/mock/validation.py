"""Request validation: a body a route's ``request_schema`` refuses gets the API's 422.

The 422 body carries the validation errors twice, so every reader finds them:

- ``detail``: the spec's ``HTTPValidationError`` (FastAPI's shape), which the
  official SDKs parse (``mistralai``'s ``HTTPValidationError.data.detail``);
- ``message.detail`` inside the generic error envelope ``{object, message, type,
  param, code}``, the wrapped shape the live Mistral API answers with.

Each error is ``{type, loc, msg, input}`` with pydantic's type names (``missing``,
``extra_forbidden``, ``string_type``, ``too_short``, ...) and ``loc`` starting at
``body``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

from ..schemas import SchemaStore

_MAX_ERRORS = 20  # a body with thousands of errors gets the first ones, not a 422 of megabytes
_TYPE_NAMES = {"string": "string_type", "integer": "int_type", "number": "float_type", "boolean": "bool_type", "array": "list_type", "object": "dict_type", "null": "none_required"}


class VerdictCache:
    """The errors of the last bodies seen, by route and body bytes: a client that sends the same body again
    (a retry, a test suite, a load test) is not validated twice. Bounded: memory stays flat.

    Before that, a body is shown to jsonschema-rs (compiled, about 200 times faster than jsonschema on the
    chat request) when its schema needs no other document: a body it finds valid is valid. A body it
    refuses, or one it cannot read, is validated by jsonschema, whose errors make the 422: the verdict and
    its wording are jsonschema's, jsonschema-rs only answers the common case sooner."""

    def __init__(self, size: int = 512):
        self.size = size
        self._verdicts: OrderedDict[tuple[int, bytes], list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._fast: dict[str, Any] = {}  # schema key -> a jsonschema-rs validator, or None: none for it
        self._registries: dict[str, Any] = {}  # document URI -> its jsonschema-rs registry

    def check(self, store: SchemaStore, ref: Any, key: int, raw: bytes, body: Any) -> list[dict[str, Any]]:
        """``check_request_body``, remembered for ``(key, raw)`` when the body is small."""
        if self._valid_at_once(store, ref, body):
            return []
        if len(raw) > 65536:
            return check_request_body(store, ref, body)
        found = self._verdicts.get((key, raw))  # a hit takes no lock: one C call each, atomic under the GIL
        if found is not None:
            try:
                self._verdicts.move_to_end((key, raw))
            except KeyError:
                pass  # evicted by another thread meanwhile: the verdict stands
            return found
        found = check_request_body(store, ref, body)
        with self._lock:
            self._verdicts[(key, raw)] = found
            while len(self._verdicts) > self.size:
                self._verdicts.popitem(last=False)
        return found


    def _valid_at_once(self, store: SchemaStore, ref: Any, body: Any) -> bool:
        """Whether jsonschema-rs finds ``body`` valid (False: it cannot tell, or finds it invalid)."""
        fast = self._fast.get(ref.key, _UNSET)
        if fast is _UNSET:
            fast = self._fast[ref.key] = self._fast_validator(store.standalone(ref))
        if fast is None:
            return False
        try:
            return bool(fast.is_valid(body))
        except Exception:  # noqa: BLE001 - a value it cannot convert (an integer past 64 bits): jsonschema decides
            return False


    def _fast_validator(self, portable: tuple[Any, tuple[tuple[str, Any], ...]] | None) -> Any:
        """A jsonschema-rs validator for ``SchemaStore.standalone``'s answer (None: not installed, or not this one)."""
        if portable is None:
            return None
        try:
            import jsonschema_rs
        except ImportError:
            return None
        schema, documents = portable
        if not _judged_alike(schema, documents[0][1] if documents else schema):
            return None
        options: dict[str, Any] = {"validate_formats": False, "offline": True}  # as jsonschema here: formats are annotations, nothing fetched
        try:
            if documents:  # one registry per document (an OpenAPI spec), shared by its operations' schemas
                uri = documents[0][0]
                if uri not in self._registries:
                    self._registries[uri] = jsonschema_rs.Registry(list(documents))
                options["registry"] = self._registries[uri]
            if isinstance(schema, dict) and "$schema" in schema:
                return jsonschema_rs.validator_for(schema, **options)
            return jsonschema_rs.Draft202012Validator(schema, **options)
        except Exception:  # noqa: BLE001 - a schema it reads differently (a regex of Python's own): jsonschema alone
            return None


_UNSET = object()
# A regex escape (\s, \d, \W, \b, \p...) or inline flag: Python's re and jsonschema-rs's ECMA-262 regexes read
# them differently (\s takes in \x1c-\x1f in Python, \d and \w are ASCII in ECMA-262, so [^,\s] and \W let
# through there what jsonschema refuses).
_REGEX_DIALECT = re.compile(r"\\[A-Za-z0-9]|\(\?[A-Za-z]")


def _judged_alike(schema: Any, root: Any) -> bool:
    """Whether jsonschema-rs can only find valid what jsonschema finds valid: not when a schema reachable from
    ``schema`` (following pointers into ``root``) has a regex in a dialect of its own, or a ``multipleOf``
    (jsonschema divides floats: 0.3 is not a multiple of 0.1 there, it is for jsonschema-rs)."""
    from urllib.parse import unquote

    stack, seen = [schema], set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        named = node.get("patternProperties")
        patterns = [node.get("pattern"), *(named if isinstance(named, dict) else ())]
        if "multipleOf" in node or any(isinstance(pattern, str) and _REGEX_DIALECT.search(pattern) for pattern in patterns):
            return False
        ref = node.get("$ref")
        if isinstance(ref, str) and "#" in ref:
            target: Any = root
            for part in unquote(ref.partition("#")[2]).split("/")[1:]:
                part = part.replace("~1", "/").replace("~0", "~")
                try:
                    target = target[int(part)] if isinstance(target, list) else target[part]
                except (KeyError, IndexError, ValueError, TypeError):
                    return False
            stack.append(target)
        stack.extend(node.values())
    return True


def validation_error(detail: list[dict[str, Any]]) -> dict[str, Any]:
    """The 422 body for ``detail`` (a list of ``{type, loc, msg, input}``)."""
    return {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error", "param": None, "code": None, "detail": detail}


def not_json_error(reason: str, raw: bytes) -> dict[str, Any]:
    """The 422 body for a body that is not JSON where the API expects JSON (pydantic's ``json_invalid``)."""
    shown = raw[:120].decode("utf-8", errors="replace")
    return validation_error([{"type": "json_invalid", "loc": ["body", 0], "msg": f"JSON decode error: {reason}", "input": shown, "ctx": {"error": reason}}])


def check_request_body(store: SchemaStore, ref: Any, body: Any) -> list[dict[str, Any]]:
    """Each way ``body`` breaks the schema ``ref``, as API validation errors (empty: valid)."""
    validator = store.validator(ref)
    if validator.is_valid(body):  # the common case stops at the first error, and finds none
        return []
    errors = sorted(validator.iter_errors(body), key=lambda error: (len(error.absolute_path), list(map(str, error.absolute_path))))
    return [_detail(error) for error in _leaves(errors)[:_MAX_ERRORS]]


def _leaves(errors: list[Any]) -> list[Any]:
    """The most specific errors: a failed ``oneOf``/``anyOf`` reports its best branch's errors."""
    found: list[Any] = []
    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context:
            from jsonschema.exceptions import best_match

            best = best_match(error.context)
            found.append(best if best is not None else error)
        else:
            found.append(error)
    return found


def _detail(error: Any) -> dict[str, Any]:
    loc: list[Any] = ["body", *error.absolute_path]
    keyword = error.validator
    instance = error.instance
    if keyword == "required":
        name = _quoted_name(error.message)
        return {"type": "missing", "loc": [*loc, name] if name else loc, "msg": "Field required", "input": _short(instance)}
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = sorted(set(instance) - set(error.schema.get("properties", {}))) if isinstance(instance, dict) else []
        return {"type": "extra_forbidden", "loc": [*loc, extra[0]] if extra else loc, "msg": "Extra inputs are not permitted", "input": _short(instance)}
    if keyword == "type":
        wanted = error.validator_value if isinstance(error.validator_value, str) else (error.validator_value or ["value"])[0]
        return {"type": _TYPE_NAMES.get(wanted, "value_error"), "loc": loc, "msg": f"Input should be a valid {wanted}", "input": _short(instance)}
    if keyword in ("minItems", "minLength"):
        what, unit = ("List", "item") if keyword == "minItems" else ("String", "character")
        size = error.validator_value
        message = f"{what} should have at least {size} {unit}{'s' if size != 1 else ''} after validation, not {len(instance)}"
        return {"type": "too_short", "loc": loc, "msg": message, "input": _short(instance), "ctx": {"min_length": size, "actual_length": len(instance)}}
    if keyword in ("maxItems", "maxLength"):
        return {"type": "too_long", "loc": loc, "msg": _first_upper(error.message), "input": _short(instance), "ctx": {"max_length": error.validator_value}}
    if keyword in ("enum", "const"):
        return {"type": "literal_error", "loc": loc, "msg": _first_upper(error.message), "input": _short(instance)}
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        kind = "greater_than" if "inimum" in keyword else "less_than"
        return {"type": kind + ("_equal" if not keyword.startswith("exclusive") else ""), "loc": loc, "msg": _first_upper(error.message), "input": _short(instance)}
    return {"type": "value_error", "loc": loc, "msg": _first_upper(error.message), "input": _short(instance)}


def _quoted_name(message: str) -> str:
    """The property a ``required`` error names (jsonschema says ``'messages' is a required property``)."""
    if message.startswith("'") and "' is a required property" in message:
        return message[1 : message.index("' is a required property")]
    return ""


def _short(value: Any) -> Any:
    """The input echoed in an error, cut when large (an error must not repeat a 60 MiB body)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= 2000 else text[:2000] + "…"


def _first_upper(text: str) -> str:
    text = text if len(text) <= 300 else text[:300] + "…"
    return text[:1].upper() + text[1:]
