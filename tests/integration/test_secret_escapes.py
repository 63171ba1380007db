"""Secrets that used to escape masking (issue 10, item 3), each over a real loopback server.

A canary that starts with ``Zq9`` (found nowhere else) is scanned in every
channel: stdout, stderr and every report file, in the forms it can take there
(upper and lower case, base64 alone and in ``user:secret``, percent-encoding,
JSON ``\\u`` escapes, HTML entities, shell quoting) and cut short: no three
characters of its start may appear.
"""

from __future__ import annotations

import base64
import html
import json
import shlex
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from fault_servers import Connection, serve
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from runner.reports import FORMATS

CANARY = f"Zq9{uuid.uuid4().hex}"
WIDE = f"Zq9\u00e9\u00e9\u00f1\u00fc{uuid.uuid4().hex[:12]}"  # non-ASCII: several bytes a character


def leak_forms(secret: str) -> set[str]:
    """The forms a secret could leak in, and the start of it (3 characters) that a cut would leave."""
    forms = {secret, secret.lower(), secret.upper(), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1], html.escape(secret), shlex.quote(secret)}
    forms |= {base64.b64encode(secret.encode()).decode()[:8], base64.b64encode(f"me:{secret}".encode()).decode()[:12]}
    return forms | {secret[:3], secret[:3].lower()}


def assert_no_leak(text: str, secret: str, channel: str) -> None:
    for form in leak_forms(secret):
        assert form not in text, f"{form!r} of the secret leaked into {channel}"


def run_everywhere(run_cli: Any, project: Path, path: Path, secret: str, *extra: str, env: dict[str, str] | None = None) -> list[Any]:
    """Run (plain, -v, every report) and show (every format); scan each output and each report for the secret."""
    results = []
    reports = {fmt: project / f"report.{fmt}" for fmt in FORMATS}
    report_args = [arg for fmt, target in reports.items() for arg in ("--report", f"{fmt}:{target}")]
    for args in (["run", str(path), *extra, *report_args], ["run", str(path), "-v", *extra]):
        for target in reports.values():
            target.unlink(missing_ok=True)
        result = run_cli(*args, cwd=project, env=env)
        results.append(result)
        assert "Traceback" not in result.output
        assert_no_leak(result.output, secret, " ".join(args[:1] + args[2:4]))
        for fmt, target in reports.items():
            if target.exists():
                assert_no_leak(target.read_text(encoding="utf-8"), secret, f"the {fmt} report")
    for fmt in ("http", "curl", "httpie", "python"):
        shown = run_cli("show", str(path), "--format", fmt, *extra, cwd=project, env=env)
        assert_no_leak(shown.output, secret, f"show --format {fmt}")
    return results


def test_a_message_cut_before_a_parenthesis_masks_the_cut_secret(run_cli: Any, write: Any, project: Path) -> None:
    def garbage_echo(conn: Connection) -> None:
        head = conn.read_request().decode("latin-1")
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("x-key:"))
        conn.send((key * 20 + "\r\n\r\n").encode())  # not HTTP: the error quotes it, cut short inside some copy of the key

    with serve(garbage_echo) as server:
        for pad in range(0, 26, 5):  # the cut falls at another place of the key each time
            path = write("c.yaml", f"name: t\nvars: {{key: {'x' * pad}{CANARY}}}\nsecrets: [key]\nrequests:\n  - name: a\n    url: {server.url}/\n    headers: {{X-Key: '{{{{ key }}}}'}}\n")
            result = run_everywhere(run_cli, project, path, CANARY)[0]
            assert result.exit_code == 1 and "...)" in result.stdout


def test_a_verbose_body_cut_inside_a_multibyte_character_masks_the_cut_secret(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("").respond_with_data("ok")
    for before in range(3, 9):  # the 2048-byte cut lands after "Zq9", inside "é", after it, ...
        path = write("c.yaml", f"name: t\nvars: {{key: {json.dumps(WIDE)}}}\nsecrets: [key]\nrequests:\n  - name: a\n    method: POST\n    url: {httpserver.url_for('/')}\n    body: \"{'a' * (2048 - before)}{{{{ key }}}}\"\n")
        result = run_cli("run", str(path), "-v", cwd=project)
        assert result.exit_code == 0, result.output
        assert "> aaaa" in result.stdout
        assert_no_leak(result.output, WIDE, "-v")


def test_a_non_ascii_secret_in_a_header_is_sent_as_utf8_and_never_shown(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    path = write("c.yaml", f"name: t\nvars: {{key: {json.dumps(WIDE)}}}\nsecrets: [key]\nrequests:\n  - name: a\n    url: {httpserver.url_for('/')}\n    headers: {{X-Key: '{{{{ key }}}}'}}\n")
    results = run_everywhere(run_cli, project, path, WIDE)
    assert httpserver.log[0][0].headers["X-Key"].encode("latin-1") == WIDE.encode("utf-8")  # sent as its UTF-8 bytes
    for piece in ("\u00e9\u00e9", "\u00f1\u00fc"):
        assert piece not in results[0].output + results[1].output


def test_a_secret_used_as_the_method_is_masked_in_every_case(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("").respond_with_data("ok", status=500)
    path = write("c.yaml", f"name: t\nvars: {{key: {CANARY.lower()}}}\nsecrets: [key]\nrequests:\n  - name: a\n    method: '{{{{ key }}}}'\n    url: {httpserver.url_for('/')}\n")
    results = run_everywhere(run_cli, project, path, CANARY)
    assert results[0].exit_code == 1 and "****" in results[0].stdout
    assert httpserver.log and httpserver.log[0][0].method == CANARY.upper()  # it was sent: the runner upper-cased it


def test_every_member_of_a_secret_mapping_is_masked(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("").respond_with_handler(lambda request: Response(json.dumps({"echo": request.headers.get("X-Token")}), status=500, content_type="application/json"))
    env = write("env.yaml", f"creds: {{user: someone, token: {CANARY}, more: [{CANARY[::-1]}]}}\nsecrets: [creds]\n")
    path = write("c.yaml", f"name: t\nrequests:\n  - name: a\n    url: {httpserver.url_for('/')}\n    headers: {{X-Token: '{{{{ creds.token }}}}', X-More: '{{{{ creds.more[0] }}}}'}}\n")
    results = run_everywhere(run_cli, project, path, CANARY, "-e", str(env))
    assert results[0].exit_code == 1
    assert_no_leak(results[1].output, CANARY[::-1], "-v")


def test_a_password_in_the_url_userinfo_is_a_secret(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("").respond_with_handler(lambda request: Response(json.dumps({"auth": request.headers.get("Authorization")}), status=500, content_type="application/json"))
    host = httpserver.url_for("/").split("//", 1)[1]
    path = write("c.yaml", f"name: t\nrequests:\n  - name: a\n    url: 'http://me:{CANARY}@{host}x'\n")
    results = run_everywhere(run_cli, project, path, CANARY)
    assert results[0].exit_code == 1 and "me:****@" in results[0].stdout
    assert httpserver.log[0][0].headers["Authorization"] == "Basic " + base64.b64encode(f"me:{CANARY}".encode()).decode()


def test_a_secret_in_a_numeric_field_never_prints(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    path = write("c.yaml", f"name: t\nvars: {{key: {CANARY}}}\nsecrets: [key]\nrequests:\n  - name: a\n    url: {httpserver.url_for('/')}\n    timeout: '{{{{ key }}}}'\n")
    for command in ("run", "validate", "show"):
        result = run_cli(command, str(path), cwd=project)
        assert result.exit_code in (1, 2), result.output
        assert "Traceback" not in result.output
        assert_no_leak(result.output, CANARY, command)
