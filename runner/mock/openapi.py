"""Routes from an OpenAPI 3.0/3.1 document: ``runner mock openapi.yaml`` serves its operations.

For each operation: one route per response example the spec gives (its name is
what ``Prefer: example=NAME`` picks), and a dynamic route, generated from the
response schema, where the spec has no example or its example does not fit its
own schema (said once at start-up). The request body schema validates requests
(422), and the security scheme (bearer, basic, API key) is demanded.

An operation whose schemas hold a ``$ref`` that does not resolve is left out,
named in one warning; the rest is served (Prism refuses such a document whole).
References are checked by walking the document, memoised by pointer, so a spec
of hundreds of paths loads in well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError, Location, Problem
from ..model import AuthSpec, ExampleSpec, RequestSpec, SchemaRef
from .routes import Route

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SNIFF = re.compile(rb"""(?:^|[{,])\s*["']?openapi["']?\s*:\s*["']?3\.""", re.MULTILINE)


def is_openapi_document(path: str) -> bool:
    """Whether ``path`` is a file holding an OpenAPI 3.x document (its ``openapi:`` key, read from the start)."""
    file = Path(path)
    if not file.is_file() or file.suffix.lower() not in (".yaml", ".yml", ".json"):
        return False
    try:
        with file.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return _SNIFF.search(head) is not None


def _load(path: Path) -> Any:
    import yaml

    from ..source import load_foreign_yaml

    try:
        with path.open("rb") as handle:
            return load_foreign_yaml(handle)  # the C parser: a 1 MB spec in 0.4 s instead of 4 s
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(Problem(f"cannot read the OpenAPI document {path}: {exc}", Location(str(path)))) from None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Refs:
    """Which JSON Pointers of the document resolve, following ``$ref``s transitively (memoised)."""

    def __init__(self, document: Any):
        self.document = document
        self._broken: dict[str, str] = {}  # pointer -> the first dangling $ref under it ("" = fine)

    def lookup(self, pointer: str) -> Any:
        node = self.document
        for token in pointer.lstrip("#").split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise KeyError(pointer)
        return node

    def dangling(self, node: Any, seen: frozenset[str] = frozenset()) -> str:
        """The first ``$ref`` under ``node`` that does not resolve, or ``""``."""
        for ref in _refs_in(node):
            if not ref.startswith("#"):
                continue  # another file: the schema store reports it, if used
            if ref in seen:
                continue
            if ref not in self._broken:
                self._broken[ref] = ""  # cycles: assume fine while walking
                try:
                    target = self.lookup(ref)
                except KeyError:
                    self._broken[ref] = ref
                else:
                    self._broken[ref] = self.dangling(target, seen | {ref})
            if self._broken[ref]:
                return self._broken[ref]
        return ""


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _pattern(path: str) -> tuple[re.Pattern[str], int]:
    regex, literal = "", 0
    # a fragment never reaches a server: specs (Mistral's) use one to tell apart two paths that share a template
    path = path.split("#", 1)[0]
    for piece in re.split(r"(\{[^}/]+\})", path):
        if piece.startswith("{") and piece.endswith("}"):
            name = re.sub(r"\W", "_", piece[1:-1])
            regex += f"(?P<{name}>[^/]+)" if name.isidentifier() and f"<{name}>" not in regex else "[^/]+"
        else:
            regex += re.escape(piece)
            literal += len(piece)
    return re.compile(f"^{regex.rstrip('/')}/?$"), literal


def _auth(document: dict[str, Any], operation: dict[str, Any]) -> AuthSpec | None:
    """The first security scheme the operation demands, as the mock's auth (any credential of its kind)."""
    requirements = operation.get("security", document.get("security")) or []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for requirement in requirements:
        if not requirement:
            return None  # {} among the alternatives: no credential needed
        for name in requirement:
            scheme = schemes.get(name) or {}
            kind, where = scheme.get("type"), scheme.get("in")
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                return AuthSpec("bearer")
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                return AuthSpec("basic")
            if kind == "apiKey" and where in ("header", "query"):
                return AuthSpec("api_key", key_name=str(scheme.get("name", "")), key_in=where)
            if kind in ("oauth2", "openIdConnect"):
                return AuthSpec("bearer")
    return None


def openapi_routes(path: str, order: int = 0, schemas: Any = None) -> tuple[list[Route], list[str]]:
    """The routes of every operation of the OpenAPI document at ``path``, and the start-up warnings.

    ``schemas`` (a ``SchemaStore``) is given the parsed document, so validating and generating never parse it again.
    """
    file = Path(path).resolve()
    document = _load(file)
    if schemas is not None:
        schemas.add_document(file, document)
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise InputError(Problem(f"{path} is not an OpenAPI document: it has no paths", Location(path)))
    refs = _Refs(document)
    routes: list[Route] = []
    warnings: list[str] = []
    unfit: list[str] = []
    registry = _registry(document, file)
    for url, item in document["paths"].items():
        if not isinstance(item, dict):
            continue
        pattern, literal = _pattern(str(url))
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            label = f"{method.upper()} {url}"
            pointer = f"#/paths/{_escape(str(url))}/{method}"
            broken = refs.dangling(operation) or refs.dangling(item.get("parameters"))
            if broken:
                warnings.append(f"{path}: {label} is not served: its $ref {broken} does not resolve")
                continue
            built, notes = _operation_routes(file, document, operation, pointer, pattern, literal, method.upper(), str(url), order + len(routes), registry)
            routes += built
            unfit += [f"{label} {note}" for note in notes]
    if unfit:
        shown = ", ".join(unfit[:8]) + (f" and {len(unfit) - 8} more" if len(unfit) > 8 else "")
        warnings.append(f"{path}: the spec's own example does not fit its schema for {len(unfit)} responses ({shown}): they are answered with a body generated from the schema")
    return routes, warnings


def _operation_routes(file: Path, document: dict[str, Any], operation: dict[str, Any], pointer: str, pattern: re.Pattern[str], literal: int, method: str, url: str, order: int, registry: Any) -> tuple[list[Route], list[str]]:
    from jsonschema import Draft202012Validator

    name = str(operation.get("operationId") or f"{method} {url}")
    location = Location(str(file), 0, 0, pointer)
    auth = _auth(document, operation)
    request_schema = None
    body = (operation.get("requestBody") or {}).get("content") or {}
    json_type = next((t for t in body if "json" in t), None)
    if json_type and isinstance(body[json_type], dict) and "schema" in body[json_type]:
        request_schema = SchemaRef(file.name, f"{pointer[1:]}/requestBody/content/{_escape(json_type)}/schema", None, str(file.parent), location)
    routes: list[Route] = []
    notes: list[str] = []
    responses = operation.get("responses") or {}
    for status_text, response in responses.items():
        if not str(status_text).isdigit() or not isinstance(response, dict):
            continue
        status = int(status_text)
        if not response.get("content") and 200 <= status < 300:  # "204 No Content", or a 2xx that declares no body
            spec = RequestSpec(name=name, index=order + len(routes), method=method, url=url, location=location)
            example = ExampleSpec(status=status, body="", location=location, request_schema=request_schema)
            routes.append(_route(method, pattern, literal, url, spec, example, auth, order + len(routes), request_schema, None, json_type is not None))
            continue
        for media, content in (response.get("content") or {}).items():
            if not isinstance(content, dict):
                continue
            schema_pointer = f"{pointer[1:]}/responses/{status_text}/content/{_escape(media)}/schema"
            schema_ref = SchemaRef(file.name, schema_pointer, None, str(file.parent), location) if "schema" in content else None
            streamed = media.startswith("text/event-stream")
            examples = _examples(content)
            for example_name, value in examples:
                spec = RequestSpec(name=example_name or name, index=order + len(routes), method=method, url=url, location=location)
                if streamed:
                    example = ExampleSpec(status=status, headers={"content-type": media}, events=tuple(value if isinstance(value, list) else [value]), location=location)
                else:
                    example = ExampleSpec(status=status, headers={"content-type": media}, json=value, has_json=True, location=location, request_schema=request_schema)
                if schema_ref is not None and not streamed and not _fits(registry, file, schema_pointer, value, Draft202012Validator):
                    notes.append(str(status))
                    example = ExampleSpec(status=status, headers={"content-type": media}, dynamic=True, location=location, request_schema=request_schema)
                routes.append(_route(method, pattern, literal, url, spec, example, auth, order + len(routes), request_schema, schema_ref, json_type is not None))
            if not examples and schema_ref is not None:
                spec = RequestSpec(name=name, index=order + len(routes), method=method, url=url, location=location)
                if streamed:
                    event = _stream_event(registry, file, schema_pointer, Draft202012Validator)
                    example = ExampleSpec(status=status, headers={"content-type": media}, events=(event,), location=location)
                    routes.append(_route(method, pattern, literal, url, spec, example, auth, order + len(routes), request_schema, None, json_type is not None))
                else:
                    example = ExampleSpec(status=status, headers={"content-type": media}, dynamic=True, location=location, request_schema=request_schema)
                    routes.append(_route(method, pattern, literal, url, spec, example, auth, order + len(routes), request_schema, schema_ref, json_type is not None))
    return routes, notes


def _route(method: str, pattern: re.Pattern[str], literal: int, url: str, spec: RequestSpec, example: ExampleSpec, auth: AuthSpec | None, order: int, request_schema: Any, response_schema: Any, has_json: bool) -> Route:
    from .routes import Wildcard

    return Route(
        method, pattern, literal, f"{method} {url}", "openapi", spec, example, auth, None, {}, Wildcard() if has_json else None, has_json, order,
        tuple(pattern.groupindex), request_schema if example.status < 400 else None, response_schema,
    )


def _examples(content: dict[str, Any]) -> list[tuple[str, Any]]:
    if "example" in content:
        return [("", content["example"])]
    found = []
    for key, item in (content.get("examples") or {}).items():
        if isinstance(item, dict) and "value" in item:
            found.append((str(key), item["value"]))
    return found


def _registry(document: dict[str, Any], file: Path) -> Any:
    """One ``referencing`` registry holding the document, shared by every validator of its operations."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resource(file.as_uri(), Resource.from_contents(document, default_specification=DRAFT202012))


def _validator(registry: Any, file: Path, pointer: str, cls: Any) -> Any:
    return cls({"$ref": f"{file.as_uri()}#{pointer}"}, registry=registry)


def _fits(registry: Any, file: Path, pointer: str, value: Any, cls: Any) -> bool:
    try:
        return bool(_validator(registry, file, pointer, cls).is_valid(value))
    except Exception:  # noqa: BLE001 - a schema the validator cannot use: the example is served as the spec gives it
        return True


def _stream_event(registry: Any, file: Path, pointer: str, cls: Any) -> Any:
    """One event of a generated stream: the ``data`` of the event schema (``CompletionEvent.data``), generated."""
    from .dynamic import generate

    validator = _validator(registry, file, pointer, cls)
    resolved = validator._resolver.lookup(f"{file.as_uri()}#{pointer}")
    schema = resolved.contents
    while isinstance(schema, dict) and "$ref" in schema:
        resolved = resolved.resolver.lookup(schema["$ref"])
        schema = resolved.contents
    data = (schema.get("properties") or {}).get("data") if isinstance(schema, dict) else None
    target = data if data is not None else schema
    value, _ = generate(target, _Bound(validator, resolved.resolver), 0)
    return value


class _Bound:
    """A validator stand-in that resolves ``$ref`` from a given resolver and accepts anything (used for stream events)."""

    def __init__(self, validator: Any, resolver: Any):
        self._resolver = resolver

    def is_valid(self, value: Any) -> bool:
        return True
