"""Events checks, captures and the console's report of them: pure code on streams held in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import Assertion, CaptureSpec, EventsSpec, SchemaRef
from runner.query import MISSING
from runner.reports.console import format_failure
from runner.results import FAILED, RequestResult
from runner.schemas import SchemaStore
from runner.streaming import (
    EventLog,
    Message,
    assembled_text,
    check_event_list,
    extract_from_events,
    read_events,
    render_events,
    stream_error,
)
from runner.templating import TemplateError, Templates

CHUNK_SCHEMA = {
    "type": "object",
    "required": ["choices"],
    "properties": {"choices": {"type": "array", "items": {"type": "object", "required": ["index"], "properties": {"index": {"type": "integer"}}}}},
}


def chunk(content: str | None, finish: str | None = None, index: object = 0) -> str:
    import json

    delta = {} if content is None else {"content": content}
    return json.dumps({"choices": [{"index": index, "delta": delta, "finish_reason": finish}], "usage": {"total_tokens": 5} if finish else None})


def stream(*datas: str, done: bool = True) -> bytes:
    body = "".join(f"data: {data}\n\n" for data in datas)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


@pytest.fixture
def store(tmp_path: Path) -> SchemaStore:
    (tmp_path / "pyproject.toml").write_text("")
    return SchemaStore()


def spec(tmp_path: Path, **keys: object) -> EventsSpec:
    if keys.get("schema") is True:
        keys["schema"] = SchemaRef(None, "", CHUNK_SCHEMA, str(tmp_path))
    if "json" in keys:
        keys["json"] = tuple(Assertion("event_json", path, predicate) for path, predicate in keys["json"].items())  # type: ignore[union-attr]
    return EventsSpec(**keys)  # type: ignore[arg-type]


# -- the event log -------------------------------------------------------------------------------


def test_done_is_noted_not_counted() -> None:
    log = read_events(stream(chunk("a"), chunk("b")))
    assert [event.index for event in log.events] == [0, 1]
    assert log.done and log.done_after == 2 and log.unfinished == ""


def test_an_event_after_done_means_the_stream_did_not_end_with_it() -> None:
    log = read_events(stream(chunk("a")) + stream(chunk("late"), done=False))
    assert not log.done and log.done_after == 1 and len(log.events) == 2


def test_first_event_time_is_the_first_real_event() -> None:
    log = EventLog()
    log.add(Message("message", "[DONE]", ""), 5.0)
    log.add(Message("message", "{}", ""), 9.0)
    log.add(Message("message", "{}", ""), 12.0)
    assert log.first_ms == 9.0 and [event.ms for event in log.events] == [9.0, 12.0]


@pytest.mark.parametrize(
    ("events", "unfinished", "cause", "message"),
    [
        (0, "", "", ""),
        (3, "", "", ""),
        (2, "data: {", "", "the stream ended in the middle of event 2 (no blank line after it)"),
        (2, "", "connection reset by peer", "the stream broke after event 1: connection reset by peer"),
        (0, "", "read timeout", "the stream broke before the first event: read timeout"),
        (1, "data: {", "connection closed before the whole body arrived", "the stream broke after event 0; event 1 was cut off: connection closed before the whole body arrived"),
    ],
    ids=["clean-empty", "clean", "mid-event", "broke-between-events", "broke-before-any", "broke-mid-event"],
)
def test_stream_error(events: int, unfinished: str, cause: str, message: str) -> None:
    log = EventLog()
    for _ in range(events):
        log.add(Message("message", "{}", ""), 1.0)
    log.unfinished = unfinished
    assert stream_error(log, cause) == message


# -- assembled text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datas", "path", "text"),
    [
        ([chunk(""), chunk("Com"), chunk("té"), chunk(None, "stop")], "$.choices[0].delta.content", "Comté"),
        ([chunk("a"), "not json", chunk("b")], "$.choices[0].delta.content", "ab"),
        (['{"t": "x"}', '{"t": 1}', '{"t": null}', '{"t": "y"}'], "$.t", "xy"),
        (['{"c": [{"t": "a"}, {"t": "b"}]}', '{"c": [{"t": "c"}]}'], "$.c[*].t", "abc"),
        ([], "$.t", ""),
    ],
    ids=["chat-deltas", "non-json-skipped", "non-strings-skipped", "several-per-event", "no-events"],
)
def test_assembled_text(datas: list[str], path: str, text: str) -> None:
    assert assembled_text(read_events(stream(*datas)).events, path) == text


def test_captures_use_their_own_path_and_the_last_event() -> None:
    events = read_events(stream('{"t": "a", "n": 1}', '{"t": "b", "n": 2}')).events
    view = type("View", (), {"events": events})()
    assert extract_from_events(CaptureSpec("x", "text", "$.t"), view) == "ab"
    assert extract_from_events(CaptureSpec("x", "event", "$.n"), view) == 2
    assert extract_from_events(CaptureSpec("x", "event", "$.nope"), view) is MISSING
    assert extract_from_events(CaptureSpec("x", "text", "$.t"), type("View", (), {"events": []})()) is MISSING
    assert extract_from_events(CaptureSpec("x", "text", "$.t"), type("View", (), {"events": None})()) is MISSING


# -- expect.events -------------------------------------------------------------------------------

GOOD = stream(chunk(""), chunk("Com"), chunk("té", "stop"))


@pytest.mark.parametrize(
    ("keys", "body"),
    [
        ({"done": True}, GOOD),
        ({"done": False}, stream(chunk("a"), done=False)),
        ({"count": 3}, GOOD),
        ({"count": {"ge": 2, "lt": 4}}, GOOD),
        ({"schema": True}, GOOD),
        ({"json": {"$.choices[0].finish_reason": "stop", "$.usage.total_tokens": {"gt": 0}}}, GOOD),
        ({"text": "Comté"}, GOOD),
        ({"text": {"length": 5, "matches": "^Com"}}, GOOD),
        ({"text": "a-b", "text_path": "$.t"}, stream('{"t": "a-"}', '{"t": "b"}')),
        ({"first_ms": 1000.0}, GOOD),
        ({"count": 0, "done": True}, stream()),
    ],
    ids=["done", "not-done", "count", "count-operators", "schema", "last-event-json", "text", "text-operators", "text-path", "first-ms", "empty-stream"],
)
def test_passing_checks(tmp_path: Path, store: SchemaStore, keys: dict, body: bytes) -> None:
    log = read_events(body)
    log.first_ms = 0.0 if log.events else None
    checks = check_event_list(spec(tmp_path, **keys), log, store)
    assert checks and all(check.passed for check in checks), [c for c in checks if not c.passed]


@pytest.mark.parametrize(
    ("keys", "body", "failures"),
    [
        ({"done": True}, stream(chunk("a"), done=False), [("events done", "data: [DONE] last", "no data: [DONE] (the stream ended after event 0)")]),
        ({"done": True}, stream(done=False), [("events done", "data: [DONE] last", "no data: [DONE] (and no events)")]),
        ({"done": True}, stream(chunk("a")) + stream(chunk("b"), done=False), [("events done", "data: [DONE] last", "event 1 after data: [DONE]")]),
        ({"done": False}, GOOD, [("events done", "no data: [DONE]", "data: [DONE] last")]),
        ({"count": {"ge": 5}}, GOOD, [("events count", ">= 5", "3")]),
        ({"json": {"$.choices[0].finish_reason": "length"}}, GOOD, [("events last event $.choices[0].finish_reason", '"length"', '"stop"')]),
        ({"json": {"$.choices[0].finish_reason": "stop"}}, stream(), [("events last event $.choices[0].finish_reason", '"stop"', "(no events)")]),
        ({"json": {"$.a": 1}}, stream('{"a": 1}', "{"), [("events data (event 1)", "JSON data", "data: {"), ("events last event $.a", "1", "(event 1 is not JSON)")]),
        ({"text": "Brie"}, GOOD, [("events text", '"Brie"', '"Comté"')]),
        ({"text": {"length": {"gt": 0}}}, stream('{"other": 1}'), [("events text", "length > 0", '""')]),
    ],
    ids=["done-missing", "done-missing-empty", "event-after-done", "done-unwanted", "count", "last-event-json", "last-event-of-nothing", "last-event-not-json", "text", "text-path-matches-nothing"],
)
def test_failing_checks(tmp_path: Path, store: SchemaStore, keys: dict, body: bytes, failures: list[tuple[str, str, str]]) -> None:
    checks = check_event_list(spec(tmp_path, **keys), read_events(body), store)
    assert [(c.label, c.expected, c.actual) for c in checks if not c.passed] == failures


def test_first_ms_bound(tmp_path: Path, store: SchemaStore) -> None:
    log = read_events(GOOD)
    log.first_ms = 250.0
    (check,) = check_event_list(spec(tmp_path, first_ms=100.0), log, store)
    assert (check.passed, check.expected, check.actual) == (False, "<= 100 ms", "250 ms")
    (check,) = check_event_list(spec(tmp_path, first_ms=100.0), EventLog(), store)
    assert (check.passed, check.actual) == (False, "no event")


def test_a_chunk_that_fails_the_schema_is_named_by_index_and_content(tmp_path: Path, store: SchemaStore) -> None:
    body = stream(chunk("a"), chunk("b", index="one"), chunk("c"))
    failed = [c for c in check_event_list(spec(tmp_path, schema=True), read_events(body), store) if not c.passed]
    assert len(failed) == 1
    check = failed[0]
    assert check.label == "events schema (event 1)"
    assert (check.pointer, check.keyword) == ("/choices/0/index", "type")
    assert "'one' is not of type 'integer'" in check.message
    assert check.actual.startswith('data: {"choices": [{"index": "one"')


def test_malformed_events_are_named_by_index_and_content(tmp_path: Path, store: SchemaStore) -> None:
    body = stream(chunk("a"), "{not json", chunk("b"), "", done=True)
    failed = [c for c in check_event_list(spec(tmp_path, schema=True, text="ab"), read_events(body), store) if not c.passed]
    assert [(c.label, c.actual) for c in failed] == [("events data (event 1)", "data: {not json"), ("events data (event 3)", "data: ")]
    assert failed[0].message.startswith("event 1 is not JSON: Expecting property name")


def test_many_bad_events_are_summarised(tmp_path: Path, store: SchemaStore) -> None:
    body = stream(*[chunk("x", index="bad")] * 14, *["nope"] * 12)
    failed = [c for c in check_event_list(spec(tmp_path, schema=True), read_events(body), store) if not c.passed]
    assert sum(c.label.startswith("events schema (event") for c in failed) == 10
    assert sum(c.label.startswith("events data (event") for c in failed) == 10
    assert [c.message for c in failed if c.target in ("data", "schema")] == ["and 2 more events that are not JSON", "and 4 more events fail the schema"]


def test_events_without_json_checks_may_be_any_text(tmp_path: Path, store: SchemaStore) -> None:
    checks = check_event_list(spec(tmp_path, count=2, done=True), read_events(stream("plain text", "more text")), store)
    assert all(check.passed for check in checks)


# -- rendering expect.events ------------------------------------------------------------------------


def test_render_events_fills_every_predicate(tmp_path: Path) -> None:
    raw = spec(tmp_path, done="{{ must_end }}", count={"ge": "{{ n }}"}, json={"$.a": "{{ word }}"}, text={"contains": "{{ word }}"}, first_ms="{{ limit }}")
    rendered = render_events(raw, Templates(), {"must_end": True, "n": 2, "word": "Comté", "limit": "1500"})
    assert (rendered.done, rendered.count, rendered.json[0].predicate, rendered.text, rendered.first_ms) == (True, {"ge": 2}, "Comté", {"contains": "Comté"}, 1500.0)


def test_render_events_rejects_a_first_ms_that_is_not_a_number(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="first_ms"):
        render_events(spec(tmp_path, first_ms="{{ limit }}"), Templates(), {"limit": "soon"})


def test_render_events_for_validate_drops_what_depends_on_captures(tmp_path: Path) -> None:
    raw = spec(tmp_path, count="{{ n }}", text="{{ answer }}", json={"$.a": "{{ answer }}", "$.b": 1})
    rendered = render_events(raw, Templates(), {"n": 3, "answer": "stale default"}, skip={"answer"})
    assert (rendered.count, rendered.text, [a.target for a in rendered.json]) == (3, None, ["$.b"])


# -- the console's failure detail ------------------------------------------------------------------


def test_console_shows_why_and_the_event(tmp_path: Path, store: SchemaStore) -> None:
    body = stream(chunk("a"), chunk("b", index="one"), "oops", done=False)
    log = read_events(body)
    result = RequestResult("c", "chat stream", "POST", "http://x/v1/chat", None, FAILED)
    result.checks = check_event_list(spec(tmp_path, schema=True, done=True), log, store)
    text = "\n".join("".join(part for part, _ in line) for line in format_failure(result))
    assert "x events schema (event 1) at /choices/0/index (type): 'one' is not of type 'integer'" in text
    assert '      got data: {"choices": [{"index": "one"' in text
    assert "x events data (event 2): event 2 is not JSON: Expecting value" in text
    assert "      got data: oops" in text
    assert "x events done: expected data: [DONE] last, got no data: [DONE] (the stream ended after event 2)" in text
