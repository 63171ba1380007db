"""OAuth2 client credentials (and password) against a real token endpoint on loopback.

The token endpoint and the API are one threaded server the test starts: it
counts token requests, issues numbered tokens, can revoke one, and refuses a
wrong client secret (echoing it back, as careless servers do).  The client
secret and every token are secrets: they must appear in no stream and no report.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CLIENT_ID = "runner-tests"


class Provider:
    """A token endpoint and a protected API."""

    def __init__(self, secret: str, expires_in: int = 3600):
        self.secret = secret
        self.expires_in = expires_in
        self.lock = threading.Lock()
        self.token_requests: list[dict[str, Any]] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.revoke_after_first_use = False
        self.api_calls: list[str] = []

    def token(self, request: Request) -> Response:
        form = request.form.to_dict()
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        with self.lock:
            self.token_requests.append({**form, "client_id": client_id, "auth": "basic" if header else "body"})
            if client_id != CLIENT_ID or secret != self.secret:
                body = {"error": "invalid_client", "error_description": f"unknown client or secret {secret}"}
                return Response(json.dumps(body), status=401, content_type="application/json")
            value = f"tok{len(self.issued) + 1}-{uuid.uuid4().hex}"
            self.issued.append(value)
        return Response(json.dumps({"access_token": value, "token_type": "Bearer", "expires_in": self.expires_in}), content_type="application/json")

    def api(self, request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.api_calls.append(token)
            if token not in self.issued or token in self.revoked:
                return Response('{"message": "invalid token"}', status=401, content_type="application/json")
            if self.revoke_after_first_use:
                self.revoked.add(token)
        return Response(json.dumps({"ok": True, "echo": token}), content_type="application/json", headers={"X-Token": token})


@pytest.fixture
def secret() -> str:
    return f"client-secret-{uuid.uuid4().hex}"


@pytest.fixture
def provider(secret: str) -> Iterator[tuple[Provider, str]]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    state = Provider(secret)
    server.expect_request("/oauth/token", method="POST").respond_with_handler(state.token)
    server.expect_request("/api").respond_with_handler(state.api)
    yield state, server.url_for("").rstrip("/")
    server.clear()
    server.stop()


def collection(base: str, secret: str, names: list[str], extra: str = "") -> str:
    requests = "".join(f"  - name: {name}\n    url: /api\n    expect: {{status: 200, json: {{$.ok: true}}}}\n" for name in names)
    return f"""name: oauth
base_url: {base}
vars:
  client_secret: {secret}
secrets: [client_secret]
auth:
  oauth2:
    token_url: {base}/oauth/token
    client_id: {CLIENT_ID}
    client_secret: "{{{{ client_secret }}}}"
    scope: read write
{extra}requests:
{requests}"""


def reports_text(project: Path) -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted((project / "reports").iterdir()))


REPORTS = ["--report", "json:reports/run.json", "--report", "junit:reports/junit.xml", "--report", "html:reports/run.html", "--report", "markdown:reports/run.md"]


def assert_no_secret(text: str, provider: Provider, secret: str) -> None:
    for value in [secret, *provider.issued]:
        assert value not in text
        assert base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode() not in text


def test_one_token_per_credentials_for_the_whole_run_shared_by_jobs(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    for number in range(3):
        write(f"suite/c{number}.yaml", collection(base, secret, [f"c{number} a", f"c{number} b"]))
    result = run_cli("run", str(project / "suite"), "--jobs", "3", "-v", *REPORTS, cwd=project)
    assert result.exit_code == 0, result.output
    assert len(state.token_requests) == 1
    assert state.token_requests[0] == {"grant_type": "client_credentials", "scope": "read write", "client_id": CLIENT_ID, "auth": "basic"}
    assert state.api_calls == [state.issued[0]] * 6
    assert_no_secret(result.output + reports_text(project), state, secret)
    assert "Bearer ****" in result.stdout  # -v shows the header it sent, masked


def test_a_401_fetches_a_new_token_and_sends_again_once(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    state.revoke_after_first_use = True  # the server forgets each token after one use, as if it had expired
    path = write("oauth.yaml", collection(base, secret, ["first", "second", "third"]))
    result = run_cli("run", str(path), *REPORTS, cwd=project)
    assert result.exit_code == 0, result.output
    assert len(state.token_requests) == 3
    first, second, third = state.issued
    assert state.api_calls == [first, first, second, second, third]  # each 401 is followed by one try with a new token
    assert_no_secret(result.output + reports_text(project), state, secret)


def test_a_401_with_a_fresh_token_is_not_tried_again_and_again(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    path = write("oauth.yaml", collection(base, secret, ["only"]).replace("url: /api", "url: /api?x=1"))
    state.revoked = _AllTokens()  # the API refuses every token
    result = run_cli("run", str(path), cwd=project)
    assert result.exit_code == 1
    assert len(state.api_calls) == 2 and len(state.token_requests) == 2  # the first try and one more, with a new token


class _AllTokens(set):  # type: ignore[type-arg]
    def __contains__(self, item: object) -> bool:
        return True


def test_an_expired_token_is_fetched_again(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    state.expires_in = 0  # every token is expired as soon as it comes
    path = write("oauth.yaml", collection(base, secret, ["first", "second"]))
    result = run_cli("run", str(path), cwd=project)
    assert result.exit_code == 0, result.output
    assert len(state.token_requests) == 2 and state.api_calls == state.issued


def test_a_refused_client_is_an_error_of_each_request_asked_once_and_its_secret_masked(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str]) -> None:
    state, base = provider
    wrong = f"wrong-secret-{uuid.uuid4().hex}"
    path = write("oauth.yaml", collection(base, wrong, ["first", "second"]))
    result = run_cli("run", str(path), *REPORTS, cwd=project)
    assert result.exit_code == 1
    assert len(state.token_requests) == 1 and state.api_calls == []
    lines = [line for line in result.stdout.splitlines() if line.startswith("ERR   GET")]
    assert len(lines) == 2 and all("refused client 'runner-tests' (HTTP 401): invalid_client" in line for line in lines)
    document = json.loads((project / "reports/run.json").read_text())
    assert {request["error"]["kind"] for request in document["collections"][0]["requests"]} == {"oauth2"}
    assert wrong not in result.output + reports_text(project)
    assert "****" in result.stdout  # the secret the server echoed, masked


def test_password_grant_with_the_client_in_the_form(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    text = collection(base, secret, ["only"]).replace("    scope: read write\n", "    grant: password\n    username: ada\n    password: \"{{ client_secret }}-pw\"\n    client_auth: body\n    audience: https://api.example\n")
    path = write("oauth.yaml", text)
    result = run_cli("run", str(path), cwd=project)
    assert result.exit_code == 0, result.output
    assert state.token_requests == [{"grant_type": "password", "username": "ada", "password": f"{secret}-pw", "audience": "https://api.example", "client_id": CLIENT_ID, "client_secret": secret, "auth": "body"}]
    assert f"{secret}-pw" not in result.output


def test_the_mock_needs_no_token_endpoint(run_cli: Any, write: Any, project: Path) -> None:
    text = collection("http://127.0.0.1:9", "s3cret-value", ["only"]).replace("expect: {status: 200, json: {$.ok: true}}", "expect: {status: 200}\n    example: {json: {ok: true}}")
    path = write("oauth.yaml", text)
    result = run_cli("run", str(path), "--mock", cwd=project)
    assert result.exit_code == 0, result.output


def test_show_names_the_token_without_fetching_it(run_cli: Any, write: Any, project: Path, provider: tuple[Provider, str], secret: str) -> None:
    state, base = provider
    path = write("oauth.yaml", collection(base, secret, ["only"]))
    result = run_cli("show", str(path), cwd=project)
    assert result.exit_code == 0, result.output
    assert "Authorization: Bearer ****" in result.stdout  # credential headers show only their scheme
    assert state.token_requests == [] and secret not in result.output
