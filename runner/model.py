"""The parsed input: frozen dataclasses built by the loader, read by every later stage.

Values that may hold templates stay as the raw YAML value (``Raw``) until
``render.py`` renders them for one request; everything structural (which keys,
which body kind, which checks) is decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Location

Raw = Any  # a YAML value that may contain templates


@dataclass(frozen=True)
class AuthSpec:
    """``bearer`` / ``basic`` / ``digest`` / ``api_key`` / ``oauth2`` / ``none``; values are raw templates (``oauth2``: its mapping in ``value``)."""

    kind: str
    token: Raw = None
    username: Raw = None
    password: Raw = None
    key_name: str = ""
    key_in: str = ""  # "header" or "query"
    value: Raw = None
    location: Location | None = None


@dataclass(frozen=True)
class RetrySpec:
    """When and how often to try a request again (the numbers may be templates until the engine renders them)."""

    count: int | Raw = 0
    backoff: float | Raw = 0.5
    max_delay: float | Raw = 30.0
    on: tuple[int | str, ...] = (429, 502, 503, 504, "transport")
    methods: tuple[str, ...] = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE")
    until: str | tuple[str, ...] | None = None  # polling: "checks", or the expect keys whose failure is retried
    interval: float | Raw | None = None  # a fixed wait between attempts, instead of the backoff


@dataclass(frozen=True)
class SchemaRef:
    """A JSON Schema by file (with optional #pointer) or inline, relative to ``base_dir``."""

    path: str | None
    fragment: str
    inline: dict[str, Any] | None
    base_dir: str
    location: Location | None = None

    @property
    def key(self) -> str:
        """A cache key naming this schema."""
        if self.inline is not None:
            return f"inline:{id(self.inline)}"
        return f"{self.base_dir}/{self.path}#{self.fragment}"


# A request whose expect has no status expects one of these (docs/format.md "expect"): the target marks it
DEFAULT_STATUS = ("2xx", "3xx")
DEFAULT_STATUS_TARGET = "default"


@dataclass(frozen=True)
class Assertion:
    """One expectation: what it checks (``target``), the raw predicate and where it was written."""

    kind: str  # status | header | json | body | max_ms | bytes | xpath | url | redirects | http_version | cookie | var
    target: str
    predicate: Raw
    location: Location | None = None


@dataclass(frozen=True)
class EventsSpec:
    """Checks on a server-sent event stream."""

    schema: SchemaRef | None = None
    done: bool | None = None
    count: Raw = None
    json: tuple[Assertion, ...] = ()
    text: Raw = None
    text_path: str = "$.choices[0].delta.content"
    first_ms: Raw = None
    location: Location | None = None


@dataclass(frozen=True)
class ExpectSpec:
    """Everything a response must satisfy."""

    assertions: tuple[Assertion, ...] = ()
    schema: SchemaRef | None = None
    events: EventsSpec | None = None
    vars: tuple[Assertion, ...] = ()  # checked after the request's captures


@dataclass(frozen=True)
class CaptureSpec:
    """A variable taken from the response: ``source`` is json|header|regex|status|text|event."""

    name: str
    source: str
    expr: str = ""
    secret: bool = False
    location: Location | None = None
    filters: tuple[Any, ...] = ()
    attribute: str = ""  # with source "cookie": which attribute, "" for the value


@dataclass(frozen=True)
class ExampleSpec:
    """A saved response, served by the mock and checked by ``validate``."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    has_json: bool = False
    body: str | None = None
    events: tuple[Any, ...] | None = None
    done: Raw = True  # bool, or a template
    event_delay_ms: Raw = 0.0  # milliseconds, or a template
    location: Location | None = None
    template: bool = False  # the mock renders the body per incoming request (``request`` in scope)
    request_schema: SchemaRef | None = None  # the mock answers 422 to a body this schema refuses
    dynamic: bool = False  # the mock answers with a response generated from ``expect.schema``


@dataclass(frozen=True)
class BodySpec:
    """The request body: ``kind`` is json|form|multipart|raw|bytes, ``value`` the raw YAML."""

    kind: str
    value: Raw
    location: Location | None = None


@dataclass(frozen=True)
class TlsSpec:
    """TLS settings: verification (bool or CA bundle path) and a client certificate."""

    verify: bool | str = True
    client_cert: str | tuple[str, str] | None = None


@dataclass(frozen=True)
class RequestSpec:
    """One request of a collection, as written (templates unrendered)."""

    name: str
    index: int
    method: str
    url: Raw
    location: Location
    params: dict[str, Raw] = field(default_factory=dict)
    headers: dict[str, Raw] = field(default_factory=dict)
    auth: AuthSpec | None = None
    body: BodySpec | None = None
    timeout: Raw = None
    follow_redirects: Raw = None
    max_redirects: Raw = None
    max_response_bytes: Raw = None
    retries: RetrySpec | None = None
    delay: Raw = None
    http2: Raw = None
    stream: str = "auto"
    skip: Raw = None
    tags: tuple[str, ...] = ()
    expect: ExpectSpec = field(default_factory=ExpectSpec)
    captures: tuple[CaptureSpec, ...] = ()
    example: ExampleSpec | None = None
    description: str = ""


@dataclass(frozen=True)
class CollectionSpec:
    """A collection file: defaults that apply to every request, and the requests."""

    name: str
    path: str
    base_dir: str
    requests: tuple[RequestSpec, ...]
    description: str = ""
    vars: dict[str, Raw] = field(default_factory=dict)
    var_locations: dict[str, Location] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    base_url: Raw = None
    auth: AuthSpec | None = None
    headers: dict[str, Raw] = field(default_factory=dict)
    params: dict[str, Raw] = field(default_factory=dict)
    timeout: Raw = None
    follow_redirects: Raw = None
    max_redirects: Raw = None
    max_response_bytes: Raw = None
    retries: RetrySpec | None = None
    http2: Raw = None
    tls: TlsSpec = field(default_factory=TlsSpec)
    pricing: dict[str, Any] | None = None  # paid APIs (runner/llm): the price table, the usage JSONPaths, the rate
    usage: dict[str, Any] | None = None
    rate: str | None = None
    proxy: Raw = None  # a proxy URL for every request (runner/proxy.py); "" for none
    location: Location | None = None
    source: Any = field(default=None, compare=False, repr=False)  # the SourceDoc, for locations


@dataclass(frozen=True)
class EnvironmentSpec:
    """An environment file: variables (raw templates) and the names of secret ones."""

    path: str
    vars: dict[str, Raw]
    var_locations: dict[str, Location]
    secrets: frozenset[str] = frozenset()
    settings: dict[str, Any] = field(default_factory=dict)  # ``pricing`` and ``rate``: settings of the run, not variables (runner/llm)
