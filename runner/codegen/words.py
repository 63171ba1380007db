"""Values of a generated command: literal text (masked) and references to environment variables.

A ``Word`` is a value cut into pieces: ``str`` pieces are literal text, already
masked; ``EnvRef`` pieces stand for a secret whose value is that of an
environment variable, so the command can read it there instead of holding it.
``sh_quote`` and ``py_expr`` turn a word into shell or Python source text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shlex
from dataclasses import dataclass, field

from ..redact import CREDENTIAL_HEADERS, Redactor
from ..terminal import COMMAND_START, CONTROL_CHARS

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEMES = ("Bearer ", "Basic ", "Token ", "bearer ", "basic ", "token ")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")
# what a terminal would obey (C0 but tab and newline, DEL, C1, bidi overrides): spelled by printf, never raw
_CONTROL_RUN = re.compile(f"[{CONTROL_CHARS}]+")
_COMMAND_LINE = re.compile(rf"(\n[ \t]*)(?={COMMAND_START})")  # a line GitHub Actions would read as a workflow command


@dataclass(frozen=True)
class EnvRef:
    """A secret read from the environment variable ``name`` where the command runs."""

    name: str


Word = list["str | EnvRef"]


@dataclass
class Secrets:
    """Cuts values into words: secrets found in the environment become ``EnvRef``, the rest is masked."""

    redactor: Redactor
    names: dict[str, str] = field(default_factory=dict)  # secret value -> environment variable holding it
    used: set[str] = field(default_factory=set)  # the variables the command reads

    def __post_init__(self) -> None:
        values = self.redactor.secret_values()
        for name in sorted(os.environ):  # sorted: the same name every time when two variables hold the value
            value = os.environ[name]
            if value in values and _ENV_NAME.fullmatch(name):
                self.names.setdefault(value, name)
        ordered = sorted(self.names, key=len, reverse=True)  # longest first, as the redactor does
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def split(self, text: str) -> Word:
        """``text`` as masked literal pieces and environment references."""
        pieces: Word = []
        position = 0
        for match in self._pattern.finditer(text) if self._pattern else ():
            if match.start() > position:
                pieces.append(self.redactor.mask(text[position : match.start()]))
            name = self.names[match.group(0)]
            self.used.add(name)
            pieces.append(EnvRef(name))
            position = match.end()
        if position < len(text) or not pieces:
            pieces.append(self.redactor.mask(text[position:]))
        return pieces

    def header(self, name: str, value: str) -> Word:
        """A header value; a credential header is a scheme and environment references, or masked whole."""
        if name.lower() not in CREDENTIAL_HEADERS:
            return self.split(value)
        pieces = self.split(value)
        literal = [piece for piece in pieces if isinstance(piece, str)]
        referenced = any(isinstance(piece, EnvRef) for piece in pieces)
        if referenced and (not literal or (literal == [pieces[0]] and pieces[0] in _SCHEMES)):
            return pieces  # "Bearer $KEY": nothing else in it to hide
        self.used -= {piece.name for piece in pieces if isinstance(piece, EnvRef)}
        return [self.redactor.mask_headers([(name, value)])[0][1]]

    def basic_credentials(self, value: str) -> tuple[Word, Word] | None:
        """``(user, password)`` of a ``Basic`` header when one of them is read from the environment, else ``None``."""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic" or not self._pattern:
            return None
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if not sep or not (self._pattern.search(user) or self._pattern.search(password)):
            return None
        return self.split(user), self.split(password)


def is_literal(word: Word) -> bool:
    """Whether the word holds no environment reference."""
    return all(isinstance(piece, str) for piece in word)


def text_of(word: Word) -> str:
    """The literal text of a word with no environment reference."""
    return "".join(piece for piece in word if isinstance(piece, str))


def sh_quote(word: Word) -> str:
    """The word as one POSIX shell word, safe to paste and to print.

    Literal text is single-quoted, or double-quoted around ``$NAME`` references
    (``\\``, ``$``, backtick and ``"`` escaped; ``!`` closed out into single
    quotes, because an interactive bash or zsh expands history there).  A control
    character (ESC, CR, C1...) is never printed raw, where the terminal would
    obey it: ``"$(printf '\\033')"`` spells it.  A line inside the word that
    GitHub Actions would read as a workflow command (``::``) starts with ``''``.
    """
    parts: list[str] = []
    segment: Word = []
    for piece in word:
        if isinstance(piece, EnvRef):
            segment.append(piece)
            continue
        position = 0
        for control in _CONTROL_RUN.finditer(piece):
            segment.append(piece[position : control.start()])
            parts.append(_quoted_segment(segment))
            segment = []
            parts.append('"$(printf ' + "'" + "".join(f"\\{byte:03o}" for byte in control.group(0).encode("utf-8")) + "'" + ')"')
            position = control.end()
        segment.append(piece[position:])
    parts.append(_quoted_segment(segment))
    quoted = "".join(part for part in parts if part != "''")
    return quoted or "''"


def _quoted_segment(word: Word) -> str:
    if is_literal(word):
        return _COMMAND_LINE.sub(r"\1''", shlex.quote(text_of(word)))
    out = ['"']
    for index, piece in enumerate(word):
        if isinstance(piece, EnvRef):
            following = word[index + 1] if index + 1 < len(word) else ""
            glued = isinstance(following, str) and bool(_NAME_CHAR.match(following[:1]))
            out.append(f"${{{piece.name}}}" if glued else f"${piece.name}")
            continue
        for char in piece:
            if char in '\\$`"':
                out.append("\\" + char)
            elif char == "!":
                out.append("\"'!'\"")
            else:
                out.append(char)
    out.append('"')
    return _COMMAND_LINE.sub('\\1""', "".join(out))


def py_expr(word: Word, encode: bool = False) -> str:
    """The word as a Python expression (a str, or bytes when ``encode``): literals by ``repr``, references as ``os.environ[...]``."""
    parts = []
    for piece in word:
        if isinstance(piece, EnvRef):
            parts.append(f"os.environ[{piece.name!r}]" + (".encode()" if encode else ""))
        elif piece or not parts:
            parts.append(repr(piece.encode("utf-8", "surrogateescape") if encode else piece))
    return " + ".join(parts)
