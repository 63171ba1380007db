"""What an untrusted collection can reach: no Python objects from YAML, no Python internals,
files or process from templates beyond ``env`` and the helpers, no schema outside the project.

Every attempt fails with a clear error: exit 2 (nothing sent) or a request that
errors with its cause, never a traceback.  Nothing here opens a socket: every
request either is refused before sending or points at nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.templating import TemplateError, Templates

ESCAPES = [
    pytest.param("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe", id="str-class-mro"),
    pytest.param("{{ (1).__class__.__base__.__subclasses__() }}", "access to attribute '__class__' of 'int' object is unsafe", id="subclasses"),
    pytest.param("{{ cycler.__init__.__globals__.os }}", "access to attribute '__init__'", id="cycler-globals"),
    pytest.param("{{ lipsum.__globals__['os'].environ }}", "access to attribute '__globals__'", id="lipsum-globals"),
    pytest.param("{{ uuid4.__globals__ }}", "access to attribute '__globals__'", id="helper-globals"),
    pytest.param("{{ random_int.__code__ }}", "access to attribute '__code__'", id="helper-code"),
    pytest.param("{{ '{0.__class__}'.format(1) }}", "access to attribute '__class__'", id="str-format"),
    pytest.param("{{ self._TemplateReference__context }}", "is unsafe", id="template-context"),
    pytest.param("{{ env._environ }}", "environment variable _environ is not set", id="env-private"),
    pytest.param("{{ env.__class__ }}", "environment variable __class__ is not set", id="env-class"),
    pytest.param("{{ range(10**7) | list }}", "Range too big", id="huge-range"),
    pytest.param("{% include '/etc/passwd' %}", "no loader", id="include-file"),
    pytest.param("{% import 'os' as os %}{{ os }}", "no loader", id="import-module"),
    pytest.param("{% extends 'base.html' %}", "no loader", id="extends-file"),
]


@pytest.mark.parametrize(("source", "message"), ESCAPES)
def test_a_template_cannot_reach_python_files_or_the_process(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Templates({"HOME": "/home/me"}).render(source, {})
    assert message in caught.value.message


@pytest.mark.parametrize(
    "source",
    [pytest.param("{{ open }}", id="open"), pytest.param("{{ os }}", id="os"), pytest.param("{{ __import__ }}", id="import"), pytest.param("{{ config }}", id="config")],
)
def test_python_builtins_are_not_template_names(source: str) -> None:
    with pytest.raises(TemplateError, match="is undefined"):
        Templates({}).render(source, {})


def test_env_and_the_helpers_are_what_templates_get() -> None:
    templates = Templates({"TOKEN": "t0k"})
    assert templates.render("{{ env.TOKEN }}-{{ env['TOKEN'] }}", {}) == "t0k-t0k"
    assert isinstance(templates.render("{{ random_int(1, 3) }}", {}), int)
    assert templates.render("{{ 'a:b' | b64encode | b64decode }}", {}) == "a:b"


def _collection(write: Any, url: str, vars_yaml: str = "") -> Path:
    return write("c.yaml", f'name: t\n{vars_yaml}requests:\n  - name: a\n    url: "{url}"\n')


def test_an_escape_in_a_url_is_an_input_error_before_sending(run_cli: Any, write: Any) -> None:
    result = run_cli("run", str(_collection(write, "http://127.0.0.1:9/{{ ''.__class__.__mro__ }}")))
    assert result.exit_code == 2
    assert "cannot be rendered: template error: access to attribute '__class__' of 'str' object is unsafe" in result.stderr
    assert "Traceback" not in result.output


def test_an_escape_that_needs_a_captured_value_fails_its_request(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", """name: t
requests:
  - name: first
    url: "http://127.0.0.1:9/"
    capture: {v: $.x}
  - name: a
    url: "http://127.0.0.1:9/{{ v.__class__.__mro__ }}"
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_an_escape_in_a_variable_is_an_input_error(run_cli: Any, write: Any) -> None:
    path = _collection(write, "http://127.0.0.1:9/{{ x }}", "vars:\n  x: \"{{ cycler.__init__.__globals__.os.environ }}\"\n")
    for command in ("validate", "run"):
        result = run_cli(command, str(path))
        assert result.exit_code == 2
        assert "variable 'x' (collection vars): template error: access to attribute '__init__'" in result.stderr
        assert "Traceback" not in result.output


def test_a_template_cannot_read_a_file(run_cli: Any, write: Any, project: Path) -> None:
    (project / "secret.txt").write_text("FILECANARY", encoding="utf-8")
    included = run_cli("run", str(_collection(write, "http://127.0.0.1:9/{% include 'secret.txt' %}")))
    assert included.exit_code == 2  # found before sending: the request needs no captured value
    assert "cannot be rendered: template error" in included.stderr
    opened = run_cli("run", str(_collection(write, "http://127.0.0.1:9/{{ open('secret.txt').read() }}")))
    assert opened.exit_code == 2
    assert "undefined variable 'open'" in opened.stderr
    for result in (included, opened):
        assert "FILECANARY" not in result.output
        assert "Traceback" not in result.output


def test_an_environment_variable_that_is_not_set_is_an_input_error(run_cli: Any, write: Any) -> None:
    result = run_cli("run", str(_collection(write, "http://127.0.0.1:9/{{ env.RUNNER_NOT_SET }}")))
    assert result.exit_code == 2
    assert "environment variable RUNNER_NOT_SET is not set" in result.stderr


def test_the_environment_is_reachable_only_through_env(run_cli: Any, write: Any) -> None:
    path = _collection(write, "http://127.0.0.1:9/{{ lipsum.__globals__.os.environ.RUNNER_CANARY }}")
    result = run_cli("run", str(path), env={"RUNNER_CANARY": "ENVCANARY"})
    assert result.exit_code == 2
    assert "access to attribute '__globals__'" in result.stderr
    assert "ENVCANARY" not in result.output


# -- YAML: plain data only -----------------------------------------------------------------------

UNSAFE_YAML = [
    pytest.param('!!python/object/apply:os.system ["touch {marker}"]', "unsupported YAML tag !!python/object/apply:os.system", id="apply"),
    pytest.param("!!python/object:os.system {{a: 1}}", "unsupported YAML tag !!python/object:os.system", id="object"),
    pytest.param('!!python/name:os.system ""', "unsupported YAML tag !!python/name:os.system", id="name"),
    pytest.param("!!python/module:os ''", "unsupported YAML tag !!python/module:os", id="module"),
    pytest.param("!custom 5", "unsupported YAML tag !custom", id="custom"),
]


@pytest.mark.parametrize(("value", "message"), UNSAFE_YAML)
def test_python_yaml_tags_are_an_error_not_an_object(run_cli: Any, write: Any, project: Path, value: str, message: str) -> None:
    marker = project / "marker"
    value = value.format(marker=marker)
    collection = write("c.yaml", f"name: t\nvars:\n  x: {value}\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n")
    environment = write("env.yaml", f"x: {value}\n")
    write("schema.yaml", f"type: object\nx: {value}\n")
    with_schema = write("s.yaml", "name: t\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n    expect:\n      schema: schema.yaml\n")
    for args in (["validate", str(collection)], ["run", str(collection)], ["validate", str(with_schema), "-e", str(environment)], ["validate", str(with_schema)]):
        result = run_cli(*args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert message in run_cli("validate", str(collection)).stderr
    assert message in run_cli("validate", str(with_schema), "-e", str(environment)).stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("!!int twelve", "'twelve' is not a valid !!int value", id="int"),
        pytest.param("!!float x", "'x' is not a valid !!float value", id="float"),
        pytest.param("!!bool maybe", "'maybe' is not a valid !!bool value", id="bool"),
        pytest.param("!!timestamp someday", "'someday' is not a valid !!timestamp value", id="timestamp"),
        pytest.param("{<<: 5}", "invalid merge key (<<)", id="merge"),
    ],
)
def test_an_explicit_tag_that_does_not_fit_its_value(run_cli: Any, write: Any, value: str, message: str) -> None:
    path = write("c.yaml", f"name: t\nvars:\n  x: {value}\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "c.yaml:3:" in result.stderr


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(_alias_bomb(), "YAML aliases expand to more than 100000 values", id="billion-laughs"),
        pytest.param("loop: &loop [*loop]\n", "nests more than 100 levels deep", id="recursive-alias"),
        pytest.param("deep: " + "[" * 500 + "]" * 500 + "\n", "nests more than 100 levels deep", id="deep-nesting"),
    ],
)
def test_yaml_that_would_explode_is_refused(run_cli: Any, write: Any, document: str, message: str) -> None:
    path = write("c.yaml", f"name: t\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\nvars:\n  {document.replace(chr(10), chr(10) + '  ')}")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


# -- schema references stay in the project ---------------------------------------------------


def _schema_collection(write: Any, schema: str) -> Path:
    return write("c/c.yaml", f"name: t\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n    expect:\n      schema: {schema}\n")


def test_a_schema_ref_cannot_climb_out_of_the_project(run_cli: Any, write: Any, project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "outside.json"
    outside.write_text('{"type": "object"}', encoding="utf-8")
    relative = os.path.relpath(outside, project / "c" / "schemas")
    write("c/schemas/climb.json", f'{{"$ref": "{relative}"}}')
    path = _schema_collection(write, "schemas/climb.json")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert f"is outside the project folder {project}" in result.stderr
    assert "--allow-outside-refs" in result.stderr
    allowed = run_cli("validate", str(path), "--allow-outside-refs")
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        pytest.param("file:///etc/passwd", "/etc/passwd is outside the project folder", id="file-url"),
        pytest.param("/etc/passwd", "/etc/passwd is outside the project folder", id="absolute-path"),
        pytest.param("https://json.example/schema.json", "https://json.example/schema.json is not a local file", id="https"),
        pytest.param("missing.json", "no such file", id="missing"),
    ],
)
def test_a_schema_ref_that_is_not_a_project_file(run_cli: Any, write: Any, ref: str, message: str) -> None:
    write("c/schemas/s.json", f'{{"properties": {{"a": {{"$ref": "{ref}"}}}}}}')
    result = run_cli("validate", str(_schema_collection(write, "schemas/s.json")))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_symlink_out_of_the_project_is_outside(run_cli: Any, write: Any, project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "outside.json"
    outside.write_text('{"type": "object"}', encoding="utf-8")
    (project / "c").mkdir()
    (project / "c" / "linked.json").symlink_to(outside)
    result = run_cli("validate", str(_schema_collection(write, "linked.json")))
    assert result.exit_code == 2
    assert "is outside the project folder" in result.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("deep.json", '{"items": ' * 500 + "{}" + "}" * 500, id="json"),
        pytest.param("deep.yaml", "a: &a [*a]\n", id="yaml-recursive-alias"),
        pytest.param("tagged.yaml", "type: !!python/object/apply:os.getcwd []\n", id="yaml-python-tag"),
    ],
)
def test_a_schema_file_that_would_explode_is_an_input_error(run_cli: Any, write: Any, name: str, text: str) -> None:
    write(f"c/{name}", text)
    result = run_cli("validate", str(_schema_collection(write, name)))
    assert result.exit_code == 2
    assert f"schema {name} is not valid JSON or YAML" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
