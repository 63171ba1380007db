"""Render one request: templates filled, collection defaults merged, auth applied.

The result is a ``RenderedRequest``: everything ``http.py`` needs to send and
``engine.py`` needs to check, with every credential registered with the redactor.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .model import Assertion, AuthSpec, CollectionSpec, RequestSpec
from .redact import CREDENTIAL_HEADERS, shorten
from .templating import TemplateError, Templates, is_template
from .variables import Scope

METHOD_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Z-]+")  # an RFC 9110 token, as the format schema allows
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_REDIRECTS = 20
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
MAX_TIMEOUT = 1_000_000.0  # seconds (11 days): more does not fit the clocks under the socket calls
SETTING_KEYS = ("timeout", "max_redirects", "max_response_bytes", "proxy")  # what setting_number names, for error locations


@dataclass
class RunOptions:
    """Settings from the command line that apply to every request."""

    timeout: float | None = None
    mock_url: str | None = None
    retries: int | None = None
    insecure: bool = False
    max_response_bytes: int | None = None
    ca_cert: str | None = None  # --ca-cert / --client-cert: override every collection's TLS settings
    client_cert: str | None = None
    allow_outside_files: bool = False  # --allow-outside-files: uploads may come from outside the project
    proxy: str | None = None  # --proxy URL ("" turns proxies off)


@dataclass
class RenderedRequest:
    """A request ready to send."""

    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    form: list[tuple[str, str]] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    file_paths: dict[str, str] = field(default_factory=dict)  # multipart field -> the file it was read from (for curl)
    timeout: float = DEFAULT_TIMEOUT
    follow_redirects: bool = False
    cross_origin_credentials: bool = False  # follow_redirects: {cross_origin_credentials: true} (redirects.py)
    confine_to: str | None = None  # --mock: the only origin a redirect may lead to
    proxy: str | None = None  # --proxy or the collection's proxy:, "" for none; None: the environment's (proxy.py)
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    stream: str = "auto"
    assertions: list[tuple[Assertion, Any]] = field(default_factory=list)
    events: Any = None  # expect.events, rendered (an EventsSpec)
    digest: tuple[str, str] | None = None  # auth: {digest: ...}, answered in http.send
    http2: bool = False  # offer HTTP/2 (transport.py)
    oauth2: Any = None  # auth: oauth2, rendered (``oauth2.OAuth2Credentials``): the engine gets the token before sending
    name: str = ""  # the request's name (the --show pane titles a live stream with it)

    def full_url(self) -> str:
        """The URL with the query parameters appended, as it is sent."""
        if not self.params:
            return self.url
        from urllib.parse import urlencode

        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}{urlencode(self.params)}"

    def body_text(self, limit: int | None = None) -> str:
        """The body as text for display: raw or JSON content, a form url-encoded, multipart as its part names."""
        if self.content is not None:
            text = self.content[:limit].decode("utf-8", errors="replace")
            return text + "..." if limit is not None and len(self.content) > limit else text  # "...": the redactor masks a cut secret
        if self.files:
            return "(multipart: " + ", ".join(name for name, _ in [*(self.form or []), *self.files]) + ")"
        if self.form:
            from urllib.parse import urlencode

            return urlencode(self.form)
        return ""

    def header(self, name: str) -> str | None:
        """A header of the request by case-insensitive name."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


def is_skipped(spec: RequestSpec, scope: Scope, templates: Templates) -> bool:
    """Whether the request's ``skip`` value renders truthy."""
    if spec.skip is None:
        return False
    value = templates.render(spec.skip, scope.values)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "no", "off", "0", "none")
    return bool(value)


def join_url(base: str, url: str) -> str:
    """An absolute ``url`` as is; a path appended to ``base`` (keeping the base's own path)."""
    if "://" in url:
        return url
    if not base:
        raise TemplateError(f"url {url!r} is relative and there is no base_url", name="base_url")
    return base.rstrip("/") + "/" + url.lstrip("/")


def _point_at_mock(url: str, mock_url: str) -> str:
    target = urlsplit(mock_url)
    parts = urlsplit(url)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _pairs(values: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, _text(item)))
    return pairs


def render_request(
    collection: CollectionSpec,
    spec: RequestSpec,
    scope: Scope,
    templates: Templates,
    options: RunOptions,
) -> RenderedRequest:
    """Render ``spec`` in ``scope``; raises ``TemplateError`` when a template cannot be rendered."""
    values = scope.values
    render = templates.render
    redactor = scope.redactor

    base = _text(render(collection.base_url, values)) if collection.base_url is not None else _text(values.get("base_url", ""))
    if options.mock_url:
        base = options.mock_url
    url = join_url(base, _text(render(spec.url, values)))
    _check_url(url)
    if options.mock_url:
        url = _point_at_mock(url, options.mock_url)
    _register_userinfo(url, redactor)

    params = {**collection.params, **spec.params}
    rendered_params = _pairs({name: render(value, values) for name, value in params.items()})

    headers: dict[str, tuple[str, str]] = {}
    repeated: dict[str, list[str]] = {}  # a list value: the second and later lines of that header
    for source in (collection.headers, spec.headers):
        for name, value in source.items():
            rendered = render(value, values)
            items = rendered if isinstance(rendered, list) and rendered else [rendered]
            headers[name.lower()] = (name, _text(items[0]))
            repeated[name.lower()] = [_text(item) for item in items[1:]]

    auth = spec.auth or collection.auth
    oauth2 = None
    if auth is not None and auth.kind == "oauth2":
        from .oauth2 import oauth2_credentials

        oauth2 = oauth2_credentials(auth.value, lambda value: templates.render_text(value, values), redactor)
    elif auth is not None:
        _apply_auth(auth, values, templates, headers, rendered_params, redactor)
    for lower, (_, first) in headers.items():
        if lower in CREDENTIAL_HEADERS:
            for value in (first, *repeated.get(lower, ())):
                redactor.add(value)
                scheme, _, credential = value.partition(" ")
                if credential and scheme.lower() in ("bearer", "basic", "token"):
                    redactor.add(credential)

    request = RenderedRequest(method=render_method(spec.method, values, templates), url=url, params=rendered_params, stream=spec.stream, oauth2=oauth2, name=spec.name)
    if spec.body is not None:
        _render_body(spec, render(spec.body.value, values), headers, request, collection.base_dir, options.allow_outside_files)
    request.headers = [line for lower, first in headers.items() for line in (first, *((first[0], more) for more in repeated.get(lower, ())))]
    if auth is not None and auth.kind == "digest":
        request.digest = (templates.render_text(auth.username, values), templates.render_text(auth.password, values))
        redactor.add(request.digest[1])

    timeout = _first(spec.timeout, collection.timeout, values, templates)
    request.timeout = setting_number("timeout", timeout, MAX_TIMEOUT) if timeout is not None else (options.timeout or DEFAULT_TIMEOUT)
    follow = _first(spec.follow_redirects, collection.follow_redirects, values, templates)
    if isinstance(follow, dict):  # {cross_origin_credentials: true}: follow, and keep credentials across origins
        request.cross_origin_credentials = _text(follow.get("cross_origin_credentials")).strip().lower() == "true"
        follow = True
    request.follow_redirects = bool(follow) if follow is not None else False
    request.confine_to = options.mock_url
    request.proxy = _proxy(collection, options, values, templates, redactor)
    max_redirects = _first(spec.max_redirects, collection.max_redirects, values, templates)
    request.max_redirects = int(setting_number("max_redirects", max_redirects, 10_000, integer=True, zero=True)) if max_redirects is not None else DEFAULT_MAX_REDIRECTS
    request.http2 = bool(_first(spec.http2, collection.http2, values, templates))
    if request.http2:
        import importlib.util

        if importlib.util.find_spec("h2") is None:
            raise TemplateError("http2: true needs the h2 package: pip install 'runner[http2]'")
    limit = _first(spec.max_response_bytes, collection.max_response_bytes, values, templates)
    request.max_response_bytes = int(setting_number("max_response_bytes", limit, 2**53, integer=True)) if limit is not None else (options.max_response_bytes or DEFAULT_MAX_RESPONSE_BYTES)
    _check_content_length(request)

    request.assertions = [(a, render(a.predicate, values)) for a in spec.expect.assertions]
    if spec.expect.events is not None:
        from .streaming import render_events

        request.events = render_events(spec.expect.events, templates, values)
    return request


def _register_userinfo(url: str, redactor: Any) -> None:
    """``http://user:PASSWORD@host/``: the password is a secret, and the ``Basic`` header httpx builds from it."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:  # not a URL urllib can split (a bad port): httpx refuses it when it is sent
        return
    if password:
        redactor.add(password)  # as written, percent-encoded or not
        redactor.add_basic(unquote(username or ""), unquote(password))


def setting_number(key: str, value: Any, maximum: float, integer: bool = False, zero: bool = False) -> float:
    """A numeric setting as rendered (a literal, or a template such as a captured value): a finite number in range, else ``TemplateError``."""
    import math

    kind = "a whole number" if integer else "a number"
    low = ">= 0" if zero else "> 0"
    number: float | None
    try:
        number = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or not math.isfinite(number) or (integer and not number.is_integer()):
        shown = shorten(repr(value), 60) if number is None else f"{number:g}"
        raise TemplateError(f"{key}: {shown} is not {'a finite number' if number is not None and not integer else kind}")
    if number < 0 or (number == 0 and not zero) or number > maximum:
        raise TemplateError(f"{key}: {number:g} is out of range: {kind} {low} and at most {maximum:g}")
    return number


def _proxy(collection: CollectionSpec, options: RunOptions, values: dict[str, Any], templates: Templates, redactor: Any) -> str | None:
    """The request's proxy: none under --mock, else --proxy, else the collection's ``proxy:``, else None (the environment's)."""
    from .proxy import OFF, register_proxy_secrets

    if options.mock_url:
        return OFF
    if options.proxy is not None:
        return options.proxy.strip()
    if collection.proxy is None:
        return None
    proxy = _text(templates.render(collection.proxy, values)).strip()
    register_proxy_secrets(redactor, [proxy])
    if proxy:
        try:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError as exc:
            raise TemplateError(f"proxy: not a valid proxy URL: {exc}") from None
        if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
            raise TemplateError(f"proxy: {redactor.mask(proxy)!r} is not an http, https or socks5 proxy URL")
    return proxy


def _check_url(url: str) -> None:
    """A URL the HTTP client can take: its brackets, host and port must parse (``http://[::1``, ``:99999`` cannot)."""
    control = next((char for char in url if ord(char) < 0x20 or ord(char) == 0x7F), None)
    if control is not None:
        raise TemplateError(f"url {shorten(url, 200)!r} holds the control character {control!r}: percent-encode it ({'%' + format(ord(control), '02X')})")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
        _check_host(parts.hostname or "")
    except ValueError as exc:  # UnicodeError (a host name the IDNA rules refuse) is one
        raise TemplateError(f"url {shorten(url, 200)!r} is not a valid URL: {exc}") from None


def _check_host(host: str) -> None:
    """A host name the resolver can encode: no empty label, none over 63 characters, IDNA rules for the rest."""
    if not host or host.startswith("[") or ":" in host or host.replace(".", "").isdigit():
        return  # an IP address
    if host.isascii() and "xn--" not in host.lower():
        host.encode("idna")  # as the socket module will: labels 1 to 63 characters (underscores allowed)
        return
    import idna  # what httpx uses for international names

    try:
        idna.encode(host, uts46=True)
    except idna.IDNAError as exc:
        raise ValueError(f"invalid international host name ({exc})") from None


def _check_content_length(request: RenderedRequest) -> None:
    """A ``Content-Length`` header must be the body's length: HTTP cannot send anything else (curl sends it anyway, and the server misreads)."""
    given = request.header("content-length")
    if given is None:
        return
    if not given.strip().isdigit():
        raise TemplateError(f"header Content-Length: {given!r} is not a length in bytes (leave it out: it is computed from the body)")
    if request.content is not None and int(given) != len(request.content):
        raise TemplateError(f"header Content-Length says {int(given)} bytes but the body is {len(request.content)} bytes (leave it out: it is computed from the body)")
    if request.content is None and request.form is None and request.files is None and int(given) != 0:
        raise TemplateError(f"header Content-Length says {int(given)} bytes but the request has no body")


def render_method(method: str, values: dict[str, Any], templates: Templates) -> str:
    """The request's method: a template such as ``"{{ verb }}"`` rendered, upper-cased and checked to be an HTTP token."""
    if not is_template(method):
        return method
    text = _text(templates.render(method, values))
    if text.startswith("<captured:"):  # runner show: a value only a real run captures, shown as such
        return text
    rendered = text.upper()
    if not METHOD_TOKEN.fullmatch(rendered):
        raise TemplateError(f"method {method!r} gave {rendered!r}, which is not an HTTP method")
    return rendered


def _first(request_value: Any, collection_value: Any, values: dict[str, Any], templates: Templates) -> Any:
    value = request_value if request_value is not None else collection_value
    return templates.render(value, values) if value is not None else None


def _apply_auth(auth: AuthSpec, values: dict[str, Any], templates: Templates, headers: dict[str, tuple[str, str]], params: list[tuple[str, str]], redactor: Any) -> None:
    if auth.kind == "bearer":
        token = templates.render_text(auth.token, values)
        redactor.add(token)
        headers.setdefault("authorization", ("Authorization", f"Bearer {token}"))
    elif auth.kind == "basic":
        username = templates.render_text(auth.username, values)
        password = templates.render_text(auth.password, values)
        redactor.add_basic(username, password)
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers.setdefault("authorization", ("Authorization", f"Basic {encoded}"))
    elif auth.kind == "api_key":
        value = templates.render_text(auth.value, values)
        redactor.add(value)
        if auth.key_in == "header":
            headers.setdefault(auth.key_name.lower(), (auth.key_name, value))
        else:
            params.append((auth.key_name, value))


def outside_project(base_dir: str, file: str) -> bool:
    """Whether ``file`` (relative to the collection's folder) resolves outside the project folder."""
    from .schemas import find_project_root

    return not (Path(base_dir) / file).resolve().is_relative_to(find_project_root(Path(base_dir)))


def _render_body(spec: RequestSpec, body: Any, headers: dict[str, tuple[str, str]], request: RenderedRequest, base_dir: str, allow_outside: bool = False) -> None:
    assert spec.body is not None
    kind = spec.body.kind
    if kind == "json":
        try:
            request.content = json.dumps(body, ensure_ascii=False, default=_json_default).encode("utf-8")
        except (TypeError, ValueError) as exc:  # a template that gave a function, bytes, a loop...
            raise TemplateError(f"the json body cannot be encoded as JSON: {exc}") from None
        headers.setdefault("content-type", ("Content-Type", "application/json"))
    elif kind == "form":
        request.form = _pairs(body)
    elif kind == "raw":
        request.content = _text(body).encode("utf-8")
    elif kind == "bytes":
        request.content = _body_bytes(body, base_dir, allow_outside)
    elif kind == "multipart":
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        for name, value in body.items():
            if isinstance(value, dict) and "file" in value:
                path = Path(base_dir) / _text(value["file"])
                if not allow_outside and outside_project(base_dir, _text(value["file"])):
                    raise TemplateError(f"multipart field {name!r}: {value['file']} is outside the project folder (pass --allow-outside-files to allow it)")
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise TemplateError(f"multipart field {name!r}: cannot read {path}: {exc.strerror}") from None
                filename = _text(value.get("filename") or path.name)
                content_type = _text(value.get("content_type") or _guess_type(filename))
                files.append((name, (filename, data, content_type)))
                request.file_paths[name] = str(path)
            elif isinstance(value, dict):  # a text part with its own headers: {value, content_type, filename}
                part_name = _text(value["filename"]) if value.get("filename") is not None else None
                part_type = _text(value["content_type"]) if value.get("content_type") is not None else None
                files.append((name, (part_name, _text(value["value"]).encode("utf-8"), part_type)))  # type: ignore[arg-type]
            else:
                for item in value if isinstance(value, list) else [value]:
                    fields.append((name, _text(item)))
        if files:
            request.form, request.files = fields, files
        else:  # httpx sends multipart only when there is a file: send the fields as file-less parts
            request.files = [(name, (None, value.encode("utf-8"), None)) for name, value in fields]  # type: ignore[misc]
        if "content-type" in headers and headers["content-type"][1].lower().startswith("multipart/"):
            del headers["content-type"]  # httpx must set the boundary itself


def _body_bytes(body: dict[str, Any], base_dir: str, allow_outside: bool) -> bytes:
    """``body: {hex: ...} | {base64: ...} | {file: PATH}`` as the bytes to send."""
    from .predicates import bytes_literal

    ((kind, value),) = body.items()
    if kind == "file":
        path = Path(base_dir) / _text(value)
        if not allow_outside and outside_project(base_dir, _text(value)):
            raise TemplateError(f"body file {value} is outside the project folder (pass --allow-outside-files to allow it)")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise TemplateError(f"body: cannot read {path}: {exc.strerror}") from None
    data = bytes_literal({kind: _text(value)})
    if not isinstance(data, bytes):
        raise TemplateError(f"body: the {kind} text is not valid {kind}")
    return data


def _json_default(value: Any) -> Any:
    """YAML dates (``2024-01-31`` unquoted) go out as ISO-8601 text; anything else is not JSON."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
