"""Foreign text made safe to print: no terminal control, no CI workflow command.

Text from collections, files and servers reaches the console (names, URLs,
bodies, messages).  Raw, an ESC or CSI sequence can rewrite the screen, hide
text or set the window title, a CR can overwrite a line, and a line starting
with ``::`` (or ``##[``) is a GitHub Actions workflow command: ``::stop-commands::``
switches off the real annotations, ``::error::`` forges one, ``::add-mask::`` and
``::set-output`` meddle with the job.  So every control character is printed in
its visible escaped form (``\\x1b``), and a line that would start a workflow
command gets its first character escaped (``\\x3a:``).  Newlines are kept where
the layout puts them; a newline inside one value is escaped like the rest.
"""

from __future__ import annotations

import re
from typing import Callable

# C0 but tab and newline, DEL, C1; the Unicode line and paragraph separators; bidirectional
# overrides and isolates, which reorder what a reader sees ("Trojan Source")
CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # a regex character class body
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
_CONTROL_OR_NEWLINE = re.compile(f"[\n{CONTROL_CHARS}]")
# GitHub's runner strips leading whitespace before it looks for a command
COMMAND_START = r"::|##\["
_COMMAND = re.compile(r"^([ \t]*)(:(?=:)|#(?=#\[))", re.MULTILINE)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible(match: re.Match[str]) -> str:
    return _escaped(match.group(0))


def escape_control(text: str, newlines: bool = False) -> str:
    """``text`` with every control character written as ``\\x1b`` (newlines too when ``newlines``)."""
    return (_CONTROL_OR_NEWLINE if newlines else _CONTROL).sub(_visible, text)


def guard_commands(text: str, escape: Callable[[str], str] = _escaped) -> str:
    """``text`` with no line that GitHub Actions would read as a workflow command (``::``, ``##[``): its first character escaped."""
    return _COMMAND.sub(lambda match: match.group(1) + escape(match.group(2)), text)


def printable(text: str) -> str:
    """Text of several lines, safe for a terminal and a CI log: control characters escaped, workflow commands defused."""
    return guard_commands(escape_control(text))


def printable_line(text: str) -> str:
    """One line, safe for a terminal and a CI log: a newline inside it is escaped too."""
    return guard_commands(escape_control(text, newlines=True))
