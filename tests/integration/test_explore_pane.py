"""``--show``: the response pane on a forced TTY, against raw loopback servers with fixed answers (golden files).

A stream's server sends its next event only once the pane has printed the token
before it: the test proves the answer is shown as it arrives without timing anything.
Golden files are in tests/data/explore/; run with UPDATE_GOLDEN=1 to rewrite them.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from fault_servers import Connection, FaultServer, serve

from runner.session import RunSettings, run_session

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "explore"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))  # read at import: the autouse fixture clears the environment
TOKENS = ["Com", "té", " is", " a", " cheese", "."]
JSON_BODY = {"id": "m-1", "object": "model", "capabilities": {"chat": True, "vision": False}, "owned_by": None, "created": 1700000000, "tags": ["a", "b"]}


class FakeTTY(io.StringIO):
    """A terminal as far as the runner can tell: what the pane printed so far can be read while it prints."""

    def isatty(self) -> bool:
        return True


def _head(status: str, content_type: str, length: int | None = None) -> bytes:
    # every answer closes its connection and says so: a client that reused it for the next request
    # would meet the closed socket (connection reset), a flake seen under load
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nX-Request-Id: r-42\r\nConnection: close\r\n"
    head += f"Content-Length: {length}\r\n" if length is not None else ""
    return (head + "\r\n").encode()


class Site:
    """Fixed answers by path; the stream waits for the pane to show each token before sending the next."""

    def __init__(self, screen: FakeTTY):
        self.screen = screen
        self.live = True  # every token was on the screen before the next was sent
        self.pace = True  # False: send every event at once (nobody watches the screen)

    def __call__(self, conn: Connection) -> None:
        head = conn.read_request()
        if not head:
            return
        path = head.split(b" ")[1].decode()
        if path == "/sse":
            conn.send(_head("200 OK", "text/event-stream"))
            for token in TOKENS:
                conn.send(f"data: {json.dumps({'choices': [{'delta': {'content': token}}]})}\n\n".encode())
                if self.pace:
                    self.live &= self._wait_for(token)
            conn.send(b"data: [DONE]\n\n")
            conn.sock.close()
            return
        body, content_type = {
            "/json": (json.dumps(JSON_BODY).encode(), "application/json"),
            "/text": ("plain words\nsecond line with a \x1b[31m red escape\n".encode(), "text/plain; charset=utf-8"),
            "/binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png"),
            "/long": ("".join(f"line {number}\n" for number in range(1, 251)).encode(), "text/plain"),
        }[path]
        conn.send(_head("200 OK", content_type, len(body)) + body)
        conn.sock.close()

    def _wait_for(self, token: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.screen.getvalue().endswith(token):
                return True
            time.sleep(0.002)
        return False


@pytest.fixture
def screen() -> FakeTTY:
    return FakeTTY()


@pytest.fixture
def site(screen: FakeTTY) -> Iterator[tuple[Site, FaultServer]]:
    handler = Site(screen)
    with serve(handler) as server:
        yield handler, server


def _collection(write: Any, url: str) -> Path:
    requests = "".join(f"  - name: {name}\n    url: /{name}\n" for name in ("json", "text", "binary", "long", "sse"))
    return write("pane.yaml", f"name: pane\nbase_url: {url}\nrequests:\n{requests}")


def _normalise(text: str, url: str) -> str:
    text = text.replace(url, "URL")
    return re.sub(r"\d+\.\d+ s\b", "N s", re.sub(r"\d+ ms", "N ms", text))


@pytest.mark.parametrize("kind", ["json", "text", "binary", "long", "sse"])
def test_pane_on_a_terminal_matches_its_golden_file(kind: str, site: tuple[Site, FaultServer], screen: FakeTTY, write: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    handler, server = site
    path = _collection(write, server.url)
    monkeypatch.chdir(path.parent)
    code = run_session(RunSettings(paths=[path.name], request_names=[kind], show=True, color=True, stdout=screen))
    assert code == 0
    output = _normalise(screen.getvalue(), server.url)
    golden = GOLDEN / f"pane-{kind}.txt"
    if UPDATE:
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")
    assert handler.live
    assert "\x1b[31m red" not in output  # a server's escape sequence is shown, not obeyed


def test_one_request_on_a_terminal_implies_the_pane_and_no_color_is_respected(site: tuple[Site, FaultServer], screen: FakeTTY, write: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, server = site
    path = _collection(write, server.url)
    monkeypatch.chdir(path.parent)
    assert run_session(RunSettings(paths=[path.name], request_names=["json"], color=False, stdout=screen)) == 0
    output = screen.getvalue()
    assert '"capabilities": {\n    "chat": true,' in output and "x-request-id: r-42" in output
    assert "\x1b[" not in output.replace("\x1b[?25l", "").replace("\x1b[?25h", "")  # no colour; cursor control at most


def test_the_pane_is_plain_text_off_a_terminal(run_cli: Any, site: tuple[Site, FaultServer], write: Any) -> None:
    handler, server = site
    handler.pace = False
    path = _collection(write, server.url)
    result = run_cli("run", str(path), "--show", "--request", "json", "--request", "sse")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "HTTP/1.1 200 OK" in result.stdout and "Comté is a cheese." in result.stdout and "(6 events, first event after" in result.stdout


def test_a_secret_split_across_tokens_is_masked(write: Any, screen: FakeTTY, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server streams the token back in pieces: the pane never shows it, whole or cut."""
    secret = "tok-Zq81-canary"
    pieces = ["your key is ", secret[:5], secret[5:11], secret[11:], " ok"]

    def handler(conn: Connection) -> None:
        if not conn.read_request():
            return
        conn.send(_head("200 OK", "text/event-stream"))
        for piece in pieces:
            conn.send(f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode())
        conn.send(b"data: [DONE]\n\n")
        conn.sock.close()

    with serve(handler) as server:
        path = write("s.yaml", f"name: s\nbase_url: {server.url}\nsecrets: [key]\nvars: {{key: {secret}}}\nrequests:\n  - name: s\n    url: /s\n")
        monkeypatch.chdir(path.parent)
        assert run_session(RunSettings(paths=[path.name], show=True, color=False, stdout=screen)) == 0
    output = screen.getvalue()
    assert "your key is **** ok" in output
    for size in range(4, len(secret) + 1):
        assert secret[:size] not in output and secret[-size:] not in output


def test_a_secret_split_across_plain_events_is_masked(write: Any, screen: FakeTTY, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain-text events, one line each, carry the token in pieces (also after an event name): no line shows a piece."""
    secret = "tok-Zq81-canary"
    events = ["hello", secret[:4], secret[4:10], secret[10:], "bye", f"event: note\ndata: {secret[:7]}", f"event: note\ndata: {secret[7:]}"]

    def handler(conn: Connection) -> None:
        if not conn.read_request():
            return
        conn.send(_head("200 OK", "text/event-stream"))
        for event in events:
            conn.send((event if event.startswith("event:") else f"data: {event}").encode() + b"\n\n")
        conn.sock.close()

    with serve(handler) as server:
        path = write("p.yaml", f"name: p\nbase_url: {server.url}\nsecrets: [key]\nvars: {{key: {secret}}}\nrequests:\n  - name: p\n    url: /p\n")
        monkeypatch.chdir(path.parent)
        assert run_session(RunSettings(paths=[path.name], show=True, color=False, stdout=screen)) == 0
    output = screen.getvalue()
    assert "hello\n****\n****\n****\nbye\nnote: ****\nnote: ****\n(7 events" in output, output
    for size in range(4, len(secret) + 1):
        assert not any(secret[start : start + size] in output for start in range(len(secret) - size + 1)), size


def test_a_secret_echoed_as_a_json_key_is_masked(write: Any, screen: FakeTTY, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server echoes the token as object keys (as sent and upper-cased): the indented body shows neither."""
    secret = "tok-Zq81-canary"
    body = json.dumps({secret: 1, "nested": {secret.upper(): "x"}, "list": [{secret: 2}]}).encode()

    def handler(conn: Connection) -> None:
        if conn.read_request():
            conn.send(_head("200 OK", "application/json", len(body)) + body)

    with serve(handler) as server:
        path = write("k.yaml", f"name: k\nbase_url: {server.url}\nsecrets: [key]\nvars: {{key: {secret}}}\nrequests:\n  - name: k\n    url: /k\n")
        monkeypatch.chdir(path.parent)
        assert run_session(RunSettings(paths=[path.name], show=True, color=False, stdout=screen)) == 0
    output = screen.getvalue()
    assert '"****": 1' in output and '"****": "x"' in output and '"****": 2' in output
    assert secret[:4] not in output.lower() and secret[4:].upper() not in output


def test_masker_holds_back_only_what_could_start_a_secret() -> None:
    from runner.redact import Redactor, StreamMasker

    redactor = Redactor()
    redactor.add("abcdef")
    masker = StreamMasker(redactor)
    shown = [masker.feed(piece) for piece in ["hello ", "ab", "cd", "ef", " world\n", "next"]]
    shown.append(masker.flush())
    assert "".join(shown) == "hello **** world\nnext"
    assert "ab" not in "".join(shown[:3])


def test_threads_left_behind() -> None:
    """Every server of this module was stopped (its threads joined)."""
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("fault-")]
