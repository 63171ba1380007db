"""Generated commands: a rendered request as a curl or HTTPie command line, or as httpx code.

Every value is quoted for the language it lands in (POSIX sh for curl and
HTTPie, Python literals for httpx), so a hostile method, URL, header or body
prints as data and never runs when the command is pasted.  Secrets read from
the environment print as references to it (``"$MISTRAL_API_KEY"``,
``os.environ["MISTRAL_API_KEY"]``); every other secret prints as ``****``.
"""

from __future__ import annotations

from typing import Callable

from ..redact import Redactor
from ..render import RenderedRequest
from .words import Secrets

FORMATS = ("curl", "httpie", "python")


def format_command(request: RenderedRequest, redactor: Redactor, output_format: str) -> str:
    """``request`` as a ``curl``, ``httpie`` or ``python`` command, secrets masked or referenced."""
    from . import curl, httpie, python

    formatters: dict[str, Callable[[RenderedRequest, Secrets], str]] = {"curl": curl.format_curl, "httpie": httpie.format_httpie, "python": python.format_python}
    return formatters[output_format](request, Secrets(redactor))


__all__ = ["FORMATS", "format_command"]
