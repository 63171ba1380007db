"""Which proxy a request goes through: ``--proxy``, the collection's ``proxy:``, or the environment, as curl does.

Order: ``--proxy URL`` beats a collection's ``proxy:``, which beats the
environment: ``https_proxy``/``HTTPS_PROXY`` for https URLs,
``http_proxy``/``HTTP_PROXY`` for http URLs, ``all_proxy``/``ALL_PROXY`` for
either (lower case wins, as in curl and httpx).  ``no_proxy``/``NO_PROXY``
lists hosts reached directly, whichever proxy would apply: ``*`` (every host),
a name (``example.com`` also covers ``api.example.com``; a leading ``.`` or
``*.`` is the same), an IP address, or a CIDR range (``10.0.0.0/8``), each
optionally with ``:port``.  ``--proxy ""`` or ``proxy: ""`` turns proxies
off.  A proxy URL without a scheme is ``http://``; ``socks5://`` needs the
``socksio`` package.  Under ``--mock`` no proxy is used: the mock is on
loopback.  A proxy's password is a secret (``register_proxy_secrets``).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

OFF = ""  # an explicit "no proxy"


def _env(environ: Mapping[str, str], name: str) -> str | None:
    for key in (name.lower(), name.upper()):
        value = environ.get(key)
        if value is not None and value.strip():
            return value.strip()
    return None


def normalise(url: str) -> str:
    """A proxy URL with a scheme (``proxy:3128`` -> ``http://proxy:3128``)."""
    url = url.strip()
    return url if "://" in url else f"http://{url}"


def shown(url: str) -> str:
    """A proxy URL for messages: its user name and password left out."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _no_proxy_match(entry: str, host: str, port: int | None) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    if entry == "*":
        return True
    wanted_port = None
    if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):  # name:port or [v6]:port
        entry, _, text = entry.rpartition(":")
        wanted_port = int(text) if text.isdigit() else None
    entry = entry.strip("[]")
    if wanted_port is not None and port != wanted_port:
        return False
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    entry = entry.removeprefix("*").lstrip(".")
    return host == entry or host.endswith("." + entry)


class ProxyRule:
    """The proxies of a run: an explicit one (``--proxy`` or ``proxy:``), else the environment's; ``NO_PROXY`` for both."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        self._env = {scheme: _env(environ, f"{scheme}_proxy") or _env(environ, "all_proxy") for scheme in ("http", "https")}
        self._no_proxy = [item for item in (_env(environ, "no_proxy") or "").split(",") if item.strip()]

    def environment_proxies(self) -> list[str]:
        """The proxy URLs the environment names."""
        return [normalise(url) for url in self._env.values() if url]

    def bypass(self, host: str, port: int | None) -> bool:
        """Whether ``NO_PROXY`` sends this host straight to the server."""
        host = host.lower().strip("[]")
        return any(_no_proxy_match(entry, host, port) for entry in self._no_proxy)

    def proxy_for(self, scheme: str, host: str, port: int | None, explicit: str | None) -> str | None:
        """The proxy URL for a request (``explicit`` is the request's own setting: ``None`` none, ``OFF`` off), or None to go direct."""
        if explicit == OFF:
            return None
        chosen = explicit if explicit is not None else self._env.get(scheme)
        if not chosen or self.bypass(host, port):
            return None
        return normalise(chosen)


def register_proxy_secrets(redactor: Any, urls: list[str | None]) -> None:
    """Mark every proxy password secret, with the ``user:password`` base64 form httpx sends in ``Proxy-Authorization``."""
    for url in urls:
        if not url:
            continue
        try:
            parts = urlsplit(normalise(url))
        except ValueError:  # not a URL: refused where it is used, without showing it
            continue
        if parts.password:
            redactor.add_basic(unquote(parts.username or ""), unquote(parts.password))
            redactor.add(parts.password)  # as written in the URL (percent-encoded)


def httpx_proxy(url: str) -> Any:
    """An ``httpx.Proxy`` for ``url``."""
    import httpx

    return httpx.Proxy(url)


__all__ = ["OFF", "ProxyRule", "httpx_proxy", "normalise", "register_proxy_secrets", "shown"]
