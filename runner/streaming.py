"""Server-sent events: an incremental WHATWG event-stream parser, the stream reader, and checks.

The parser follows the HTML standard's rules: lines end in CRLF, LF or CR (also
split across reads), ``:`` starts a comment, ``data`` lines join with newlines,
``event``/``id``/``retry`` fields, an event is dispatched on a blank line, and an
event cut off by the end of the stream is not dispatched (we report it).
"""

from __future__ import annotations

import codecs
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .assertions import evaluate, show
from .model import CaptureSpec, EventsSpec
from .query import MISSING, json_value
from .results import CheckResult

DONE = "[DONE]"
_EOL = re.compile(r"[\r\n]")


@dataclass
class Event:
    """One dispatched event: its data, type, id and arrival time since the request started."""

    index: int
    data: str
    event: str = "message"
    id: str = ""
    ms: float = 0.0
    _json: Any = field(default=None, repr=False)
    json_error: str = ""

    @property
    def json(self) -> Any:
        """The data parsed as JSON, or ``MISSING`` (with ``json_error`` set)."""
        if self._json is None:
            try:
                self._json = json.loads(self.data)
            except ValueError as exc:
                self._json = MISSING
                self.json_error = f"not JSON ({exc})"
        return self._json


class EventStreamParser:
    """Feed bytes in any chunking; get complete events out."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self.last_id = ""
        self.retry: int | None = None
        self._first = True
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[tuple[str, str, str]]:
        """Parse a chunk; return the ``(event, data, id)`` of every event it completes."""
        text = self._decoder.decode(chunk)
        if self._first and text:
            text = text.lstrip("\ufeff")
            self._first = False
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two reads
        self._pending_cr = False
        self._buffer += text
        out = []
        while True:
            match = _EOL.search(self._buffer)
            if match is None:
                break
            cut = match.start()
            line = self._buffer[:cut]
            rest = self._buffer[cut + 1:]
            if self._buffer[cut] == "\r":
                if rest.startswith("\n"):
                    rest = rest[1:]
                elif not rest:
                    self._pending_cr = True
            self._buffer = rest
            event = self._line(line)
            if event is not None:
                out.append(event)
        return out

    def _line(self, line: str) -> tuple[str, str, str] | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = (self._event or "message", "\n".join(self._data), self.last_id)
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)
        return None

    @property
    def incomplete(self) -> bool:
        """Whether the stream stopped inside an event (data seen, no blank line yet)."""
        return bool(self._data) or bool(self._buffer.strip())


class StreamReader:
    """Plugged into ``http.send``: reads ``text/event-stream`` responses event by event."""

    def wants(self, request: Any, response: httpx.Response) -> bool:
        """Whether this response is read as an event stream."""
        if request.stream == "none":
            return False
        if request.stream == "sse":
            return True
        return response.headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"

    async def read(self, response: httpx.Response, request: Any, started: float) -> Any:
        """Read every event; a cut stream is recorded (``stream_error``), never raised."""
        from .http import HttpResponse, describe_transport_error

        parser = EventStreamParser()
        events: list[Event] = []
        raw: list[bytes] = []
        size = 0
        first_ms: float | None = None
        error = ""
        done = False
        truncated = False
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > request.max_response_bytes:
                    truncated = True
                    break
                raw.append(chunk)
                for kind, data, event_id in parser.feed(chunk):
                    now = (time.perf_counter() - started) * 1000
                    if first_ms is None:
                        first_ms = now
                    if data.strip() == DONE:
                        done = True
                        continue
                    events.append(Event(len(events), data, kind, event_id, now))
        except httpx.HTTPError as exc:
            error = f"stream cut off after {len(events)} events: {describe_transport_error(exc, request.timeout)}"
        if not error and not truncated and parser.incomplete:
            error = f"stream ended in the middle of an event (after {len(events)} complete events)"
        result = HttpResponse(
            status=response.status_code,
            headers=response.headers,
            body=b"".join(raw),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            truncated=truncated,
            events=events,
            first_event_ms=first_ms,
            stream_error=error,
        )
        result.extras["done"] = done
        return result


def assembled_text(events: list[Event], path: str) -> str:
    """The concatenation of the strings a JSONPath selects in each event (nulls skipped)."""
    parts = []
    for event in events:
        document = event.json
        if document is MISSING:
            continue
        value = json_value(path, document)
        values = value if isinstance(value, list) and not _singular(path) else [value]
        parts.extend(item for item in values if isinstance(item, str))
    return "".join(parts)


def _singular(path: str) -> bool:
    from .query import compile_jsonpath

    return bool(compile_jsonpath(path).singular_query())


def check_event_list(spec: EventsSpec | None, events: list[Event], done: bool, first_ms: float | None, schemas: Any, templates: Any = None, scope: dict[str, Any] | None = None) -> list[CheckResult]:
    """Every ``expect.events`` check over a list of events; malformed events are reported by index."""
    checks: list[CheckResult] = []
    if spec is None:
        return checks
    loc = spec.location
    render = (lambda value: templates.render(value, scope or {})) if templates is not None else (lambda value: value)
    if spec.done is not None:
        ok = done == spec.done
        checks.append(CheckResult("events", "done", ok, "a [DONE] event" if spec.done else "no [DONE] event", "[DONE]" if done else "no [DONE]", "" if ok else "the stream did not end with data: [DONE]", loc))
    if spec.count is not None:
        ok, expected = evaluate(render(spec.count), len(events))
        checks.append(CheckResult("events", "count", ok, expected, str(len(events)), "", loc))
    if spec.first_ms is not None:
        bound = float(render(spec.first_ms))
        ok = first_ms is not None and first_ms <= bound
        checks.append(CheckResult("events", "first_ms", ok, f"<= {bound:g} ms", "no event" if first_ms is None else f"{first_ms:.0f} ms", "", loc))
    if spec.schema is not None:
        failures = 0
        for event in events:
            document = event.json
            if document is MISSING:
                checks.append(CheckResult("events", f"event {event.index}", False, "JSON data", show(event.data), f"event {event.index} is {event.json_error}", spec.schema.location))
                failures += 1
                continue
            for violation in schemas.validate(spec.schema, document):
                failures += 1
                checks.append(CheckResult("events", f"event {event.index} schema", False, f"{violation.keyword} holds", show(event.data), violation.message, spec.schema.location, pointer=violation.pointer or "/", keyword=violation.keyword))
            if failures >= 10:
                break
        if not failures:
            checks.append(CheckResult("events", "schema", True, location=spec.schema.location))
    last = events[-1].json if events else MISSING
    for assertion in spec.json:
        actual = json_value(assertion.target, last) if last is not MISSING else MISSING
        ok, expected = evaluate(render(assertion.predicate), actual)
        checks.append(CheckResult("events", f"last event {assertion.target}", ok, expected, show(actual), "" if ok else ("no events" if not events else "value mismatch"), assertion.location))
    if spec.text is not None:
        text = assembled_text(events, spec.text_path)
        ok, expected = evaluate(render(spec.text), text, text_actual=True)
        checks.append(CheckResult("events", "text", ok, expected, show(text), "", loc))
    return checks


def check_events(spec: EventsSpec | None, response: Any, context: Any, templates: Any) -> list[CheckResult]:
    """Checks for a streamed response: cut streams, then ``expect.events``."""
    checks: list[CheckResult] = []
    if response.events is None:
        if spec is not None:
            checks.append(CheckResult("events", "", False, "an event stream", response.headers.get("content-type", "(none)"), "the response is not text/event-stream (set stream: sse to force it)", spec.location))
        return checks
    if response.stream_error:
        checks.append(CheckResult("events", "stream", False, "a complete stream", f"{len(response.events)} events", response.stream_error, spec.location if spec else None))
    checks.extend(check_event_list(spec, response.events, bool(response.extras.get("done")), response.first_event_ms, context.schemas))
    return checks


def extract_from_events(capture: CaptureSpec, view: Any) -> Any:
    """``{text: true}``: the assembled text; ``{event: PATH}``: JSONPath on the last event."""
    events = view.events
    if not events:
        return MISSING
    if capture.source == "text":
        return assembled_text(events, "$.choices[0].delta.content")
    last = events[-1].json
    return MISSING if last is MISSING else json_value(capture.expr, last)
