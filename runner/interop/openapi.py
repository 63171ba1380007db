"""``runner import openapi``: an OpenAPI 3.0/3.1 document -> one collection per tag.

A request per operation: path parameters become variables, the body comes from the
spec's example (or a minimal instance of its schema), the security scheme becomes
``auth`` with its secret read from an environment variable, ``expect.status`` is the
first 2xx response and ``expect.schema`` a JSON Pointer into the spec document itself.
Response examples become ``example:`` (so ``runner run --mock`` serves them); an example
the spec's own schema rejects is replaced by a generated one, and if none fits, the
schema check is left out and the reason written above the request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .sample import sample
from .secrets import SecretBook, env_prefix
from .writer import Imported, check_writable, format_collection, literal, unique_name, write_text

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UPLOAD_FILE = "files/upload.txt"


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document as data; ``InputError`` for anything that is not OpenAPI 3.x."""
    from .writer import read_input

    text = read_input(str(path), "OpenAPI")
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            from ..source import load_foreign_yaml

            data = load_foreign_yaml(text)
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    except Exception as exc:  # yaml.YAMLError: its message names line and column
        raise InputError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not an OpenAPI document: expected a mapping with 'openapi' and 'paths'")
    if "swagger" in data:
        raise InputError(
            f"{path} is a Swagger {data.get('swagger')} document; runner imports OpenAPI 3.0 and 3.1 only. "
            "Convert it first (for example with swagger2openapi, or the Swagger Editor's 'Convert to OpenAPI 3'), then import the result."
        )
    version = str(data.get("openapi", ""))
    if not re.match(r"^3\.[01]\.", version):
        found = f"'openapi: {version}'" if version else "no 'openapi' key"
        raise InputError(f"{path} is not an OpenAPI 3.0 or 3.1 document ({found})")
    if not isinstance(data.get("paths", {}), dict):
        raise InputError(f"{path}: 'paths' must be a mapping of paths to operations")
    return data


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _snake(name: str) -> str:
    """``ApiKey`` -> ``api_key``; ``model-id`` -> ``model_id``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "value"
    return text if not text[0].isdigit() else f"v_{text}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower() or "default"


@dataclass
class _Spec:
    """The document and how to follow its local ``$ref``s."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def resolve(self, ref: str) -> Any:
        """The node a local ``#/...`` reference points at (``{}`` and a warning when it points nowhere)."""
        return self.lookup(ref)[0]

    def lookup(self, ref: str) -> tuple[Any, str]:
        """The node and its JSON Pointer."""
        if not ref.startswith("#"):
            self.warn(f"$ref {ref!r}: only references inside the document are followed")
            return {}, ""
        node: Any = self.data
        for part in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                self.warn(f"$ref {ref!r} points nowhere in the document")
                return {}, ""
        return node, ref[1:]

    def follow(self, node: Any, pointer: str) -> tuple[Any, str]:
        """``node`` with ``$ref``s followed (at most 20), and the pointer of what it ends at."""
        for _ in range(20):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            node, pointer = self.lookup(node["$ref"])
        return node, pointer

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def _media(content: Any, prefer_json: bool = True) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(content, dict) or not content:
        return None
    names = list(content)
    if prefer_json:
        names.sort(key=lambda name: 0 if re.match(r"^application/([\w.+-]*\+)?json", name) else 1)
    name = names[0]
    return name, content[name] if isinstance(content[name], dict) else {}


def _media_example(spec: _Spec, media: dict[str, Any]) -> tuple[bool, Any]:
    if "example" in media:
        return True, media["example"]
    examples = media.get("examples")
    if isinstance(examples, dict) and examples:
        first = spec.follow(next(iter(examples.values())), "")[0]
        if isinstance(first, dict) and "value" in first:
            return True, first["value"]
    return False, None


@dataclass
class _Target:
    """One collection file being built: its requests, variables and notes."""

    name: str
    description: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    book: SecretBook = field(default_factory=SecretBook)
    auth: Any = None


class _Importer:
    def __init__(self, spec: _Spec, spec_ref: str, out_dir: Path, prefix: str):
        self.spec = spec
        self.spec_ref = spec_ref  # the spec's path as the collections name it
        self.out_dir = out_dir
        self.prefix = prefix
        self.targets: dict[str, _Target] = {}
        self.needs_upload_file = False
        from ..schemas import SchemaStore

        self.store = SchemaStore(allow_outside_root=True)
        self.replaced = self.dropped = self.unserved = 0

    def target(self, tag: str) -> _Target:
        if tag not in self.targets:
            tags = self.spec.data.get("tags") if isinstance(self.spec.data.get("tags"), list) else []
            info = next((t for t in tags if isinstance(t, dict) and t.get("name") == tag), {})
            self.targets[tag] = _Target(info.get("x-displayName") or tag, str(info.get("description") or ""), book=SecretBook(self.prefix))
            self.targets[tag].auth = self.auth(self.spec.data.get("security"), self.targets[tag])
        return self.targets[tag]

    def run(self) -> None:
        for path, item in (self.spec.data.get("paths") or {}).items():
            item, _ = self.spec.follow(item, "")
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters", [])
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                try:
                    self.operation(str(path), method, operation, shared if isinstance(shared, list) else [])
                except (TypeError, AttributeError, ValueError, KeyError) as exc:  # a malformed part of a foreign document
                    self.spec.warn(f"{method.upper()} {path}: not converted, the operation is malformed ({type(exc).__name__}: {exc})")

    def operation(self, path: str, method: str, op: dict[str, Any], shared: Any) -> None:
        tags = [str(t) for t in op.get("tags") or [] if t] or ["default"]
        target = self.target(tags[0])
        notes: list[str] = []
        title = " ".join(str(op.get("summary") or "").split())[:120]
        name = unique_name(title or str(op.get("operationId") or f"{method.upper()} {path}"), target.names)
        request: dict[str, Any] = {"name": name}
        about = str(op.get("description") or "").strip()
        if about and about != title:
            request["description"] = about
        request["method"] = method.upper()
        params: dict[str, Any] = {}
        headers: dict[str, Any] = {}
        parameters = {(p.get("in"), p.get("name")): p for p in (self.spec.follow(p, "")[0] for p in [*(shared or []), *(op.get("parameters") or [])]) if isinstance(p, dict)}
        url = path.split("#")[0]  # "/v1/conversations#stream": a second operation on one path (Speakeasy); never sent
        for (where, pname), parameter in parameters.items():
            if not isinstance(pname, str):
                continue
            has_value, value = self.parameter_value(parameter)
            value = literal(value)
            if where == "path":
                variable = _snake(pname)
                target.vars.setdefault(variable, value if value is not None else "1")
                url = url.replace("{" + pname + "}", "{{ " + variable + " }}")
            elif where == "query" and (parameter.get("required") or has_value) and value is not None:
                if isinstance(value, dict):
                    notes.append(f"query parameter {pname!r} is an object ({parameter.get('style', 'form')} style): not converted")
                    continue
                params[pname] = target.book.param(pname, value) if isinstance(value, str) else value
            elif where == "header" and parameter.get("required") and pname.lower() not in ("authorization", "content-type", "accept"):
                headers[pname] = target.book.header(pname, str(value if value is not None else "value"))
        request["url"] = url
        if params:
            request["params"] = params
        if headers:
            request["headers"] = headers
        if tags[1:] or op.get("deprecated"):
            request["tags"] = list(dict.fromkeys(_slug(t) for t in [*tags[1:], *(["deprecated"] if op.get("deprecated") else [])]))
        if "security" in op:
            auth = self.auth(op["security"], target)
            if auth != target.auth:
                request["auth"] = auth or "none"
        self.body(op, request, target, f"/paths/{_escape(path)}/{method}/requestBody", notes)
        self.responses(path, method, op, request, notes)
        if notes:
            target.notes[len(target.requests)] = notes
        target.requests.append(request)

    def parameter_value(self, parameter: dict[str, Any]) -> tuple[bool, Any]:
        has, value = _media_example(self.spec, parameter)
        if has:
            return True, value
        schema = parameter.get("schema", {})
        resolved = self.spec.follow(schema, "")[0] if isinstance(schema, dict) else {}
        if isinstance(resolved, dict) and any(k in resolved for k in ("example", "default", "examples", "enum")):
            return True, sample(resolved, self.spec.resolve)
        return False, sample(schema, self.spec.resolve)

    def auth(self, security: Any, target: _Target) -> Any:
        if not isinstance(security, list):
            return None
        if not security or security[0] == {}:
            return None  # no security, or optional security: send nothing
        requirement = security[0] if isinstance(security[0], dict) else {}
        components = self.spec.data.get("components") if isinstance(self.spec.data.get("components"), dict) else {}
        schemes = components.get("securitySchemes") if isinstance(components.get("securitySchemes"), dict) else {}
        for scheme_name in requirement:
            scheme = self.spec.follow(schemes.get(scheme_name, {}), "")[0]
            if not isinstance(scheme, dict):
                continue
            book, kind = target.book, str(scheme.get("type", "")).lower()
            marker = f"\0scheme {scheme_name}"
            hint = _snake(scheme_name)
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer" or kind in ("oauth2", "openidconnect"):
                return {"bearer": "{{ " + book.variable(hint if kind == "http" else "access_token", marker) + " }}"}
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                return {"basic": {"username": "{{ " + book.variable(f"{hint}_username", marker + " user") + " }}", "password": "{{ " + book.variable(f"{hint}_password", marker) + " }}"}}
            if kind == "apikey" and scheme.get("in") in ("header", "query") and scheme.get("name"):
                return {"api_key": {str(scheme["in"]): str(scheme["name"]), "value": "{{ " + book.variable(hint, marker) + " }}"}}
            self.spec.warn(f"security scheme {scheme_name!r} ({kind} {scheme.get('scheme') or scheme.get('in') or ''}) has no runner equivalent: requests using it are sent without it")
        return None

    def body(self, op: dict[str, Any], request: dict[str, Any], target: _Target, pointer: str, notes: list[str]) -> None:
        body, pointer = self.spec.follow(op.get("requestBody"), pointer)
        chosen = _media(body.get("content") if isinstance(body, dict) else None)
        if chosen is None:
            return
        media_type, media = chosen
        has, value = _media_example(self.spec, media)
        schema = media.get("schema", {})
        generated = sample(schema, self.spec.resolve)
        if not has:
            value = generated
        elif isinstance(schema, dict) and schema and re.match(r"^application/([\w.+-]*\+)?json", media_type):
            fragment = f"{pointer}/content/{_escape(media_type)}/schema"
            if self.check(fragment, value):
                fitting = next((c for c in (generated, sample(schema, self.spec.resolve, examples=False)) if not self.check(fragment, c)), None)
                if fitting is not None:
                    notes.append("the spec's example request body does not match its schema; a generated minimal one is sent")
                    value = fitting
        value = literal(value)  # the spec's text, never a template
        if re.match(r"^application/([\w.+-]*\+)?json", media_type):
            request["json"] = target.book.text(value) if isinstance(value, str) else _scrub(value, target.book)
            if media_type != "application/json":
                request.setdefault("headers", {})["Content-Type"] = media_type
        elif media_type == "application/x-www-form-urlencoded" and isinstance(value, dict):
            request["form"] = {k: v if isinstance(v, (str, int, float, bool, list)) else json.dumps(v) for k, v in value.items()}
        elif media_type.startswith("multipart/") and isinstance(value, (dict, type(None))):
            request["multipart"] = self.multipart(schema, value or {})
        else:
            request["body"] = value if isinstance(value, str) else "" if value is None else json.dumps(value)
            request.setdefault("headers", {})["Content-Type"] = media_type

    def multipart(self, schema: Any, value: dict[str, Any]) -> dict[str, Any]:
        resolved = self.spec.follow(schema, "")[0]
        properties = resolved.get("properties", {}) if isinstance(resolved, dict) else {}
        fields: dict[str, Any] = {}
        for name, item in value.items():
            prop = self.spec.follow(properties.get(name, {}), "")[0]
            if isinstance(prop, dict) and prop.get("format") in ("binary", "byte") or (isinstance(prop, dict) and "contentMediaType" in prop):
                self.needs_upload_file = True
                fields[name] = {"file": UPLOAD_FILE}
            elif isinstance(item, (str, int, float, bool)):
                fields[name] = item
            else:
                fields[name] = json.dumps(item)
        return fields or {"file": {"file": UPLOAD_FILE}}

    def responses(self, path: str, method: str, op: dict[str, Any], request: dict[str, Any], notes: list[str]) -> None:
        responses = op.get("responses") if isinstance(op.get("responses"), dict) else {}
        code = next((c for c in responses if re.fullmatch(r"2\d\d", str(c))), None)
        if code is None:
            code = next((c for c in responses if str(c).upper() == "2XX"), None)
            if code is not None:
                request["expect"] = {"status": "2xx"}
            return
        status = int(code)
        request["expect"] = {"status": status}
        response, pointer = self.spec.follow(responses[code], f"/paths/{_escape(path)}/{method}/responses/{code}")
        chosen = _media(response.get("content") if isinstance(response, dict) else None)
        example: dict[str, Any] = {"status": status}
        if chosen is None:
            request["example"] = example
            return
        media_type, media = chosen
        has, value = _media_example(self.spec, media)
        schema = media.get("schema")
        if not re.match(r"^application/([\w.+-]*\+)?json", media_type):
            example["headers"] = {"content-type": media_type}
            example["body"] = value if isinstance(value, str) else ""
            request["example"] = example
            return
        if schema is None:
            example["json"] = value if has else {}
            request["example"] = example
            return
        fragment = f"{pointer}/content/{_escape(media_type)}/schema"
        generated = sample(schema, self.spec.resolve)
        candidates = ([value] if has else []) + [generated, sample(schema, self.spec.resolve, examples=False)]
        problem = ""
        for index, candidate in enumerate(candidates):
            problem = self.check(fragment, candidate)
            if not problem:
                if index and has:
                    notes.append("the spec's example for this response does not match its schema; a generated minimal one is used")
                    self.replaced += 1
                example["json"] = candidate
                request["expect"]["schema"] = f"{self.spec_ref}#{fragment}"
                break
        else:
            if not has and problem.startswith("the example does not match"):
                # the schema is sound but no instance of ours fits it (a pattern, say): keep the check, write no example
                self.unserved += 1
                request["expect"]["schema"] = f"{self.spec_ref}#{fragment}"
                notes.append(f"no example: the spec gives none and a generated one does not fit its schema ({problem.split(': ', 1)[1]}); write one for --mock")
                return
            self.dropped += 1
            notes.append(f"expect.schema left out: {problem}")
            example["json"] = candidates[0]
        request["example"] = example

    def check(self, fragment: str, instance: Any) -> str:
        """Why ``instance`` fails the schema at ``fragment`` ("" when it passes), as ``runner validate`` would say."""
        from ..model import SchemaRef

        ref = SchemaRef(self.spec_ref, fragment, None, str(self.out_dir))
        try:
            violations = self.store.validate(ref, instance)
        except InputError as exc:
            return exc.problems[0].message
        if violations:
            first = violations[0]
            return f"the example does not match the schema: {first.message} at {first.pointer or 'the root'}"
        return ""


def _scrub(value: Any, book: SecretBook) -> Any:
    """Token-shaped strings in an example body become secret variables (field names are documentation here)."""
    if isinstance(value, dict):
        return {k: _scrub(v, book) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, book) for item in value]
    return book.text(value) if isinstance(value, str) else value


def _base_url(data: dict[str, Any]) -> str:
    servers = data.get("servers") if isinstance(data.get("servers"), list) and data.get("servers") else [{}]
    server = servers[0] if isinstance(servers[0], dict) else {}
    url = str(server.get("url") or "http://localhost")
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, dict):
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return url.rstrip("/") or "http://localhost"


def import_openapi(spec_path: Path, out_dir: Path, force: bool) -> list[str]:
    """Write one collection per tag of the spec into ``out_dir``; return the notes for the user."""
    check_writable(out_dir, force, folder=True)
    data = load_spec(spec_path)
    from ..schemas import find_project_root

    out_dir.mkdir(parents=True, exist_ok=True)
    root = find_project_root(out_dir)
    if spec_path.resolve().is_relative_to(root):
        spec_ref = Path(os.path.relpath(spec_path.resolve(), out_dir.resolve())).as_posix()
    else:  # the collections point into the spec: keep a copy next to them, inside the project
        spec_ref = f"spec/{spec_path.name}"  # in a sub-folder: `runner run OUTDIR` must not read it as a collection
        if (out_dir / spec_ref).resolve() != spec_path.resolve():
            (out_dir / "spec").mkdir(exist_ok=True)
            shutil.copyfile(spec_path, out_dir / spec_ref)
    base_url = _base_url(data)
    host = re.sub(r"^\w+://", "", base_url).split("/")[0].split(":")[0]
    importer = _Importer(_Spec(data), spec_ref, out_dir, env_prefix(host))
    importer.store.add_document(out_dir / spec_ref, data)  # parsed once
    importer.run()
    if not importer.targets:
        raise InputError(f"{spec_path}: the document has no operations under 'paths'")
    written, count = [], 0
    taken: set[str] = set()
    for tag, target in importer.targets.items():
        collection: dict[str, Any] = {"name": str(target.name)}
        if target.description:
            collection["description"] = target.description
        collection["vars"] = {"base_url": base_url, **target.vars}
        collection["base_url"] = "{{ base_url }}"
        if target.auth:
            collection["auth"] = target.auth
        collection["requests"] = target.requests
        header = [f"Imported from {spec_path.name} (OpenAPI {data.get('openapi')}) by `runner import openapi`: tag {tag!r}."]
        if target.book.vars:
            header.append("Secrets are read from the environment; before running:")
            header.extend(f"  {note}" for note in target.book.notes())
        imported = Imported(target.book.apply(collection), header, target.notes)
        file_name = re.sub(r"[ ()]+", "-", unique_name(_slug(tag), taken)).strip("-") + ".yaml"
        path = out_dir / file_name
        check_writable(path, force)
        write_text(path, format_collection(imported))
        written.append(path)
        count += len(target.requests)
    if importer.needs_upload_file and not (out_dir / UPLOAD_FILE).exists():
        write_text(out_dir / UPLOAD_FILE, "Replace this file with what the API expects to receive.\n")
    notes = [f"warning: {w}" for w in importer.spec.warnings[:20]]
    if len(importer.spec.warnings) > 20:
        notes.append(f"warning: ... and {len(importer.spec.warnings) - 20} more")
    envs = sorted({n for t in importer.targets.values() for n in t.book.env_names.values()})
    summary = f"wrote {len(written)} collection(s) with {count} request(s) to {out_dir}"
    if importer.replaced or importer.dropped or importer.unserved:
        summary += (
            f"; {importer.replaced} spec example(s) did not match their schema and were replaced by generated ones, {importer.dropped} schema check(s) left out,"
            f" {importer.unserved} response(s) without an example (see the comments above those requests)"
        )
    notes.append(summary)
    notes.extend(f"export {name}=...   # a secret the collections read" for name in envs)
    return notes
