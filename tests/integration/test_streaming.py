"""Streamed responses over real loopback sockets: raw servers that write events with flushes and pauses.

Each ``ScriptServer`` plays a script on every connection: bytes are sent at once
(TCP_NODELAY, so a pause between two writes makes two reads on the client), a
number is a pause in seconds, and the end of the script closes the socket with
an orderly FIN (after the last chunk of a chunked body, unless the script says
``CUT``).  No timing is asserted, only the order of what was measured.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from pathlib import Path
from typing import Any, Iterator, Union

import pytest

from runner.engine import RunContext, run_plan
from runner.plan import PlanInput, build_plan
from runner.render import RunOptions
from runner.results import RequestResult
from runner.streaming import StreamReader

REPO = Path(__file__).resolve().parents[2]
Step = Union[bytes, float, str]
SSE = "text/event-stream"
CUT = "cut"  # end the script without the chunked body's last chunk


class ScriptServer:
    """A raw-socket HTTP server on a free loopback port; every connection gets ``head`` then ``script``."""

    def __init__(self, script: list[Step], content_type: str = SSE, chunked: bool = False):
        self.script = script
        self.chunked = chunked
        self.head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nCache-Control: no-cache\r\n"
        self.head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else "Connection: close\r\n\r\n"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with sock:
            self.received.append(self._read_request(sock))
            try:
                sock.sendall(self.head.encode())
                for step in self.script:
                    if step == CUT:
                        return
                    if isinstance(step, bytes):
                        sock.sendall(f"{len(step):x}\r\n".encode() + step + b"\r\n" if self.chunked else step)
                    elif self.stopping.wait(float(step)):
                        return
                if self.chunked:
                    sock.sendall(b"0\r\n\r\n")
            except OSError:
                return

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def stop(self) -> None:
        """Close the listener, wake paused connections and join every thread."""
        self.stopping.set()
        self.listener.close()
        self.acceptor.join(5)
        for thread in self.threads:
            thread.join(5)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start ``ScriptServer``s for a test; all are stopped after it."""
    servers: list[ScriptServer] = []

    def start(script: list[Step], content_type: str = SSE, chunked: bool = False) -> ScriptServer:
        server = ScriptServer(script, content_type, chunked)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def chunk(content: str, finish: str | None = None, index: Any = 0) -> bytes:
    """One chat.completion.chunk event."""
    data = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}]}
    if finish:
        data["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


DONE = b"data: [DONE]\n\n"
INSIDE_E = chunk("té").index("é".encode()) + 1  # between the two bytes of "é"
CHUNK_SCHEMA = {
    "type": "object",
    "required": ["id", "object", "choices"],
    "properties": {
        "object": {"const": "chat.completion.chunk"},
        "choices": {"type": "array", "items": {"type": "object", "required": ["index", "delta"], "properties": {"index": {"type": "integer"}}}},
    },
}


def collection(write: Any, expect: str, extra: str = "", name: str = "stream.yaml", request_keys: str = "") -> Path:
    """A one-request collection POSTing a streamed chat to ``base_url``."""
    write("schemas/chunk.json", json.dumps(CHUNK_SCHEMA))
    text = f"""name: stream
base_url: "{{{{ base_url }}}}"
requests:
  - name: chat stream
    method: POST
    url: /v1/chat/completions
    json: {{model: m, stream: true, messages: [{{role: user, content: hi}}]}}
{request_keys}    expect:
{expect}
{extra}"""
    return write(name, text)


EVENTS_ALL = """      status: 200
      events:
        schema: schemas/chunk.json
        done: true
        count: {ge: 1}
        json: {"$.choices[0].finish_reason": stop, "$.usage.total_tokens": {gt: 0}}
        text: Comté
"""


def results(path: Path, base_url: str) -> list[RequestResult]:
    """Run a collection in-process and return its request results."""
    plan = build_plan(PlanInput([str(path)], cli_vars=[f"base_url={base_url}"]))
    context = RunContext(templates=plan.templates, schemas=plan.schemas, options=RunOptions(), stream_reader=StreamReader())
    run = asyncio.run(run_plan(plan.runs, context, []))
    return [request for collection_result in run.collections for request in collection_result.requests]


# -- streams that must pass ------------------------------------------------------------------------

PASSING = {  # each ends with two events, "Com" and "té"
    "plain": [chunk("Com"), chunk("té", "stop"), DONE],
    "multi-line-data": [chunk("Com"), b'data: {"id": "c1", "object": "chat.completion.chunk",\ndata: "choices": [{"index": 0, "delta": {"content": "t\xc3\xa9"},\ndata: "finish_reason": "stop"}], "usage": {"total_tokens": 5}}\n\n', DONE],
    "comments-and-keep-alives": [b": connected\n\n", chunk("Com"), b": keep-alive\n\n", 0.05, b": keep-alive\n\n", chunk("té", "stop"), b":\n\n", DONE],
    "crlf": [chunk("Com").replace(b"\n", b"\r\n"), chunk("té", "stop").replace(b"\n", b"\r\n"), DONE.replace(b"\n", b"\r\n")],
    "cr-only": [chunk("Com").replace(b"\n", b"\r"), chunk("té", "stop").replace(b"\n", b"\r"), DONE.replace(b"\n", b"\r")],
    "bom-and-event-fields": [b"\xef\xbb\xbfretry: 3000\nid: 1\nevent: chunk\n" + chunk("Com"), b"id: 2\n" + chunk("té", "stop"), DONE],
    "event-split-across-reads": [chunk("Com"), chunk("té", "stop")[:37], 0.05, chunk("té", "stop")[37:60], 0.05, chunk("té", "stop")[60:], DONE],
    "crlf-split-between-cr-and-lf": [chunk("Com").replace(b"\n", b"\r\n")[:-1], 0.05, b"\n", chunk("té", "stop"), DONE],
    "utf-8-split-inside-a-character": [chunk("Com"), chunk("té", "stop")[:INSIDE_E], 0.05, chunk("té", "stop")[INSIDE_E:], DONE],
}


@pytest.mark.parametrize("chunked", [False, True], ids=["close-delimited", "chunked"])
@pytest.mark.parametrize("script", list(PASSING.values()), ids=list(PASSING))
def test_streams_that_pass(serve: Any, write: Any, run_cli: Any, script: list[Step], chunked: bool) -> None:
    server = serve(script, chunked=chunked)
    path = collection(write, EVENTS_ALL, "    capture:\n      answer: {text: true}")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 0, result.output
    assert "PASS  POST   chat stream" in result.stdout and ", 2 events" in result.stdout


def test_the_split_utf_8_case_really_splits_a_character() -> None:
    with pytest.raises(UnicodeDecodeError):
        chunk("té", "stop")[:INSIDE_E].decode("utf-8")


def test_event_times_are_measured(serve: Any, write: Any) -> None:
    server = serve([0.1, chunk("Com"), 0.1, chunk("té", "stop"), 0.1, DONE])
    (result,) = results(collection(write, EVENTS_ALL), server.url)
    assert result.outcome == "passed", result.failed_checks
    assert result.event_count == 2
    assert result.first_event_ms is not None and 0 < result.first_event_ms < result.elapsed_ms


def test_a_captured_text_reaches_the_next_request(serve: Any, write: Any, run_cli: Any) -> None:
    server = serve([b'data: {"t": "Com"}\n\n', b'data: {"t": "t\xc3\xa9"}\n\n', b'data: {"n": 7}\n\n', DONE])
    path = write(
        "capture.yaml",
        """name: capture
base_url: "{{ base_url }}"
requests:
  - name: stream
    url: /stream
    expect:
      events: {text_path: "$.t", text: Comté}
    capture:
      answer: {text: true}
      n: {event: "$.n"}
  - name: follow-up
    method: POST
    url: /next
    json: {previous: "{{ answer }}", n: "{{ n }}"}
    stream: none
""",
    )
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 0, result.output
    sent = server.received[1].partition(b"\r\n\r\n")[2]
    assert json.loads(sent) == {"previous": "Comté", "n": 7}


# -- streams that must fail, with the event named ----------------------------------------------------


def fail(serve: Any, write: Any, run_cli: Any, script: list[Step], expect: str = EVENTS_ALL, chunked: bool = False, **keys: Any) -> str:
    server = serve(script, chunked=chunked, **keys)
    result = run_cli("run", str(collection(write, expect)), "--var", f"base_url={server.url}")
    assert result.exit_code == 1, result.output
    assert result.exception is None and "Traceback" not in result.output
    assert "FAIL  POST   chat stream" in result.stdout
    return result.stdout


def test_a_chunk_that_violates_the_schema_is_named(serve: Any, write: Any, run_cli: Any) -> None:
    out = fail(serve, write, run_cli, [chunk("Com"), chunk("té", "stop", index="zero"), DONE])
    assert "x events schema (event 1) at /choices/0/index (type): 'zero' is not of type 'integer'" in out
    assert '      got data: {"id": "c1", "object": "chat.completion.chunk"' in out
    assert "event 0" not in out


def test_a_malformed_event_is_named(serve: Any, write: Any, run_cli: Any) -> None:
    out = fail(serve, write, run_cli, [chunk("Com"), b"data: {broken\n\n", chunk("té", "stop"), DONE])
    assert "x events data (event 1): event 1 is not JSON: Expecting property name" in out
    assert "      got data: {broken" in out


def test_a_missing_done_fails_done_true(serve: Any, write: Any, run_cli: Any) -> None:
    out = fail(serve, write, run_cli, [chunk("Com"), chunk("té", "stop")])
    assert "x events done: expected data: [DONE] last, got no data: [DONE] (the stream ended after event 1)" in out
    assert out.count("  x ") == 1  # the events themselves are fine


def test_a_stream_cut_between_events(serve: Any, write: Any, run_cli: Any) -> None:
    """Chunked transfer, the socket closed without the last chunk: a broken stream."""
    out = fail(serve, write, run_cli, [chunk("Com"), 0.02, CUT], chunked=True)
    assert "x events stream: the stream broke after event 0: connection closed" in out  # the cause is http.py's wording
    assert "x events done: expected data: [DONE] last, got no data: [DONE] (the stream ended after event 0)" in out
    assert "x events text: expected \"Comté\", got \"Com\"" in out


def test_a_stream_cut_inside_an_event(serve: Any, write: Any, run_cli: Any) -> None:
    out = fail(serve, write, run_cli, [chunk("Com"), chunk("té", "stop")[:40], CUT], chunked=True)
    assert "x events stream: the stream broke after event 0; event 1 was cut off: connection closed" in out
    assert '      got data: {"id": "c1", "object": "chat.' in out


def test_a_stream_that_ends_inside_an_event(serve: Any, write: Any, run_cli: Any) -> None:
    """Close-delimited body, an orderly close after half an event: the event is not dispatched."""
    out = fail(serve, write, run_cli, [chunk("Com"), chunk("té", "stop")[:-2]])
    assert "x events stream: the stream ended in the middle of event 1 (no blank line after it)" in out
    assert '      got data: {"id": "c1"' in out
    assert "x events count" not in out  # one event arrived, and count only asks for one


def test_a_stalled_stream_reports_a_read_timeout(serve: Any, write: Any, run_cli: Any) -> None:
    server = serve([chunk("Com"), 5.0])
    path = collection(write, EVENTS_ALL, request_keys="    timeout: 0.3\n")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 1 and result.exception is None
    assert "x events stream: the stream broke after event 0: read timeout after 0.3 s: the server sent nothing more" in result.stdout


def test_stream_sse_reads_a_text_plain_response_as_events(serve: Any, write: Any, run_cli: Any) -> None:
    script = [chunk("Com"), chunk("té", "stop"), DONE]
    server = serve(script, content_type="text/plain; charset=utf-8")
    forced = collection(write, EVENTS_ALL, request_keys="    stream: sse\n", name="forced.yaml")
    result = run_cli("run", str(forced), "--var", f"base_url={server.url}")
    assert result.exit_code == 0, result.output
    assert "first event" in result.stdout

    auto = collection(write, EVENTS_ALL, name="auto.yaml")
    result = run_cli("run", str(auto), "--var", f"base_url={server.url}")
    assert result.exit_code == 1
    assert "x events stream: not text/event-stream (stream: sse reads it as events anyway)" in result.stdout
    assert "got text/plain; charset=utf-8" in result.stdout


def test_stream_none_reads_an_event_stream_as_a_body(serve: Any, write: Any, run_cli: Any) -> None:
    server = serve([chunk("Com"), chunk("té", "stop"), DONE])
    path = collection(write, '      body: {contains: "data: [DONE]"}', request_keys="    stream: none\n")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 0, result.output
    assert "first event" not in result.stdout

    path = collection(write, EVENTS_ALL, request_keys="    stream: none\n", name="none-events.yaml")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 1
    assert "x events stream: not read as events (the request says stream: none)" in result.stdout


def test_a_stream_over_the_size_limit_fails_without_crashing(serve: Any, write: Any, run_cli: Any) -> None:
    server = serve([chunk("x" * 500)] * 20 + [DONE])
    path = collection(write, "      status: 200", request_keys="    max_response_bytes: 2000\n")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}")
    assert result.exit_code == 1 and result.exception is None
    assert "x size: expected <= 2000 bytes" in result.stdout


def test_secrets_in_events_are_masked(serve: Any, write: Any, run_cli: Any) -> None:
    canary = "sk-canary-7f3a9b"
    server = serve([f'data: {{"leak": "{canary}"}}\n\n'.encode(), b"data: {broken " + canary.encode() + b"\n\n"])
    path = collection(write, "      events: {schema: {type: object, required: [choices]}, done: true}", extra="vars: {key: x}\nsecrets: [key]\n")
    result = run_cli("run", str(path), "--var", f"base_url={server.url}", "--var", f"key={canary}")
    assert result.exit_code == 1
    assert canary not in result.output
    assert "****" in result.stdout


# -- the mock and the shipped collection ---------------------------------------------------------------


def test_the_shipped_stream_collection_passes_against_the_mock(run_cli: Any) -> None:
    result = run_cli("run", "collections/chat-stream.yaml", "--mock", cwd=REPO)
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.stdout
    assert "first event" in result.stdout and "5 events" in result.stdout and "3 events" in result.stdout


def test_the_shipped_stream_collection_validates(run_cli: Any) -> None:
    result = run_cli("validate", "collections/chat-stream.yaml", "--mock", cwd=REPO)
    assert result.exit_code == 0, result.output


MOCKED = """name: mocked
base_url: "{{ base_url }}"
requests:
  - name: chat stream
    method: POST
    url: /v1/chat/completions
    expect:
      events: {done: %(done_expected)s, count: 3, text: "Comté!", json: {"$.last": true}}
    example:
      headers: {content-type: text/event-stream}
      events:
        - {choices: [{delta: {content: Com}}]}
        - "{\\"choices\\": [{\\"delta\\": {\\"content\\": \\"té\\"}}]}"
        - {choices: [{delta: {content: "!"}}], last: true}
      done: %(done_sent)s
      event_delay_ms: %(delay)s
"""


@pytest.mark.parametrize(("done_sent", "done_expected", "delay"), [("true", "true", 30), ("false", "false", 0), ('"{{ send_done }}"', "true", '"{{ pause }}"')], ids=["done", "no-done", "templated"])
def test_the_mock_streams_example_events(write: Any, run_cli: Any, done_sent: str, done_expected: str, delay: Any) -> None:
    path = write("mocked.yaml", MOCKED % {"done_sent": done_sent, "done_expected": done_expected, "delay": delay} + "vars: {send_done: true, pause: 10}\n")
    result = run_cli("run", str(path), "--mock")
    assert result.exit_code == 0, result.output
    assert "3 events" in result.stdout
    assert run_cli("validate", str(path), "--mock").exit_code == 0


def test_the_mock_flushes_event_by_event(write: Any) -> None:
    """With a delay, the first event arrives well before the last: the mock does not buffer the stream."""
    from runner.mock import MockServer

    path = write("mocked.yaml", MOCKED % {"done_sent": "true", "done_expected": "true", "delay": 40})
    with MockServer() as mock:
        plan = build_plan(PlanInput([str(path)], mock_url=mock.url))
        mock.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        context = RunContext(templates=plan.templates, schemas=plan.schemas, options=RunOptions(mock_url=mock.url), stream_reader=StreamReader())
        run = asyncio.run(run_plan(plan.runs, context, []))
    (result,) = run.collections[0].requests
    assert result.outcome == "passed", result.failed_checks
    assert result.first_event_ms is not None and result.first_event_ms < result.elapsed_ms


def test_mock_done_false_fails_done_true(write: Any, run_cli: Any) -> None:
    path = write("mocked.yaml", MOCKED % {"done_sent": "false", "done_expected": "true", "delay": 0})
    result = run_cli("run", str(path), "--mock")
    assert result.exit_code == 1
    assert "x events done: expected data: [DONE] last, got no data: [DONE] (the stream ended after event 2)" in result.stdout


def test_validate_checks_example_events_against_expect_events(write: Any, run_cli: Any) -> None:
    text = (MOCKED % {"done_sent": "true", "done_expected": "true", "delay": 0}).replace('text: "Comté!"', 'text: "Brie"')
    text = text.replace("events: {done: true,", "events: {schema: {type: object, required: [choices]}, done: true,")
    text = text.replace("        - {choices: [{delta: {content: \"!\"}}], last: true}", "        - {last: true}")
    path = write("drift.yaml", text)
    result = run_cli("validate", str(path), "--mock")
    assert result.exit_code == 2, result.output
    assert "fails events schema (event 2) at / (required): 'choices' is a required property" in result.output
    assert 'fails events text: expected "Brie", got "Comté"' in result.output
    assert "drift.yaml:" in result.output


def test_every_report_shows_the_event_count_and_first_event_time(serve: Any, write: Any, run_cli: Any, tmp_path: Path) -> None:
    server = serve([chunk("Com"), chunk("té", "stop", index="zero"), DONE])  # fails: the reports list it
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "junit", "markdown", "html")}
    options = [f"--report={fmt}:{report}" for fmt, report in reports.items()]
    result = run_cli("run", str(collection(write, EVENTS_ALL)), "--var", f"base_url={server.url}", *options)
    assert result.exit_code == 1, result.output
    stream = json.loads(reports["json"].read_text(encoding="utf-8"))["collections"][0]["requests"][0]["stream"]
    assert stream["event_count"] == 2 and stream["first_event_ms"] >= 0
    first = f"{stream['first_event_ms']:.0f} ms"
    assert f"stream: 2 events, first after {first}" in reports["junit"].read_text(encoding="utf-8")
    assert f"2 events, first after {first}" in reports["markdown"].read_text(encoding="utf-8")
    assert "2 events, first" in reports["html"].read_text(encoding="utf-8")
