"""OAuth2 tokens for ``auth: {oauth2: {...}}``: client credentials (and password) grants, cached per credentials.

A small flow on the run's own httpx client rather than authlib's
``AsyncOAuth2Client``: the token request then goes through the same TLS
settings, connection pool and blocking transport as every other request, its
failures become the runner's one-line transport causes, and the token and
client secret reach the run's redactor before anything can print them.  The
protocol part is one form POST (RFC 6749 section 4.4, and 4.3 for ``password``):
authlib would add a dependency and its own client for it.

* One token per distinct credentials for the whole run, shared by ``--jobs``
  workers (one fetch at a time per credentials).
* Fetched again when it expires (``expires_in``, minus a tenth of it, at most
  30 s, for clock skew and the request's own time) or once when a request sent
  with it gets 401.
* A refused client (4xx from the token endpoint) is remembered: the requests
  that need the same credentials fail with the same cause without asking again.
* The client secret, the password and every token received are secrets.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from .errors import TransportError
from .redact import shorten

SKEW_MAX_S = 30.0


@dataclass(frozen=True)
class OAuth2Credentials:
    """A rendered ``oauth2`` auth block: what identifies one token."""

    token_url: str
    client_id: str
    client_secret: str
    grant: str = "client_credentials"
    scope: str = ""
    audience: str = ""
    username: str = ""
    password: str = ""
    client_auth: str = "basic"  # "basic" (RFC 6749 2.3.1, every server must take it) or "body"

    def form(self) -> list[tuple[str, str]]:
        """The token request's form fields."""
        fields = [("grant_type", self.grant)]
        if self.grant == "password":
            fields += [("username", self.username), ("password", self.password)]
        if self.scope:
            fields.append(("scope", self.scope))
        if self.audience:
            fields.append(("audience", self.audience))
        if self.client_auth == "body":
            fields += [("client_id", self.client_id), ("client_secret", self.client_secret)]
        return fields


@dataclass
class _Token:
    value: str
    expires_at: float | None


class TokenCache:
    """The run's OAuth2 tokens, one per distinct credentials."""

    def __init__(self, redactor: Any, clock: Any = time.monotonic):
        self.redactor = redactor
        self.clock = clock
        self._tokens: dict[OAuth2Credentials, _Token] = {}
        self._refused: dict[OAuth2Credentials, str] = {}
        self._locks: dict[OAuth2Credentials, asyncio.Lock] = {}
        self.fetches = 0

    async def token(self, credentials: OAuth2Credentials, client: Any) -> str:
        """A valid access token for ``credentials``: the cached one, or a new one; ``TransportError`` when none can be had."""
        lock = self._locks.setdefault(credentials, asyncio.Lock())
        async with lock:
            if credentials in self._refused:
                raise TransportError(self._refused[credentials], "oauth2")
            token = self._tokens.get(credentials)
            if token is None or (token.expires_at is not None and self.clock() >= token.expires_at):
                token = self._tokens[credentials] = await self._fetch(credentials, client)
            return token.value

    def expire(self, credentials: OAuth2Credentials, value: str) -> None:
        """Forget ``value`` (a request sent with it got 401): the next ``token`` fetches a new one."""
        token = self._tokens.get(credentials)
        if token is not None and token.value == value:
            del self._tokens[credentials]

    async def _fetch(self, credentials: OAuth2Credentials, client: Any) -> _Token:
        import httpx

        self.fetches += 1
        auth = httpx.BasicAuth(credentials.client_id, credentials.client_secret) if credentials.client_auth == "basic" else None
        started = self.clock()
        try:
            response = await client.post(credentials.token_url, data=dict(_merge(credentials.form())), auth=auth, headers={"Accept": "application/json"})
            await response.aread()
        except httpx.HTTPError as exc:
            from .http import describe_transport_error

            raise TransportError(f"oauth2: cannot get a token from {credentials.token_url}: {describe_transport_error(exc)}", "oauth2") from exc
        data = _json(response)
        if response.status_code >= 400 or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            cause = self._refusal(credentials, response.status_code, data)
            if 400 <= response.status_code < 500:
                self._refused[credentials] = cause
            raise TransportError(cause, "oauth2")
        value = data["access_token"]
        self.redactor.add(value)
        if isinstance(data.get("refresh_token"), str):
            self.redactor.add(data["refresh_token"])
        expires_in = data.get("expires_in")
        expires_at = None
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) or (isinstance(expires_in, str) and expires_in.isdigit()):
            seconds = float(expires_in)
            expires_at = started + seconds - min(SKEW_MAX_S, seconds / 10)
        return _Token(value, expires_at)

    def _refusal(self, credentials: OAuth2Credentials, status: int, data: dict[str, Any]) -> str:
        error = data.get("error") if isinstance(data.get("error"), str) else ""
        detail = data.get("error_description") if isinstance(data.get("error_description"), str) else ""
        what = ": ".join(part for part in (error, detail) if part) or ("no access_token in the answer" if status < 400 else "no reason given")
        return self.redactor.mask(f"oauth2: the token endpoint {credentials.token_url} refused client {credentials.client_id!r} (HTTP {status}): {shorten(what, 200)}")


def _merge(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in fields if value != "" or name in ("client_secret", "password")]


def _json(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def oauth2_credentials(raw: dict[str, Any], render_text: Any, redactor: Any) -> OAuth2Credentials:
    """Render an ``oauth2`` block (``render_text(value) -> str``) and mark its secrets; raises ``TemplateError`` from rendering."""
    text = {key: render_text(value) for key, value in raw.items() if value is not None}
    credentials = OAuth2Credentials(
        token_url=text["token_url"],
        client_id=text.get("client_id", ""),
        client_secret=text.get("client_secret", ""),
        grant=text.get("grant", "client_credentials"),
        scope=text.get("scope", ""),
        audience=text.get("audience", ""),
        username=text.get("username", ""),
        password=text.get("password", ""),
        client_auth=text.get("client_auth", "basic"),
    )
    redactor.add(credentials.client_secret)
    redactor.add(credentials.password)
    if credentials.client_secret:
        redactor.add_basic(credentials.client_id, credentials.client_secret)  # the Authorization header of the token request
    return credentials
