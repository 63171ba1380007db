"""A secret typed on the command line (as a request name, a -k word, a path...) is masked in the error that quotes it.

The error comes before or after the secrets are known; either way the message goes
through the redactor once every secret the input holds has been read.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fault_servers import closed_port

CANARY = f"sk-typed-{uuid.uuid4().hex}"
ROWS = ["alpha-pass-0123", "zulu-word-9876"]  # secret column of a data file: nothing in common, shorter than 16


@pytest.fixture
def secret_project(write: Any, project: Path) -> Path:
    """A collection whose bearer token comes from the environment, and an environment file with a secret of its own."""
    write("env.yaml", f"secrets: [env_key]\nenv_key: {CANARY}x\n")
    write("rows.csv", "password,name\n" + "".join(f"{value},row {number}\n" for number, value in enumerate(ROWS)))
    (project / CANARY).write_text("a file named after the secret\n")
    return write("c.yaml", f"""
base_url: http://127.0.0.1:{closed_port()}
secrets: [token, password]
vars:
  token: "{{{{ env.TYPED_TOKEN }}}}"
requests:
  - name: get one
    url: /x
    auth: {{bearer: "{{{{ token }}}}"}}
""")


CASES = {
    "--request": (["run", "c.yaml", "--request", CANARY], "matches no request"),
    "--request inside": (["run", "c.yaml", "--request", f"the {CANARY} one"], "matches no request"),
    "-k word": (["run", "c.yaml", "-k", CANARY], "selects no request"),
    "-k phrase": (["run", "c.yaml", "-k", f'"{CANARY}" and get'], "selects no request"),
    "-k syntax": (["run", "c.yaml", "-k", f"({CANARY}"], "ends too early"),
    "-k with --request": (["run", "c.yaml", "--request", "get one", "-k", CANARY], "selects no request"),
    "--var": (["run", "c.yaml", "--var", f"not-a-name={CANARY}"], "expected NAME=VALUE"),
    "--report format": (["run", "c.yaml", "--report", f"{CANARY}:r.xml"], "unknown format"),
    "--report path": (["run", "c.yaml", "--report", f"junit:{CANARY}/r.xml"], "not a folder"),
    "--shard": (["run", "c.yaml", "--shard", CANARY], "expected K/N"),
    "--rate": (["run", "c.yaml", "--rate", CANARY], "not a rate"),
    "--data": (["run", "c.yaml", "--data", CANARY], "data file"),
    "show --request": (["show", "c.yaml", "--request", CANARY], "no request named"),
    "validate --var": (["validate", "c.yaml", "--var", f"x-{CANARY}"], "expected NAME=VALUE"),
    "env secret": (["run", "c.yaml", "-e", "env.yaml", "--request", f"{CANARY}x"], "matches no request"),
}


@pytest.mark.parametrize("args, expected", list(CASES.values()), ids=list(CASES))
def test_a_secret_typed_on_the_command_line_is_masked_in_the_error(run_cli: Any, secret_project: Path, project: Path, args: list[str], expected: str) -> None:
    result = run_cli(*args, cwd=project, env={"TYPED_TOKEN": CANARY})
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "****" in result.output
    assert CANARY not in result.output and CANARY[:20] not in result.output


@pytest.mark.parametrize("row", ROWS, ids=["first-row", "another-row"])
def test_a_data_row_secret_typed_as_a_request_name_is_masked(run_cli: Any, secret_project: Path, project: Path, row: str) -> None:
    result = run_cli("run", "c.yaml", "--data", "rows.csv", "--request", row, cwd=project, env={"TYPED_TOKEN": CANARY})
    assert result.exit_code == 2
    assert "--request '****' matches no request" in result.output
    assert row not in result.output


def test_a_name_that_is_no_secret_is_shown(run_cli: Any, secret_project: Path, project: Path) -> None:
    result = run_cli("run", "c.yaml", "--request", "get on", cwd=project, env={"TYPED_TOKEN": CANARY})
    assert result.exit_code == 2
    assert "--request 'get on' matches no request; did you mean 'get one'?" in result.output
