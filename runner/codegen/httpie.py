"""``runner show --format httpie``: an HTTPie command line (``http``) that sends the request as the runner does.

Every argument is one quoted shell word, and the words come after ``--`` so none
is read as an option.  HTTPie then parses its "request items" itself: a header
``Name:value`` whose value holds ``:``, ``=``, ``@`` or ``;`` could turn into a
JSON field, a query parameter or a file read (``Name:@/etc/passwd``), so each such
character of a value is escaped with ``\\`` as HTTPie's syntax asks.  Bodies go
through ``--raw``, which HTTPie sends as it is.  What HTTPie's syntax cannot
carry (a method that is not letters, a backslash before one of those characters)
is refused with a message rather than printed wrong.
"""

from __future__ import annotations

import os
import re

from ..errors import UsageError
from ..redact import MASK
from ..render import RenderedRequest
from .sent import FORM_TYPE, body_bytes, has_header, sent_url
from .words import EnvRef, Secrets, Word, sh_quote

_SPECIAL = ":=@;"
_LETTERS = re.compile(r"[A-Za-z]+")


def format_httpie(request: RenderedRequest, secrets: Secrets) -> str:
    """The HTTPie command line for ``request``, ending in a newline."""
    if not _LETTERS.fullmatch(request.method):
        raise UsageError(f"--format httpie: the method {secrets.redactor.mask(request.method)!r} is not letters only, and HTTPie would read it as the URL; use --format curl")
    args = ["http", "--ignore-stdin"]
    if request.follow_redirects:
        args += ["--follow", "--max-redirects", str(request.max_redirects)]
    items: list[str] = []
    for name, value in request.headers:
        credentials = secrets.basic_credentials(value) if name.lower() == "authorization" else None
        if credentials is not None:
            user, password = credentials
            args += ["--auth-type", "basic", "--auth", sh_quote([*user, ":", *password])]
        elif value:
            items.append(sh_quote([_escaped(name), ":", *_escape_word(secrets.header(name, value), name)]))
        else:
            items.append(sh_quote([_escaped(name) + ";"]))
    if request.files:
        args.append("--multipart")
        for name, value in request.form or []:
            items.append(sh_quote([_escaped(name), "=", *_escape_word(secrets.split(value), name)]))
        for name, (filename, data, content_type) in request.files:
            if name not in request.file_paths and (filename is not None or content_type is not None):
                raise UsageError(f"--format httpie: multipart field {secrets.redactor.mask(name)!r} is a text part with its own filename or content type, which HTTPie cannot send; use --format curl")
            if name not in request.file_paths:
                items.append(sh_quote([_escaped(name), "=", *_escape_word(secrets.split(data.decode("utf-8", "replace")), name)]))
            else:
                path = os.path.relpath(request.file_paths[name])
                items.append(sh_quote([_escaped(name), "@", _escape_text(path, name), f";type={content_type}"]))
    else:
        body = body_bytes(request)
        if body is not None:
            if not has_header(request, "content-type"):  # HTTPie would send its JSON type
                items.append(sh_quote([f"Content-Type:{FORM_TYPE if request.form else ''}"]))
            args += ["--raw", sh_quote(secrets.split(body.decode("utf-8", "replace")))]
    return " ".join([*args, "--", sh_quote([request.method]), sh_quote(secrets.split(sent_url(request))), *items]) + "\n"


def _escaped(text: str) -> str:
    """A request item's key with HTTPie's separator characters escaped."""
    return "".join("\\" + char if char in _SPECIAL else char for char in text)


def _escape_text(text: str, item: str) -> str:
    if re.search(rf"\\(?=[{_SPECIAL}]|$)", text):
        raise UsageError(f"--format httpie: {item!r} holds a backslash before one of {_SPECIAL}, which HTTPie's request items cannot carry; use --format curl")
    return _escaped(text)


def _escape_word(word: Word, item: str) -> Word:
    """A request item's value with HTTPie's separator characters escaped.

    An environment reference is expanded by the shell before HTTPie parses the
    item: a value it holds that HTTPie would misread (a backslash, or a separator
    character at the start of the value) is masked instead.
    """
    out: Word = []
    for index, piece in enumerate(word):
        if isinstance(piece, EnvRef):
            value = os.environ.get(piece.name, "")
            if "\\" not in value and not (index == 0 and value[:1] in _SPECIAL):
                out.append(piece)
                continue
            piece = MASK
        out.append(_escape_text(piece, item))
    return out
