"""The only masking code: every message, report and log line passes through a ``Redactor``."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "****"
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})

# What httpx 0.28 leaves as it is when it encodes a URL given as text: the WHATWG
# percent-encode sets of the query and of the path (``httpx._urlparse``), not
# urllib's.  ``%`` is in both: an existing ``%XX`` escape is kept, as httpx keeps it.
# tests/unit/test_redact.py checks them against URLs built by httpx itself.
_QUERY_SAFE = "".join(chr(code) for code in range(0x20, 0x7F) if chr(code) not in ' "#<>')
_PATH_SAFE = "".join(char for char in _QUERY_SAFE if char not in "?`{}")

# ``Set-Cookie: sess=abc; Path=/``: the value runs from the first ``=`` to ``;``.  httpx joins
# repeated headers with ", ", so a later cookie starts after a comma (a date's comma is not
# followed by ``name=``).  A cookie without a name is all value.
_FIRST_COOKIE = re.compile(r"^\s*(?:([^;,=\s]+)=)?[^;]*")
_LATER_COOKIE = re.compile(r"(,\s*[^;,=\s]+)=[^;]*")
# A cookie value shorter than this is masked only as ``name=value``: alone, masking it
# everywhere (consent=1, lang=en) would hide every "1" of the output.
MIN_COOKIE_SECRET = 8
# A text cut short ends in "..." (``shorten``), or "... (N more characters)" for body excerpts.
# The cut may fall inside a secret: the part before it is masked too, down to this length.
_CUT_END = re.compile(r"\.\.\.(?: \(\d+ more characters\))?$")
MIN_CUT_SECRET = 3


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "..." when it was cut (``Redactor.mask`` then masks a cut secret)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Redactor:
    """Knows every secret value of a run and replaces it with ``****`` wherever it appears."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._added: set[str] = set()  # values given to ``add`` (their forms are in ``_values``)
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: Any) -> None:
        """Mark a value as secret, with the encoded forms it takes in URLs and headers."""
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        if not text or text in self._added:  # this runs for every request: skip the encodings when known
            return
        self._added.add(text)
        # In a URL: placed raw in a path or query (httpx encodes what it must), through params
        # (quote_plus), through jinja's ``urlencode`` filter (quote, "/" kept); in basic auth.
        forms = {
            text,
            quote(text, safe=""),
            quote(text, safe="/"),
            quote(text, safe=_PATH_SAFE),
            quote(text, safe=_QUERY_SAFE),
            quote_plus(text),
            base64.b64encode(text.encode()).decode(),
        }
        for form in list(forms):
            for ascii_only in (True, False):  # inside a JSON string, and inside JSON quoted again (an echo server)
                once = json.dumps(form, ensure_ascii=ascii_only)[1:-1]
                forms |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
        if not forms <= self._values:
            self._values |= forms
            self._pattern = None

    def add_cookie(self, name: str, value: str) -> None:
        """Mark a cookie received from a server as secret: ``name=value`` as it goes back, and the value alone unless it is short."""
        if name and value:
            self.add(f"{name}={value}")
        if len(value) >= MIN_COOKIE_SECRET:
            self.add(value)

    def add_basic(self, username: str, password: str) -> None:
        """Mark a basic-auth password and its encoded ``user:pass`` form as secret."""
        self.add(password)
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
        if encoded not in self._values:  # a new value means a new pattern: not once per request
            self._values.add(encoded)
            self._pattern = None

    def secret_values(self) -> frozenset[str]:
        """Every value given to ``add`` (not their encoded forms)."""
        return frozenset(self._added)

    @property
    def generation(self) -> int:
        """Grows whenever a secret value is added: text masked at an older generation may need masking again."""
        return len(self._values)

    @property
    def active(self) -> bool:
        """Whether there is anything to mask."""
        return bool(self._values)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``****``."""
        if not self._values:
            return text
        if self._pattern is None:
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: no partial leaks
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
        if not text:
            return text
        masked = self._pattern.sub(MASK, text)
        if not masked.endswith(("...", " more characters)")):  # the common case, without a regex search
            return masked
        cut = _CUT_END.search(masked)
        return self._mask_cut_secret(masked, cut.start()) if cut else masked

    def _mask_cut_secret(self, text: str, end: int) -> str:
        """Mask the first part of a secret that ends at ``end``, where the text was cut."""
        head = text[:end]
        for value in self._values:
            for size in range(min(len(value) - 1, len(head)), MIN_CUT_SECRET - 1, -1):
                if head.endswith(value[:size]):
                    return head[:-size] + MASK + text[end:]
        return text

    def mask_lines(self, text: str) -> str:
        """``mask`` for a text of several lines, any of which may end where it was cut short ("...")."""
        masked = self.mask(text)
        if "\n" not in masked or not self._values:
            return masked
        return "\n".join(self.mask(line) for line in masked.split("\n"))

    def mask_data(self, data: Any) -> Any:
        """A copy of nested data with every string masked (keys included)."""
        if not self._values:
            return data
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, list):
            return [self.mask_data(item) for item in data]
        if isinstance(data, tuple):
            return tuple(self.mask_data(item) for item in data)
        if isinstance(data, dict):
            return {self.mask(str(key)) if isinstance(key, str) else key: self.mask_data(value) for key, value in data.items()}
        return data

    def mask_headers(self, headers: dict[str, str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Header pairs with credential headers fully masked, cookie values in ``Set-Cookie`` too, and secrets masked elsewhere."""
        items = headers.items() if isinstance(headers, dict) else headers
        return [(name, self._mask_header(name.lower(), value)) for name, value in items]

    def _mask_header(self, name: str, value: str) -> str:
        if name in CREDENTIAL_HEADERS:
            return _mask_credential(value)
        if name == "set-cookie":
            value = _LATER_COOKIE.sub(rf"\1={MASK}", _FIRST_COOKIE.sub(_masked_first_cookie, value, count=1))
        return self.mask(value)


class StreamMasker:
    """Masks a text that arrives in pieces (a streamed answer, token by token): a secret cut across two pieces is still masked.

    ``feed`` returns what can be shown now; it holds back the end of the text that
    could still be the start of a secret (as many characters as the longest secret,
    less one, and never past a line break when no secret holds one).
    """

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self.pending = ""

    def feed(self, text: str) -> str:
        """The masked text that is safe to show after ``text`` arrives."""
        self.pending += text
        values = self.redactor._values
        if not values:
            return self.flush()
        keep = max(len(value) for value in values) - 1
        if not any("\n" in value for value in values) and "\n" in self.pending:
            keep = min(keep, len(self.pending) - self.pending.rindex("\n") - 1)
        cut = len(self.pending) - keep
        if cut <= 0:
            return ""
        self.redactor.mask("")  # builds the pattern
        pattern = self.redactor._pattern
        if pattern is not None:
            for match in pattern.finditer(self.pending):
                if match.start() < cut < match.end():  # never cut inside a secret: it is whole already
                    cut = match.end()
        shown, self.pending = self.pending[:cut], self.pending[cut:]
        return self.redactor.mask(shown)

    def flush(self) -> str:
        """Everything held back, masked (the stream ended)."""
        shown, self.pending = self.pending, ""
        return self.redactor.mask(shown)


def _masked_first_cookie(match: re.Match[str]) -> str:
    return f"{match.group(1)}={MASK}" if match.group(1) else MASK


def _mask_credential(value: str) -> str:
    """``Bearer ****``: keep a well-known scheme word, hide everything else."""
    scheme, sep, _ = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token", "digest", "negotiate"):
        return f"{scheme} {MASK}"
    return MASK
