"""Fuzzing the input layers: whatever the text, the result is data or a clean input error.

Arbitrary strings, YAML-looking text and collection-shaped documents go through
``parse_yaml``, ``load_collection``, the template layer and ``runner validate``.
The only exceptions allowed out are ``InputError`` / ``UsageError`` (exit 2) and,
from the template layer, ``TemplateError``.  Budgets are bounded so the suite stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import InputError, RunnerError
from runner.loader import load_collection
from runner.model import CollectionSpec
from runner.source import parse_yaml
from runner.templating import TemplateError, Templates

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Pieces YAML and the format care about, so random text often reaches the deeper code paths.
YAML_TOKENS = [
    "name: ", "requests:", "\n", "\n  ", "\n    ", "- ", ": ", "url: ", "method: ", "expect:", "status: ", "json:",
    "capture:", "retries: ", "auth:", "bearer: ", "vars:", "{", "}", "[", "]", ",", "'", '"', "&a ", "*a", "<<: ",
    "!!python/object/apply:os.system ", "!!int ", "!!binary ", "!custom ", "? ", "|", ">", "#", "\t", "yes", "1.10",
    "{{ x }}", "{{", "}}", "{%", "%}", "$.a[0]", "2xx", "null", "~", "---", "...", "%YAML 1.1\n", "\x00", "\ufeff", "é",
]
TEMPLATE_TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", " ", "x", "env", ".", "HOME", "[", "]", "(", ")", "'", '"', "|", "tojson",
    "b64decode", "b64encode", "int", "uuid4()", "now()", "timestamp()", "random_int(1, 2)", "random_int", "__class__",
    "__mro__", "__globals__", "lipsum", "cycler", "range(5)", "for", "in", "endfor", "if", "else", "endif", "set", "=",
    "1", "0", "-", "*", "/", "//", "%", "~", "+", "None", "true", "default", "loop", "self", "include", "import",
]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["{{ x }}", "{{ env.HOME }}", "{{ x | int }}", "{{ nope }}", "$.a", "2xx", "GET", "/v1/x", "http://127.0.0.1:9/"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
REQUEST_KEYS = ["method", "params", "headers", "auth", "json", "form", "multipart", "body", "timeout", "follow_redirects",
                "max_redirects", "max_response_bytes", "retries", "skip", "tags", "expect", "capture", "example", "stream", "description"]
COLLECTION_KEYS = ["description", "vars", "base_url", "auth", "headers", "params", "timeout", "retries", "verify", "client_cert", "secrets",
                   "max_response_bytes", "max_redirects", "follow_redirects"]
REQUESTS = st.lists(
    st.fixed_dictionaries({"name": st.text(min_size=1, max_size=8), "url": VALUES}, optional={key: VALUES for key in REQUEST_KEYS}),
    max_size=3,
)
COLLECTIONS = st.fixed_dictionaries({"name": VALUES, "requests": REQUESTS | VALUES}, optional={key: VALUES for key in COLLECTION_KEYS})


def _check_parse(text: str) -> None:
    try:
        parse_yaml(text, "fuzz.yaml")
    except InputError as error:
        assert error.problems and error.format()


def _check_load(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_collection(path), CollectionSpec)
    except InputError as error:
        assert error.problems and error.format()


@FUZZ
@given(st.text(max_size=300))
def test_any_text_parses_or_is_an_input_error(text: str) -> None:
    _check_parse(text)


@FUZZ
@given(st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=5), max_size=40).map("".join))
def test_yaml_looking_text_parses_or_is_an_input_error(text: str) -> None:
    _check_parse(text)


@FUZZ
@given(st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=5), max_size=40).map("".join))
def test_yaml_looking_collections_load_or_are_an_input_error(tmp_path: Path, text: str) -> None:
    _check_load(tmp_path / "c.yaml", text)


@FUZZ
@given(COLLECTIONS)
def test_collection_shaped_documents_load_or_are_an_input_error(tmp_path: Path, document: dict[str, Any]) -> None:
    _check_load(tmp_path / "c.yaml", yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


@FUZZ
@given(st.lists(st.sampled_from(TEMPLATE_TOKENS) | st.text(max_size=4), max_size=20).map("".join), VALUES)
def test_templates_render_or_raise_a_template_error(source: str, x: Any) -> None:
    templates = Templates({"HOME": "/home/me"})
    try:
        templates.names(source)
        templates.render(source, {"x": x})
    except TemplateError as error:
        assert error.message


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(COLLECTIONS)
def test_validate_exits_0_or_2_and_never_shows_a_traceback(run_cli: Any, tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_input_errors_are_runner_errors() -> None:
    """The fuzz tests accept ``InputError``: it must be the exit-2 kind the CLI reports cleanly."""
    assert issubclass(InputError, RunnerError) and InputError("x").exit_code == 2
