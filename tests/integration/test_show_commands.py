"""``runner show --format curl|httpie|python``: the printed commands run, send what the runner sends, and run nothing else.

Each generated command is executed for real (``sh -c`` for curl and HTTPie, the
Python interpreter for the httpx code) against a loopback capture server, and
what arrives is compared with what ``runner run`` itself sends for the same
collection.  The values are hostile: quotes, ``$(...)``, backticks, ``;``, ``#``,
``!``, backslashes, newlines, curl's ``@file`` and ``<file`` forms.  Every
``touch`` they hold would create a canary file: none may exist afterwards.  The
secret comes from the environment and must print as a reference to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

HEADER = "it's \"q\" $(touch PWNED_1) `touch PWNED_2` ; touch PWNED_3 # !x \\ %s ${IFS} \\$ =@:"
HOSTILE = HEADER + " é"  # headers are ASCII
# a body may also hold what a terminal obeys, and lines GitHub Actions would read as workflow commands
BODY = HOSTILE + "\x1b[31m\x07\r\n::stop-commands::tok\n  ##[error]forged\x9b\u202e\x7f\n"
KEY = "sk-$(touch PWNED_env)`touch PWNED_env2`!;x'"  # no '"' or '\\': a JSON body holds those escaped, then it is ****
REQUESTS: list[dict[str, Any]] = [
    {"name": "method and path", "method": "GET'", "url": "/x$(touch${IFS}PWNED_4)';touch PWNED_5'", "params": {"q": HOSTILE},
     "headers": {"X-Hostile": HEADER, "X-Empty": "", "Authorization": "Bearer {{ key }}", "X-Eq": "=@/etc/passwd"}},
    {"name": "raw body", "method": "POST", "url": "/raw", "body": BODY + "line two\n'\n", "headers": {"X-Starts": "@secret.txt"}},
    {"name": "json body", "method": "PUT", "url": "/json", "json": {"k": BODY, "key": "{{ key }}"}},
    {"name": "form", "method": "POST", "url": "/form", "form": {"a": BODY, "b": "@secret.txt"}},
    {"name": "multipart", "method": "POST", "url": "/upload", "multipart": {"text": "@secret.txt", "controls": BODY, "other": "<secret.txt", "file": {"file": "data/up.txt"}}},
    {"name": "typed parts", "method": "POST", "url": "/typed", "multipart": {"meta": {"value": BODY + '{"a": 1}', "content_type": "application/json"}, "named": {"value": "hello", "filename": "h.txt", "content_type": "text/csv"}, "plain": "x"}},
    {"name": "basic", "url": "/basic", "auth": {"basic": {"username": "me", "password": "{{ key }}"}}},
]
COMPARED_HEADERS = ("X-Hostile", "X-Empty", "Authorization", "X-Eq", "X-Starts", "Content-Type")
HTTPIE = Path(sys.executable).with_name("http")


def arrived(entry: Request) -> dict[str, Any]:
    """What a request brought to the capture server, in a form two clients can be compared by."""
    data: dict[str, Any] = {
        "method": entry.method,
        "target": entry.environ["REQUEST_URI"],
        "headers": {name: entry.headers.get(name) for name in COMPARED_HEADERS},
    }
    if entry.mimetype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {entry.headers['Content-Type']}\r\n\r\n".encode() + entry.get_data())  # cached: the form is parsed from it too
        data["part_types"] = sorted((part.get_param("name", header="content-disposition"), part.get("content-type")) for part in message.iter_parts())
        data["headers"].pop("Content-Type")  # the boundary differs
        data["form"] = sorted(entry.form.items(multi=True))
        data["files"] = sorted((name, f.filename, f.mimetype, f.read()) for name, f in entry.files.items(multi=True))
        for upload in entry.files.values():
            upload.close()
    else:
        data["body"] = entry.get_data()
    return data


@pytest.fixture
def hostile(write: Any, project: Path, httpserver: HTTPServer) -> Path:
    httpserver.expect_request("").respond_with_data("ok")
    write("secret.txt", "LOCAL FILE CONTENT")
    write("data/up.txt", "uploaded")
    document = {"name": "hostile", "base_url": httpserver.url_for(""), "vars": {"key": "{{ env.RUNNER_KEY }}"}, "secrets": ["key"], "requests": REQUESTS}
    return write("hostile.yaml", json.dumps(document, indent=1))  # \u escapes: YAML takes no raw control character


def run_command(kind: str, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "RUNNER_KEY": KEY, "HOME": str(cwd)}
    if kind == "python":
        return subprocess.run([sys.executable, "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    if kind == "httpie":
        command = command.replace("http --ignore-stdin", f"{HTTPIE} --ignore-stdin", 1)
    return subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", ["curl", "httpie", "python"])
def test_printed_commands_send_what_the_runner_sends_and_run_nothing_else(run_cli: Any, hostile: Path, project: Path, httpserver: HTTPServer, kind: str) -> None:
    assert shutil.which("curl") and HTTPIE.exists(), "curl and httpie (the test extra) run the printed commands"
    result = run_cli("run", str(hostile), cwd=project, env={"RUNNER_KEY": KEY})
    assert result.exit_code == 0, result.output
    expected = [arrived(entry) for entry, _ in httpserver.log]
    assert len(expected) == len(REQUESTS)
    httpserver.clear_log()
    compared = 0
    for request, wanted in zip(REQUESTS, expected):
        shown = run_cli("show", str(hostile), "--request", request["name"], "--format", kind, cwd=project, env={"RUNNER_KEY": KEY})
        if kind == "httpie" and (request.get("method") == "GET'" or request["name"] == "typed parts"):  # HTTPie reads a method that is not letters as the URL, sends no typed text part
            assert shown.exit_code == 2 and "use --format curl" in shown.stderr
            continue
        assert shown.exit_code == 0, shown.output
        assert KEY not in shown.output and "touch PWNED_env" not in shown.output
        if "key" in json.dumps(request):
            assert ('os.environ[' if kind == "python" else "$RUNNER_KEY") in shown.stdout
        assert not any(char in shown.stdout for char in "\x1b\x07\r\x9b\u202e\x7f"), "a control character printed raw"
        assert not [line for line in shown.stdout.splitlines() if line.lstrip().startswith(("::", "##["))]
        done = run_command(kind, shown.stdout, project)
        assert done.returncode == 0, done.stderr
        (entry, _), = httpserver.log
        httpserver.clear_log()
        assert arrived(entry) == wanted, f"{kind}: {request['name']}"
        compared += 1
    assert compared == len(REQUESTS) - 2 * (kind == "httpie")
    assert not list(project.glob("PWNED*")), "a printed command ran code"


def test_a_secret_not_from_the_environment_prints_masked(run_cli: Any, write: Any, project: Path) -> None:
    path = write("c.yaml", 'name: t\nvars: {key: sk-not-from-env-123}\nsecrets: [key]\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n    headers: {X-Key: "k={{ key }}"}\n')
    for kind in ("curl", "httpie", "python"):
        shown = run_cli("show", str(path), "--format", kind, cwd=project)
        assert shown.exit_code == 0, shown.output
        assert "sk-not-from-env" not in shown.output and "=****" in shown.stdout.replace("\\=", "=")

