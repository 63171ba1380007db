"""Predicates and response checks -> ``CheckResult`` data (a failed check is never an exception)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .model import DEFAULT_STATUS_TARGET, Assertion, ExpectSpec
from .predicates import bytes_literal, evaluate_extra, status_holds, status_text
from .query import MISSING, header_value, json_value
from .redact import shorten
from .results import CheckResult
from .schemas import SchemaStore
from .targets import EXTRA_KINDS, check_target

_NOT_JSON: Any = object()


@dataclass
class ResponseView:
    """What checks and captures read from a response; the text is decoded and the JSON parsed on demand.

    A body above ``jsonstream.STREAM_THRESHOLD`` bytes is held once, as bytes: its
    text is decoded for each check that reads it (and not kept), and JSONPath
    checks and captures stream it (``json_at``) instead of parsing it into a tree.
    """

    status: int
    headers: Any
    decoded: str | None  # the body's text when the caller has it; else decoded from ``body`` when read
    elapsed_ms: float
    json_error: str = ""
    _json: Any = field(default=_NOT_JSON, repr=False)
    events: list[Any] | None = None
    body: bytes = b""
    url: str = ""
    http_version: str = ""
    hops: list[Any] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # a parsed XML document, for XPath
    wanted: list[tuple[str, bool]] = field(default_factory=list, repr=False)
    streamed: dict[tuple[str, bool], Any] = field(default_factory=dict, repr=False)  # a large body's answers

    @property
    def text(self) -> str:
        """The body decoded with its charset (UTF-8 by default), bad bytes replaced; kept only for a small body."""
        if self.decoded is not None:
            return self.decoded
        from .bodytext import body_charset
        from .jsonstream import STREAM_THRESHOLD

        text = self.body.decode(body_charset(self.headers), errors="replace")
        if len(self.body) <= STREAM_THRESHOLD:
            self.decoded = text
        return text

    @property
    def json(self) -> Any:
        """The parsed body, or ``MISSING`` (with ``json_error`` set) when it is not JSON.

        This builds the whole tree: only schema checks and whole-body reads need it
        (JSONPath goes through ``json_at``).
        """
        if self._json is _NOT_JSON:
            try:
                text = self.text
                self._json = parse_json(text) if text and not text.isspace() else MISSING  # not strip(): a copy of the body
                if self._json is MISSING:
                    self.json_error = "the body is empty"
            except ValueError as exc:
                self._json = MISSING
                self.json_error = f"the body is not JSON ({exc})"
        return self._json

    def want(self, queries: list[tuple[str, bool]]) -> None:
        """The ``(JSONPath, count_only)`` queries the checks and captures will ask: a large body answers them in one pass."""
        self.wanted.extend(query for query in queries if query not in self.wanted)

    def json_at(self, path: str, count_only: bool = False) -> Any:
        """What the JSONPath selects, as ``json_value`` gives it; ``MISSING`` (``json_error`` set) when the body is not JSON.

        A body above the threshold is streamed (``jsonstream``), with every query
        of ``want`` in the same pass: ``count_only`` (the predicate reads only how
        many nodes) builds nothing; a selection larger than the budget raises
        ``jsonstream.BudgetError``.
        """
        from .jsonstream import STREAM_THRESHOLD

        if self._json is not _NOT_JSON or len(self.body) <= STREAM_THRESHOLD:
            document = self.json
            return MISSING if document is MISSING else json_value(path, document)
        if self.json_error:
            return MISSING
        from .jsonstream import BudgetError, NotJsonError, stream_queries

        key = (path, count_only)
        if key not in self.streamed:
            pending = [key] + [query for query in self.wanted if query not in self.streamed and query != key]
            try:
                self.streamed.update(zip(pending, stream_queries(self.body, self.headers, pending)))
            except NotJsonError as exc:
                self.json_error = str(exc)
                return MISSING
        outcome = self.streamed[key]
        if isinstance(outcome, BudgetError):
            raise outcome
        return outcome


MAX_JSON_DEPTH = 100


def parse_json(text: str) -> Any:
    """JSON from a server; ``ValueError`` when it is not JSON or nests deeper than ``MAX_JSON_DEPTH``.

    Checks, captures and schemas walk JSON recursively: a hostile server's
    ``[[[[...]]]]`` must be a failed check, not a ``RecursionError``.
    """
    too_deep = f"nested more than {MAX_JSON_DEPTH} levels deep"
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(too_deep) from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # only then can it be too deep: skip the walk
        stack = [(value, 1)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, (dict, list)):
                if depth > MAX_JSON_DEPTH:
                    raise ValueError(too_deep)
                stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    if _SURROGATE_ESCAPE.search(text):  # "\ud800" alone decodes to text no output can encode
        value = _without_lone_surrogates(value)
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """JSON data with each lone surrogate (a pair decodes to one character) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def show(value: Any, limit: int = 120) -> str:
    """A short JSON-ish rendering of a value for messages (a value of any size costs about ``limit`` to show)."""
    if value is MISSING:
        return "(nothing)"
    if isinstance(value, (bytes, bytearray)):  # a bounded excerpt of any size of body
        return shorten(f"{bytes(value[:limit])!r} ({len(value)} bytes)", max(limit, 60) + 20)  # escaped, so the redactor still finds a secret
    if type(value) not in (list, dict) and isinstance(value, (list, dict)) and hasattr(value, "total"):
        return repr(value)  # jsonstream.Counted: counted while streaming, nothing to show
    if isinstance(value, str):
        text = json.dumps(value[: 4 * limit + 8], ensure_ascii=False)
    elif isinstance(value, (list, dict)) and len(value) > 20:
        text = _dump_start(value, 4 * limit + 8)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return shorten(text, limit)


def _dump_start(value: Any, size: int) -> str:
    """The first ``size`` characters or so of a large value as JSON, without writing the rest."""
    parts: list[str] = []
    written = 0
    try:
        for part in json.JSONEncoder(ensure_ascii=False, default=str).iterencode(value):
            parts.append(part[: size + 1])
            written += len(parts[-1])
            if written > size:
                break
    except (TypeError, ValueError):
        return repr(value)[:size]
    return "".join(parts)


def json_type(value: Any) -> str:
    """The JSON type name of a Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    return type(value).__name__


def json_equal(left: Any, right: Any) -> bool:
    """Equality with JSON semantics: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _compare(op: str) -> Callable[[Any, Any], tuple[bool, str]]:
    symbol = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
    func = {"gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}[op]

    def check(actual: Any, expected: Any, text_actual: bool = False) -> tuple[bool, str]:
        # a JSON string is not a number, even "7": a contract check must notice an API sending one
        left = _number(actual) if text_actual or not isinstance(actual, str) else None
        right = _number(expected)
        if left is None or right is None:
            if isinstance(actual, str) and isinstance(expected, str):
                return func(actual, expected), f"{symbol} {show(expected)}"
            return False, f"{symbol} {show(expected)} (a number)"
        return func(left, right), f"{symbol} {show(expected)}"

    return check


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, (bytes, bytearray)):
        wanted = bytes_literal(expected)
        return isinstance(wanted, bytes) and wanted in actual
    if isinstance(actual, str):
        return str(expected) in actual
    if isinstance(actual, (list, tuple)):
        return any(json_equal(item, expected) for item in actual)
    if isinstance(actual, dict):  # an object contains its keys, which are strings
        return isinstance(expected, str) and expected in actual
    return False


def _length(actual: Any) -> int | None:
    return len(actual) if isinstance(actual, (str, list, tuple, dict, bytes)) else None


def _loose_equal(actual: Any, expected: Any, text_actual: bool) -> bool:
    if isinstance(actual, (bytes, bytearray)):
        return bytes(actual) == bytes_literal(expected)
    if text_actual and not isinstance(expected, str) and expected is not None:
        expected = json.dumps(expected) if not isinstance(expected, (int, float)) or isinstance(expected, bool) else str(expected)
        expected = {"true": "true", "false": "false"}.get(expected, expected)
    return json_equal(actual, expected)


def evaluate(predicate: Any, actual: Any, text_actual: bool = False) -> tuple[bool, str]:
    """Whether ``actual`` satisfies ``predicate``; also returns what was expected, as text.

    ``text_actual`` marks values that are always text (headers, the body): a plain
    number or boolean in the predicate is then compared with its text form.
    """
    from .loader import OPERATORS

    if is_predicate_list(predicate):  # several operator mappings on one target: all must hold
        results = [evaluate(item, actual, text_actual) for item in predicate]
        return all(ok for ok, _ in results), "; ".join(text for ok, text in results if not ok) or "; ".join(text for _, text in results)
    if isinstance(predicate, dict) and "filters" in predicate and all(key in OPERATORS for key in predicate):
        return _evaluate_filtered(predicate, actual, text_actual)
    if not (isinstance(predicate, dict) and predicate and all(key in OPERATORS for key in predicate)):
        if actual is MISSING:
            return False, show(predicate)
        return _loose_equal(actual, predicate, text_actual), show(predicate)
    failed: list[str] = []
    wanted: list[str] = []
    for op, expected in predicate.items():
        ok, text = _evaluate_op(op, expected, actual, text_actual)
        wanted.append(text)
        if not ok:
            failed.append(text)
    return not failed, ", ".join(failed or wanted)


def is_predicate_list(predicate: Any) -> bool:
    """A non-empty list of operator mappings (a list of plain values is a value to compare with)."""
    from .loader import OPERATORS

    return (
        isinstance(predicate, list)
        and bool(predicate)
        and all(isinstance(item, dict) and item and all(key in OPERATORS for key in item) for item in predicate)
    )


def _evaluate_filtered(predicate: dict[str, Any], actual: Any, text_actual: bool) -> tuple[bool, str]:
    """``{filters: [...], OP: ...}``: the operators hold on the value the filters give."""
    from .filters import FilterError, apply_filters, describe

    rest = {op: value for op, value in predicate.items() if op != "filters"}
    steps = describe(predicate["filters"])
    try:
        value = apply_filters(predicate["filters"], actual)
    except FilterError as exc:  # its message names the filter
        return False, f"{exc}" if len(predicate["filters"]) == 1 else f"{steps}: {exc}"
    ok, text = evaluate(rest or {"exists": True}, value, text_actual and isinstance(value, str))
    return ok, f"{steps} {text}" + ("" if ok else f" (the filters gave {show(value)})")


def _evaluate_op(op: str, expected: Any, actual: Any, text_actual: bool) -> tuple[bool, str]:
    if op == "exists":
        present = actual is not MISSING
        return present == bool(expected), "present" if expected else "absent"
    if actual is MISSING:
        return False, f"{op} {show(expected)}"
    if op == "eq":
        return _loose_equal(actual, expected, text_actual), f"== {show(expected)}"
    if op == "ne":
        return not _loose_equal(actual, expected, text_actual), f"!= {show(expected)}"
    if op in ("gt", "ge", "lt", "le"):
        return _compare(op)(actual, expected, text_actual)
    if op == "contains":
        return _contains(actual, expected), f"contains {show(expected)}"
    if op == "not_contains":
        return not _contains(actual, expected), f"does not contain {show(expected)}"
    if op == "matches":
        text = actual if isinstance(actual, str) else show(actual, 10_000)
        try:
            return re.search(str(expected), text) is not None, f"matches /{expected}/"
        except re.error as exc:  # a templated pattern can render to an invalid one
            return False, f"matches /{expected}/ (not a valid regular expression: {exc})"
    if op == "type":
        kind = json_type(actual)
        ok = kind == expected or (expected == "number" and kind == "integer") or (expected == "float" and isinstance(actual, float))
        return ok, f"type {expected}"
    if op == "length":
        length = _length(actual)
        if length is None:
            return False, f"length {show(expected)} (of a string, array or object)"
        ok, text = evaluate(expected, length)
        return ok, f"length {text}"
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        return any(_loose_equal(actual, option, text_actual) for option in options), f"one of {show(options)}"
    return evaluate_extra(op, expected, actual, text_actual, evaluate)


def status_matches(expected: Any, status: int) -> bool:
    """``200``, ``[200, 201]``, a class such as ``2xx``, or an operator mapping (``{ne: 200}``, ``{ge: 500}``)."""
    if isinstance(expected, dict):
        return status_holds(expected, status, evaluate, status_matches)
    if isinstance(expected, list):
        return any(status_matches(item, status) for item in expected)
    if isinstance(expected, str) and re.fullmatch(r"[1-5]xx", expected.strip().lower()):
        return status // 100 == int(expected.strip()[0])
    try:
        return int(expected) == status
    except (TypeError, ValueError):
        return False


def check_assertion(assertion: Assertion, predicate: Any, response: ResponseView) -> CheckResult:
    """Check one rendered assertion against the response."""
    kind, target, loc = assertion.kind, assertion.target, assertion.location
    if kind in EXTRA_KINDS:
        return check_target(assertion, predicate, response)
    if kind == "status":
        ok = status_matches(predicate, response.status)
        if target == DEFAULT_STATUS_TARGET:
            expected = "2xx or 3xx (expect has no status)"
        else:
            expected = status_text(predicate) if isinstance(predicate, dict) else show(predicate)
        return CheckResult("status", "", ok, expected, str(response.status), "" if ok else "unexpected status", loc)
    if kind == "max_ms":
        ok = response.elapsed_ms <= float(predicate)
        return CheckResult("max_ms", "", ok, f"<= {predicate} ms", f"{response.elapsed_ms:.0f} ms", "" if ok else "too slow", loc)
    if kind == "header":
        actual = header_value(response.headers, target)
        ok, expected = evaluate(predicate, actual, text_actual=True)
        return CheckResult("header", target, ok, *_shown(ok, predicate, actual, expected), "" if ok else "header mismatch", loc)
    if kind == "body":
        ok, expected = evaluate(predicate, response.text, text_actual=True)
        return CheckResult("body", "", ok, *_shown(ok, predicate, response.text, expected), "" if ok else "body mismatch", loc)
    from .jsonstream import BudgetError, counts_only

    try:
        actual = response.json_at(target, counts_only(predicate))
    except BudgetError as exc:
        return CheckResult("json", target, False, _expected_text(predicate), f"(not evaluated: {exc})", "not evaluated on a large body", loc)
    if actual is MISSING and response.json_error:
        return CheckResult(kind, target, False, _expected_text(predicate), "(no JSON)", response.json_error, loc)
    ok, expected = evaluate(predicate, actual)
    if ok:
        return CheckResult("json", target, ok, expected, show(actual), "", loc)
    expected, shown = describe_mismatch(predicate, actual, expected, target)
    return CheckResult("json", target, ok, expected, shown, "value mismatch", loc)


def _shown(ok: bool, predicate: Any, actual: Any, expected: str) -> tuple[str, str]:
    """(expected, actual) texts of a text check: a failed ``length`` says the length found."""
    return expected, (not ok and length_mismatch(predicate, actual)) or show(actual)


def length_mismatch(predicate: Any, actual: Any) -> str:
    """``length 196`` when the predicate's ``length`` operator fails on ``actual``, else ''."""
    operators = isinstance(predicate, dict) and predicate and all(key in _operators() for key in predicate)
    if operators and "length" in predicate and _length(actual) is not None and not evaluate({"length": predicate["length"]}, actual)[0]:
        return f"length {_length(actual)}"
    return ""


def describe_mismatch(predicate: Any, actual: Any, expected: str, root: str = "$") -> tuple[str, str]:
    """(expected, actual) texts for a failed check that point at the difference, not at two cut-off dumps.

    A failed ``length`` says the length found; a failed comparison of two documents lists the
    first differences by JSONPath.
    """
    operators = isinstance(predicate, dict) and predicate and all(key in _operators() for key in predicate)
    if length_mismatch(predicate, actual):
        return expected, length_mismatch(predicate, actual)
    wanted = predicate.get("eq", MISSING) if operators and len(predicate) == 1 else (MISSING if operators else predicate)
    if isinstance(wanted, (dict, list)) and isinstance(actual, (dict, list)):
        differences = json_differences(wanted, actual, root)
        if differences:
            more = f" (and {len(differences) - 3} more differences)" if len(differences) > 3 else ""
            return "; ".join(f"{path} = {show(want, 60)}" for path, want, _ in differences[:3]), "; ".join(f"{path} = {show(got, 60)}" for path, _, got in differences[:3]) + more
    return expected, show(actual)


def json_differences(expected: Any, actual: Any, path: str = "$", limit: int = 50) -> list[tuple[str, Any, Any]]:
    """(JSONPath, expected, actual) for each place two JSON documents differ, first ``limit`` of them."""
    out: list[tuple[str, Any, Any]] = []
    stack = [(path, expected, actual)]
    while stack and len(out) < limit:
        where, want, got = stack.pop()  # depth first, in document order (children pushed reversed)
        if isinstance(want, dict) and isinstance(got, dict):
            children = []
            for key in list(want) + [k for k in got if k not in want]:
                child = f"{where}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)) else f"{where}[{json.dumps(key)}]"
                children.append((child, want.get(key, MISSING), got.get(key, MISSING)))
            stack.extend(reversed(children))
        elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
            stack.extend(reversed([(f"{where}[{index}]", a, b) for index, (a, b) in enumerate(zip(want, got))]))
        elif isinstance(want, list) and isinstance(got, list):
            out.append((f"{where} (length)", len(want), len(got)))
        elif want is MISSING or got is MISSING or not json_equal(want, got):
            out.append((where, want, got))
    return out


def _operators() -> Any:
    from .loader import OPERATORS

    return OPERATORS


def _expected_text(predicate: Any) -> str:
    return evaluate(predicate, MISSING)[1]


def check_schema(expect: ExpectSpec, response: ResponseView, store: SchemaStore) -> list[CheckResult]:
    """Validate the JSON body against ``expect.schema``: one result per violation, or one pass."""
    ref = expect.schema
    assert ref is not None
    name = ref.path or "(inline)"
    if ref.fragment:
        name += f"#{ref.fragment}"
    document = response.json
    if document is MISSING and response.json_error:
        return [CheckResult("schema", name, False, "a JSON body", "(no JSON)", response.json_error, ref.location)]
    violations = store.validate(ref, document)
    if not violations:
        return [CheckResult("schema", name, True, location=ref.location)]
    return [
        CheckResult("schema", name, False, f"{v.keyword} holds", "", v.message, ref.location, pointer=v.pointer or "/", keyword=v.keyword)
        for v in violations
    ]
