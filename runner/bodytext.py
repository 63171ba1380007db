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


class Utf8Reader:
    """The body decoded with its charset (bad bytes replaced) and encoded as UTF-8, a piece at a time, for ijson."""

    def __init__(self, body: bytes, charset: str):
        self.body = memoryview(body)
        self.decoder = codecs.getincrementaldecoder(charset)(errors="replace")
        self.offset = 0
        self.carry = ""
        self.blank = True  # only white space so far (str.isspace: as the tree path's test)
        self.done = False

    def read(self, size: int = -1) -> bytes:
        """The next piece (``size`` is a hint); ``b""`` at the end."""
        if size == 0 or self.done:
            return b""
        while True:
            piece = self.body[self.offset : self.offset + CHUNK]
            self.offset += len(piece)
            final = not piece
            text = self.carry + self.decoder.decode(piece, final=final)
            text, self.carry = _repair(text, final)
            if text and not text.isspace():
                self.blank = False
            if final:
                self.done = True
            if text or final:
                return text.encode("utf-8")
