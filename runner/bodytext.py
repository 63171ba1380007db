"""A response body's text, read as the tree path reads it, a piece at a time: for a streaming JSON parser.

``HttpResponse.text`` and ``ResponseView.text`` decode a whole body with its
charset (UTF-8 when none or unknown), bad bytes replaced; ``parse_json`` then
turns each lone surrogate escape (``"\\ud800"``) into U+FFFD.  ``Utf8Reader`` gives
the same text, 64 KiB at a time, as UTF-8 bytes with the surrogate escapes
already resolved (the C parser would refuse a lone one), so a streamed parse
sees what ``json.loads`` of the whole text sees.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

CHUNK = 64 * 1024


# "\\" pairs are consumed first, so an escape is recognised only where a string has one; a
# surrogate escape cut at the end of a piece waits for the next piece (the first alternative).
_ESCAPES = re.compile(
    r"\\(?:(?P<cut>(?:u(?:[dD](?:[89a-fA-F](?:[0-9a-fA-F](?:[0-9a-fA-F](?:\\(?:u(?:[dD](?:[c-fC-F](?:[0-9a-fA-F](?:[0-9a-fA-F])?)?)?)?)?)?)?)?)?)?)?\Z)"
    r"|\\|(?P<pair>u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?P<lone>u[dD][89a-fA-F][0-9a-fA-F]{2}))"
)


def _repair(text: str, final: bool) -> tuple[str, str]:
    """``text`` with surrogate escapes as ``json.loads`` + ``parse_json`` read them, and what must wait for the next piece."""
    if "\\" not in text:
        return text, ""
    carry = []

    def fix(match: re.Match[str]) -> str:
        if match.group("pair"):
            high, low = int(match.group(0)[2:6], 16), int(match.group(0)[8:12], 16)
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        if match.group("lone"):
            return "\ufffd"
        if match.group("cut") is not None and not final:
            carry.append(match.group(0))
            return ""
        return match.group(0)

    return _ESCAPES.sub(fix, text), "".join(carry)


def body_charset(headers: Any) -> str:
    """The body's charset as ``HttpResponse.text`` decodes it: the Content-Type's, UTF-8 if none or unknown."""
    charset = "utf-8"
    for part in (headers.get("content-type", "") if headers is not None else "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        if not codecs.lookup(charset)._is_text_encoding:  # type: ignore[attr-defined]
            return "utf-8"
    except LookupError:
        return "utf-8"
    return charset


def text_length(body: bytes, headers: Any) -> int:
    """How many characters the body's text has, decoded a piece at a time (never whole)."""
    decoder = codecs.getincrementaldecoder(body_charset(headers))(errors="replace")
    view = memoryview(body)
    total = sum(len(decoder.decode(view[start : start + CHUNK])) for start in range(0, len(body), CHUNK))
    return total + len(decoder.decode(b"", final=True))


_QUOTE_OR_BACKSLASH = re.compile(rb'["\\]')
_CONTROL = re.compile(rb"[\x00-\x1f]")
LONG_STRING = 1024 * 1024  # a string longer than this (in bytes) is not handed to the parser: a stand-in is


_DELIMITER = re.compile(rb'(?<!\\)"')  # a quote no backslash escapes: in JSON, where a string opens or closes


def may_hold_long_string(body: bytes) -> bool:
    """Whether a string in ``body`` may be longer than ``LONG_STRING`` bytes, tested at C speed.

    The content of such a string has no unescaped quote, so it holds a whole aligned block of
    half that size without one: a body where every block has one needs no lexing (the lexer
    costs about half a second per million strings).
    """
    half = LONG_STRING // 2
    return any(_DELIMITER.search(body, start, start + half) is None for start in range(0, len(body) - half + 1, half))


class Utf8Reader:
    """The body decoded with its charset (bad bytes replaced) and encoded as UTF-8, a piece at a time, for ijson.

    A string longer than ``LONG_STRING`` bytes in a UTF-8 (or ASCII) body is not
    given to the parser, which would hold it twice (its buffer, then the Python
    string): a short stand-in (``prefix`` + a number) goes in its place, and
    ``resolve`` reads the real string from the body's bytes if a query selects it.
    The bytes are lexed for strings (quotes and backslashes only: in UTF-8 these
    bytes are never part of another character), so the stand-in is exact.
    """

    def __init__(self, body: bytes, charset: str):
        self.raw = body
        self.body = memoryview(body)
        self.charset = charset
        self.last: tuple[str, str] = ("", "")
        self.decoder = codecs.getincrementaldecoder(charset)(errors="replace")
        self.fed = 0  # bytes given to the decoder
        self.scan = 0  # bytes lexed
        self.carry = ""
        self.blank = True  # only white space so far (str.isspace: as the tree path's test)
        self.done = False
        self.lex = codecs.lookup(charset).name in ("utf-8", "ascii") and may_hold_long_string(body)
        self.in_string = False
        self.start = 0  # where the open string's content starts
        self.escaped = -1  # the byte a backslash escapes
        self.long = False  # the open string is long: its content is skipped
        self.closed_long = -1  # where a long string closed in the last piece lexed
        self.strings: list[list[int]] = []  # [start, end] of each long string's content
        self.invalid = ""  # a long string holds a control character: not JSON, as json.loads says
        import secrets

        self.prefix = "\x00" + secrets.token_hex(8) + ":"

    def resolve(self, value: str) -> str:
        """The string a stand-in stands for, as ``json.loads`` reads it; other strings as they are."""
        if not value.startswith(self.prefix):
            return value
        import json

        if self.last[0] == value:  # several queries may select the same string: one copy
            return self.last[1]
        start, end = self.strings[int(value[len(self.prefix) :])]
        if self.raw.find(b"\\", start, end) < 0:
            text = str(self.body[start:end], self.charset, "replace")
        else:
            text, _ = _repair(str(self.body[start : end + 1], self.charset, "replace"), True)  # with its closing quote
            text = json.decoder.scanstring(text, 0)[0]
        self.last = (value, text)
        return text

    def read(self, size: int = -1) -> bytes:
        """The next piece (``size`` is a hint); ``b""`` at the end."""
        if size == 0 or self.done:
            return b""
        while True:
            end = min(len(self.body), self.scan + CHUNK)
            if self.lex:
                self._lex(end)
            self.scan = end
            out = []
            if self.closed_long >= 0:  # the long string ended: go on from its closing quote
                self.fed, self.closed_long = self.closed_long, -1
            frontier = end
            if self.in_string and not self.long and end < len(self.body):
                if end - self.start > LONG_STRING:
                    out.append(self._decode(self.fed, self.start, False))
                    out.append(f"\\u0000{self.prefix[1:]}{len(self.strings)}".encode("ascii"))
                    self.strings.append([self.start, -1])
                    self.long, self.fed = True, -1
                else:
                    frontier = self.start  # a string being read waits until it is complete (or long)
            if not self.long and self.fed >= 0:
                final = frontier >= len(self.body)
                out.append(self._decode(self.fed, frontier, final))
                self.fed = frontier
                if final:
                    self.done = True
            elif end >= len(self.body):  # the body ends inside a long string: the parser says it is cut short
                out.append(self._decode(len(self.body), len(self.body), True))
                self.done = True
            data = b"".join(out)
            if data or self.done:
                return data

    def _decode(self, start: int, end: int, final: bool) -> bytes:
        text = self.carry + self.decoder.decode(self.body[start:end], final=final)
        text, self.carry = _repair(text, final)
        if text and not text.isspace():
            self.blank = False
        return text.encode("utf-8")

    def _lex(self, end: int) -> None:
        """Follow strings through the bytes up to ``end``: where each opens and closes."""
        for match in _QUOTE_OR_BACKSLASH.finditer(self.body, self.scan, end):
            at = match.start()
            if at == self.escaped:
                continue
            if not self.in_string:
                if match.group() == b'"':
                    self.in_string, self.start = True, at + 1
            elif match.group() == b"\\":
                self.escaped = at + 1
            else:
                self.in_string = False
                if self.long:
                    self.long = False
                    self.strings[-1][1] = self.closed_long = at
                    if _CONTROL.search(self.body, self.strings[-1][0], at):
                        self.invalid = "invalid control character in a string"


_EXPONENT_DIGITS = 19  # decimal's largest exponent has 18 digits: a longer one may be out of its range


def _int_digit_limit() -> int:
    """Python's limit on the digits of an ``int`` read from text (0: none)."""
    import sys

    return getattr(sys, "get_int_max_str_digits", lambda: 0)()


def number_problem(body: bytes, charset: str) -> str:
    """Why a number in the JSON ``body`` cannot be read (``""``: none can fail), found before ijson reads it.

    ijson's C parser turns a number into an ``int`` (over Python's digit limit it
    raises) or a ``Decimal`` (an exponent of 19 digits or more may raise); an error
    raised inside it leaves the body's reader called with the error still set, and
    the process may crash. A body without such a digit run is looked at a MiB at a
    time, at C speed; one with it (only a hostile or broken server sends one) is
    decoded and lexed for strings.
    """
    limit = _int_digit_limit()
    needles = [b"e" + b"d" * _EXPONENT_DIGITS, b"es" + b"d" * _EXPONENT_DIGITS] + ([b"d" * (limit + 1)] if limit else [])
    overlap = max(len(needle) for needle in needles)
    utf8 = codecs.lookup(charset).name in ("utf-8", "ascii")
    decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    view, tail, found = memoryview(body), b"", False
    for start in range(0, len(body), _SCAN):
        piece = bytes(view[start : start + _SCAN]) if utf8 else decoder.decode(view[start : start + _SCAN]).encode("utf-8", "replace")
        classes = tail + piece.translate(_CLASSES)  # digits as d, e/E as e, signs as s
        if any(needle in classes for needle in needles):
            found = True
            break
        tail = classes[-overlap:]
    if not found:
        return ""
    runs = f"(?<![0-9])[0-9]{{{limit + 1}}}|" if limit else ""
    return _number_problem_in(str(body, charset, "replace"), runs + f"[eE][+-]?[0-9]{{{_EXPONENT_DIGITS}}}")


_SCAN = 1024 * 1024
_CLASSES = bytes(ord("d") if chr(byte) in "0123456789" else ord("e") if chr(byte) in "eE" else ord("s") if chr(byte) in "+-" else ord(".") for byte in range(256))


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _number_problem_in(text: str, pattern: str) -> str:
    """``number_problem`` on the decoded text: each long digit run outside strings is read as ``json.loads`` reads it."""
    from decimal import Decimal, InvalidOperation

    in_string, escaped = False, -1
    for match in re.finditer(r'["\\]|' + pattern, text):
        at, found = match.start(), match.group()
        if at == escaped:
            continue
        if found == '"':
            in_string = not in_string
        elif found == "\\":
            escaped = at + 1
        elif not in_string:
            start = at
            while start and text[start - 1] in "0123456789.eE+-":
                start -= 1
            token = _NUMBER.match(text, start)
            if token is None:
                continue  # not a number: the parser says what is wrong
            if token.group(1) is None and token.group(2) is None:
                try:
                    int(token.group())
                except ValueError as exc:
                    return " ".join(str(exc).split())
            else:
                try:
                    Decimal(token.group())
                except InvalidOperation:
                    return f"a number's exponent has more than {_EXPONENT_DIGITS - 1} digits"
    return ""
