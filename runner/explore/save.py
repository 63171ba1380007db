"""``--save-examples``: a real response becomes its request's ``example:``, edited into the YAML in place.

The file is not dumped again: the new ``example:`` text is spliced into the
original lines, so comments, key order, quoting, blank lines, anchors and flow
mappings elsewhere stay byte for byte as they were.  Where each node starts and
ends comes from PyYAML's event stream (marks are positions in the text; an alias
is an event at its own place, unlike a composed node).  After the splice the new
text is parsed again and must equal the old one everywhere but in the examples
written, or nothing is written.

Secrets never reach the file: credential headers and ``Set-Cookie`` are dropped,
a value equal to a secret variable becomes its template (``{{ api_key }}``), and
what the redactor still finds becomes ``****``.  A file is replaced atomically, and
not at all when it changed on disk during the run.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import InputError, SaveError
from ..redact import CREDENTIAL_HEADERS, MASK, Redactor, cut_pieces
from ..source import parse_yaml
from ..variables import Scope

# the response headers an example keeps: what a client reads; not dates, sizes, hops or cookies
KEPT_HEADERS = ("content-type", "location", "retry-after", "www-authenticate", "content-disposition", "link", "allow")


def build_example(response: Any, scope: Scope) -> tuple[dict[str, Any] | None, str]:
    """The ``example:`` data of a response, secrets templated or masked; ``None`` and why when it cannot be saved."""
    if response.truncated:
        return None, "the response is larger than the size limit"
    example: dict[str, Any] = {"status": response.status}
    received = {name.lower(): value for name, value in response.headers.items()}
    headers = {name: received[name] for name in KEPT_HEADERS if name in received and name not in CREDENTIAL_HEADERS}
    if headers:
        example["headers"] = headers
    content_type = response.headers.get("content-type", "").lower()
    if response.events is not None:
        example["events"] = _mask_split_secrets([_event_data(event) for event in response.events], response.events, scope.redactor)
        if not response.extras.get("stream") or not response.extras["stream"].done:
            example["done"] = False
    elif response.body:
        from .pane import is_binary

        if is_binary(response.body, content_type):
            return None, "a binary body cannot be saved as an example"
        text = response.text
        try:
            data = json.loads(text) if "json" in content_type or text.lstrip()[:1] in ("{", "[") else None
        except ValueError:
            data = None
        if data is not None:
            example["json"] = data
        else:
            example["body"] = text
    return scrub(example, scope), ""


def _event_data(event: Any) -> Any:
    """An event as the example format writes it: a JSON object, array or number as data, anything else as its text (sent as is)."""
    from ..query import MISSING

    data = event.json
    return event.data if data is MISSING or data is None or isinstance(data, (str, bool)) else data


def _mask_split_secrets(data: list[Any], events: list[Any], redactor: Redactor) -> list[Any]:
    """``data`` with every event that holds a piece of a secret cut across events masked (a streamed answer arrives token by token)."""
    from .pane import event_token

    pieces: list[tuple[int, str]] = []  # (event index, the text it carries)
    for index, event in enumerate(events):
        piece = event_token(event)
        if piece is None and isinstance(data[index], str):
            piece = data[index]
        if piece:
            pieces.append((index, piece))
    cut: dict[int, set[str]] = {}
    for position in cut_pieces(redactor, [piece for _, piece in pieces]):
        index, piece = pieces[position]
        cut.setdefault(index, set()).add(piece)
    return [_replace_strings(item, cut[index]) if index in cut else item for index, item in enumerate(data)]


def _replace_strings(value: Any, pieces: set[str]) -> Any:
    """``value`` with every string that is one of ``pieces`` replaced by ``****``."""
    if isinstance(value, str):
        return MASK if value in pieces else value
    if isinstance(value, dict):
        return {key: _replace_strings(item, pieces) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, pieces) for item in value]
    return value


def scrub(data: Any, scope: Scope) -> Any:
    """``data`` with every secret variable's value replaced by its template, and any other secret by ``****``."""
    named = sorted(((str(value if isinstance(value, str) else json.dumps(value)), name) for name in scope.secret_names if (value := scope.values.get(name)) not in (None, "")), key=lambda pair: -len(pair[0]))
    redactor: Redactor = scope.redactor

    def text(value: str) -> str:
        for secret, name in named:
            value = value.replace(secret, "{{ " + name + " }}")
        return redactor.mask(value)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            return {text(str(key)): walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, bool) and value is not None and any(str(value) == secret for secret, _ in named):
            return text(str(value))
        return value

    return walk(data)


# -- where things are in the text ------------------------------------------------------------------


@dataclass
class Span:
    """A node's place in the text: where it starts and where its content ends."""

    start: int
    end: int
    column: int
    flow: bool = False
    anchor: str | None = None
    alias: bool = False
    keep: bool = False  # a block scalar that keeps its trailing blank lines (``|+``, ``>+``): text after it would join them
    pairs: list[tuple[str, "Span", "Span"]] = field(default_factory=list)  # a mapping: (key, key span, value span)
    items: list["Span"] = field(default_factory=list)  # a sequence


def index_yaml(text: str) -> Span:
    """The span tree of a YAML document, from PyYAML's events (positions in ``text``)."""
    events = iter(yaml.parse(text, Loader=yaml.SafeLoader))
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            return _node(next(events), events, text)
    raise SaveError("the file holds no YAML document")


def _node(event: Any, events: Any, text: str) -> Span:
    start, column = event.start_mark.index, event.start_mark.column
    if isinstance(event, yaml.AliasEvent):
        return Span(start, event.end_mark.index, column, alias=True)
    if isinstance(event, yaml.ScalarEvent):
        end = event.end_mark.index
        keep = False
        if event.style in ("|", ">"):
            end = len(text[:end].rstrip())
            keep = "+" in text[start : _line_end(text, start)].split("#")[0]
        return Span(start, end, column, anchor=event.anchor, keep=keep)
    if isinstance(event, yaml.SequenceStartEvent):
        span = Span(start, event.end_mark.index, column, flow=bool(event.flow_style), anchor=event.anchor)
        for item in events:
            if isinstance(item, yaml.SequenceEndEvent):
                span.end = item.end_mark.index if span.flow else (span.items[-1].end if span.items else span.end)
                return span
            span.items.append(_node(item, events, text))
    if isinstance(event, yaml.MappingStartEvent):
        span = Span(start, event.end_mark.index, column, flow=bool(event.flow_style), anchor=event.anchor)
        for item in events:
            if isinstance(item, yaml.MappingEndEvent):
                span.end = item.end_mark.index if span.flow else (span.pairs[-1][2].end if span.pairs else span.end)
                return span
            key = _node(item, events, text)
            value = _node(next(events), events, text)
            key_text = item.value if isinstance(item, yaml.ScalarEvent) else ""
            span.pairs.append((key_text, key, value))
    raise SaveError(f"unexpected YAML event {type(event).__name__}")


def _line_end(text: str, index: int) -> int:
    newline = text.find("\n", index)
    end = len(text) if newline < 0 else newline
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


class _ExampleDumper(yaml.SafeDumper):
    """Block style as people write it: lists indented under their key, text of several lines as a ``|`` block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value.rstrip("\n") else None  # PyYAML falls back to quotes where a block cannot hold the text
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExampleDumper.add_representer(str, _text)


def _block(data: dict[str, Any], indent: int, newline: str) -> str:
    dumped = yaml.dump(data, Dumper=_ExampleDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1_000_000)
    return newline.join((" " * indent + line) if line else line for line in dumped.rstrip("\n").split("\n"))


def _flow(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def splice_examples(text: str, examples: dict[int, dict[str, Any]]) -> str:
    """``text`` with ``example:`` set for each request index in ``examples``; nothing else changes."""
    root = index_yaml(text)
    requests = next((value for key, _, value in root.pairs if key == "requests"), None)
    if requests is None:
        raise SaveError("the file has no requests list")
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    for index, example in examples.items():
        item = requests.items[index]
        if item.alias:
            raise SaveError(f"requests[{index}] is an alias (*name): its example is not saved, edit the anchored request instead")
        current = next(((key, value) for name, key, value in item.pairs if name == "example"), None)
        if item.flow:
            if current is not None:
                edits.append((current[1].start, current[1].end, _flow(example)))
            else:
                close = item.end - 1
                edits.append((close, close, f", example: {_flow(example)}"))
            continue
        if current is not None:
            key, value = current
            anchor = f" &{value.anchor}" if value.anchor else ""
            end = _line_end(text, value.end)
            # a comment on the key's line (or after a one-line value) stays on the key's line
            comment = text[value.end : end] if _line_end(text, key.start) == end else text[key.end : _line_end(text, key.start)].lstrip(":").replace(anchor.strip(), "", 1)
            comment = comment if comment.strip().startswith("#") else ""
            edits.append((key.start, end, f"example:{anchor}{comment}{newline}{_block(example, key.column + 2, newline)}"))
        elif item.pairs[-1][2].keep and len(item.pairs) > 1:  # its blank lines belong to the last value: the example goes before its key
            column = item.pairs[0][1].column
            start = text.rfind("\n", 0, item.pairs[-1][1].start) + 1
            edits.append((start, start, f"{' ' * column}example:{newline}{_block(example, column + 2, newline)}{newline}"))
        else:
            column = item.pairs[0][1].column
            end = _line_end(text, item.end)
            edits.append((end, end, f"{newline}{' ' * column}example:{newline}{_block(example, column + 2, newline)}"))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _without_examples(data: Any, indexes: set[int]) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        return data
    requests = [{key: value for key, value in item.items() if key != "example"} if index in indexes and isinstance(item, dict) else item for index, item in enumerate(data["requests"])]
    return {**data, "requests": requests}


def save_examples(path: str, original: str, examples: dict[int, dict[str, Any]]) -> bool:
    """Write ``examples`` into the collection at ``path`` (read as ``original``); False when nothing changed."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            now = file.read()
    except OSError as exc:
        raise SaveError(f"{path}: cannot read the collection again to save examples ({exc.strerror})") from exc
    if now != original:
        raise SaveError(f"{path} changed on disk during the run: examples not saved (run again to save them)")
    try:
        new = splice_examples(original, examples)
        before, after = parse_yaml(original, path).data, parse_yaml(new, path).data
    except (yaml.YAMLError, InputError) as exc:
        raise SaveError(f"{path}: the examples could not be placed in the file ({type(exc).__name__}); nothing written") from exc
    saved = {index: after["requests"][index].get("example") for index in examples}
    if _without_examples(before, set(examples)) != _without_examples(after, set(examples)) or any(saved[index] != examples[index] for index in examples):
        raise SaveError(f"{path}: the examples could not be placed in the file without changing something else; nothing written")
    if new == original:
        return False
    _write_atomic(path, new)
    return True


def _write_atomic(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a reader sees the old file or the new one), keeping its mode."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".runner-", suffix=".yaml.tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temp, os.stat(path).st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
