"""Followed redirects: credentials stay with their origin, a request's own Cookie stays on its host, --mock stays home.

Two recording servers on loopback ports: a different port is a different origin.
Each records the path, query and headers of every request it receives, so the
tests see what really arrived, not what the runner says it sent.
"""

from __future__ import annotations

import asyncio
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterator

import pytest
from fault_servers import StdlibServer

SECRET = f"KEY{uuid.uuid4().hex}"


class Recorder:
    """A loopback server answering from ``routes`` (path -> (status, headers)) and recording every request."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str]]] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                recorder.seen.append((self.path, {name.lower(): value for name, value in self.headers.items()}))
                status, headers = recorder.routes.get(self.path.partition("?")[0], (200, {}))
                self.send_response(status)
                for name, value in {"Content-Length": "2", "Content-Type": "text/plain", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler

    def __enter__(self) -> "Recorder":
        self.http = StdlibServer(self.handler)
        self.url = self.http.url
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


@pytest.fixture
def origin() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


def _collection(write: Any, origin: Recorder, follow: str = "true", example: str = "") -> Any:
    return write(
        "redirect.yaml",
        f"""\
name: redirect
base_url: {origin.url}
secrets: [api_key]
requests:
  - name: hop
    url: /start?page=1
    follow_redirects: {follow}
    headers:
      X-API-Key: "{{{{ api_key }}}}"
      Authorization: "Bearer {{{{ api_key }}}}"
      Proxy-Authorization: "Basic {{{{ api_key }}}}"
      X-Custom: "prefix-{{{{ api_key }}}}"
      Cookie: "sid={{{{ api_key }}}}"
      X-Trace: plain-value
    expect: {{status: 200}}
{example}""",
    )


def test_a_cross_origin_redirect_carries_no_credential(run_cli: Any, write: Any, origin: Recorder, elsewhere: Recorder) -> None:
    origin.routes["/start"] = (302, {"Location": f"{elsewhere.url}/landing?api_key={SECRET}&token=abc&page=2"})
    result = run_cli("run", str(_collection(write, origin)), "--var", f"api_key={SECRET}")
    assert result.exit_code == 0, result.output
    assert [path for path, _ in origin.seen] == ["/start?page=1"]
    [(path, headers)] = elsewhere.seen
    assert path == "/landing?page=2"  # the key and the token went, the page stayed
    for name in ("x-api-key", "authorization", "proxy-authorization", "x-custom", "cookie"):
        assert name not in headers, f"{name} crossed to another origin"
    assert headers["x-trace"] == "plain-value"
    assert SECRET not in str(elsewhere.seen)


def test_the_request_can_opt_in_to_keep_credentials_across_origins(run_cli: Any, write: Any, origin: Recorder, elsewhere: Recorder) -> None:
    origin.routes["/start"] = (307, {"Location": f"{elsewhere.url}/landing?api_key={SECRET}"})
    result = run_cli("run", str(_collection(write, origin, "{cross_origin_credentials: true}")), "--var", f"api_key={SECRET}")
    assert result.exit_code == 0, result.output
    [(path, headers)] = elsewhere.seen
    assert path == f"/landing?api_key={SECRET}"
    assert headers["x-api-key"] == SECRET and headers["x-custom"] == f"prefix-{SECRET}" and headers["cookie"] == f"sid={SECRET}"
    assert headers["authorization"] == f"Bearer {SECRET}"


def test_a_same_origin_redirect_keeps_the_requests_own_cookie_and_keys(run_cli: Any, write: Any, origin: Recorder) -> None:
    origin.routes["/start"] = (302, {"Location": "/next"})
    origin.routes["/next"] = (301, {"Location": f"{origin.url}/landing"})
    result = run_cli("run", str(_collection(write, origin)), "--var", f"api_key={SECRET}")
    assert result.exit_code == 0, result.output
    assert [path for path, _ in origin.seen] == ["/start?page=1", "/next", "/landing"]
    for _, headers in origin.seen:
        assert headers["cookie"] == f"sid={SECRET}"  # issue 11.2: httpx drops it on every hop
        assert headers["x-api-key"] == SECRET and headers["authorization"] == f"Bearer {SECRET}"


def test_under_mock_a_redirect_to_another_host_is_refused(run_cli: Any, write: Any, origin: Recorder, elsewhere: Recorder) -> None:
    example = f"    example: {{status: 302, headers: {{Location: '{elsewhere.url}/steal'}}}}\n"
    path = _collection(write, origin, example=example)
    result = run_cli("run", str(path), "--mock", "--var", f"api_key={SECRET}")
    assert result.exit_code == 1, result.output
    assert f"redirect to 127.0.0.1:{elsewhere.http.server.server_port} refused: under --mock" in result.output
    assert elsewhere.seen == [] and origin.seen == []
    assert SECRET not in result.output


def test_every_followed_hop_is_recorded(origin: Recorder) -> None:
    from runner.http import HttpClients, send
    from runner.model import TlsSpec
    from runner.render import RenderedRequest

    origin.routes["/start"] = (302, {"Location": "/next"})
    origin.routes["/next"] = (308, {"Location": f"{origin.url}/landing"})

    async def go() -> Any:
        clients = HttpClients()
        try:
            return await send(clients.client(TlsSpec()), RenderedRequest("GET", f"{origin.url}/start", timeout=5, follow_redirects=True))
        finally:
            await clients.aclose()

    response = asyncio.run(go())
    assert [(hop.status, hop.location, hop.url) for hop in response.hops] == [(302, "/next", f"{origin.url}/start"), (308, f"{origin.url}/landing", f"{origin.url}/next")]
    assert response.redirects == 2 and response.url == f"{origin.url}/landing" and response.status == 200
