"""Server-sent events: an incremental WHATWG event-stream parser, the stream reader, and the checks.

The parser follows the HTML standard's "Interpreting an event stream"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
UTF-8 (invalid bytes become U+FFFD) with one leading BOM ignored; lines end in
CRLF, LF or CR, also when a CRLF is split across two reads; a line starting with
``:`` is a comment; ``name: value`` drops one space after the colon and a line
without a colon is a field with an empty value; ``data`` lines join with LF;
``event``, ``id`` (ignored when it holds NUL) and ``retry`` (ASCII digits only);
a blank line dispatches the event unless it has no data; an event cut off by the
end of the stream is not dispatched: the reader reports it.

On top of the standard, the OpenAI-style ``data: [DONE]`` sentinel that ends a
chat stream is recorded (``done``) and is not an event.  Events are numbered
from 0 in the order they arrived.
"""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from .assertions import evaluate, parse_json, show
from .model import CaptureSpec, EventsSpec
from .query import MISSING, json_value, json_values
from .redact import shorten
from .results import CheckResult

if TYPE_CHECKING:
    import httpx

    from .http import HttpResponse
    from .schemas import SchemaStore
    from .templating import Templates

DONE = "[DONE]"
# The event log of one response is bounded (docs/streaming.md): past either cap the stream is not
# read further and the request fails saying so, as a body over max_response_bytes does.
MAX_EVENTS = 100_000
MAX_EVENT_DATA_BYTES = 32 * 1024 * 1024  # the data of every event kept, together (characters)
DEFAULT_TEXT_PATH = EventsSpec.text_path
MAX_REPORTED = 10  # failing events reported one by one; the rest are counted in one line
SNIPPET_CHARS = 240
_EOL = re.compile(r"\r\n|\r|\n")
_ASCII_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(): it accepts digits the standard rejects ("²", "٣")
_UNPARSED: Any = object()


class Message(NamedTuple):
    """A dispatched event, as the standard defines it: its type, its data and the last event ID."""

    event: str
    data: str
    id: str


class EventStreamParser:
    """Feed bytes in any chunking; get, in order, the events they complete."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""  # the current line, its end not seen yet (after _pieces are joined)
        self._pieces: list[str] = []  # parts of the current line from earlier reads: joined once, at its end (linear)
        self._data: list[str] = []
        self._event = ""
        self._fields: list[str] = []  # the lines of the event being read, to report it if the stream stops
        self._started = False
        self._after_cr = False  # the last read ended in CR: a LF starting the next one belongs to it
        self.last_id = ""
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[Message]:
        """Parse ``chunk``; return every event it completes."""
        return self._feed_text(self._decoder.decode(chunk))

    def finish(self) -> str:
        """End of stream: the text of an event left without its blank line (``""`` if none); it is not dispatched."""
        self._feed_text(self._decoder.decode(b"", final=True))
        self._line, self._pieces = "".join(self._pieces), []
        lines = list(self._fields)
        if self._line and not self._line.startswith(":"):
            lines.append(self._line)
        self._line, self._data, self._event, self._fields = "", [], "", []
        return "\n".join(lines)

    def _feed_text(self, text: str) -> list[Message]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr and text[:1] == "\n":
            text = text[1:]
        self._after_cr = text.endswith("\r")
        out = []
        start = 0
        for match in _EOL.finditer(text):
            if self._pieces:
                line = "".join(self._pieces) + text[start:match.start()]
                self._pieces = []
            else:
                line = text[start:match.start()]
            start = match.end()
            message = self._process(line)
            if message is not None:
                out.append(message)
        if start < len(text):
            self._pieces.append(text[start:])  # appending to one growing string would copy it at every read
        return out

    def _process(self, line: str) -> Message | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        self._fields.append(line)
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "retry":
            if _ASCII_DIGITS.fullmatch(value):
                self.retry = int(value)
        return None

    def _dispatch(self) -> Message | None:
        self._fields = []
        if not self._data:
            self._event = ""
            return None
        message = Message(self._event or "message", "\n".join(self._data), self.last_id)
        self._data, self._event = [], ""
        return message


@dataclass
class Event:
    """One event of a stream: its data, type and id, and when it arrived (ms since the request started)."""

    index: int
    data: str
    event: str = "message"
    id: str = ""
    ms: float = 0.0
    json_error: str = ""
    _json: Any = field(default=_UNPARSED, repr=False)

    @property
    def json(self) -> Any:
        """The data parsed as JSON, or ``MISSING`` (with ``json_error`` set)."""
        if self._json is _UNPARSED:
            try:
                self._json = parse_json(self.data)
            except ValueError as exc:
                self._json = MISSING
                self.json_error = str(exc)
        return self._json


@dataclass
class EventLog:
    """The events of one stream as they arrive; ``data: [DONE]`` is noted, not counted."""

    events: list[Event] = field(default_factory=list)
    done_after: int | None = None  # how many events came before the last [DONE]
    first_ms: float | None = None
    unfinished: str = ""  # an event the stream stopped inside of

    @property
    def done(self) -> bool:
        """Whether the stream ended with ``data: [DONE]`` (no event after it)."""
        return self.done_after == len(self.events)

    data_size: int = 0  # characters of data kept, for MAX_EVENT_DATA_BYTES

    def add(self, message: Message, ms: float) -> None:
        """Record one dispatched event that arrived ``ms`` after the request started."""
        if message.data.strip() == DONE:
            self.done_after = len(self.events)
            return
        if self.first_ms is None:
            self.first_ms = ms
        self.data_size += len(message.data)
        self.events.append(Event(len(self.events), message.data, message.event, message.id, ms))

    def over_limit(self) -> str:
        """Why the log holds as much as it may (``""`` while it does not)."""
        if len(self.events) >= MAX_EVENTS:
            return f"the stream sent more than {MAX_EVENTS} events: reading stopped there"
        if self.data_size > MAX_EVENT_DATA_BYTES:
            return f"the events' data passed {MAX_EVENT_DATA_BYTES} characters: reading stopped there"
        return ""


def read_events(data: bytes) -> EventLog:
    """Every event of a complete stream held in memory (a saved example)."""
    parser = EventStreamParser()
    log = EventLog()
    for message in parser.feed(data):
        log.add(message, 0.0)
    log.unfinished = parser.finish()
    return log


class StreamReader:
    """Plugged into ``http.send``: reads event-stream responses event by event, as they arrive.

    A ``listener`` (the ``--show`` pane) hears each stream start and each event as it arrives.
    """

    def __init__(self, listener: Any = None):
        self.listener = listener

    def wants(self, request: Any, response: httpx.Response) -> bool:
        """Whether this response is read as an event stream (``stream: sse``, or ``auto`` and text/event-stream)."""
        if request.stream == "none":
            return False
        if request.stream == "sse":
            return True
        return is_event_stream(response.headers.get("content-type", ""))

    async def read(self, response: httpx.Response, request: Any, started: float) -> HttpResponse:
        """Read every event; a cut stream is recorded in ``stream_error``, never raised."""
        import httpx

        from .http import HttpResponse, body_chunks, describe_transport_error

        parser = EventStreamParser()
        log = EventLog()
        raw: list[bytes] = []
        size = 0
        cause = capped = ""
        truncated = False
        if self.listener is not None:
            self.listener.stream_started(request, response)
        try:
            async for chunk in body_chunks(response, request.max_response_bytes):
                size += len(chunk)
                if size > request.max_response_bytes:
                    truncated = True
                    break
                raw.append(chunk)
                for message in parser.feed(chunk):
                    count = len(log.events)
                    log.add(message, (time.perf_counter() - started) * 1000)
                    if self.listener is not None and len(log.events) > count:
                        self.listener.stream_event(request, log.events[-1])
                capped = log.over_limit()
                if capped:  # a failed "complete stream" check (stream_error), not a truncated body
                    break
        except httpx.HTTPError as exc:
            cause = describe_transport_error(exc, request.timeout)
        log.unfinished = "" if truncated or capped else parser.finish()
        cause = cause or capped
        result = HttpResponse(
            status=response.status_code,
            headers=response.headers,
            body=b"".join(raw),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            truncated=truncated,
            events=log.events,
            first_event_ms=log.first_ms,
            stream_error=stream_error(log, cause),
        )
        result.extras["stream"] = log
        return result


def is_event_stream(content_type: str) -> bool:
    """Whether a Content-Type is ``text/event-stream`` (parameters ignored)."""
    return content_type.split(";")[0].strip().lower() == "text/event-stream"


def stream_error(log: EventLog, cause: str = "") -> str:
    """Why a stream is incomplete (it broke, or ended inside an event), or ``""``."""
    count = len(log.events)
    if cause:
        where = f"after event {count - 1}" if count else "before the first event"
        cut = f"; event {count} was cut off" if log.unfinished else ""
        return f"the stream broke {where}{cut}: {cause}"
    if log.unfinished:
        return f"the stream ended in the middle of event {count} (no blank line after it)"
    return ""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Event text on one line, shortened: for failure messages."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return shorten(flat, limit)


def render_events(spec: EventsSpec, templates: Templates, values: Mapping[str, Any], skip: set[str] | None = None) -> EventsSpec:
    """``expect.events`` with its templates rendered.

    With ``skip`` (``validate``, which has no captured values), a predicate that
    uses one of those names or cannot be rendered is dropped instead of raising.
    """
    from .templating import TemplateError, iter_strings

    def one(value: Any) -> Any:
        if value is None:
            return None
        if skip is not None:
            names: set[str] = set()
            for text in iter_strings(value):
                names |= templates.names(text)
            if names & skip:
                return None
            try:
                return templates.render(value, values)
            except TemplateError:
                return None
        return templates.render(value, values)

    first_ms = one(spec.first_ms)
    if first_ms is not None:
        try:
            first_ms = float(first_ms)
        except (TypeError, ValueError):
            if skip is None:
                raise TemplateError(f"expect.events.first_ms: {first_ms!r} is not a number") from None
            first_ms = None
    json_checks = []
    for check in spec.json:
        predicate = one(check.predicate)
        if predicate is not None or check.predicate is None:  # a null predicate stays: it means "is null"
            json_checks.append(replace(check, predicate=predicate))
    return replace(spec, done=_flag(one(spec.done)), count=one(spec.count), json=tuple(json_checks), text=one(spec.text), first_ms=first_ms)


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def assembled_text(events: list[Event], path: str = DEFAULT_TEXT_PATH) -> str:
    """The strings a JSONPath selects in each event, concatenated in order (other values skipped)."""
    parts: list[str] = []
    for event in events:
        document = event.json
        if document is not MISSING:
            parts.extend(value for value in json_values(path, document) if isinstance(value, str))
    return "".join(parts)


def check_event_list(spec: EventsSpec | None, log: EventLog, schemas: SchemaStore) -> list[CheckResult]:
    """Every ``expect.events`` check (rendered) over a stream's events; a bad event is named by index and content."""
    if spec is None:
        return []
    checks: list[CheckResult] = []
    loc = spec.location
    events = log.events
    if spec.done is not None:
        checks.append(_done_check(spec.done, log, loc))
    if spec.count is not None:
        ok, expected = evaluate(spec.count, len(events))
        checks.append(CheckResult("events", "count", ok, expected, str(len(events)), "", loc))
    if spec.first_ms is not None:
        bound = float(spec.first_ms)
        ok = log.first_ms is not None and log.first_ms <= bound
        checks.append(CheckResult("events", "first_ms", ok, f"<= {bound:g} ms", "no event" if log.first_ms is None else f"{log.first_ms:.0f} ms", "", loc))
    if spec.schema is not None or spec.json or spec.text is not None:
        checks.extend(_json_checks(events, loc))
    if spec.schema is not None:
        checks.extend(_schema_checks(spec, events, schemas))
    last = events[-1].json if events else MISSING
    for assertion in spec.json:
        actual = json_value(assertion.target, last) if last is not MISSING else MISSING
        ok, expected = evaluate(assertion.predicate, actual)
        shown = show(actual) if last is not MISSING else f"(event {len(events) - 1} is not JSON)" if events else "(no events)"
        checks.append(CheckResult("events", f"last event {assertion.target}", ok, expected, shown, "", assertion.location))
    if spec.text is not None:
        text = assembled_text(events, spec.text_path)
        ok, expected = evaluate(spec.text, text, text_actual=True)
        checks.append(CheckResult("events", "text", ok, expected, show(text), "", loc))
    return checks


def _done_check(wanted: bool, log: EventLog, loc: Any) -> CheckResult:
    count = len(log.events)
    if log.done:
        actual = "data: [DONE] last"
    elif log.done_after is not None:
        actual = f"event {log.done_after} after data: [DONE]"
    else:
        actual = "no data: [DONE]" + (f" (the stream ended after event {count - 1})" if count else " (and no events)")
    expected = "data: [DONE] last" if wanted else "no data: [DONE]"
    return CheckResult("events", "done", log.done == wanted, expected, actual, "", loc)


def _json_checks(events: list[Event], loc: Any) -> list[CheckResult]:
    bad = [event for event in events if event.json is MISSING]
    checks = [CheckResult("events", f"data (event {event.index})", False, "JSON data", f"data: {snippet(event.data)}", f"event {event.index} is not JSON: {event.json_error}", loc) for event in bad[:MAX_REPORTED]]
    if len(bad) > MAX_REPORTED:
        checks.append(CheckResult("events", "data", False, "JSON data", "", f"and {len(bad) - MAX_REPORTED} more events that are not JSON", loc))
    return checks


def _schema_checks(spec: EventsSpec, events: list[Event], schemas: SchemaStore) -> list[CheckResult]:
    ref = spec.schema
    assert ref is not None
    checks: list[CheckResult] = []
    failing = 0
    for event in events:
        document = event.json
        if document is MISSING:
            continue  # reported as not JSON
        violations = schemas.validate(ref, document)
        if not violations:
            continue
        failing += 1
        if failing <= MAX_REPORTED:
            content = f"data: {snippet(event.data)}"
            checks += [
                CheckResult("events", f"schema (event {event.index})", False, f"{v.keyword} holds", content, v.message, ref.location, pointer=v.pointer or "/", keyword=v.keyword)
                for v in violations
            ]
    if failing > MAX_REPORTED:
        checks.append(CheckResult("events", "schema", False, "every event valid", "", f"and {failing - MAX_REPORTED} more events fail the schema", ref.location))
    if not failing and all(event.json is not MISSING for event in events):
        checks.append(CheckResult("events", "schema", True, location=ref.location))
    return checks


def check_events(spec: EventsSpec | None, response: HttpResponse, stream: str, schemas: SchemaStore) -> list[CheckResult]:
    """Checks on a streamed response: a broken or cut stream, then ``expect.events`` (rendered)."""
    if response.events is None:
        if spec is None:
            return []
        content_type = response.headers.get("content-type", "") or "no content-type"
        why = "not read as events (the request says stream: none)" if stream == "none" else "not text/event-stream (stream: sse reads it as events anyway)"
        return [CheckResult("events", "stream", False, "an event stream", content_type, why, spec.location)]
    log = response.extras.get("stream") or EventLog(list(response.events))
    checks: list[CheckResult] = []
    if response.stream_error:
        content = f"{snippet(log.unfinished)}" if log.unfinished else ""
        checks.append(CheckResult("events", "stream", False, "a complete stream", content, response.stream_error, spec.location if spec else None))
    checks.extend(check_event_list(spec, log, schemas))
    return checks


def extract_from_events(capture: CaptureSpec, view: Any) -> Any:
    """``{text: true}``: the assembled text (at the capture's path); ``{event: PATH}``: JSONPath on the last event."""
    events = view.events
    if not events:
        return MISSING
    if capture.source == "text":
        return assembled_text(events, capture.expr or DEFAULT_TEXT_PATH)
    last = events[-1].json
    return MISSING if last is MISSING else json_value(capture.expr, last)
