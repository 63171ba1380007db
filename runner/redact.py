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
# A text cut short holds "..." where it was cut (``shorten``; "... (N more characters)" for body
# excerpts), at its end or before a closing ")".  The cut may fall inside a secret: the part before
# it is masked too, down to this length; a cut inside a multi-byte character leaves U+FFFD before it.
_CUT = re.compile("\ufffd*\\.\\.\\.")
MIN_CUT_SECRET = 3
# A secret shorter than this is masked only where it stands alone (no letter, digit or "_" right
# before or after it): masked inside words, "e" or "200" would rewrite every text it occurs in.
# GitLab refuses to mask a CI variable under 8 characters; runner masks it as a word and warns.
MIN_SECRET_LENGTH = 8
_STANDALONE = ("(?<!\\w)(?:", ")(?!\\w)")
# A server may echo part of a key ("Incorrect API key provided: sk-abcd1234****wxyz"). A secret of
# PARTIAL_SECRET characters or more, with no white space in it (a key, a token, a password), is also
# masked where PARTIAL_RUN or more of its consecutive characters appear.  GitHub Actions and GitLab
# mask whole values only; docs/security.md says why runner does more.
PARTIAL_SECRET = 16
PARTIAL_RUN = 12
# Any run of PARTIAL_RUN characters of a secret holds one of its blocks of _BLOCK characters that
# start at a multiple of _BLOCK (_BLOCK <= PARTIAL_RUN / 2): only those blocks are searched for.
_BLOCK = PARTIAL_RUN // 2


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "..." when it was cut (``Redactor.mask`` then masks a cut secret)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Redactor:
    """Knows every secret value of a run and replaces it with ``****`` wherever it appears.

    A secret of ``MIN_SECRET_LENGTH`` characters or more is masked anywhere, in
    its encoded forms and its upper- and lower-case variants; a shorter one only
    where it stands alone (see ``MIN_SECRET_LENGTH``).
    """

    def __init__(self) -> None:
        self._values: set[str] = set()  # every form of the long secrets: masked anywhere
        self._words: set[str] = set()  # every form of the short secrets: masked where they stand alone
        self._added: set[str] = set()  # values given to ``add`` (their forms are in ``_values`` or ``_words``)
        self._cut_values: set[str] = set()  # the long secrets as they are, and their case variants: a cut may end in them
        self._cut_starts: dict[str, set[str]] = {}  # the same, by their first characters
        self._cut_longest = 0
        self._starts_pattern: re.Pattern[str] | None = None
        self._short_names: set[str] = set()  # variables whose secret is short (``warnings``)
        self._pattern: re.Pattern[str] | None = None
        self._blocks: dict[str, set[tuple[str, int]]] = {}  # partial masking: block -> (secret, where the block starts in it)
        self._blocks_pattern: re.Pattern[str] | None = None

    def add(self, value: Any, name: str | None = None) -> None:
        """Mark a value as secret, with the encoded forms it takes in URLs and headers; ``name`` says whose it is (for warnings)."""
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        if text and name and len(text) < MIN_SECRET_LENGTH:
            self._short_names.add(name)
        if not text or text in self._added:  # this runs for every request: skip the encodings when known
            return
        self._added.add(text)
        long = len(text) >= MIN_SECRET_LENGTH
        # The runner upper-cases a templated method; servers lower-case header names they echo.
        variants = {text, text.upper(), text.lower()} if long else {text}
        forms: set[str] = set()
        for variant in variants:
            forms |= _encoded_forms(variant)
        target = self._values if long else self._words
        if len(text) >= PARTIAL_SECRET and not any(char.isspace() for char in text):
            self._add_blocks({text})  # as written: a server echoes part of a key as it got it
        if long:
            self._cut_values |= variants
            for variant in variants:
                self._cut_starts.setdefault(variant[:MIN_CUT_SECRET], set()).add(variant)
                self._cut_longest = max(self._cut_longest, len(variant))
            self._starts_pattern = None
        if not forms <= target:
            target |= forms
            self._pattern = None

    def _add_blocks(self, variants: set[str]) -> None:
        for variant in variants:
            for start in range(0, len(variant) - _BLOCK + 1, _BLOCK):
                self._blocks.setdefault(variant[start : start + _BLOCK], set()).add((variant, start))
        self._blocks_pattern = None

    def add_value(self, value: Any, name: str | None = None) -> None:
        """Mark a variable's value as secret: a mapping or a list as JSON, and every string or number in it."""
        if isinstance(value, (dict, list, tuple)):
            self.add(json.dumps(value), name)
            for item in value.values() if isinstance(value, dict) else value:
                self.add_value(item, name)
        else:
            self.add(value, name)

    def warnings(self) -> list[str]:
        """A line for each secret variable too short to be masked inside words."""
        return [
            f"warning: secret {name!r} is shorter than {MIN_SECRET_LENGTH} characters: it is masked only where it stands alone, not inside longer words (docs/security.md)"
            for name in sorted(self._short_names)
        ]

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
        if encoded not in self._values and encoded not in self._words:  # a new value means a new pattern: not once per request
            (self._values if len(encoded) >= MIN_SECRET_LENGTH else self._words).add(encoded)
            self._pattern = None

    def secret_values(self) -> frozenset[str]:
        """Every value given to ``add`` (not their encoded forms)."""
        return frozenset(self._added)

    @property
    def generation(self) -> int:
        """Grows whenever a secret value is added: text masked at an older generation may need masking again."""
        return len(self._values) + len(self._words)

    @property
    def active(self) -> bool:
        """Whether there is anything to mask."""
        return bool(self._values or self._words)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``****``."""
        pattern = self.pattern()
        if not text or pattern is None:
            return text
        masked = pattern.sub(MASK, text)
        blocks = self._blocks_pattern or self._compile_blocks()
        if blocks is not None and blocks.search(masked) is not None:  # the common case: one search, no block
            masked = self._mask_partial(masked)
        if "..." not in masked or not self._cut_values:  # the common case, without a regex search
            return masked
        return self._mask_cuts(masked)

    def partial_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` holds ``PARTIAL_RUN`` or more consecutive characters of a secret (sorted, merged)."""
        blocks = self._blocks_pattern or self._compile_blocks()
        if blocks is None:
            return []
        found_spans: list[tuple[int, int]] = []
        found = blocks.search(text)
        while found is not None:
            at = found.start()
            found = blocks.search(text, at + 1)  # blocks may overlap: look again one character on
            for secret, start in self._blocks[text[at : at + _BLOCK]]:
                left = 0  # grow the block to the longest run of the secret around it
                while left < start and left < at and text[at - left - 1] == secret[start - left - 1]:
                    left += 1
                right = _BLOCK
                while start + right < len(secret) and at + right < len(text) and text[at + right] == secret[start + right]:
                    right += 1
                if left + right >= PARTIAL_RUN:
                    found_spans.append((at - left, at + right))
        spans: list[tuple[int, int]] = []
        for start, end in sorted(found_spans):
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans

    def _compile_blocks(self) -> re.Pattern[str] | None:
        if self._blocks:  # no lookahead around the alternatives: re then skips ahead on their first characters
            self._blocks_pattern = re.compile("|".join(map(re.escape, sorted(self._blocks))))
        return self._blocks_pattern

    def _mask_partial(self, text: str) -> str:
        """``text`` with every run of ``PARTIAL_RUN`` or more characters of a secret replaced by ``****``."""
        spans = self.partial_spans(text)
        if not spans:
            return text
        out, position = [], 0
        for start, end in spans:
            out += [text[position:start], MASK]
            position = end
        out.append(text[position:])
        return "".join(out)

    def forms(self) -> frozenset[str]:
        """Every text the redactor masks: the secrets and their encoded forms."""
        return frozenset(self._values | self._words)

    def pattern(self) -> re.Pattern[str] | None:
        """The regular expression that finds every secret (``None``: nothing to mask)."""
        if self._pattern is None and (self._values or self._words):
            self._pattern = self._compile()
        return self._pattern

    def _compile(self) -> re.Pattern[str]:
        alternatives = []
        if self._values:  # longest first: no partial leaks
            alternatives.append("|".join(re.escape(value) for value in sorted(self._values, key=len, reverse=True)))
        if self._words:
            words = "|".join(re.escape(value) for value in sorted(self._words, key=len, reverse=True))
            alternatives.append(_STANDALONE[0] + words + _STANDALONE[1])
        return re.compile("|".join(alternatives))

    def _mask_cuts(self, text: str) -> str:
        """``text`` with the first part of a secret masked wherever a cut mark follows it."""
        out: list[str] = []
        position = 0
        for cut in _CUT.finditer(text):
            head = text[position : cut.start()]
            size = min(self._cut_prefix(text[: cut.start()]), len(head))
            out.append(head[:-size] + MASK + "..." if size else head + cut.group(0))
            position = cut.end()
        out.append(text[position:])
        return "".join(out)

    def _cut_prefix(self, head: str) -> int:
        """How many characters at the end of ``head`` are the first part of a secret (0: none).

        Only the last characters that could be one are looked at, and only where a
        secret's first characters stand: linear in the longest secret, per cut.
        """
        if self._starts_pattern is None:
            self._starts_pattern = re.compile("(?=(" + "|".join(map(re.escape, self._cut_starts)) + "))")
        end = len(head)
        for found in self._starts_pattern.finditer(head, max(0, end - self._cut_longest + 1)):  # earliest: the longest part
            start = found.start()
            for value in self._cut_starts[found.group(1)]:
                if len(value) > end - start and value.startswith(head[start:]):
                    return end - start
        return 0

    def mask_lines(self, text: str) -> str:
        """``mask`` for a text of several lines, any of which may end where it was cut short ("...")."""
        return self.mask(text)  # a cut mark is found on any line

    def mask_data(self, data: Any, keep: frozenset[str] = frozenset()) -> Any:
        """A copy of nested data with every string value masked; keys, and the values of the keys in ``keep``, stay as they are."""
        if not self.active:
            return data
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, list):
            return [self.mask_data(item, keep) for item in data]
        if isinstance(data, tuple):
            return tuple(self.mask_data(item, keep) for item in data)
        if isinstance(data, dict):
            return {key: value if key in keep else self.mask_data(value, keep) for key, value in data.items()}
        return data

    def mask_json(self, data: Any) -> Any:
        """A copy of a JSON value from a server with every string masked, its keys too (a server may echo a secret as a key)."""
        if not self.active:
            return data
        if isinstance(data, dict):
            return {self.mask(str(key)): self.mask_json(value) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.mask_json(item) for item in data]
        return self.mask(data) if isinstance(data, str) else data

    def mask_headers(self, headers: dict[str, str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Header pairs with credential headers fully masked, cookie values in ``Set-Cookie`` too, and secrets masked elsewhere."""
        items = headers.items() if isinstance(headers, dict) else headers
        return [(self.mask(name), self._mask_header(name.lower(), value)) for name, value in items]  # a server may echo a secret as a name

    def _mask_header(self, name: str, value: str) -> str:
        if name in CREDENTIAL_HEADERS:
            return _mask_credential(value)
        if name == "set-cookie":
            value = _LATER_COOKIE.sub(rf"\1={MASK}", _FIRST_COOKIE.sub(_masked_first_cookie, value, count=1))
        return self.mask(value)


def _encoded_forms(text: str) -> set[str]:
    """``text`` and the forms it takes in URLs (placed raw, through params or ``urlencode``), basic auth and JSON strings."""
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
    return forms


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
        values = self.redactor.forms()
        if not values:
            return self.flush()
        keep = max(len(value) for value in values)  # a short secret is masked as a word: the character after it decides
        if not any("\n" in value for value in values) and "\n" in self.pending:
            keep = min(keep, len(self.pending) - self.pending.rindex("\n") - 1)
        cut = len(self.pending) - keep
        spans = self.redactor.partial_spans(self.pending)
        held = cut
        for start, end in spans:
            if start < held < end:  # part of a secret may go on in the next piece: hold it back whole
                held = start
        if len(self.pending) - held > 4 * keep:
            # Runs of a secret joined end to end, longer than any secret (a hostile stream): holding them
            # whole would hold without end and rescan all of it for each piece.  The run is known to be a
            # secret's already: show it as **** up to the cut and hold back only the last ``keep``.
            return self._release(self._whole_secret_end(cut), spans)
        if held <= 0:
            return ""
        return self._release(self._whole_secret_end(held), [])

    def _whole_secret_end(self, cut: int) -> int:
        """``cut``, moved past a whole secret it would split (it is whole already)."""
        pattern = self.redactor.pattern()
        if pattern is not None:
            for match in pattern.finditer(self.pending):
                if match.start() < cut < match.end():
                    cut = match.end()
        return cut

    def _release(self, cut: int, spans: list[tuple[int, int]]) -> str:
        """The text before ``cut``, masked, with the runs ``spans`` found in the whole pending text as ``****``."""
        out, position = [], 0
        for start, end in spans:
            if start >= cut:
                break
            out += [self.pending[position:start], MASK]
            position = min(end, cut)
        out.append(self.pending[position:cut])
        self.pending = self.pending[cut:]
        return self.redactor.mask("".join(out))

    def flush(self) -> str:
        """Everything held back, masked (the stream ended)."""
        shown, self.pending = self.pending, ""
        return self.redactor.mask(shown)


def cut_pieces(redactor: Redactor, pieces: list[str]) -> set[int]:
    """Indexes of the pieces that hold part of a secret cut across pieces (a stream's tokens or events, joined)."""
    pattern = redactor.pattern()
    if pattern is None:
        return set()
    starts, position = [], 0
    for piece in pieces:
        starts.append(position)
        position += len(piece)
    found: set[int] = set()
    for match in pattern.finditer("".join(pieces)):
        touching = [index for index, start in enumerate(starts) if start < match.end() and start + len(pieces[index]) > match.start()]
        if len(touching) > 1:  # whole in one piece, the redactor finds it there
            found.update(touching)
    return found


def mask_stream_text(redactor: Redactor, text: str, events: list[Any], token: Any) -> str:
    """A stream's raw text (``data:`` lines) masked, also where a secret is cut across events: each piece of it becomes ``****``."""
    pieces = [(index, token(event) if token(event) is not None else event.data) for index, event in enumerate(events)]
    pieces = [(index, piece) for index, piece in pieces if piece]
    for position in cut_pieces(redactor, [piece for _, piece in pieces]):
        index, piece = pieces[position]
        quoted = json.dumps(piece)
        text = text.replace(quoted, f'"{MASK}"').replace(json.dumps(piece, ensure_ascii=False), f'"{MASK}"')
        text = re.sub(r"(?m)^(data: ?)" + re.escape(piece) + r"(\r?)$", lambda match: match.group(1) + MASK + match.group(2), text)
    return redactor.mask(text)


class PieceMasker:
    """Masks texts that arrive as pieces shown one per line (plain server-sent events): a secret cut across pieces is masked in each.

    ``feed`` returns the pieces that are safe to show now: a piece is held back while
    the text after its start is shorter than the longest secret (the next piece could
    still complete one); a piece holding part of a secret cut across pieces shows as ``****``.
    """

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self.pending: list[list[Any]] = []  # [prefix shown as is, text, whether it holds part of a cut secret]

    def feed(self, text: str, prefix: str = "") -> list[str]:
        """The masked lines that are safe to show after ``text`` (shown after ``prefix``) arrives."""
        self.pending.append([prefix, text, False])
        if self.redactor.pattern() is None:
            return self.flush()
        for index in cut_pieces(self.redactor, [piece[1] for piece in self.pending]):
            self.pending[index][2] = True
        ends, position = [], 0
        for piece in self.pending:
            position += len(piece[1])
            ends.append(position)
        keep = max(len(value) for value in self.redactor.forms()) - 1
        ready = sum(1 for end in ends if end <= position - keep)
        shown, self.pending = self.pending[:ready], self.pending[ready:]
        return [self._show(piece) for piece in shown]

    def flush(self) -> list[str]:
        """Every piece held back, masked (the pieces ended)."""
        shown, self.pending = self.pending, []
        return [self._show(piece) for piece in shown]

    def _show(self, piece: list[Any]) -> str:
        prefix, text, cut = piece
        return self.redactor.mask(prefix) + (MASK if cut else self.redactor.mask(text))


def _masked_first_cookie(match: re.Match[str]) -> str:
    return f"{match.group(1)}={MASK}" if match.group(1) else MASK


def _mask_credential(value: str) -> str:
    """``Bearer ****``: keep a well-known scheme word, hide everything else."""
    scheme, sep, _ = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token", "digest", "negotiate"):
        return f"{scheme} {MASK}"
    return MASK
