"""Postman test-script idioms -> expect/capture; the rest is kept verbatim."""

from __future__ import annotations

from typing import Any

import pytest

from runner.interop.postman_scripts import convert_script


def _convert(line: str) -> dict[str, Any]:
    result = convert_script([line], lambda name: name)
    out: dict[str, Any] = {k: v for k, v in {"status": result.status, "headers": result.headers, "json": result.json, "body": result.body, "max_ms": result.max_ms, "capture": result.captures}.items() if v not in (None, {}, [])}
    if result.kept:
        out["kept"] = result.kept
    return out


IDIOMS = [
        ("pm.response.to.have.status(201);", {"status": 201}),
        ("pm.expect(pm.response.code).to.eql(200);", {"status": 200}),
        ("pm.expect(pm.response.code).to.be.oneOf([200, 204]);", {"status": [200, 204]}),
        ("pm.response.to.be.ok;", {"status": 200}),
        ("pm.response.to.be.success", {"status": "2xx"}),
        ("pm.expect(pm.response.responseTime).to.be.below(300);", {"max_ms": 300}),
        ("pm.response.to.have.header('X-Id');", {"headers": {"X-Id": {"exists": True}}}),
        ("pm.response.to.have.header('Content-Type', 'application/json');", {"headers": {"Content-Type": "application/json"}}),
        ("pm.expect(pm.response.headers.get('Server')).to.include('nginx')", {"headers": {"Server": {"contains": "nginx"}}}),
        ("pm.expect(pm.response.json().a.b).to.eql({\"c\": 1})", {"json": {"$.a.b": {"eq": {"c": 1}}}}),
        ("pm.expect(pm.response.json().items[0]['display name']).to.equal('x')", {"json": {"$.items[0]['display name']": "x"}}),
        ("pm.expect(pm.response.json().n).to.not.equal(3)", {"json": {"$.n": {"ne": 3}}}),
        ("pm.expect(pm.response.json().tags).to.be.an('array')", {"json": {"$.tags": {"type": "array"}}}),
        ("pm.expect(pm.response.json().ok).to.be.true", {"json": {"$.ok": True}}),
        ("pm.expect(pm.response.json()).to.have.property('id')", {"json": {"$.id": {"exists": True}}}),
        ("pm.expect(pm.response.json().id).to.exist", {"json": {"$.id": {"exists": True}}}),
        ("pm.expect(pm.response.text()).to.include('hello')", {"body": {"contains": "hello"}}),
        ("pm.environment.set('token', pm.response.json().access_token);", {"capture": {"token": "$.access_token"}}),
        ("pm.collectionVariables.set(\"rid\", pm.response.headers.get(\"X-Request-Id\"))", {"capture": {"rid": {"header": "X-Request-Id"}}}),
        ("postman.setEnvironmentVariable('id', pm.response.json().data[0].id)", {"capture": {"id": "$.data[0].id"}}),
        ("console.log(pm.response.json())", {"kept": ["console.log(pm.response.json())"]}),
        ("pm.expect(pm.response.json().a).to.satisfy(x => x > 1)", {"kept": ["pm.expect(pm.response.json().a).to.satisfy(x => x > 1)"]}),
]


@pytest.mark.parametrize("line, expected", IDIOMS, ids=lambda value: str(value)[:50] if isinstance(value, str) else None)
def test_each_idiom_converts(line: str, expected: dict[str, Any]) -> None:
    assert _convert(line) == expected


# Every way a pm.test callback is written: the function form and the arrow forms convert alike
CALLBACKS = {
    "function": "pm.test('t', function () {{ {} }});",
    "named-function-done": "pm.test('t', function check(done) {{ {}; done(); }});",
    "arrow-block": "pm.test('t', () => {{\n    {}\n}});",
    "async-arrow-block": "pm.test(\"t\", async () => {{ {} }})",
    "arrow-done-block": "pm.test('t', (done) => {{ {}\n done() }})",
    "arrow-expression": "pm.test('t', () => {})",
    "arrow-expression-no-spaces": "pm.test('t',()=>{});",
    "arrow-parenthesised": "pm.test('t', () => ({}))",
    "arrow-one-parameter": "pm.test('t', _ => {})",
}


@pytest.mark.parametrize("form", CALLBACKS)
@pytest.mark.parametrize("line, expected", [case for case in IDIOMS if "kept" not in case[1]], ids=lambda value: str(value)[:40] if isinstance(value, str) else None)
def test_each_idiom_converts_inside_every_form_of_pm_test(form: str, line: str, expected: dict[str, Any]) -> None:
    if "block" not in form and "function" not in form:
        line = line.rstrip(";")  # an arrow's expression body is an expression, not a statement
    assert _convert(CALLBACKS[form].format(line)) == expected


@pytest.mark.parametrize(
    "script",
    [
        "pm.test('t', () => pm.expect(pm.response.json().a).to.satisfy(x => x > 1))",
        "pm.test('t', () => pm.response.to.have.status(200)) && other()",
        "pm.test('t', () => { pm.response.to.have.status(200); }, extra)",
        "pm.test('t', () => { pm.response.to.have.status(200); done(); })",  # no done parameter: done() is not a no-op
    ],
    ids=["unknown-idiom", "more-after-the-call", "more-arguments", "done-not-a-parameter"],
)
def test_an_arrow_test_with_anything_else_is_kept(script: str) -> None:
    assert _convert(script) == {"kept": [script]}


def test_a_test_block_converts_only_when_all_of_it_does() -> None:
    script = ["pm.test('a', function () {", "  pm.response.to.have.status(200);", "  if (x) { y(); }", "});", "pm.test('b', () => { pm.response.to.have.status(201); });"]
    result = convert_script(script, str)
    assert result.status == 201 and result.checks == 1
    assert len(result.kept) == 1 and result.kept[0].startswith("pm.test('a'") and "if (x)" in result.kept[0]


@pytest.mark.parametrize(
    "text",
    [
        'pm.request.headers.add({key: "X-Api-Key", value: "abcd1234efgh"})',
        "pm.environment.set('password', 'hunter2hunter2')",
        "const auth = 'Bearer abcdefgh12345678';",
        "var k = 'sk-proj-abcdefghijklmnopqrstuvwx';",
    ],
    ids=["header-add", "set-password", "bearer-literal", "token-shape"],
)
def test_a_kept_script_shows_no_credential(text: str) -> None:
    from runner.interop.secrets import mask_literals

    masked = mask_literals(text)
    assert "****" in masked
    for secret in ("abcd1234efgh", "hunter2hunter2", "abcdefgh12345678", "sk-proj-abcdefghijklmnopqrstuvwx"):
        assert secret not in masked


@pytest.mark.parametrize(
    "line, expected",
    [
        ("pm.expect(pm.response.json().items.length).to.be.above(0)", {"json": {"$.items": {"length": {"gt": 0}}}}),
        ("pm.expect(pm.response.json().a).to.match(/^ab+c$/)", {"json": {"$.a": {"matches": "^ab+c$"}}}),
        ('pm.expect(pm.response.json().a).to.match(new RegExp("^x\\\\d"))', {"json": {"$.a": {"matches": "^x\\d"}}}),
        ("pm.test('t', () => { pm.expect(pm.response.json().s).to.be.a('string'); pm.expect(pm.response.json().s.length).to.be.above(2); })", {"json": {"$.s": {"type": "string", "length": {"gt": 2}}}}),
    ],
    ids=["length-of", "regex-literal", "new-regexp", "two-assertions-one-value"],
)
def test_what_the_exporter_writes_converts_back(line: str, expected: dict[str, Any]) -> None:
    assert _convert(line) == expected
