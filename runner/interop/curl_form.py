"""curl's ``-F name=content;type=...;filename=...`` read as curl's ``tool_formparse.c`` reads it.

A part's content is a text, ``@FILE`` (uploaded as a file) or ``<FILE`` (the file's
text as a field); ``;type=`` sets the part's Content-Type (anything after it up to the
next known parameter is part of the type: ``type=text/plain;charset=utf-8``),
``;filename=`` the file name it is sent with.  A word may be double-quoted, with
``\\"`` and ``\\\\`` escapes, to hold ``;`` or ``,``.  ``--form-string`` takes the
content as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TYPE = re.compile(r"[^/ ]{1,127}/[^;, \n]{1,127}")


@dataclass
class FormPart:
    """One ``-F`` argument: its name, where the content comes from, and the part's parameters."""

    name: str
    source: str  # "text", "file" (@FILE: uploaded) or "read" (<FILE: its text is the field)
    content: str  # the text, or the file's path
    content_type: str | None = None
    filename: str | None = None
    ignored: list[str] = field(default_factory=list)  # parameters the runner cannot send (headers=, encoder=, unknown)


class FormSyntaxError(ValueError):
    """A ``-F`` argument curl itself refuses."""


def parse_form(argument: str, literal: bool = False) -> FormPart:
    """One ``-F`` (or, with ``literal``, ``--form-string``) argument as curl reads it."""
    name, eq, rest = argument.partition("=")
    if not eq:
        raise FormSyntaxError("needs name=value")
    if literal:
        return FormPart(name, "text", rest)
    if rest.startswith("("):
        raise FormSyntaxError("a nested multipart (name=(...) is not supported")
    source = {"@": "file", "<": "read"}.get(rest[:1], "text")
    text = rest[1:] if source != "text" else rest
    end = "," if source == "file" else ""
    content, position = _word(text, 0, end, strip_leading=True)
    part = FormPart(name, source, content)
    type_end, type_start = False, 0  # after type=, an unknown parameter is part of the type (type=text/plain;charset=utf-8)
    while position < len(text) and text[position] == ";":
        position += 1
        while position < len(text) and text[position].isspace():
            position += 1
        lowered = text[position:].lower()
        if not type_end and lowered.startswith("type="):
            position += 5
            while position < len(text) and text[position].isspace():
                position += 1
            stop = _stop(text, position, end)
            value = text[position:stop].rstrip()
            if not _TYPE.match(value):
                raise FormSyntaxError(f"the part's type {value!r} is not TYPE/SUBTYPE")
            part.content_type, type_start, position, type_end = value, position, stop, True
        elif lowered.startswith("filename="):
            part.filename, position = _word(text, position + 9, end, strip_leading=True)
            type_end = False
        elif lowered.startswith(("headers=", "encoder=")):
            value, position = _word(text, position + 8, end, strip_leading=True)
            part.ignored.append(f"{lowered[:7]}={value}")
            type_end = False
        elif type_end:
            stop = _stop(text, position, end)
            part.content_type = text[type_start:stop].rstrip()  # as written, "; " and all
            position = stop
        else:
            value, position = _word(text, position, end)
            if value:
                part.ignored.append(value)
    if position < len(text):
        raise FormSyntaxError("several files in one -F (name=@a,b) are not supported")
    if part.source == "read" and part.filename is not None:  # curl: "Field file name not allowed here"
        part.ignored.append(f"filename={part.filename}")
        part.filename = None
    return part


def _stop(text: str, position: int, end: str) -> int:
    """Where the unquoted word from ``position`` ends: at ``;``, at ``end`` or at the end."""
    while position < len(text) and text[position] != ";" and (not end or text[position] != end):
        position += 1
    return position


def _word(text: str, position: int, end: str, strip_leading: bool = False) -> tuple[str, int]:
    """curl's ``get_param_word``: a quoted word (escapes undone), or the text up to ``;``; and where it stopped."""
    while strip_leading and position < len(text) and text[position].isspace():
        position += 1
    if text[position : position + 1] == '"':
        out, index = [], position + 1
        while index < len(text):
            char = text[index]
            if char == "\\" and text[index + 1 : index + 2] in ('"', "\\"):
                out.append(text[index + 1])
                index += 2
                continue
            if char == '"':
                return "".join(out), _stop(text, index + 1, end)  # anything after the closing quote is dropped, as curl does
            out.append(char)
            index += 1
        # no closing quote: the word is unquoted
    stop = _stop(text, position, end)
    return text[position:stop].rstrip(), stop
