"""``--show``: the response pane.  Status line, dimmed headers, the body pretty-printed by type.

JSON is indented and coloured, text printed as it is, a binary body summed up in a
line; a long body is cut with a marker that counts what was left out.  A streamed
answer (server-sent events) prints as it arrives, token by token like a chat
window, then its event count and the time to the first event.

Formatting is pure (``format_*`` return lines of ``(text, style)`` segments); the
``Pane`` writes them.  Everything shown is masked by the run's redactor first and
then made printable by ``runner.terminal``, as the console is (no terminal control
character from a server reaches the screen, no body line becomes a CI workflow command).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TextIO

from ..redact import PieceMasker, Redactor, StreamMasker
from ..reports.console import Line, format_size
from ..terminal import printable  # the console's escaping: controls as \x1b, workflow-command lines defused

MAX_LINES = 200  # a body longer than this is cut, with a count of the rest
MAX_CHARS = 40_000
MAX_PRETTY_BYTES = 2_000_000  # a larger JSON body is shown as it came (cut), not parsed to be indented
_TEXT_TYPES = ("text/", "+json", "/json", "+xml", "/xml", "javascript", "x-www-form-urlencoded", "graphql", "yaml", "csv", "ndjson")
def format_head(status: int, http_version: str, headers: list[tuple[str, str]], redactor: Redactor) -> list[Line]:
    """The status line (coloured by class) and the headers, dimmed, credentials masked."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    style = "bold green" if status < 300 else "bold yellow" if status < 400 else "bold red"
    lines: list[Line] = [[(f"{http_version} ", "bold"), (f"{status} {phrase}".rstrip(), style)]]
    for name, value in redactor.mask_headers(headers):
        lines.append([(printable(f"{name}: {value}"), "dim")])
    return lines


def is_binary(body: bytes, content_type: str) -> bool:
    """Whether a body is shown as a size line: a non-text type, or bytes that are not text."""
    media = content_type.split(";")[0].strip().lower()
    if media and any(marker in media for marker in _TEXT_TYPES):
        return b"\x00" in body[:4096]
    if media:
        return True
    try:
        body[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < 4090  # a character cut by the 4096-byte probe is not binary
    return b"\x00" in body[:4096]


def format_body(body: bytes, text: str, content_type: str, redactor: Redactor, max_lines: int = MAX_LINES) -> list[Line]:
    """The body by content type: JSON indented and highlighted, text as is, binary as a size line; cut when long."""
    if not body:
        return [[("(empty body)", "dim")]]
    if is_binary(body, content_type):
        kind = content_type.split(";")[0].strip() or "unknown type"
        return [[(f"<binary body: {format_size(len(body))}, {printable(kind)}>", "dim")]]
    data = _json_or_none(text, content_type) if len(body) <= MAX_PRETTY_BYTES else None
    if data is not None:
        # the dumped text is masked again: a server may echo a secret as a key, which mask_data keeps
        shown = redactor.mask(json.dumps(redactor.mask_data(data), indent=2, ensure_ascii=False))
        style = "json"
    else:
        shown = redactor.mask_lines(text[:-1] if text.endswith("\n") else text)  # a last newline ends a line, it adds none
        style = ""
    return _cut(shown, style, max_lines, len(body))


def _json_or_none(text: str, content_type: str) -> Any:
    if "json" not in content_type.lower() and not text.lstrip().startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, (dict, list)) or "json" in content_type.lower() else None


def _cut(text: str, style: str, max_lines: int, size: int) -> list[Line]:
    """``text`` as lines, at most ``max_lines`` and ``MAX_CHARS``, with a marker that counts what was left out."""
    head = text[:MAX_CHARS]
    lines = head.split("\n")
    marker = ""
    if len(lines) > max_lines:
        rest = text.count("\n") + 1 - max_lines
        lines = lines[:max_lines]
        marker = f"... cut: {rest:,} more lines not shown (body {format_size(size)})"
    elif len(text) > MAX_CHARS:
        marker = f"... cut: {len(text) - MAX_CHARS:,} more characters not shown (body {format_size(size)})"
    out: list[Line] = [[(printable(line), style)] for line in lines]
    return out + [[(marker, "bold yellow")]] if marker else out


def format_stream_end(count: int, first_ms: float | None, error: str, redactor: Redactor) -> list[Line]:
    """After a streamed answer: how many events, the time to the first one, why it broke if it did."""
    first = f", first event after {first_ms:.0f} ms" if first_ms is not None else ""
    lines: list[Line] = [[(f"({count} event{'s' if count != 1 else ''}{first})", "dim")]]
    if error:
        lines.append([(printable(redactor.mask(error)), "bold red")])
    return lines


class Pane:
    """Prints each response as it comes, live for streams; colours only when asked (a TTY, no NO_COLOR)."""

    def __init__(self, file: TextIO, color: bool, redactor: Redactor, live: bool = True):
        self.file = file
        self.color = color
        self.redactor = redactor
        self.live = live  # --jobs > 1: streams are printed whole, after they end, not interleaved
        self._console: Any = None
        self._last_char_newline = False
        self._streaming: dict[int, Any] = {}  # id(rendered request) -> [masker, whether a line of tokens is open]
        if color:
            from rich.console import Console

            self._console = Console(file=file, force_terminal=True, highlight=False, soft_wrap=True)

    def write(self, line: Line, end: str = "\n") -> None:
        """One line (or, with ``end=""``, a piece of one), styled when colour is on."""
        if self._console is None:
            self.file.write("".join(text for text, _ in line) + end)
        else:
            from rich.text import Text

            text = Text()
            for chunk, style in line:
                if style == "json":
                    text.append_text(_highlight_json(chunk))
                else:
                    text.append(chunk, style=style or None)
            self._console.print(text, end=end)
        self.file.flush()

    def title(self, name: str, method: str, url: str) -> None:
        """The request's name, method and URL, above its response."""
        self.write([("── ", "dim"), (printable(self.redactor.mask(name)), "bold"), ("  ", ""), (f"{method} ", "bold cyan"), (printable(self.redactor.mask(url)), "cyan")])

    def stream_started(self, request: Any, response: Any) -> None:
        """A streamed answer begins: its title and head now, its events as they come."""
        if not self.live:
            return
        self.title(getattr(request, "name", "") or "", request.method, request.full_url())
        for line in format_head(response.status_code, response.http_version, list(response.headers.items()), self.redactor):
            self.write(line)
        self.write([])
        self._streaming[id(request)] = [StreamMasker(self.redactor), False, PieceMasker(self.redactor)]

    def stream_event(self, request: Any, event: Any) -> None:
        """One event arrived: its token goes on the open line, any other event on a line of its own."""
        state = self._streaming.get(id(request))
        if state is None:
            return
        masker, open_line, pieces = state
        token = event_token(event)
        if token is not None:
            self._write_pieces(pieces.flush())
            shown = masker.feed(token)
            if shown:
                at_line_start = not open_line or self._last_char_newline
                text = printable(("\n" if at_line_start else "x") + shown)[1:]  # a line start inside the stream is still one
                self.write([(text, "")], end="")
                self._last_char_newline = shown.endswith("\n")
            state[1] = True
            return
        rest = masker.flush()
        if open_line or rest:
            self.write([(printable(rest), "")])
            state[1] = False
        label = f"{event.event}: " if event.event != "message" else ""
        self._write_pieces(pieces.feed(event.data, label))  # a secret may be cut across events: held back until known

    def _write_pieces(self, lines: list[str]) -> None:
        for line in lines:
            self.write([(printable(line), "")])

    def response(self, name: str, request_method: str, url: str, response: Any) -> None:
        """A whole response: for a stream that was shown live, only its ending."""
        state = None
        for key, value in list(self._streaming.items()):
            state = value
            del self._streaming[key]
        if response.events is not None and state is not None:
            masker, open_line, pieces = state
            self._write_pieces(pieces.flush())
            rest = masker.flush()
            if open_line or rest:
                self.write([(printable(rest), "")])
            for line in format_stream_end(len(response.events), response.first_event_ms, response.stream_error, self.redactor):
                self.write(line)
            self.write([])
            return
        self.title(name, request_method, url)
        for line in format_head(response.status, response.http_version, list(response.headers.items()), self.redactor):
            self.write(line)
        self.write([])
        if response.events is not None:
            text = "".join(token for token in (event_token(event) for event in response.events) if token is not None)
            for line in format_body(text.encode(), text, "text/plain", self.redactor):
                self.write(line)
            for line in format_stream_end(len(response.events), response.first_event_ms, response.stream_error, self.redactor):
                self.write(line)
        else:
            for line in format_body(response.body, response.text, response.headers.get("content-type", ""), self.redactor):
                self.write(line)
            if response.truncated:
                self.write([("... cut: the response is larger than the size limit; the rest was not read", "bold yellow")])
        self.write([])


def event_token(event: Any) -> str | None:
    """The piece of text an event carries (a chat delta's content, or a ``text``/``delta`` field), or ``None``."""
    data = event.json
    if not isinstance(data, dict):
        return None
    for path in (("choices", 0, "delta", "content"), ("choices", 0, "text"), ("delta", "text"), ("delta",), ("text",), ("token",), ("content",)):
        value: Any = data
        for key in path:
            if isinstance(key, int):
                value = value[key] if isinstance(value, list) and len(value) > key else None
            else:
                value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


def _highlight_json(line: str) -> Any:
    from rich.highlighter import JSONHighlighter
    from rich.text import Text

    text = Text(line)
    JSONHighlighter().highlight(text)
    return text
