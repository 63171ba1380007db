"""Templating: native values, helpers, filters, undefined names, the sandbox."""

from __future__ import annotations

import base64
import re
import uuid

import pytest

from runner.templating import TemplateError, Templates


@pytest.fixture
def templates() -> Templates:
    return Templates(environ={"HOME_REGION": "eu", "TOKEN": "t0k"})


@pytest.mark.parametrize(
    ("source", "scope", "expected"),
    [
        ("{{ n }}", {"n": 150}, 150),
        ("  {{ n }}  ", {"n": 150}, 150),
        ("{{ t }}", {"t": 0.7}, 0.7),
        ("{{ flag }}", {"flag": False}, False),
        ("{{ items }}", {"items": [1, 2]}, [1, 2]),
        ("{{ n + 1 }}", {"n": 1}, 2),
        ("n={{ n }}", {"n": 150}, "n=150"),
        ("{{ a }}{{ b }}", {"a": 1, "b": 2}, "12"),
        ("plain text", {}, "plain text"),
        ("{{ env.HOME_REGION }}", {}, "eu"),
        ("{{ 'abc' | b64encode }}", {}, base64.b64encode(b"abc").decode()),
        ("{{ 'YWJj' | b64decode }}", {}, "abc"),
        ("{{ d | tojson }}", {"d": {"k": "é"}}, '{"k": "é"}'),
    ],
    ids=["int", "int-spaces", "float", "bool", "list", "expression", "mixed-text", "two-expressions", "plain", "env", "b64encode", "b64decode", "tojson"],
)
def test_render(templates: Templates, source: str, scope: dict, expected: object) -> None:
    assert templates.render(source, scope) == expected


def test_render_nested_structures(templates: Templates) -> None:
    raw = {"model": "{{ m }}", "max_tokens": "{{ n }}", "messages": [{"content": "hi {{ who }}"}]}
    assert templates.render(raw, {"m": "x", "n": 5, "who": "you"}) == {"model": "x", "max_tokens": 5, "messages": [{"content": "hi you"}]}


def test_helpers(templates: Templates) -> None:
    value = templates.render("{{ uuid4() }}", {})
    assert uuid.UUID(value).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", templates.render("{{ now() }}", {}))
    assert isinstance(templates.render("{{ timestamp() }}", {}), int)
    assert 1 <= templates.render("{{ random_int(1, 3) }}", {}) <= 3


def test_undefined_variable_names_it(templates: Templates) -> None:
    with pytest.raises(TemplateError) as info:
        templates.render("{{ missing }}", {})
    assert info.value.name == "missing"
    assert "missing" in info.value.message


def test_unset_environment_variable_is_named(templates: Templates) -> None:
    with pytest.raises(TemplateError, match="environment variable NOPE is not set"):
        templates.render("{{ env.NOPE }}", {})


def test_default_filter_covers_unset_environment_variable(templates: Templates) -> None:
    assert templates.render("{{ env.NOPE | default('x') }}", {}) == "x"


def test_syntax_error(templates: Templates) -> None:
    with pytest.raises(TemplateError, match="syntax"):
        templates.render("{{ oops", {})


def test_names_excludes_helpers(templates: Templates) -> None:
    assert templates.names("{{ a }} {{ env.X }} {{ uuid4() }} {{ b | tojson }}") == {"a", "b"}


def test_env_names(templates: Templates) -> None:
    assert templates.env_names("{{ env.A }} {{ env['B'] }} {{ other.C }}") == {"A", "B"}


@pytest.mark.parametrize(
    "source",
    ["{{ ''.__class__.__mro__ }}", "{{ n.__class__.__subclasses__() }}", "{{ env._environ }}", "{{ cycler.__init__.__globals__ }}"],
    ids=["mro", "subclasses", "private-attribute", "globals"],
)
def test_sandbox_blocks_internals(templates: Templates, source: str) -> None:
    with pytest.raises(TemplateError):
        templates.render(source, {"n": 1})


def test_bad_base64_is_a_template_error(templates: Templates) -> None:
    with pytest.raises(TemplateError, match="b64decode"):
        templates.render("{{ '***' | b64decode }}", {})


@pytest.mark.parametrize(
    ("template", "message"),
    [("{{ random_int(5, 1) }}", "random_int(a, b) needs a <= b, got 5 and 1"), ("{{ random_int('x', 2) }}", "random_int(a, b) takes two whole numbers, got str and int")],
    ids=["low-above-high", "not-a-number"],
)
def test_random_int_explains_bad_arguments(templates: Templates, template: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        templates.render(template, {})
    assert info.value.message == message


class _Obj:
    model = "from-an-attribute"


@pytest.mark.parametrize(
    ("source", "scope"),
    [
        ("{{ request.json.model }}", {"request": {"json": {"model": "m"}}}),
        ("{{ request.json.n }}", {"request": {"json": {"n": None}}}),
        ("{{ request.json }}", {"request": {"json": [1, {"a": 2}]}}),
        ("{{ request.json.items }}", {"request": {"json": {"items": 3}}}),  # dict's own method, as Jinja finds it
        ("{{ request.json.model }}", {"request": {"json": _Obj()}}),
        ("{{ env.HOME_REGION }}", {}),
        ("{{ env.HOME_REGION }}", {"env": {"HOME_REGION": "shadowed"}}),
        ("{{ request.json.model }}", {"request": {"json": {"model": "m"}}, "vector": len}),
    ],
    ids=["chain", "none", "list", "dict-method", "object", "helper", "shadowed-helper", "extra-names"],
)
def test_dotted_lookup_is_what_jinja_renders(templates: Templates, source: str, scope: dict) -> None:
    jinja = Templates(environ={"HOME_REGION": "eu"}).env.compile_expression(source.strip("{} "), undefined_to_none=False)
    expected = jinja(scope)
    got = templates.render(source, scope)
    assert got == expected or (callable(got) and got.__name__ == expected.__name__)


@pytest.mark.parametrize(
    ("source", "scope", "message"),
    [
        ("{{ request.json.model }}", {"request": {"json": {}}}, "'dict object' has no attribute 'model'"),
        ("{{ request.body.x }}", {"request": {"body": "text"}}, "'str object' has no attribute 'x'"),
        ("{{ request.json.model }}", {}, "'request' is undefined"),
        ("{{ request.json.model }}", {"request": {"json": None}}, "'None' has no attribute 'model'"),
    ],
    ids=["missing-key", "not-a-dict", "missing-name", "none"],
)
def test_dotted_lookup_fails_as_jinja_does(templates: Templates, source: str, scope: dict, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        templates.render(source, scope)
    assert caught.value.message == message
