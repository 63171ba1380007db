"""Postman test scripts -> declarative ``expect`` and ``capture``.

The common idioms of Postman's ``pm`` API are recognised statement by statement:
status, ``responseTime``, headers, values read from ``pm.response.json()``, and
``pm.environment.set(name, value)`` (a capture).  A ``pm.test(...)`` block converts
when every statement in it does; anything else is kept verbatim for a comment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_STRING = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`$]*`)"""
_VALUE = rf"(?:{_STRING}|-?\d+(?:\.\d+)?|true|false|null|\[[^\]]*\]|\{{[^}}]*\}})"
_STATUS_WORDS = {"ok": 200, "success": "2xx", "clientError": "4xx", "serverError": "5xx", "created": 201, "accepted": 202, "notFound": 404, "unauthorized": 401, "forbidden": 403, "badRequest": 400}
_OPERATORS = {
    "eql": "eq", "equal": "eq", "equals": "eq", "eq": "eq", "deep.equal": "eq", "deep.eql": "eq",
    "include": "contains", "includes": "contains", "contain": "contains", "contains": "contains", "have.string": "contains",
    "be.above": "gt", "be.greaterThan": "gt", "be.gt": "gt", "be.below": "lt", "be.lessThan": "lt", "be.lt": "lt",
    "be.at.least": "ge", "be.least": "ge", "be.at.most": "le", "be.most": "le", "be.oneOf": "in", "match": "matches",
}


@dataclass
class ScriptResult:
    """What one request's test script became."""

    status: Any = None
    headers: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    max_ms: float | None = None
    captures: dict[str, Any] = field(default_factory=dict)
    checks: int = 0
    kept: list[str] = field(default_factory=list)  # verbatim parts not converted


def _literal(text: str) -> Any:
    text = text.strip()
    if text[:1] in ("'", "`"):
        inner = text[1:-1]
        return json.loads('"' + inner.replace('"', '\\"').replace("\\'", "'") + '"')
    if text.startswith("{") or text.startswith("["):
        try:
            return json.loads(re.sub(r"'((?:[^'\\]|\\.)*)'", r'"\1"', text))
        except ValueError:
            raise _NotConverted from None
    try:
        return json.loads(text)
    except ValueError:
        raise _NotConverted from None


class _NotConverted(Exception):
    pass


def _jsonpath(accessor: str) -> str:
    """``.a.b[0]["c d"]`` -> ``$.a.b[0]['c d']``."""
    path = "$"
    for match in re.finditer(r"\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[\s*(" + _STRING + r")\s*\]|(.)", accessor):
        name, index, quoted, junk = match.groups()
        if junk is not None:
            raise _NotConverted
        if name is not None:
            path += f".{name}"
        elif index is not None:
            path += f"[{index}]"
        else:
            key = _literal(quoted)
            path += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def _split_statements(body: str) -> list[str]:
    """Split JavaScript at top-level ``;`` and new lines (strings, brackets and blocks respected)."""
    out, depth, current, i = [], 0, [], 0
    while i < len(body):
        char = body[i]
        if char in "'\"`":
            end = i + 1
            while end < len(body) and body[end] != char:
                end += 2 if body[end] == "\\" else 1
            current.append(body[i : end + 1])
            i = end + 1
            continue
        if body.startswith("//", i):
            end = body.find("\n", i)
            i = len(body) if end < 0 else end
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if depth == 0 and char in ";\n":
            statement = "".join(current).strip()
            if statement:
                out.append(statement)
            current = []
        else:
            current.append(char)
        i += 1
    statement = "".join(current).strip()
    if statement:
        out.append(statement)
    return out


def _find_close(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (strings skipped), or -1."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "'\"`":
            end = i + 1
            while end < len(text) and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            i = end + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


class _Converter:
    def __init__(self, result: ScriptResult, var_name: Any):
        self.result = result
        self.json_names: set[str] = set()
        self.var_name = var_name  # Postman variable name -> runner variable name

    def statement(self, text: str) -> None:
        """Convert one statement, or raise ``_NotConverted``."""
        text = text.strip().rstrip(";").strip()
        if not text or text.startswith("//"):
            return
        match = re.fullmatch(r"(?:var|let|const)\s+(\w+)\s*=\s*(?:pm\.response\.json\(\)|JSON\.parse\(\s*responseBody\s*\))", text)
        if match:
            self.json_names.add(match.group(1))
            return
        match = re.fullmatch(r"pm\.response\.to\.(?:have\.status|be\.status)\(\s*(\d{3})\s*\)", text)
        if match:
            return self.status(int(match.group(1)))
        match = re.fullmatch(r"pm\.response\.to\.(?:be|have)\.(\w+)", text)
        if match and match.group(1) in _STATUS_WORDS:
            return self.status(_STATUS_WORDS[match.group(1)])
        match = re.fullmatch(r"pm\.expect\(\s*pm\.response\.(?:code|status)\s*\)\.to\.(?:be\.)?(eql|equal|eq|oneOf)\(\s*(" + _VALUE + r")\s*\)", text)
        if match:
            value = _literal(match.group(2))
            return self.status(value if isinstance(value, (int, list)) else _fail())
        match = re.fullmatch(r"pm\.expect\(\s*pm\.response\.responseTime\s*\)\.to\.be\.(?:below|lessThan|lt|at\.most)\(\s*(\d+(?:\.\d+)?)\s*\)", text)
        if match:
            self.result.max_ms = float(match.group(1)) if "." in match.group(1) else int(match.group(1))
            self.result.checks += 1
            return
        match = re.fullmatch(r"pm\.response\.to\.(?:have|be)\.header\(\s*(" + _STRING + r")\s*(?:,\s*(" + _VALUE + r")\s*)?\)", text)
        if match:
            name = _literal(match.group(1))
            self.result.headers[name] = _literal(match.group(2)) if match.group(2) else {"exists": True}
            self.result.checks += 1
            return
        match = re.fullmatch(r"pm\.response\.to\.have\.body\(\s*(" + _STRING + r")\s*\)", text)
        if match:
            self.result.body["eq"] = _literal(match.group(1))
            self.result.checks += 1
            return
        match = re.fullmatch(r"pm\.expect\((.+?)\)\.to\.(not\.)?((?:deep\.|be\.|have\.|at\.)*\w+)(?:\((.*)\))?", text, re.DOTALL)
        if match:
            return self.expect(match.group(1).strip(), bool(match.group(2)), match.group(3), match.group(4))
        match = re.fullmatch(r"(?:pm\.(?:environment|collectionVariables|globals|variables)\.set|postman\.set(?:Environment|Global)Variable)\(\s*(" + _STRING + r")\s*,\s*(.+)\)", text, re.DOTALL)
        if match:
            return self.capture(_literal(match.group(1)), match.group(2).strip())
        raise _NotConverted

    def status(self, value: Any) -> None:
        self.result.status = value
        self.result.checks += 1

    def subject(self, text: str) -> tuple[str, str | None]:
        """What ``pm.expect(...)`` looks at: ("json", path) / ("body", None) / ("header", name)."""
        for name in self.json_names | {"pm.response.json()"}:
            if text == name or text.startswith(name + ".") or text.startswith(name + "["):
                return "json", _jsonpath(text[len(name) :])
        if text in ("pm.response.text()", "responseBody"):
            return "body", None
        match = re.fullmatch(r"pm\.response\.headers\.get\(\s*(" + _STRING + r")\s*\)", text)
        if match:
            return "header", _literal(match.group(1))
        raise _NotConverted

    def expect(self, subject: str, negated: bool, chain: str, argument: str | None) -> None:
        kind, where = self.subject(subject)
        chain = chain.removeprefix("be.") if chain.startswith("be.") and chain not in _OPERATORS else chain
        predicate: Any
        if chain in ("be.true", "true") and argument is None:
            predicate = {"ne": True} if negated else True
        elif chain in ("be.false", "false") and argument is None:
            predicate = {"ne": False} if negated else False
        elif chain in ("be.null", "null") and argument is None:
            predicate = {"ne": None} if negated else {"eq": None}
        elif chain in ("exist", "be.undefined", "undefined", "be.ok", "ok") and argument is None:
            present = chain in ("exist", "be.ok", "ok")
            predicate = {"exists": present != negated}
        elif chain in ("be.a", "be.an", "a", "an") and argument:
            type_name = {"string": "string", "number": "number", "object": "object", "array": "array", "boolean": "boolean", "null": "null"}.get(str(_literal(argument)))
            predicate = {"type": type_name} if type_name and not negated else _fail()
        elif chain in ("have.lengthOf", "have.length", "lengthOf") and argument:
            predicate = {"length": _literal(argument)} if not negated else _fail()
        elif chain in ("have.property", "property") and argument:
            key = _literal(argument)
            if kind != "json" or not isinstance(key, str):
                raise _NotConverted
            where = f"{where}['{key}']" if not re.fullmatch(r"[A-Za-z_]\w*", key) else f"{where}.{key}"
            predicate = {"exists": not negated}
        elif chain in _OPERATORS and argument is not None:
            operator = _OPERATORS[chain]
            regexp = re.fullmatch(r"new RegExp\(\s*(" + _STRING + r")\s*\)|/((?:[^/\\\n]|\\.)+)/", argument.strip())
            value = (_literal(regexp.group(1)) if regexp.group(1) else regexp.group(2)) if operator == "matches" and regexp else _literal(argument)
            if negated:
                operator = {"eq": "ne", "contains": "not_contains"}.get(operator) or _fail()
            predicate = value if operator == "eq" and not isinstance(value, dict) else {operator: value}
        else:
            raise _NotConverted
        if kind == "json" and where.endswith(".length") and where != "$.length":  # pm.expect(a.b.length): the length of $.a.b
            where, predicate = where[: -len(".length")], {"length": predicate}
        if kind == "json":
            previous = self.result.json.get(where)
            if isinstance(previous, dict) and isinstance(predicate, dict) and not set(previous) & set(predicate):
                predicate = {**previous, **predicate}  # several assertions on one value: all must hold
            self.result.json[where] = predicate
        elif kind == "body":
            self.result.body.update(predicate if isinstance(predicate, dict) else {"eq": predicate})
        else:
            self.result.headers[where] = predicate
        self.result.checks += 1

    def capture(self, name: str, value: str) -> None:
        kind, where = self.subject(value)
        variable = self.var_name(name)
        if kind == "json":
            self.result.captures[variable] = where
        elif kind == "header":
            self.result.captures[variable] = {"header": where}
        else:
            raise _NotConverted
        self.result.checks += 1


def _fail() -> Any:
    raise _NotConverted


def convert_script(lines: list[str] | str, var_name: Any) -> ScriptResult:
    """Convert a Postman test script; what cannot be converted is in ``kept``."""
    source = "\n".join(lines) if isinstance(lines, list) else str(lines)
    result = ScriptResult()
    converter = _Converter(result, var_name)
    for statement in _split_statements(source):
        body = _test_body(statement)
        if body is not None:
            saved = _snapshot(result)
            try:
                for inner in body:
                    converter.statement(inner)
            except _NotConverted:
                _restore(result, saved)
                result.kept.append(statement)
            continue
        try:
            saved = _snapshot(result)
            converter.statement(statement)
        except _NotConverted:
            _restore(result, saved)
            result.kept.append(statement)
    return result


# pm.test("name", function () {...}), function named(done) {...}, async () => {...}, (done) => {...}, _ => expr, () => expr
_TEST = re.compile(r"pm\.test\(\s*" + _STRING + r"\s*,\s*(?:async\s+)?(?:function\s*(?:[\w$]+\s*)?\(\s*([\w$]*)\s*\)\s*(?=\{)|\(\s*([\w$]*)\s*\)\s*=>\s*|([\w$]+)\s*=>\s*)")


def _test_body(statement: str) -> list[str] | None:
    """The statements of a ``pm.test(name, callback)``'s callback, block or arrow expression; None when ``statement`` is not one."""
    test = _TEST.match(statement)
    if not test:
        return None
    end = _find_close(statement, statement.index("("))  # the ")" closing pm.test(
    if end < 0 or statement[end + 1 :].strip() not in ("", ";"):
        return None
    callback = statement[test.end() : end].strip()
    done = test.group(1) or test.group(2) or test.group(3)  # Mocha's done callback: calling it checks nothing
    if callback.startswith("{"):  # a block: {...}, then nothing but the closing ")"
        close = _find_close(callback, 0)
        if close != len(callback) - 1:
            return None
        inner = _split_statements(callback[1:close])
    else:  # an arrow's expression: one statement, maybe in parentheses
        while callback.startswith("(") and _find_close(callback, 0) == len(callback) - 1:
            callback = callback[1:-1].strip()
        inner = [callback]
    return [item for item in inner if not done or re.sub(r"\s+", "", item).rstrip(";") != f"{done}()"]


def _snapshot(result: ScriptResult) -> tuple[Any, ...]:
    return (result.status, dict(result.headers), dict(result.json), dict(result.body), result.max_ms, dict(result.captures), result.checks)


def _restore(result: ScriptResult, saved: tuple[Any, ...]) -> None:
    result.status, result.headers, result.json, result.body, result.max_ms, result.captures, result.checks = saved
