"""Proxies over real loopback: a forward proxy the test starts, HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, --proxy, proxy:.

The proxy records the request line and the ``Proxy-Authorization`` header of
every request it forwards, so the tests see which way each request really went.
"""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from fault_servers import StdlibServer, closed_port
from pytest_httpserver import HTTPServer

SECRET = f"PX{uuid.uuid4().hex}"


class ForwardProxy:
    """A loopback HTTP forward proxy (absolute-form requests, plain http only), recording what it forwards."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                try:
                    upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Via", "1.1 test-proxy")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.http = StdlibServer(Handler)
        self.url = self.http.url

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    yield server
    server.close()


@pytest.fixture
def target(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    return httpserver


def _collection(write: Any, target: HTTPServer, extra: str = "") -> Path:
    return write("c.yaml", f"{extra}requests:\n  - {{name: a, url: '{target.url_for('/x')}', expect: {{status: 200, headers: {{Via: {{exists: true}}}}}}}}\n")


def _direct(write: Any, target: HTTPServer, extra: str = "") -> Path:
    return write("c.yaml", f"{extra}requests:\n  - {{name: a, url: '{target.url_for('/x')}', expect: {{status: 200, headers: {{Via: {{exists: false}}}}}}}}\n")


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_the_environment_proxy_is_used(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer, variable: str) -> None:
    result = run_cli("run", str(_collection(write, target)), env={variable: proxy.url})
    assert result.exit_code == 0, result.output
    assert [path for path, _ in proxy.seen] == [target.url_for("/x")]
    assert len(target.log) == 1


def test_https_proxy_is_not_used_for_http_urls(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    result = run_cli("run", str(_direct(write, target)), env={"HTTPS_PROXY": proxy.url})
    assert result.exit_code == 0, result.output
    assert proxy.seen == []


@pytest.mark.parametrize("no_proxy", ["localhost", "*", "example.com, .localhost", "10.0.0.0/8,localhost:{port}"], ids=["name", "star", "list", "host-port"])
def test_no_proxy_sends_the_request_direct(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer, no_proxy: str) -> None:
    no_proxy = no_proxy.format(port=target.port)  # the target's URL names localhost
    result = run_cli("run", str(_direct(write, target)), env={"HTTP_PROXY": proxy.url, "NO_PROXY": no_proxy})
    assert result.exit_code == 0, result.output
    assert proxy.seen == [] and len(target.log) == 1


def test_no_proxy_matches_addresses_by_cidr(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    path = write("c.yaml", f"requests:\n  - {{name: a, url: 'http://127.0.0.1:{target.port}/x', expect: {{headers: {{Via: {{exists: false}}}}}}}}\n")
    result = run_cli("run", str(path), env={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.0/8"})
    assert result.exit_code == 0, result.output
    assert proxy.seen == []


def test_a_no_proxy_entry_for_another_port_keeps_the_proxy(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    result = run_cli("run", str(_collection(write, target)), env={"HTTP_PROXY": proxy.url, "NO_PROXY": f"localhost:{target.port + 1}"})
    assert result.exit_code == 0, result.output
    assert len(proxy.seen) == 1


def test_the_proxy_flag_beats_the_collection_and_the_environment(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    path = _collection(write, target, f"proxy: 'http://127.0.0.1:{closed_port()}'\n")
    result = run_cli("run", str(path), "--proxy", proxy.url, env={"HTTP_PROXY": f"http://127.0.0.1:{closed_port()}"})
    assert result.exit_code == 0, result.output
    assert len(proxy.seen) == 1


def test_the_collection_proxy_key_beats_the_environment(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    path = _collection(write, target, "proxy: '{{ proxy_url }}'\n")
    result = run_cli("run", str(path), "--var", f"proxy_url={proxy.url}", env={"HTTP_PROXY": f"http://127.0.0.1:{closed_port()}"})
    assert result.exit_code == 0, result.output
    assert len(proxy.seen) == 1


def test_an_empty_proxy_flag_turns_proxies_off(run_cli: Any, write: Any, proxy: ForwardProxy, target: HTTPServer) -> None:
    result = run_cli("run", str(_direct(write, target)), "--proxy", "", env={"HTTP_PROXY": proxy.url})
    assert result.exit_code == 0, result.output
    assert proxy.seen == []


def test_under_mock_no_proxy_is_used(run_cli: Any, write: Any, proxy: ForwardProxy) -> None:
    path = write("m.yaml", "base_url: http://api.example\nrequests:\n  - {name: a, url: /x, example: {status: 200, json: {ok: true}}}\n")
    result = run_cli("run", str(path), "--mock", "--proxy", proxy.url, env={"HTTP_PROXY": proxy.url})
    assert result.exit_code == 0, result.output
    assert proxy.seen == []


def test_proxy_credentials_are_sent_to_the_proxy_and_masked_everywhere(run_cli: Any, write: Any, project: Path, proxy: ForwardProxy, target: HTTPServer) -> None:
    url = proxy.url.replace("http://", f"http://user:{SECRET}@")
    report = project / "r.json"
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{target.url_for('/x')}', expect: {{status: 201}}}}\n")  # fails: everything is printed
    result = run_cli("run", str(path), "-v", "--report", f"json:{report}", env={"HTTP_PROXY": url})
    assert result.exit_code == 1, result.output
    encoded = base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert proxy.seen == [(target.url_for("/x"), f"Basic {encoded}")]
    text = result.output + report.read_text()
    for form in (SECRET, encoded, SECRET[:12]):
        assert form not in text


def test_a_proxy_that_refuses_says_so_without_its_password(run_cli: Any, write: Any, target: HTTPServer) -> None:
    port = closed_port()
    path = _collection(write, target)
    result = run_cli("run", str(path), "--proxy", f"http://user:{SECRET}@127.0.0.1:{port}")
    assert result.exit_code == 1, result.output
    assert f"connection refused (through the proxy http://127.0.0.1:{port})" in result.output
    assert SECRET not in result.output and len(target.log) == 0
    assert json.dumps(SECRET)[1:-1] not in result.output


def test_a_proxy_that_is_not_a_url_is_an_input_error(run_cli: Any, write: Any, target: HTTPServer) -> None:
    path = write("c.yaml", f"proxy: 'http://[::1'\nrequests:\n  - {{name: a, url: '{target.url_for('/x')}'}}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "proxy: not a valid proxy URL" in result.stderr and "c.yaml:1:8 (proxy)" in result.stderr, result.output
    result = run_cli("run", str(_collection(write, target)), "--proxy", f"http://u:{SECRET}@[::1")
    assert result.exit_code == 2 and "is not valid: Invalid IPv6 URL" in result.output and SECRET not in result.output
    assert len(target.log) == 0
