"""Cookies live for one collection run, like a Postman or Bruno session, and are masked everywhere.

A pytest-httpserver sets a cookie on ``/login`` (also on a redirect hop) and
echoes the ``Cookie`` header it receives on ``/me``; its log says what each
request really carried.  The cookie value is a fresh token, so it can be looked
for in every output.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SESSION = f"COOKIE{uuid.uuid4().hex}"


def login(request: Request) -> Response:
    response = Response('{"ok": true}', content_type="application/json")
    response.headers.add("Set-Cookie", f"sess={SESSION}; Path=/; HttpOnly")
    response.headers.add("Set-Cookie", "theme=dark; Path=/")
    return response


def login_then_me(request: Request) -> Response:
    response = Response("", status=302, headers={"Location": "/me"})
    response.headers.add("Set-Cookie", f"sess={SESSION}; Path=/")
    return response


def me(request: Request) -> Response:
    cookie = request.headers.get("Cookie")
    return Response(json.dumps({"cookie": cookie}), status=200 if cookie else 401, content_type="application/json")


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/login-then-me").respond_with_handler(login_then_me)
    httpserver.expect_request("/me").respond_with_handler(me)
    return httpserver


def sent_cookies(server: HTTPServer) -> list[tuple[str, str | None]]:
    """``(path, Cookie header)`` of every request the server received, in order."""
    return [(entry.path, entry.headers.get("Cookie")) for entry, _ in server.log]


def collection(write: Any, server: HTTPServer, name: str, requests: str) -> Path:
    return write(f"{name}.yaml", f"name: {name}\nbase_url: {server.url_for('')}\nrequests:\n{requests}")


LOGIN_THEN_ME = """\
  - {name: login, url: /login, expect: {status: 200}}
  - {name: me, url: /me, expect: {status: 200, json: {"$.cookie": {contains: "sess="}}}}
"""
ME_ONLY = """\
  - {name: me, url: /me, expect: {status: 401}}
"""


@pytest.mark.parametrize("flags", [[], ["--jobs", "2"]], ids=["sequential", "jobs"])
def test_a_cookie_comes_back_within_its_collection_only(run_cli: Any, write: Any, server: HTTPServer, flags: list[str]) -> None:
    first = collection(write, server, "a", LOGIN_THEN_ME)
    second = collection(write, server, "b", ME_ONLY)
    result = run_cli("run", str(first), str(second), *flags)
    assert result.exit_code == 0, result.output
    expected = [("/login", None), ("/me", f"sess={SESSION}; theme=dark"), ("/me", None)]
    assert sorted(sent_cookies(server), key=str) == sorted(expected, key=str)  # with --jobs the collections interleave
    assert len([cookie for _, cookie in sent_cookies(server) if cookie]) == 1


def test_a_second_iteration_starts_without_cookies(run_cli: Any, write: Any, server: HTTPServer) -> None:
    path = collection(write, server, "a", "  - {name: before, url: /me, expect: {status: 401}}\n" + LOGIN_THEN_ME)
    result = run_cli("run", str(path), "--iterations", "2")
    assert result.exit_code == 0, result.output
    cookie = f"sess={SESSION}; theme=dark"
    assert sent_cookies(server) == [("/me", None), ("/login", None), ("/me", cookie)] * 2


def test_a_cookie_set_on_a_redirect_goes_with_the_next_hop(run_cli: Any, write: Any, server: HTTPServer) -> None:
    path = collection(write, server, "a", "  - {name: login, url: /login-then-me, follow_redirects: true, expect: {status: 200}}\n")
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert sent_cookies(server) == [("/login-then-me", None), ("/me", f"sess={SESSION}")]


def test_a_cookie_header_in_the_request_adds_to_the_jar_and_wins_on_a_name(run_cli: Any, write: Any, server: HTTPServer) -> None:
    own = "  - {name: own, url: /me, headers: {Cookie: own=1; theme=light}}\n"
    path = collection(write, server, "a", LOGIN_THEN_ME + own)
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert sent_cookies(server)[-1] == ("/me", f"own=1; theme=light; sess={SESSION}")  # the jar's theme=dark gives way


def test_a_request_cookie_header_is_kept_on_a_same_host_redirect(run_cli: Any, write: Any, server: HTTPServer) -> None:
    path = collection(write, server, "a", "  - {name: own, url: /login-then-me, follow_redirects: true, headers: {Cookie: own=1}, expect: {status: 200}}\n")
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert sent_cookies(server) == [("/login-then-me", "own=1"), ("/me", f"own=1; sess={SESSION}")]


def test_cookie_values_are_masked_in_every_output(run_cli: Any, write: Any, project: Path, server: HTTPServer) -> None:
    # the last check fails, so the console prints the echoed body too
    path = collection(write, server, "a", LOGIN_THEN_ME + '  - {name: fail, url: /me, expect: {json: {"$.cookie": "nope"}}}\n')
    report = project / "report.json"
    result = run_cli("run", str(path), "-v", "--report", f"json:{report}")
    assert result.exit_code == 1
    assert any(SESSION in str(cookie) for _, cookie in sent_cookies(server))  # it was really sent, and echoed
    assert "< set-cookie: sess=****; Path=/; HttpOnly, theme=****; Path=/" in result.stdout  # names stay, values go
    assert '"cookie": "****; ****"' in result.stdout  # echoed back: each name=value pair is a secret
    text = report.read_text(encoding="utf-8")
    assert "sess=****" in text
    for channel, output in (("stdout", result.stdout), ("stderr", result.stderr), ("the json report", text)):
        assert SESSION not in output, f"the cookie leaked into {channel}"
