"""The docs run: every fenced example of README.md and docs/*.md marked runnable is run in CI.

Mark a block by adding ``runnable`` to its info string (GitHub still highlights by
the first word)::

    ```yaml runnable              a whole collection: `runner run FILE --mock` exits 0
    ```yaml runnable=validate     a whole collection: `runner validate FILE --mock` exits 0
    ```yaml runnable=error        a collection that `runner validate FILE --mock` rejects (exit 2, nothing sent)
    ```yaml runnable=env          an environment file: `runner validate collections/models.yaml --mock -e FILE` exits 0
    ```yaml runnable=requests     a list of requests (`- name: ...`): wrapped in a collection whose
                                  vars are WRAPPER_VARS, `runner validate FILE --mock` exits 0
    ```sh runnable                every `runner ...` command in it exits 0 (other commands, `pip`, `export`, are not run)

A YAML block is saved as ``collections/_doc_example.yaml`` of a copy of the
repository (collections, schemas, environments), so ``../schemas/...`` resolves as
in a real collection; shell commands run from the copy's root, in-process, each
with the exit code it must have (0, or ``# exit N`` at the end of the line).
Blocks without the marker (fragments, output, the real-API recipes) are not run.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass
class Example:
    """One runnable block: where it is, its language, its mode and its text."""

    file: Path
    line: int
    language: str
    mode: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line}"


def find_examples(path: Path) -> list[Example]:
    """Every block of ``path`` whose info string carries ``runnable`` (or ``runnable=MODE``)."""
    text = path.read_text(encoding="utf-8")
    out = []
    for match in FENCE.finditer(text):
        words = match.group("info").split()
        marker = next((word for word in words[1:] if word == "runnable" or word.startswith("runnable=")), None)
        if not words or marker is None:
            continue
        mode = marker.partition("=")[2] or ("run" if words[0] == "yaml" else "ok")
        body = "\n".join(line[len(match.group("indent")):] for line in match.group("body").splitlines())
        out.append(Example(path, text[: match.start()].count("\n") + 1, words[0], mode, body + "\n"))
    return out


# the variables the docs' request fragments use, defined by the collection a fragment is wrapped in
WRAPPER_VARS = {"model": "mistral-small-latest", "api_key": "mock-key", "run_slow": False}
ENV = {"MISTRAL_API_KEY": "sk-docs-example-key"}  # an environment file of the docs may read it

EXAMPLES = [example for path in DOCS for example in find_examples(path)]


def runner_commands(text: str) -> list[tuple[list[str], int]]:
    """The ``runner`` commands of a shell block (``$`` prompts, ``\\`` continuations, ``&&`` chains), each with its exit code."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip().removeprefix("$ ")
        code = 0
        marked = re.search(r"#\s*exit (\d+)\s*$", line)
        if marked:
            code = int(marked.group(1))
        for part in re.split(r"\s*&&\s*", line):
            words = shlex.split(part, comments=True)
            if words and words[0] == "runner":
                commands.append((words[1:], code))
    return commands


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parts of the repository the examples read, copied: an example can never change the real ones."""
    root = tmp_path_factory.mktemp("repo")
    for name in ("collections", "schemas", "environments"):
        shutil.copytree(REPO / name, root / name)
    (root / "pyproject.toml").write_text("")
    return root


def test_the_examples_are_found() -> None:
    """A typo in the marker must not silently turn the docs test off."""
    assert len(EXAMPLES) >= 8
    assert {example.file.name for example in EXAMPLES} >= {"README.md", "format.md"}
    for path in DOCS:
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```") and "runnab" in line:
                assert re.search(r"```\w+ runnable(=(run|validate|error|env|requests|ok))?\s*$", line.strip()), f"{path.name}:{line_number}: unknown marker {line.strip()!r}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_example_runs(example: Example, repo_copy: Path, run_cli: Any) -> None:
    where = f"{example.id} (a runnable {example.language} block)"
    if example.language == "yaml":
        target = repo_copy / "collections" / "_doc_example.yaml"
        text = example.text
        if example.mode == "requests":
            indented = "".join(f"  {line}\n" for line in text.splitlines())
            text = f"name: docs example\nbase_url: '{{{{ base_url }}}}'\nvars: {json.dumps(WRAPPER_VARS)}\nrequests:\n{indented}"
        target.write_text(text, encoding="utf-8")
        try:
            if example.mode == "env":
                result = run_cli("validate", "collections/models.yaml", "--mock", "-e", str(target), cwd=repo_copy, env=ENV)
            else:
                result = run_cli("run" if example.mode == "run" else "validate", str(target), "--mock", cwd=repo_copy, env=ENV)
        finally:
            target.unlink()
        expected = 2 if example.mode == "error" else 0
        assert result.exit_code == expected, f"{where}: exit {result.exit_code}, expected {expected}\n{result.output}"
        assert result.exception is None and "Traceback" not in result.output
        return
    assert example.language in ("sh", "bash", "console"), f"{where}: only yaml and sh blocks can be runnable"
    commands = runner_commands(example.text)
    assert commands, f"{where}: no runner command in it"
    for args, code in commands:
        assert "mock" != args[0], f"{where}: `runner mock` serves until Ctrl-C; leave its block unmarked"
        result = run_cli(*args, cwd=repo_copy, env=ENV)
        assert result.exit_code == code, f"{where}: `runner {shlex.join(args)}` exited {result.exit_code}, expected {code}\n{result.output}"
        assert result.exception is None and "Traceback" not in result.output
