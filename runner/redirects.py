"""What a followed redirect may carry: credentials stay with their origin, ``--mock`` stays on loopback.

httpx builds the next request of a redirect (method, body and URL as RFC 9110
says) and drops ``Authorization`` when the origin changes and ``Cookie``
always.  On top of that, here:

- **Cross-origin** (scheme, host or port changes; ``http`` -> ``https`` on the
  same host with default ports counts as the same origin, as in httpx and
  browsers): every header that holds a credential is dropped: the credential
  headers (``Authorization``, ``Proxy-Authorization``, ``Cookie``,
  ``X-API-Key``), any header whose name says it is one (``*api-key*``,
  ``*token*``, ``*secret*``, ``*auth*``, ``*session*``, ``*password*``) and any
  header whose value holds a secret the run knows.  So is every query
  parameter of the new URL with such a name or value.  The request opts out
  with ``follow_redirects: {cross_origin_credentials: true}``.
- **Same origin**: the request's own ``Cookie`` header is sent again (httpx drops
  it on every hop).  Not to another port of the same host: a browser would send
  its cookies there, but a header the collection wrote is a credential like any other.
- **``--mock``**: a redirect to anywhere but the mock's own address is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import TransportError
from .redact import CREDENTIAL_HEADERS

_CREDENTIAL_NAME = re.compile(r"api[-_]?key|apikey|token|secret|auth|session|passw|credential|signature|^key$|^sig$|^code$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Hop:
    """One redirect that was followed: the status that asked for it, its ``Location`` and the URL that answered."""

    status: int
    location: str
    url: str


def _port(url: httpx.URL) -> int | None:
    return url.port or _DEFAULT_PORTS.get(url.scheme)


def same_origin(old: httpx.URL, new: httpx.URL) -> bool:
    """Whether ``new`` keeps ``old``'s credentials: same scheme, host and port, or an upgrade to https on the same host."""
    if old.host != new.host:
        return False
    if old.scheme == new.scheme and _port(old) == _port(new):
        return True
    return old.scheme == "http" and new.scheme == "https" and _port(old) == 80 and _port(new) == 443


def _holds_secret(name: str, value: str, redactor: Any) -> bool:
    if name.lower() in CREDENTIAL_HEADERS or _CREDENTIAL_NAME.search(name):
        return True
    return redactor is not None and bool(value) and redactor.mask(value) != value


def next_request(previous: httpx.Request, response: httpx.Response, request: Any, redactor: Any = None) -> httpx.Request:
    """The request for the redirect ``response`` answers ``previous`` with; raises ``TransportError`` when it may not be sent."""
    outgoing = response.next_request
    assert outgoing is not None
    confine = getattr(request, "confine_to", None)
    if confine:
        allowed = httpx.URL(confine)
        if (outgoing.url.scheme, outgoing.url.host, _port(outgoing.url)) != (allowed.scheme, allowed.host, _port(allowed)):
            raise TransportError(f"redirect to {outgoing.url.host}{_shown_port(outgoing.url)} refused: under --mock no request leaves the mock ({allowed.host}:{allowed.port})", "redirects")
    if same_origin(previous.url, outgoing.url) or getattr(request, "cross_origin_credentials", False):
        for name in ("Cookie", "Authorization"):  # what httpx drops, put back
            if name in previous.headers and name not in outgoing.headers:
                outgoing.headers[name] = previous.headers[name]
        return outgoing
    for name, value in list(outgoing.headers.items()):
        if _holds_secret(name, value, redactor):
            del outgoing.headers[name]
    params = outgoing.url.params
    kept = [(name, value) for name, value in params.multi_items() if not _holds_secret(name, value, redactor)]
    if len(kept) != len(params.multi_items()):
        outgoing.url = outgoing.url.copy_with(params=httpx.QueryParams(kept) if kept else None)
    return outgoing


def _shown_port(url: httpx.URL) -> str:
    return f":{url.port}" if url.port else ""


__all__ = ["Hop", "next_request", "same_origin"]
