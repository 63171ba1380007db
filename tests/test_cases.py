"""Golden cases: each folder of tests/cases holds a collection, the exact output users see and the exit code.

A case passes ``--var base_url=`` pointing at a server the test starts; for every
exit-2 case that server must have received nothing.  Timings and the server's port
are normalised.  Regenerate the expected files with ``RUNNER_UPDATE_GOLDEN=1``
(and read the diff before committing it).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CASES = Path(__file__).parent / "cases"
NAMES = sorted(path.name for path in CASES.iterdir() if path.is_dir())
UPDATE = bool(os.environ.get("RUNNER_UPDATE_GOLDEN"))  # read before the autouse fixture clears the environment


def _normalise(text: str, port: int) -> str:
    text = text.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT").replace(f"localhost:{port}", "localhost:PORT")
    text = re.sub(r"\b\d+ ms\b", "N ms", text)
    text = re.sub(r"in \d+\.\d+ s\b", "in N s", text)
    text = re.sub(r"^(date|server): .*$", r"\1: X", text, flags=re.MULTILINE)
    return text


def _fail_handler(request: Request) -> Response:
    body = {"choices": [{"message": {"role": "user"}}], "usage": {"total_tokens": 0}}
    return Response(json.dumps(body), status=500, content_type="text/plain")


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, run_cli, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES / name
    httpserver.expect_request("/fail").respond_with_handler(_fail_handler)
    args_file = case / "args"
    extra = args_file.read_text().split() if args_file.exists() else []
    result = run_cli("run", "collection.yaml", "--var", f"base_url={httpserver.url_for('')}".rstrip("/"), *extra, cwd=case)
    assert result.exception is None, result.exception
    stdout = _normalise(result.stdout, httpserver.port)
    stderr = _normalise(result.stderr, httpserver.port)
    code_file = case / "exit-code"
    if UPDATE:
        (case / "expected-stdout.txt").write_text(stdout)
        (case / "expected-stderr.txt").write_text(stderr)
    expected_code = int(code_file.read_text()) if code_file.exists() else 2
    assert result.exit_code == expected_code, result.output
    assert stdout == (case / "expected-stdout.txt").read_text()
    assert stderr == (case / "expected-stderr.txt").read_text()
    if expected_code == 2:
        assert len(httpserver.log) == 0, "an invalid input must not send anything"
    assert "Traceback" not in result.output
