"""``runner show --format curl``: a POSIX sh command line that sends the request as the runner does.

Every argument is one quoted shell word.  Beyond the shell, curl reads some
arguments itself, so they are chosen where curl takes text as it is: ``--data-raw``
(``-d`` reads ``@file``), ``--form-string`` for text parts (``-F`` reads ``@file``
and ``<file``), ``-g`` when the URL holds ``[]{}`` (curl's URL globbing), ``--url``
when the URL starts with ``-``.  A body curl cannot take as an argument (a NUL
byte, bytes that are not UTF-8) is piped in by ``printf`` with octal escapes.
"""

from __future__ import annotations

import os

from ..render import RenderedRequest
from .words import Secrets, Word, sh_quote, text_of
from .sent import body_bytes, has_header, sent_url

_GLOB = frozenset("[]{}")


def format_curl(request: RenderedRequest, secrets: Secrets) -> str:
    """The curl command line for ``request``, ending in a newline."""
    args: list[str] = ["curl"]
    args += ["--head"] if request.method == "HEAD" else ["-X", sh_quote(secrets.split(request.method))]
    url = secrets.split(sent_url(request))
    if any(char in _GLOB for char in text_of(url)):
        args.append("-g")
    args += ["--url", sh_quote(url)] if text_of(url).startswith("-") else [sh_quote(url)]
    for name, value in request.headers:
        credentials = secrets.basic_credentials(value) if name.lower() == "authorization" else None
        if credentials is not None:
            user, password = credentials
            args += ["-u", sh_quote([*user, ":", *password])]
        elif value:
            args += ["-H", sh_quote([f"{name}: ", *secrets.header(name, value)])]
        else:
            args += ["-H", sh_quote([f"{name};"])]  # "Name:" would remove the header: ";" sends it empty
    pipe = ""
    if request.files:
        for name, value in request.form or []:
            args += ["--form-string", sh_quote([f"{name}=", *secrets.split(value)])]
        for name, (filename, data, content_type) in request.files:
            if filename is None and content_type is None:  # a text part (httpx sends multipart only with a file: the runner made it one)
                args += ["--form-string", sh_quote([f"{name}=", *secrets.split(data.decode("utf-8", "replace"))])]
            elif name not in request.file_paths:  # a text part with its own headers: quoted for -F, then its parameters
                text = [piece if not isinstance(piece, str) else piece.replace("\\", "\\\\").replace('"', '\\"') for piece in secrets.split(data.decode("utf-8", "replace"))]
                extra = (f";filename={_curl_word(filename)}" if filename is not None else "") + (f";type={_curl_word(content_type)}" if content_type is not None else "")
                args += ["-F", sh_quote([f'{name}="', *text, f'"{extra}'])]
            else:
                args += ["-F", sh_quote([_file_part(name, request.file_paths[name], filename, content_type)])]
    else:
        body = body_bytes(request)
        if body is not None:
            if request.content is not None and not has_header(request, "content-type"):
                args += ["-H", sh_quote(["Content-Type:"])]  # curl would add a form type the runner does not send
            text = body.decode("utf-8", "surrogateescape")
            if "\x00" in text or any("\udc80" <= char <= "\udcff" for char in text):
                pipe = f"printf {_printf_format(secrets.redactor.mask(text))} | "
                args += ["--data-binary", "@-"]
            else:
                args += ["--data-raw", sh_quote(secrets.split(text))]
    if request.follow_redirects:
        args += ["-L", "--max-redirs", str(request.max_redirects)]
    return pipe + " ".join(args) + "\n"


def _file_part(name: str, path: str, filename: str, content_type: str) -> str:
    """A curl ``-F`` file part: the file as a path from the working folder, with the name and type sent."""
    part = f"{name}=@{_curl_word(os.path.relpath(path))}"
    if filename != os.path.basename(path):
        part += f";filename={_curl_word(filename)}"
    return part + f";type={_curl_word(content_type)}"


def _curl_word(text: str) -> str:
    """``text`` as curl reads it in a ``-F`` value: quoted when it holds a separator curl would split at."""
    if not any(char in text for char in ';,"\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _printf_format(text: str) -> str:
    """A single-quoted ``printf`` format that prints ``text``'s bytes exactly (octal escapes, ``%%``)."""
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F and char != "'":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"


__all__ = ["Word", "format_curl"]
