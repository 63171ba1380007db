"""The event-stream parser against the WHATWG rules, in every chunking of its input.

Each case is a byte stream and the events it must give (type, data, last event
ID), plus what is left unfinished when the stream ends.  Every case runs fed at
once, one byte at a time, cut in two at every byte boundary, and in seeded random
chunkings: the result must never depend on how the bytes arrive.
"""

from __future__ import annotations

import random

import pytest

from runner.streaming import EventStreamParser, Message

M = Message

CASES = [
    # (id, stream, events, unfinished)
    ("one-event", b"data: hello\n\n", [M("message", "hello", "")], ""),
    ("two-events", b"data: a\n\ndata: b\n\n", [M("message", "a", ""), M("message", "b", "")], ""),
    ("multi-line-data", b"data: a\ndata: b\ndata: c\n\n", [M("message", "a\nb\nc", "")], ""),
    ("empty-data-value", b"data:\n\n", [M("message", "", "")], ""),
    ("no-colon-field", b"data\n\n", [M("message", "", "")], ""),
    ("no-colon-data-lines-join", b"data\ndata\n\n", [M("message", "\n", "")], ""),
    ("no-colon-unknown-field", b"hello\ndata: x\n\n", [M("message", "x", "")], ""),
    ("one-space-removed", b"data:  two spaces\n\n", [M("message", " two spaces", "")], ""),
    ("no-space-after-colon", b"data:x\n\n", [M("message", "x", "")], ""),
    ("colon-in-value", b'data: {"a": "b:c"}\n\n', [M("message", '{"a": "b:c"}', "")], ""),
    ("space-before-colon-is-another-field", b"data : x\n\n", [], ""),
    ("field-names-are-case-sensitive", b"Data: x\n\n", [], ""),
    ("unknown-field-ignored", b"foo: bar\ndata: x\n\n", [M("message", "x", "")], ""),
    ("comment", b": this is a comment\ndata: x\n\n", [M("message", "x", "")], ""),
    ("comment-between-data-lines", b"data: a\n: note\ndata: b\n\n", [M("message", "a\nb", "")], ""),
    ("keep-alive-comments-only", b": keep-alive\n\n: ping\n\n:\n\n", [], ""),
    ("keep-alives-between-events", b"data: a\n\n: ping\n\n: ping\n\ndata: b\n\n", [M("message", "a", ""), M("message", "b", "")], ""),
    ("blank-lines-dispatch-nothing", b"\n\n\n\ndata: x\n\n\n", [M("message", "x", "")], ""),
    ("crlf", b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", [M("message", "a\nb", ""), M("message", "c", "")], ""),
    ("cr-only", b"data: a\rdata: b\r\rdata: c\r\r", [M("message", "a\nb", ""), M("message", "c", "")], ""),
    ("mixed-line-endings", b"data: a\r\ndata: b\rdata: c\n\r\n", [M("message", "a\nb\nc", "")], ""),
    ("cr-cr-is-two-lines", b"data: a\r\r", [M("message", "a", "")], ""),
    ("lf-cr-is-two-line-ends", b"data: a\n\rdata: b\n\n", [M("message", "a", ""), M("message", "b", "")], ""),
    ("bom", b"\xef\xbb\xbfdata: x\n\n", [M("message", "x", "")], ""),
    ("only-one-bom-ignored", b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n", [M("message", "y", "")], ""),
    ("bom-later-is-not-ignored", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [M("message", "a", "")], ""),
    ("event-type", b"event: add\ndata: 1\n\n", [M("add", "1", "")], ""),
    ("event-type-resets-after-dispatch", b"event: add\ndata: 1\n\ndata: 2\n\n", [M("add", "1", ""), M("message", "2", "")], ""),
    ("event-type-empty-is-message", b"event:\ndata: 1\n\n", [M("message", "1", "")], ""),
    ("event-without-data-not-dispatched", b"event: ping\n\ndata: x\n\n", [M("message", "x", "")], ""),
    ("last-event-type-wins", b"event: a\nevent: b\ndata: x\n\n", [M("b", "x", "")], ""),
    ("id", b"id: 7\ndata: a\n\n", [M("message", "a", "7")], ""),
    ("id-persists", b"id: 7\ndata: a\n\ndata: b\n\n", [M("message", "a", "7"), M("message", "b", "7")], ""),
    ("id-without-data-still-sets", b"id: 3\n\ndata: a\n\n", [M("message", "a", "3")], ""),
    ("id-no-colon-resets", b"id: 7\ndata: a\n\nid\ndata: b\n\n", [M("message", "a", "7"), M("message", "b", "")], ""),
    ("id-with-nul-ignored", b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [M("message", "a", "1"), M("message", "b", "1")], ""),
    ("retry-alone-dispatches-nothing", b"retry: 1500\n\n", [], ""),
    ("retry-with-data", b"retry: 10\ndata: x\n\n", [M("message", "x", "")], ""),
    ("utf-8", "data: Comté 🧀\n\n".encode(), [M("message", "Comté 🧀", "")], ""),
    ("invalid-utf-8-replaced", b"data: \xff\xfe ok\n\n", [M("message", "\ufffd\ufffd ok", "")], ""),
    ("done-sentinel-is-an-event-here", b"data: a\n\ndata: [DONE]\n\n", [M("message", "a", ""), M("message", "[DONE]", "")], ""),
    ("openai-chunk", b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n', [M("message", '{"choices":[{"delta":{"content":"Hi"}}]}', ""), M("message", "[DONE]", "")], ""),
    ("end-inside-event", b"data: a\n\ndata: b\n", [M("message", "a", "")], "data: b"),
    ("end-inside-line", b'data: a\n\ndata: {"x', [M("message", "a", "")], 'data: {"x'),
    ("end-inside-multiline-event", b"event: e\ndata: 1\ndata: 2", [], "event: e\ndata: 1\ndata: 2"),
    ("end-after-comment-is-clean", b"data: a\n\n: bye", [M("message", "a", "")], ""),
    ("end-inside-utf-8-sequence", b"data: a\n\ndata: \xc3", [M("message", "a", "")], "data: \ufffd"),
    ("empty-stream", b"", [], ""),
]


def parse(chunks: list[bytes]) -> tuple[list[Message], str, EventStreamParser]:
    parser = EventStreamParser()
    events: list[Message] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events, parser.finish(), parser


def random_chunks(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    chunks, at = [], 0
    while at < len(data):
        size = rng.choice((0, 1, 1, 2, 3, 5, 8, 64))
        chunks.append(data[at : at + size])
        at += size
    return chunks


@pytest.mark.parametrize(("stream", "events", "unfinished"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_whole_stream(stream: bytes, events: list[Message], unfinished: str) -> None:
    assert parse([stream])[:2] == (events, unfinished)


@pytest.mark.parametrize(("stream", "events", "unfinished"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_one_byte_at_a_time(stream: bytes, events: list[Message], unfinished: str) -> None:
    assert parse([stream[i : i + 1] for i in range(len(stream))])[:2] == (events, unfinished)


@pytest.mark.parametrize(("stream", "events", "unfinished"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_split_at_every_boundary(stream: bytes, events: list[Message], unfinished: str) -> None:
    for cut in range(len(stream) + 1):
        assert parse([stream[:cut], stream[cut:]])[:2] == (events, unfinished), f"cut at byte {cut}"


@pytest.mark.parametrize(("stream", "events", "unfinished"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_random_chunkings(stream: bytes, events: list[Message], unfinished: str) -> None:
    for seed in range(25):
        assert parse(random_chunks(stream, seed))[:2] == (events, unfinished), f"seed {seed}"


RETRY = [
    ("digits", b"retry: 1500\n", 1500),
    ("no-space", b"retry:20\n", 20),
    ("last-wins", b"retry: 1\nretry: 2\n", 2),
    ("leading-zeros", b"retry: 007\n", 7),
    ("not-a-number", b"retry: soon\n", None),
    ("decimal", b"retry: 1.5\n", None),
    ("negative", b"retry: -1\n", None),
    ("empty", b"retry:\n", None),
    ("no-colon", b"retry\n", None),
    ("trailing-space", b"retry: 10 \n", None),
    ("non-ascii-digits", "retry: ١٢\n".encode(), None),
    ("superscript-digit", "retry: ²\n".encode(), None),
    ("invalid-keeps-previous", b"retry: 5\nretry: x\n", 5),
]


@pytest.mark.parametrize(("stream", "retry"), [case[1:] for case in RETRY], ids=[case[0] for case in RETRY])
def test_retry_field(stream: bytes, retry: int | None) -> None:
    assert parse([stream])[2].retry == retry
    assert parse([stream[i : i + 1] for i in range(len(stream))])[2].retry == retry


def test_last_event_id_survives_the_stream() -> None:
    _, _, parser = parse([b"id: a\ndata: 1\n\nid: b\n\n"])
    assert parser.last_id == "b"


def test_crlf_split_across_reads_is_one_line_end() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF of the CRLF, not a blank line
    assert parser.feed(b"\r\n") == [M("message", "a", "")]


def test_empty_reads_between_cr_and_lf_change_nothing() -> None:
    parser = EventStreamParser()
    out = parser.feed(b"data: a\r") + parser.feed(b"") + parser.feed(b"") + parser.feed(b"\ndata: b\r\n\r\n")
    assert out == [M("message", "a\nb", "")]


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: first\n") == []
    assert parser.feed(b"\n") == [M("message", "first", "")]
    assert parser.feed(b"data: sec") == []
    assert parser.feed(b"ond\n\ndata: third\n\n") == [M("message", "second", ""), M("message", "third", "")]


def _serialize(events: list[tuple[str, str, str | None]], eol: str, rng: random.Random) -> bytes:
    out = []
    for event, data, event_id in events:
        if rng.random() < 0.3:
            out.append(": keep-alive" + eol)
        if event != "message" or rng.random() < 0.2:
            out.append(f"event: {event}{eol}")
        if event_id is not None:
            out.append(f"id: {event_id}{eol}")
        for line in data.split("\n"):  # "data:" without the space is fine unless the value starts with one
            space = " " if line.startswith(" ") or rng.random() < 0.8 else ""
            out.append(f"data:{space}{line}{eol}")
        out.append(eol)
    return "".join(out).encode("utf-8")


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("seed", range(8))
def test_generated_streams_round_trip(eol: str, seed: int) -> None:
    """Random events, written with each line ending, read back in random chunkings."""
    rng = random.Random(seed)
    alphabet = "ab :{}\"é🧀[]DONE,0"
    written = []
    last_id = ""
    for _ in range(rng.randint(1, 12)):
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 3))]
        data = "\n".join(lines)
        event_id = str(rng.randint(0, 99)) if rng.random() < 0.4 else None
        event = rng.choice(["message", "message", "delta", "done"])
        written.append((event, data, event_id))
    stream = _serialize(written, eol, rng)
    expected = []
    for event, data, event_id in written:
        last_id = event_id if event_id is not None else last_id
        expected.append(M(event, data, last_id))
    for chunk_seed in range(5):
        assert parse(random_chunks(stream, chunk_seed))[:2] == (expected, "")
