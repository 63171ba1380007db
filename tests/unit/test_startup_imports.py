"""Start-up: ``runner --help`` and ``--version`` import nothing heavy; a run imports only what it uses.

Each check runs a fresh interpreter and lists the modules it loaded: a real,
deterministic check (no timing; speed is measured in bench/).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["httpx", "jsonschema", "rich", "jinja2", "yaml", "referencing", "jsonpath_rfc9535"]


def _loaded(code: str) -> list[str]:
    """The top-level packages of ``HEAVY`` that a fresh interpreter has imported after running ``code``."""
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_nothing_heavy() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", f"import runner.cli, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["run", "--help"], ["validate", "--help"]], ids=["help", "version", "run-help", "validate-help"])
def test_help_and_version_load_nothing_heavy(args: list[str]) -> None:
    code = f"from runner.cli import main\ntry:\n    main({args!r})\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code"
    assert _loaded(code) == []


def test_httpx_comes_without_its_command_line_tool() -> None:
    """httpx would load its CLI (rich, pygments) because rich and click are installed; the runner keeps it out."""
    code = "import runner.http, sys\nassert 'httpx._main' not in sys.modules and 'pygments' not in sys.modules, sorted(sys.modules)"
    assert _loaded(code) == ["httpx"]


def test_plain_variable_templates_do_not_load_jinja() -> None:
    code = (
        "from runner.templating import Templates\n"
        "t = Templates({})\n"
        "assert t.render({'n': '{{ n }}', 'url': 'plain text'}, {'n': 5}) == {'n': 5, 'url': 'plain text'}\n"
        "assert t.names('{{ n }}') == {'n'} and t.names('no template') == frozenset()\n"
    )
    assert "jinja2" not in _loaded(code)


def test_any_other_template_loads_jinja() -> None:
    code = "from runner.templating import Templates\nassert Templates({}).render('{{ n + 1 }}', {'n': 1}) == 2\n"
    assert "jinja2" in _loaded(code)


@pytest.mark.parametrize(
    ("name", "scope"),
    [("n", {"n": 5}), ("n", {"n": {"a": [1, None]}}), ("n", {"n": ""}), ("missing", {}), ("env", {}), ("env", {"env": "mine"}), ("true", {"true": 1})],
    ids=["int", "nested", "empty", "undefined", "helper", "variable-beats-helper", "literal"],
)
def test_the_plain_lookup_renders_as_jinja_does(name: str, scope: dict) -> None:
    """``{{ name }}`` skips Jinja; ``{{ (name) }}`` goes through it: same value, or the same error."""
    from runner.templating import TemplateError, Templates

    templates = Templates({})

    def outcome(source: str) -> object:
        try:
            value = templates.render(source, scope)
        except TemplateError as exc:
            return ("error", exc.message, exc.name)
        return ("value", repr(value))

    assert outcome(f"{{{{ {name} }}}}") == outcome(f"{{{{ ({name}) }}}}")
