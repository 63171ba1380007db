"""Split shell command lines as a POSIX shell would, for ``runner import curl``.

Why not ``shlex``: an API's docs write ``-H "Authorization: Bearer $MISTRAL_API_KEY"``
and the collection should read that key from the environment.  So this tokenizer
knows which ``$NAME`` were in double quotes or bare (expanded by a shell: they become
``{{ env.NAME }}``) and which were in single quotes (literal text).  It also splits
several commands (one a line), follows backslash line continuations, and stops a
command at a pipe (``curl ... | jq``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "v": "\v", "0": ""}


@dataclass
class Command:
    """One command line: its words and the line it started on."""

    words: list[str] = field(default_factory=list)
    line: int = 1


def env_template(name: str) -> str:
    """The template that reads environment variable ``name``."""
    return f"{{{{ env.{name} }}}}"


_MARK = "\0"  # wraps a $NAME while a word is read: the literal text around it is escaped, the reference is not


def _finish(word: str) -> str:
    from .writer import literal

    parts = word.split(_MARK)  # literal, name, literal, name, ...
    return "".join(literal(part) if index % 2 == 0 else env_template(part) for index, part in enumerate(parts))


class _Splitter:
    def __init__(self, text: str, source: str):
        self.text = text.replace("\r\n", "\n")
        self.source = source
        self.i = 0
        self.line = 1
        self.commands: list[Command] = []
        self.command = Command()
        self.word: list[str] | None = None

    def fail(self, message: str, line: int) -> InputError:
        return InputError(f"{self.source}, line {line}: {message}")

    def end_word(self) -> None:
        if self.word is not None:
            self.command.words.append(_finish("".join(self.word)))
            self.word = None

    def end_command(self) -> None:
        self.end_word()
        if self.command.words:
            self.commands.append(self.command)
        self.command = Command(line=self.line)

    def add(self, text: str) -> None:
        if self.word is None:
            self.word = []
            if not self.command.words:
                self.command.line = self.line
        self.word.append(text)

    def split(self) -> list[Command]:
        text, n = self.text, len(self.text)
        while self.i < n:
            char = text[self.i]
            if char == "\\":
                following = text[self.i + 1 : self.i + 2]
                if following == "\n":  # a line continuation
                    self.line += 1
                elif following:
                    self.add(following)
                self.i += 2
            elif char in " \t":
                self.end_word()
                self.i += 1
            elif char == "\n" or char == ";" or (char == "&" and text[self.i : self.i + 2] == "&&"):
                self.i += 2 if char == "&" else 1
                self.end_command()
                if char == "\n":
                    self.line += 1
                    self.command.line = self.line
            elif char == "|" or (char == "#" and self.word is None):
                self.skip_line(end_command=char == "|")
            elif char == "'":
                self.single_quoted()
            elif char == '"':
                self.double_quoted()
            elif char == "$":
                self.dollar(quoted=False)
            else:
                self.add(char)
                self.i += 1
        self.end_command()
        return self.commands

    def skip_line(self, end_command: bool) -> None:
        if end_command:
            self.end_command()
        end = self.text.find("\n", self.i)
        self.i = len(self.text) if end < 0 else end

    def single_quoted(self) -> None:
        end = self.text.find("'", self.i + 1)
        if end < 0:
            raise self.fail("a single quote (') opened here is never closed", self.line)
        content = self.text[self.i + 1 : end]
        self.add(content)
        self.line += content.count("\n")
        self.i = end + 1

    def double_quoted(self) -> None:
        start_line = self.line
        self.add("")
        self.i += 1
        text, n = self.text, len(self.text)
        while self.i < n:
            char = text[self.i]
            if char == '"':
                self.i += 1
                return
            if char == "\\" and text[self.i + 1 : self.i + 2] in ('"', "\\", "$", "`", "\n"):
                following = text[self.i + 1]
                if following == "\n":
                    self.line += 1
                else:
                    self.add(following)
                self.i += 2
            elif char == "$":
                self.dollar(quoted=True)
            else:
                if char == "\n":
                    self.line += 1
                self.add(char)
                self.i += 1
        raise self.fail('a double quote (") opened here is never closed', start_line)

    def dollar(self, quoted: bool) -> None:
        text = self.text
        following = text[self.i + 1 : self.i + 2]
        if following == "'" and not quoted:
            self.ansi_c()
            return
        if following == "{":
            end = text.find("}", self.i)
            name = text[self.i + 2 : end] if end > 0 else ""
            if end > 0 and _NAME.fullmatch(name):
                self.add(_MARK + name + _MARK)
                self.i = end + 1
                return
        match = _NAME.match(text, self.i + 1)
        if match:
            self.add(_MARK + match.group(0) + _MARK)
            self.i = match.end()
            return
        self.add("$")
        self.i += 1

    def ansi_c(self) -> None:
        """``$'...'``: backslash escapes as bash reads them."""
        start_line = self.line
        self.add("")
        self.i += 2
        text, n = self.text, len(self.text)
        while self.i < n:
            char = text[self.i]
            if char == "'":
                self.i += 1
                return
            if char == "\\" and self.i + 1 < n:
                following = text[self.i + 1]
                if following == "x":
                    match = re.match(r"[0-9A-Fa-f]{1,2}", text[self.i + 2 :])
                    if match:
                        self.add(chr(int(match.group(0), 16)))
                        self.i += 2 + len(match.group(0))
                        continue
                self.add(_ANSI_ESCAPES.get(following, "\\" + following))
                self.i += 2
                continue
            if char == "\n":
                self.line += 1
            self.add(char)
            self.i += 1
        raise self.fail("a quote ($') opened here is never closed", start_line)


def split_commands(text: str, source: str = "the command") -> list[Command]:
    """Every command in ``text`` as a list of words; ``InputError`` on an unbalanced quote."""
    return _Splitter(text, source).split()
