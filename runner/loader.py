"""Find collection files, validate them against the published format schema, build the model.

Every problem of a file is collected and raised together as one ``InputError``.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError, Location, Problem
from .model import (
    DEFAULT_STATUS,
    DEFAULT_STATUS_TARGET,
    Assertion,
    AuthSpec,
    BodySpec,
    CaptureSpec,
    CollectionSpec,
    EnvironmentSpec,
    EventsSpec,
    ExampleSpec,
    ExpectSpec,
    RequestSpec,
    RetrySpec,
    SchemaRef,
    TlsSpec,
)
from .loader_checks import CAPTURE_SOURCES, check_filters, extra_assertions, var_assertions
from .predicates import EXTRA_OPERATORS
from .format_errors import BODY_KEYS, format_problems
from .source import SourceDoc, escape_pointer, read_yaml, rewritten_scalars

OPERATORS = frozenset(
    {"eq", "ne", "gt", "ge", "lt", "le", "contains", "not_contains", "matches", "type", "length", "exists", "in"}
) | EXTRA_OPERATORS
COLLECTION_SCHEMA = Path(__file__).parent / "data" / "collection.schema.json"


def find_collections(paths: list[str], exclude: Iterable[str | None] = ()) -> list[Path]:
    """Expand files and folders (``*.yaml``/``*.yml``, sorted) into collection files.

    A folder's files named in ``exclude`` (the ``-e`` and ``--data`` files) are not collections.
    """
    found: list[Path] = []
    skip = {Path(name).resolve() for name in exclude if name}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file() and p.resolve() not in skip)
            if not files:
                raise InputError(f"no collection files (*.yaml, *.yml) in folder {raw}")
            found.extend(files)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"no such file or folder: {raw}")
    return found


@lru_cache(maxsize=1)
def _format_validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(COLLECTION_SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def load_collection(path: Path | str) -> CollectionSpec:
    """Read, validate and build one collection; raises ``InputError`` with every problem."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        raise InputError(doc.problem(f"a collection must be a mapping with a 'requests' list; this file is {kind}", ""))
    problems = format_problems(doc, _format_validator())
    if problems:
        raise InputError(problems)
    builder = _Builder(doc)
    collection = builder.collection()
    # what is sent, and the variables that feed it, must reach the wire as the user wrote it
    builder.problems.extend(rewritten_scalars(doc, _SENT_VALUES))
    builder.problems.extend(rewritten_scalars(doc, _TEXT_EXPECTED))
    if builder.problems:
        raise InputError(sorted(builder.problems, key=lambda p: (p.location.line, p.location.col) if p.location else (0, 0)))
    return collection


_SENT_VALUES = r"^(?:/(?:vars|params|headers)|/requests/\d+/(?:params|headers|json|form|multipart|body))(?:/|$)"
# Values compared with text (a header, the body, the URL, a cookie's value): `X-Version: 1.10` can never equal "1.10".
_TEXT_EXPECTED = r"^/requests/\d+/expect/(?:headers/[^/]+|body|url|cookies/[^/]+(?:/value)?)(?:/\d+)?(?:/(?:eq|ne|contains|not_contains|startswith|endswith|in(?:/\d+)?))?$"


def load_environment(path: Path | str) -> EnvironmentSpec:
    """Read an environment file: a mapping of variables plus an optional ``secrets`` list."""
    doc = read_yaml(path, quote_source=False, what="environment file (-e)")  # its values are secrets, none of them known yet
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise InputError(doc.problem("an environment file must be a mapping of variable names to values", ""))
    problems: list[Problem] = []
    secrets = data.get("secrets", [])
    if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
        problems.append(doc.problem("'secrets' must be a list of variable names", "/secrets"))
        secrets = []
    values = {}
    settings = {name: data[name] for name in ENVIRONMENT_SETTINGS if name in data}
    problems.extend(_environment_setting_problems(doc, settings))
    for name, value in data.items():
        if name == "secrets" or name in ENVIRONMENT_SETTINGS:
            continue
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            problems.append(doc.problem(f"invalid variable name {name!r}", f"/{escape_pointer(name)}", "use letters, digits and _", key=True))
            continue
        values[name] = value
    for name in secrets:
        if name not in values:
            problems.append(doc.problem(f"secret {name!r} is not a variable of this file", "/secrets"))
    problems.extend(rewritten_scalars(doc, r"^/(?!secrets(?:/|$))"))
    if problems:
        raise InputError(problems)
    locations = {name: doc.location(f"/{escape_pointer(name)}") for name in values}
    return EnvironmentSpec(str(path), values, locations, frozenset(secrets), settings)


ENVIRONMENT_SETTINGS = ("pricing", "rate")  # keys of an environment file that are settings of the run, not variables


def _environment_setting_problems(doc: SourceDoc, settings: dict[str, Any]) -> list[Problem]:
    """The environment's ``pricing`` and ``rate``, checked with the collection schema's definitions of them."""
    if not settings:
        return []
    from jsonschema import Draft202012Validator

    defs = json.loads(COLLECTION_SCHEMA.read_text(encoding="utf-8"))["$defs"]
    # only these keys: the variables' own problems are reported above, once
    schema = {"$defs": defs, "properties": {name: {"$ref": f"#/$defs/{name}"} for name in ENVIRONMENT_SETTINGS}}
    return format_problems(doc, Draft202012Validator(schema))


# -- building the model ------------------------------------------------------------------------


class _Builder:
    """Turns schema-valid data into the model; records semantic problems (regexes, JSONPaths...)."""

    def __init__(self, doc: SourceDoc):
        self.doc = doc
        self.problems: list[Problem] = []
        self.base_dir = str(Path(doc.path).parent)

    def loc(self, pointer: str) -> Location:
        return self.doc.location(pointer)

    def problem(self, message: str, pointer: str, hint: str = "") -> None:
        self.problems.append(self.doc.problem(message, pointer, hint))

    def collection(self) -> CollectionSpec:
        data = self.doc.data
        requests = []
        names: dict[str, int] = {}
        for index, raw in enumerate(data["requests"]):
            pointer = f"/requests/{index}"
            name = raw["name"]
            if name in names:
                self.problem(f"duplicate request name {name!r} (also requests[{names[name]}])", f"{pointer}/name", "request names must be unique within a file")
            names[name] = index
            requests.append(self.request(raw, index, pointer))
        return CollectionSpec(
            name=data.get("name") or Path(self.doc.path).stem,
            path=self.doc.path,
            base_dir=self.base_dir,
            requests=tuple(requests),
            description=data.get("description", ""),
            vars=dict(data.get("vars") or {}),
            var_locations={k: self.loc(f"/vars/{escape_pointer(k)}") for k in data.get("vars") or {}},
            secrets=frozenset(data.get("secrets") or ()),
            base_url=data.get("base_url"),
            auth=self.auth(data["auth"], "/auth") if "auth" in data else None,
            headers=self.headers(data.get("headers") or {}, "/headers"),
            params=self.params(data.get("params") or {}, "/params"),
            timeout=data.get("timeout"),
            follow_redirects=data.get("follow_redirects"),
            max_redirects=data.get("max_redirects"),
            max_response_bytes=data.get("max_response_bytes"),
            retries=self.retries(data["retries"]) if "retries" in data else None,
            http2=data.get("http2"),
            tls=self.tls(data),
            pricing=data.get("pricing"),
            usage=self.usage(data.get("usage")),
            rate=data.get("rate"),
            proxy=data.get("proxy"),
            location=self.loc(""),
            source=self.doc,
        )

    def request(self, raw: dict[str, Any], index: int, pointer: str) -> RequestSpec:
        body = None
        for key in BODY_KEYS:
            if key in raw:
                kind = "raw" if key == "body" else key
                body = BodySpec(kind, raw[key], self.loc(f"{pointer}/{key}"))
                if key == "multipart":
                    self.check_multipart(raw[key], f"{pointer}/multipart")
                if key == "body" and isinstance(raw[key], dict):
                    body = BodySpec("bytes", raw[key], self.loc(f"{pointer}/body"))
                    self.check_bytes_body(raw[key], f"{pointer}/body")
        expect = self.expect(raw.get("expect") or {}, f"{pointer}/expect")
        return RequestSpec(
            name=raw["name"],
            index=index,
            method=_unless_template(raw.get("method", "GET"), lambda method: str(method).upper()),
            url=raw["url"],
            location=self.loc(pointer),
            params=self.params(raw.get("params") or {}, f"{pointer}/params"),
            headers=self.headers(raw.get("headers") or {}, f"{pointer}/headers"),
            auth=self.auth(raw["auth"], f"{pointer}/auth") if "auth" in raw else None,
            body=body,
            timeout=raw.get("timeout"),
            follow_redirects=raw.get("follow_redirects"),
            max_redirects=raw.get("max_redirects"),
            max_response_bytes=raw.get("max_response_bytes"),
            retries=self.retries(raw["retries"]) if "retries" in raw else None,
            delay=raw.get("delay"),
            http2=raw.get("http2"),
            stream=raw.get("stream", "auto"),
            skip=raw.get("skip"),
            tags=tuple(raw.get("tags") or ()),
            expect=expect,
            captures=self.captures(raw.get("capture") or {}, f"{pointer}/capture", expect.events),
            example=self.example(raw["example"], f"{pointer}/example") if "example" in raw else None,
            description=raw.get("description", ""),
        )

    def headers(self, data: dict[str, Any], pointer: str) -> dict[str, Any]:
        return {str(name): value for name, value in data.items()}

    def params(self, data: dict[str, Any], pointer: str) -> dict[str, Any]:
        return dict(data)

    def usage(self, data: Any) -> dict[str, Any] | None:
        for key, paths in (data or {}).items():
            for index, path in enumerate([paths] if isinstance(paths, str) else paths):
                self.jsonpath(path, f"/usage/{key}" + ("" if isinstance(paths, str) else f"/{index}"))
        return data

    def auth(self, data: Any, pointer: str) -> AuthSpec:
        loc = self.loc(pointer)
        if data is None or data == "none":
            return AuthSpec("none", location=loc)
        if "oauth2" in data:
            return AuthSpec("oauth2", value=dict(data["oauth2"]), location=loc)
        if "bearer" in data:
            return AuthSpec("bearer", token=data["bearer"], location=loc)
        if "digest" in data:
            return AuthSpec("digest", username=data["digest"]["username"], password=data["digest"]["password"], location=loc)
        if "basic" in data:
            return AuthSpec("basic", username=data["basic"]["username"], password=data["basic"]["password"], location=loc)
        key = data["api_key"]
        where = "header" if "header" in key else "query"
        return AuthSpec("api_key", key_name=str(key[where]), key_in=where, value=key["value"], location=loc)

    def retries(self, data: Any) -> RetrySpec:
        if not isinstance(data, dict):
            return RetrySpec(count=data)  # a number, or a template the engine renders
        defaults = RetrySpec()
        until = data.get("until")
        return RetrySpec(
            count=data["count"],
            backoff=data.get("backoff", defaults.backoff),
            max_delay=data.get("max_delay", defaults.max_delay),
            on=tuple(data.get("on", defaults.on)),
            methods=tuple(m.upper() for m in data.get("methods", defaults.methods)),
            until=tuple(until) if isinstance(until, list) else until,
            interval=data.get("interval"),
        )

    def tls(self, data: dict[str, Any]) -> TlsSpec:
        verify = data.get("verify", True)
        if isinstance(verify, str):
            verify = str(Path(self.base_dir) / verify)
        cert = data.get("client_cert")
        if isinstance(cert, str):
            cert = str(Path(self.base_dir) / cert)
        elif isinstance(cert, dict):
            cert = (str(Path(self.base_dir) / cert["cert"]), str(Path(self.base_dir) / cert["key"]))
        return TlsSpec(verify=verify, client_cert=cert)

    def check_multipart(self, data: dict[str, Any], pointer: str) -> None:
        for name, value in data.items():
            if isinstance(value, dict) and "file" in value and "{{" not in str(value["file"]):
                path = Path(self.base_dir) / str(value["file"])
                if not path.is_file():
                    self.problem(f"multipart field {name!r}: file not found: {path}", f"{pointer}/{escape_pointer(name)}/file", "file paths are relative to the collection file")

    def check_bytes_body(self, data: dict[str, Any], pointer: str) -> None:
        from .predicates import bytes_literal

        if "file" in data and "{{" not in str(data["file"]):
            path = Path(self.base_dir) / str(data["file"])
            if not path.is_file():
                self.problem(f"body file not found: {path}", f"{pointer}/file", "file paths are relative to the collection file")
        elif "file" not in data and "{{" not in str(next(iter(data.values()))) and not isinstance(bytes_literal(data), bytes):
            kind = next(iter(data))
            self.problem(f"the body is not valid {kind}", f"{pointer}/{kind}", "hex: pairs of hex digits (spaces allowed); base64: the standard alphabet")

    def schema_ref(self, value: Any, pointer: str) -> SchemaRef:
        loc = self.loc(pointer)
        if isinstance(value, dict):
            return SchemaRef(None, "", value, self.base_dir, loc)
        path, _, fragment = str(value).partition("#")
        return SchemaRef(path, fragment, None, self.base_dir, loc)

    def predicate(self, value: Any, pointer: str) -> Any:
        from .assertions import is_predicate_list

        if is_predicate_list(value):
            for index, item in enumerate(value):
                self.predicate(item, f"{pointer}/{index}")
            return value
        if isinstance(value, dict) and value and any(key in OPERATORS for key in value):
            if "not" in value:
                self.predicate(value["not"], f"{pointer}/not")
            if "filters" in value:
                check_filters(self, value["filters"], f"{pointer}/filters")
        if isinstance(value, dict) and value:
            ops = [key for key in value if key in OPERATORS]
            if ops and len(ops) != len(value):
                others = [key for key in value if key not in OPERATORS]
                close = difflib.get_close_matches(str(others[0]), sorted(OPERATORS), n=1)
                self.problem(
                    f"a predicate mixes operators ({', '.join(ops)}) with other keys ({', '.join(map(str, others))})",
                    pointer,
                    f"did you mean {close[0]!r}?" if close else "write {eq: {...}} to compare with a mapping",
                )
            if "matches" in value and isinstance(value["matches"], str) and "{{" not in value["matches"]:
                try:
                    re.compile(value["matches"])
                except re.error as exc:
                    self.problem(f"invalid regular expression: {exc}", f"{pointer}/matches")
            if isinstance(value.get("length"), dict):
                self.predicate(value["length"], f"{pointer}/length")
        return value

    def jsonpath(self, path: str, pointer: str) -> None:
        from jsonpath_rfc9535 import JSONPathError, compile as compile_path

        if "{{" in path or "{%" in path:
            self.problem(f"a JSONPath is not a template: {path!r}", pointer, "templates work in values; write the path literally")
            return
        try:
            compile_path(path)
        except JSONPathError as exc:
            hint = "paths follow RFC 9535, e.g. $.choices[0].message.content"
            if re.search(r"\.[A-Za-z0-9_]*-", path):
                fixed = re.sub(r"\.([A-Za-z0-9_]*-[A-Za-z0-9_-]*)", lambda m: f"['{m.group(1)}']", path)
                hint = f"a name with '-' needs brackets in RFC 9535: {fixed}"
            self.problem(f"invalid JSONPath {path!r}: {exc}", pointer, hint)

    def expect(self, data: dict[str, Any], pointer: str) -> ExpectSpec:
        out: list[Assertion] = []
        if "status" in data:
            out.append(Assertion("status", "", data["status"], self.loc(f"{pointer}/status")))
        else:  # a request that says nothing about its status must not pass on a 404 or a 500
            out.append(Assertion("status", DEFAULT_STATUS_TARGET, list(DEFAULT_STATUS), self.loc(pointer)))
        for name, pred in (data.get("headers") or {}).items():
            child = f"{pointer}/headers/{escape_pointer(name)}"
            out.append(Assertion("header", str(name), self.predicate(pred, child), self.loc(child)))
        for path, pred in (data.get("json") or {}).items():
            child = f"{pointer}/json/{escape_pointer(path)}"
            self.jsonpath(path, child)
            out.append(Assertion("json", path, self.predicate(pred, child), self.loc(child)))
        if "body" in data:
            out.append(Assertion("body", "", self.predicate(data["body"], f"{pointer}/body"), self.loc(f"{pointer}/body")))
        if "max_ms" in data:
            out.append(Assertion("max_ms", "", data["max_ms"], self.loc(f"{pointer}/max_ms")))
        out.extend(extra_assertions(self, data, pointer))
        schema = self.schema_ref(data["schema"], f"{pointer}/schema") if "schema" in data else None
        events = self.events(data["events"], f"{pointer}/events") if "events" in data else None
        return ExpectSpec(tuple(out), schema, events, var_assertions(self, data, pointer))

    def events(self, data: dict[str, Any], pointer: str) -> EventsSpec:
        checks = []
        for path, pred in (data.get("json") or {}).items():
            child = f"{pointer}/json/{escape_pointer(path)}"
            self.jsonpath(path, child)
            checks.append(Assertion("event_json", path, self.predicate(pred, child), self.loc(child)))
        text_path = data.get("text_path", EventsSpec.text_path)
        self.jsonpath(text_path, f"{pointer}/text_path")
        return EventsSpec(
            schema=self.schema_ref(data["schema"], f"{pointer}/schema") if "schema" in data else None,
            done=data.get("done"),
            count=self.predicate(data["count"], f"{pointer}/count") if "count" in data else None,
            json=tuple(checks),
            text=self.predicate(data["text"], f"{pointer}/text") if "text" in data else None,
            text_path=text_path,
            first_ms=data.get("first_ms"),
            location=self.loc(pointer),
        )

    def captures(self, data: dict[str, Any], pointer: str, events: EventsSpec | None = None) -> tuple[CaptureSpec, ...]:
        out = []
        for name, spec in data.items():
            child = f"{pointer}/{escape_pointer(name)}"
            loc = self.loc(child)
            if isinstance(spec, str):
                self.jsonpath(spec, child)
                out.append(CaptureSpec(name, "json", spec, False, loc))
                continue
            secret = bool(spec.get("secret", False))
            source = next(key for key in CAPTURE_SOURCES if key in spec)
            expr = spec[source]
            filters = tuple(spec.get("filters") or ())
            check_filters(self, filters, f"{child}/filters")
            if source == "xpath":
                from .loader_checks import check_xpath

                check_xpath(self, str(expr), f"{child}/xpath")
            if source in ("json", "event"):
                self.jsonpath(str(expr), f"{child}/{source}")
            elif source in ("regex", "header") and ("{{" in str(expr) or "{%" in str(expr)):
                self.problem(f"a capture {source} is not a template: {expr!r}", f"{child}/{source}", "templates work in values; write it literally")
            elif source == "regex":
                try:
                    re.compile(str(expr))  # no group: the whole match is captured
                except re.error as exc:
                    self.problem(f"invalid regular expression: {exc}", f"{child}/regex")
            elif source == "text":  # the assembled text follows the request's expect.events.text_path
                expr = (events or EventsSpec()).text_path
            out.append(CaptureSpec(name, source, "" if isinstance(expr, bool) else str(expr), secret, loc, filters, spec.get("attribute", "")))
        return tuple(out)

    def example(self, data: dict[str, Any], pointer: str) -> ExampleSpec:
        return ExampleSpec(
            status=int(data.get("status", 200)),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            json=data.get("json"),
            has_json="json" in data,
            body=data.get("body"),
            events=tuple(data["events"]) if "events" in data else None,
            # a template stays raw (rendered by the mock and validate); a plain value is converted here
            done=_unless_template(data.get("done", True), bool),
            event_delay_ms=_unless_template(data.get("event_delay_ms", 0), float),
            location=self.loc(pointer),
            template=bool(data.get("template", False)),
            request_schema=self.schema_ref(data["request_schema"], f"{pointer}/request_schema") if "request_schema" in data else None,
            dynamic=bool(data.get("dynamic", False)),
        )


def _unless_template(value: Any, convert: Any) -> Any:
    """``value`` converted, or as written when it is a template (rendered later, with the run's variables)."""
    from .templating import is_template

    return value if isinstance(value, str) and is_template(value) else convert(value)
