"""``runner show --format python``: httpx code that sends the request as the runner does.

Every value is a Python literal written by ``repr`` (never text pasted into
code), or ``os.environ[...]`` for a secret read from the environment.
"""

from __future__ import annotations

import os

from ..render import RenderedRequest
from .sent import FORM_TYPE, body_bytes, has_header, sent_url
from .words import Secrets, py_expr


def format_python(request: RenderedRequest, secrets: Secrets) -> str:
    """A Python script (httpx) that sends ``request`` and prints the response."""
    arguments = [f"    {py_expr(secrets.split(request.method))},", f"    {py_expr(secrets.split(sent_url(request)))},"]
    headers: list[str] = []
    auth = ""
    for name, value in request.headers:
        credentials = secrets.basic_credentials(value) if name.lower() == "authorization" else None
        if credentials is not None:
            auth = f"    auth=({py_expr(credentials[0])}, {py_expr(credentials[1])}),"
        else:
            headers.append(f"        ({name!r}, {py_expr(secrets.header(name, value))}),")
    if request.form and not request.files and not has_header(request, "content-type"):
        headers.append(f"        ('Content-Type', {FORM_TYPE!r}),")  # the form goes as content: say what it is, as httpx does
    if headers:
        arguments += ["    headers=[", *headers, "    ],"]
    if auth:
        arguments.append(auth)
    if request.files:
        parts = [f"        ({name!r}, (None, {py_expr(secrets.split(value), encode=True)})),"
                 for name, value in request.form or []]
        for name, (filename, data, content_type) in request.files:
            if name not in request.file_paths:  # a text part, with its own filename and content type if it has them
                typed = f", {content_type!r}" if content_type is not None else ""
                parts.append(f"        ({name!r}, ({filename!r}, {py_expr(secrets.split(data.decode('utf-8', 'surrogateescape')), encode=True)}{typed})),")
            else:
                path = os.path.relpath(request.file_paths[name])
                parts.append(f"        ({name!r}, ({filename!r}, open({path!r}, 'rb'), {content_type!r})),")
        arguments += ["    files=[", *parts, "    ],"]
    else:
        body = body_bytes(request)
        if body is not None:
            arguments.append(f"    content={py_expr(secrets.split(body.decode('utf-8', 'surrogateescape')), encode=True)},")
    if request.follow_redirects:
        arguments.append("    follow_redirects=True,")
    arguments.append(f"    timeout={request.timeout!r},")
    imports = ["import os", "", "import httpx"] if secrets.used else ["import httpx"]
    client = f"httpx.Client(max_redirects={request.max_redirects!r})" if request.follow_redirects else "httpx.Client()"
    lines = [
        *imports,
        "",
        f"with {client} as client:",
        "    response = client.request(",
        *("    " + line for line in arguments),
        "    )",
        "print(response.status_code, response.reason_phrase)",
        "print(response.text)",
    ]
    return "\n".join(lines) + "\n"

