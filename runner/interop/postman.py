"""``runner import postman``: a Postman collection (v2.0/v2.1) -> a folder of collections.

Top-level folders become files (nested folders inside them become ``tags``); requests
at the top level go to a file named after the collection.  When a variable captured
in one file is used in another, everything goes to one file instead (captures do not
cross collection files).  Auth is inherited as Postman inherits it; ``{{var}}`` and
``:pathVar`` become templates and variables; test scripts become ``expect``/``capture``
(``postman_scripts``); saved responses become ``example:``.  Environment files
(``-e``) become runner environment files in ``OUTDIR/environments/``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .postman_scripts import convert_script
from .secrets import SecretBook, env_prefix, is_credential_name, mask_literals
from .writer import Imported, check_writable, comment_lines, dump_yaml, format_collection, read_input, unique_name, write_text

_DYNAMIC = {"guid": "uuid4()", "randomUUID": "uuid4()", "timestamp": "timestamp()", "isoTimestamp": "now()", "randomInt": "random_int(0, 1000)"}
_VAR = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_JSON_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)  # a string (kept) or a comment


def load_json(path: Path, what: str) -> Any:
    """A JSON file as data, with a clear error."""
    text = read_input(str(path), what)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}): is it a {what} export?") from None


def _var(name: str) -> str:
    """A Postman variable name as a runner variable name (``base-url`` -> ``base_url``)."""
    text = re.sub(r"[^A-Za-z0-9_]+", "_", name.strip()).strip("_") or "var"
    return text if not text[0].isdigit() else f"v_{text}"


def _description(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content", "")
    return mask_literals(str(value or "").strip())


@dataclass
class _File:
    """One collection file being built."""

    name: str
    description: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    captures: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)


class _Importer:
    def __init__(self, data: dict[str, Any], out_dir: Path, source: Path):
        self.data = data
        self.out_dir = out_dir
        self.source = source
        self.v2_0 = "v2.0" in str(data.get("info", {}).get("schema", ""))
        self.book = SecretBook()
        self.secret_vars: set[str] = set()
        self.warnings: list[str] = []
        self.counts = {"requests": 0, "checks": 0, "kept": 0}
        self.kept_names: list[str] = []
        self.path_vars: dict[str, Any] = {}
        self.placeholders: set[str] = set()

    def template(self, text: Any) -> Any:
        """``{{var}}`` -> ``{{ var }}``; Postman's dynamic variables -> runner helpers."""
        if not isinstance(text, str):
            return text

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("$"):
                helper = _DYNAMIC.get(name[1:])
                if helper:
                    return "{{ " + helper + " }}"
                self.warn(f"Postman dynamic variable {{{{{name}}}}} has no runner equivalent: it became the variable {_var('postman_' + name[1:])!r}, empty by default")
                self.placeholders.add(_var("postman_" + name[1:]))
                return "{{ " + _var("postman_" + name[1:]) + " }}"
            return "{{ " + _var(name) + " }}"

        return _VAR.sub(replace, text)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def secret(self, hint: str, value: Any) -> str:
        """A credential value: a template stays (its variable becomes secret), a literal goes to the environment."""
        text = str(value or "")
        match = _VAR.fullmatch(text.strip())
        if match and not match.group(1).startswith("$"):
            self.secret_vars.add(_var(match.group(1)))
            return "{{ " + _var(match.group(1)) + " }}"
        return self.book.hide(hint, text) if text else "{{ " + self.book.variable(hint, f"\0empty {hint}") + " }}"

    def auth(self, auth: Any) -> Any:
        """Postman auth -> runner auth; ``None`` for inherit."""
        if not isinstance(auth, dict):
            return None
        kind = str(auth.get("type", "")).lower()
        params = auth.get(kind)
        if isinstance(params, list):
            params = {p.get("key"): p.get("value") for p in params if isinstance(p, dict)}
        params = params if isinstance(params, dict) else {}
        if kind == "noauth":
            return "none"
        if kind == "inherit":
            return None
        if kind == "bearer":
            return {"bearer": self.secret("token", params.get("token"))}
        if kind == "basic":
            password = params.get("password")  # an empty password (a key sent as the username) stays empty
            username = self.template(str(params.get("username") or ""))
            if not password:
                return {"basic": {"username": self.secret("api_key", username) if username else "", "password": ""}}
            return {"basic": {"username": self.book.text(username), "password": self.secret("password", password)}}
        if kind == "apikey":
            where = "query" if str(params.get("in", "header")).lower() == "query" else "header"
            name = str(params.get("key") or "X-API-Key")
            return {"api_key": {where: name, "value": self.secret(_var(name).lower(), params.get("value"))}}
        if kind == "oauth2" and params.get("accessToken"):
            self.warn("oauth2 auth: the saved access token is used as a bearer token (runner does not fetch OAuth2 tokens)")
            return {"bearer": self.secret("access_token", params.get("accessToken"))}
        self.warn(f"{kind or 'unknown'} auth has no runner equivalent: those requests are sent without it")
        return "none"

    def walk(self, items: Any, files: list[_File], current: _File | None, tags: list[str], inherited: Any, events: list[Any]) -> None:
        """Requests of a folder; ``events`` are the scripts of the collection and folders above (Postman runs them for each request)."""
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            auth = self.auth(item.get("auth")) if "auth" in item else None
            scope_auth = auth if auth is not None else inherited
            if isinstance(item.get("item"), list):  # a folder
                name = str(item.get("name") or "folder")
                folder_events = [*events, *(item.get("event") or [])]
                if current is None:
                    folder_file = _File(name, _description(item.get("description")))
                    files.append(folder_file)
                    self.walk(item["item"], files, folder_file, [], scope_auth, folder_events)
                else:
                    self.walk(item["item"], files, current, [*tags, name], scope_auth, folder_events)
                continue
            target = current if current is not None else files[0]
            try:
                self.request({**item, "event": [*events, *(item.get("event") or [])]} if events else item, target, tags, scope_auth)
            except (TypeError, AttributeError, ValueError, KeyError) as exc:  # a malformed item of a foreign file
                self.warn(f"item {str(item.get('name'))!r}: not converted, it is malformed ({type(exc).__name__}: {exc})")

    def request(self, item: dict[str, Any], target: _File, tags: list[str], auth: Any) -> None:
        raw = item.get("request")
        request_data: dict[str, Any] = {"url": raw} if isinstance(raw, str) else raw if isinstance(raw, dict) else {}
        notes: list[str] = []
        out: dict[str, Any] = {"name": unique_name(str(item.get("name") or "request"), target.names)}
        about = _description(request_data.get("description") or item.get("description"))
        if about:
            out["description"] = about
        out["method"] = str(request_data.get("method") or "GET").upper()
        url, params = self.url(request_data.get("url"))
        if url in ("http://", "/", ""):
            target.names.discard(out["name"])
            self.warn(f"request {out['name']!r} has no URL: left out")
            return
        out["url"] = url
        if params:
            out["params"] = params
        own_auth = self.auth(request_data.get("auth")) if "auth" in request_data else None
        chosen = own_auth if own_auth is not None else auth
        if chosen is not None:
            out["auth"] = chosen
        headers = {}
        for header in request_data.get("header") or []:
            if isinstance(header, dict) and not header.get("disabled") and header.get("key"):
                name = str(header["key"])
                value = self.template(str(header.get("value") or ""))
                headers[name] = self.secret(name.lower(), value) if is_credential_name(name) and name.lower() not in ("cookie",) else self.book.header(name, value)
        if headers:
            out["headers"] = headers
        if tags:
            out["tags"] = list(dict.fromkeys(re.sub(r"[^A-Za-z0-9_.:/-]+", "-", t).strip("-") or "folder" for t in tags))
        self.body(request_data.get("body"), out, notes)
        self.scripts(item, out, notes, target)
        self.example(item.get("response"), out)
        for text in _strings(out):
            target.uses |= {m for m in _VAR.findall(text) if re.fullmatch(r"\w+", m)}
        if notes:
            target.notes[len(target.requests)] = notes
        target.requests.append(out)
        self.counts["requests"] += 1

    def url(self, url: Any) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        if isinstance(url, dict):
            raw = str(url.get("raw") or "")
            for variable in url.get("variable") or []:
                if isinstance(variable, dict) and variable.get("key"):
                    self.path_vars.setdefault(_var(str(variable["key"])), self.template(variable.get("value", "")) if variable.get("value") is not None else "")
            if not raw:
                host = ".".join(url.get("host") or []) if isinstance(url.get("host"), list) else str(url.get("host") or "")
                path = "/".join(str(p) for p in url.get("path") or []) if isinstance(url.get("path"), list) else str(url.get("path") or "")
                raw = f"{url.get('protocol', 'http')}://{host}/{path}" if host else f"/{path}"
            base = raw.split("?")[0].split("#")[0]
            for query in url.get("query") or []:
                if isinstance(query, dict) and not query.get("disabled") and query.get("key") is not None:
                    key = str(query["key"])
                    value = self.template(str(query.get("value") if query.get("value") is not None else ""))
                    value = self.secret(key, value) if is_credential_name(key) else self.book.text(value)
                    params[key] = (params[key] if isinstance(params[key], list) else [params[key]]) + [value] if key in params else value
        else:
            raw = str(url or "")
            base = raw.split("#")[0]
            if "?" in base:
                base, _, query_text = base.partition("?")
                for pair in query_text.split("&"):
                    key, _, value = pair.partition("=")
                    if key:
                        value = self.template(value)
                        params[key] = self.secret(key, value) if is_credential_name(key) else self.book.text(value)
        base = self.template(base)
        base = re.sub(r"(?<=/):([A-Za-z_][\w-]*)", lambda m: "{{ " + _var(m.group(1)) + " }}", base)
        if not re.match(r"^(\w+://|\{\{|/)", base):
            base = "http://" + base  # Postman's default scheme
        return self.book.text(base), params

    def body(self, body: Any, out: dict[str, Any], notes: list[str]) -> None:
        if not isinstance(body, dict) or body.get("disabled"):
            return
        mode = body.get("mode")
        if mode == "raw":
            raw = self.template(str(body.get("raw") or ""))
            language = str(((body.get("options") or {}).get("raw") or {}).get("language", "")).lower()
            content_type = next((v for k, v in (out.get("headers") or {}).items() if k.lower() == "content-type"), "")
            if language == "json" or "json" in str(content_type):
                for text in (raw, _JSON_COMMENT.sub(lambda m: m.group(1) or "", raw)):  # Postman strips // and /* */ comments before sending
                    try:
                        out["json"] = self.book.data(json.loads(text))
                        return
                    except ValueError:
                        pass
                out.setdefault("headers", {}).setdefault("Content-Type", "application/json")
            elif not content_type and language in ("xml", "html", "javascript", "text"):
                out.setdefault("headers", {})["Content-Type"] = {"xml": "application/xml", "html": "text/html", "javascript": "application/javascript", "text": "text/plain"}[language]
            if raw:
                out["body"] = self.book.body_text(raw)
        elif mode == "urlencoded":
            form: dict[str, Any] = {}
            for field_ in body.get("urlencoded") or []:
                if isinstance(field_, dict) and not field_.get("disabled") and field_.get("key"):
                    key = str(field_["key"])
                    value = self.template(str(field_.get("value") or ""))
                    form[key] = self.secret(key, value) if is_credential_name(key) else self.book.text(value)
            if form:
                out["form"] = form
        elif mode == "formdata":
            parts: dict[str, Any] = {}
            for field_ in body.get("formdata") or []:
                if not isinstance(field_, dict) or field_.get("disabled") or not field_.get("key"):
                    continue
                key = str(field_["key"])
                if field_.get("type") == "file":
                    parts[key] = self.upload(field_.get("src"), notes, field_.get("contentType"))
                else:
                    value = self.template(str(field_.get("value") or ""))
                    value = self.secret(key, value) if is_credential_name(key) else self.book.text(value)  # a token shape anywhere, as in headers
                    content_type = field_.get("contentType")  # Postman's text field may have its own type
                    parts[key] = {"value": value, "content_type": str(content_type)} if content_type else value
            if parts:
                out["multipart"] = parts
        elif mode == "graphql":
            graphql = body.get("graphql") or {}
            payload: dict[str, Any] = {"query": self.template(str(graphql.get("query") or ""))}
            variables = graphql.get("variables")
            if variables:
                try:
                    payload["variables"] = json.loads(self.template(str(variables)))
                except ValueError:
                    payload["variables"] = self.template(str(variables))
            out["json"] = payload
        elif mode == "file":
            notes.append("a binary file body (mode: file) is not converted")
            self.warn("binary file bodies (mode: file) are not converted")

    def upload(self, src: Any, notes: list[str], content_type: Any) -> dict[str, Any]:
        name = src[0] if isinstance(src, list) and src else src
        path = Path(str(name or "upload.txt"))
        part: dict[str, Any]
        if name and (self.source.parent / path).is_file():
            part = {"file": Path(os.path.relpath((self.source.parent / path).resolve(), self.out_dir.resolve())).as_posix()}
        else:
            placeholder = f"files/{path.name}"
            notes.append(f"the upload {name!r} was not found: {placeholder} stands in for it")
            if not (self.out_dir / placeholder).exists():
                write_text(self.out_dir / placeholder, "Replace this file with the one to upload.\n")
            part = {"file": placeholder}
        if content_type:
            part["content_type"] = str(content_type)
        return part

    def scripts(self, item: dict[str, Any], out: dict[str, Any], notes: list[str], target: _File) -> None:
        for event in item.get("event") or []:
            if not isinstance(event, dict):
                continue
            exec_lines = (event.get("script") or {}).get("exec") or []
            if isinstance(exec_lines, str):
                exec_lines = exec_lines.splitlines()
            if not any(str(line).strip() for line in exec_lines):
                continue
            if event.get("listen") != "test":
                notes.append(f"Postman {event.get('listen', '')} script (not converted):")
                notes.extend(f"    {mask_literals(str(line))}" for line in exec_lines)
                self.counts["kept"] += 1
                self.kept_names.append(f"{out['name']} ({event.get('listen')})")
                continue
            result = convert_script([str(line) for line in exec_lines], _var)
            expect: dict[str, Any] = out.get("expect", {})  # several scripts (collection, folder, request) add up
            if result.status is not None:
                expect["status"] = result.status
            if result.headers:
                expect["headers"] = {**expect.get("headers", {}), **self.book.data(result.headers)}
            if result.json:
                expect["json"] = {**expect.get("json", {}), **{path: self.book.data(self.template(v)) for path, v in result.json.items()}}
            if result.body:
                expect["body"] = {**expect.get("body", {}), **self.book.data(result.body)}  # a token a script checks for is a secret variable too
            if result.max_ms is not None:
                expect["max_ms"] = result.max_ms
            if expect:
                out["expect"] = expect
            if result.captures:
                out["capture"] = {**out.get("capture", {}), **{name: ({"json": spec, "secret": True} if isinstance(spec, str) and is_credential_name(name) else spec) for name, spec in result.captures.items()}}
                target.captures |= set(result.captures)
            self.counts["checks"] += result.checks
            if result.kept:
                self.counts["kept"] += 1
                self.kept_names.append(out["name"])
                notes.append("Postman test script, the part not converted (kept as it was):")
                notes.extend(f"    {mask_literals(line)}" for part in result.kept for line in part.splitlines())

    def example(self, responses: Any, out: dict[str, Any]) -> None:
        if not isinstance(responses, list) or not responses or not isinstance(responses[0], dict):
            return
        saved = responses[0]
        example: dict[str, Any] = {"status": int(saved.get("code") or 200)}
        headers = {h["key"]: str(h.get("value", "")) for h in saved.get("header") or [] if isinstance(h, dict) and h.get("key") and h["key"].lower() in ("content-type",)}
        if headers:
            example["headers"] = headers
        body = saved.get("body")
        if isinstance(body, str) and body:
            try:
                example["json"] = self.book.data(json.loads(body))
            except ValueError:
                example["body"] = self.book.text(body)
        out["example"] = example


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_collection(data: Any, path: Path) -> dict[str, Any]:
    if isinstance(data, dict) and "requests" in data and "order" in data or (isinstance(data, dict) and isinstance(data.get("requests"), list) and "info" not in data):
        raise InputError(f"{path} is a Postman Collection v1 export; runner imports v2.0 and v2.1. In Postman, export the collection again as 'Collection v2.1', then import that file.")
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict) or not isinstance(data.get("item"), list):
        what = "an environment file (pass it with -e)" if isinstance(data, dict) and "values" in data else "not a Postman collection"
        raise InputError(f"{path} is {what}: a Postman Collection v2.0/v2.1 has 'info' and 'item' at its top level")
    schema = str(data["info"].get("schema", ""))
    if schema and not re.search(r"/v2\.[01]\.\d/", schema):
        raise InputError(f"{path}: unsupported Postman collection schema {schema}; runner imports v2.0 and v2.1")
    return data


def import_environment(path: Path, out_dir: Path, force: bool, prefix: str) -> tuple[Path, list[str]]:
    """A Postman environment -> a runner environment file; secrets read from environment variables."""
    data = load_json(path, "Postman environment")
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise InputError(f"{path} is not a Postman environment: expected 'values', a list of {{key, value}}")
    book = SecretBook(prefix)
    values: dict[str, Any] = {}
    secret_names: list[str] = []
    for entry in data["values"]:
        if not isinstance(entry, dict) or not entry.get("key") or entry.get("enabled") is False:
            continue
        name = _var(str(entry["key"]))
        value = entry.get("value", "")
        if entry.get("type") == "secret" or is_credential_name(name) or (isinstance(value, str) and book.text(value) != value):
            env_name = (f"{prefix}_" if prefix else "") + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
            values[name] = "{{ env." + env_name + " }}"
            secret_names.append(name)
            book.env_names[name] = env_name
            book.vars[name] = values[name]
        else:
            values[name] = _VAR.sub(lambda m: "{{ " + _var(m.group(1)) + " }}", value) if isinstance(value, str) else value
    if secret_names:
        values["secrets"] = secret_names
    target = out_dir / "environments" / (re.sub(r"[^A-Za-z0-9_.-]+", "-", str(data.get("name") or path.stem)).strip("-").lower() + ".yaml")
    check_writable(target, force)
    header = [f"Imported from the Postman environment {path.name} by `runner import postman`."]
    if secret_names:
        header.append("Secrets are read from the environment; before running:")
        header.extend(f"  {note}" for note in book.notes())
    write_text(target, comment_lines(header) + (dump_yaml(values) if values else "{}\n"))
    return target, book.notes()


def import_postman(path: Path, environments: list[Path], out_dir: Path, force: bool) -> list[str]:
    """Write the collection's requests as runner collections in ``out_dir``; return notes for the user."""
    check_writable(out_dir, force, folder=True)
    data = _check_collection(load_json(path, "Postman collection"), path)
    out_dir.mkdir(parents=True, exist_ok=True)
    importer = _Importer(data, out_dir, path)
    first_host = re.search(r"\bhttps?://([^/:\"?{}\s]+)", json.dumps([data.get("variable"), data.get("item")]))
    prefix = env_prefix(first_host.group(1) if first_host else "")
    importer.book.prefix = prefix
    dumped = json.dumps(data)  # Postman's own variables (collection, environment, path) keep their names
    importer.book.reserved = {_var(name) for name in _VAR.findall(dumped)} | {_var(name) for name in re.findall(r"/:([A-Za-z_][\w-]*)", dumped)}
    importer.book.reserved |= {_var(str(v["key"])) for v in data.get("variable") or [] if isinstance(v, dict) and v.get("key")}
    title = str(data["info"].get("name") or path.stem)
    files = [_File(title, _description(data["info"].get("description")))]
    importer.walk(data["item"], files, None, [], importer.auth(data.get("auth")) if data.get("auth") else None, list(data.get("event") or []))
    files = [f for f in files if f.requests]
    if not files:
        raise InputError(f"{path}: the collection has no requests")
    if len(files) > 1 and any(f.captures & g.uses for f in files for g in files if g is not f):
        merged = _File(title, files[0].description)  # a capture feeds another file: keep them in one run
        merged.uses = set().union(*(f.uses for f in files))
        merged.captures = set().union(*(f.captures for f in files))
        for file in files:
            for index, request in enumerate(file.requests):
                if file.name != title:
                    request["tags"] = list(dict.fromkeys([re.sub(r"[^A-Za-z0-9_.:/-]+", "-", file.name).strip("-") or "folder", *request.get("tags", [])]))
                request["name"] = unique_name(request["name"], merged.names)
                if index in file.notes:
                    merged.notes[len(merged.requests)] = file.notes[index]
                merged.requests.append(request)
        files = [merged]
        importer.warn("variables captured in one folder are used in another: every request went to one collection file (captures do not cross files), folders became tags")
    variables: dict[str, Any] = {}
    for variable in data.get("variable") or []:
        if isinstance(variable, dict) and variable.get("key") and not variable.get("disabled"):
            name = _var(str(variable["key"]))
            value = variable.get("value", "")
            variables[name] = importer.secret(name, value) if (is_credential_name(name) or variable.get("type") == "secret") and value else importer.template(value)
    written: list[str] = []
    taken: set[str] = set()
    for file in files:
        used = set(file.uses)
        pool = {**importer.path_vars, **variables}
        grown = True
        while grown:  # a variable's value may name other variables ("id: {{ userId }}")
            more = {_var(m) for name in used if name in pool for text in _strings(pool[name]) for m in _VAR.findall(text) if not m.startswith(("$", "env."))}
            grown = not more <= used
            used |= more
        used -= file.captures
        file_vars = {k: v for k, v in variables.items() if k in used or k in file.uses}
        file_vars.update({k: v for k, v in importer.path_vars.items() if k in used and k not in file_vars})
        file_vars.update({k: "" for k in importer.placeholders if k in used and k not in file_vars})
        for name in sorted(used - set(file_vars) - set(importer.book.vars) - {"base_url"}):
            file_vars[name] = ""  # defined in a Postman environment or nowhere: override with -e or --var
        collection: dict[str, Any] = {"name": file.name}
        if file.description:
            collection["description"] = file.description
        if file_vars:
            collection["vars"] = file_vars
        secrets = sorted(importer.secret_vars & (set(file_vars) | file.captures))
        if secrets:
            collection["secrets"] = secrets
        collection["requests"] = file.requests
        header = [f"Imported from {path.name} (Postman collection) by `runner import postman`."]
        if importer.book.vars:
            header.append("Secrets are read from the environment; before running:")
            header.extend(f"  {note}" for note in importer.book.notes())
        book_vars = {k: v for k, v in importer.book.vars.items() if any(k in s for s in _strings(file.requests) + _strings(file_vars))}
        imported = Imported(_with_secrets(collection, book_vars), header, file.notes)
        file_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", unique_name(file.name, taken)).strip("-").lower() or "collection"
        target = out_dir / f"{file_name}.yaml"
        check_writable(target, force)
        write_text(target, format_collection(imported))
        written.append(target.name)
    notes = [f"warning: {w}" for w in importer.warnings]
    for env_path in environments:
        env_file, env_notes = import_environment(env_path, out_dir, force, prefix)
        notes.append(f"wrote {env_file} (use it with -e)")
        notes.extend(env_notes)
    counts = importer.counts
    kept = f": {', '.join(importer.kept_names[:8])}{', ...' if len(importer.kept_names) > 8 else ''}" if importer.kept_names else ""
    notes.append(f"wrote {len(written)} collection(s) to {out_dir}: {counts['requests']} requests, {counts['checks']} checks converted, {counts['kept']} scripts kept as comments{kept}")
    notes.extend(importer.book.notes())
    return notes


def _with_secrets(collection: dict[str, Any], book_vars: dict[str, str]) -> dict[str, Any]:
    if not book_vars:
        return collection
    out = {k: collection[k] for k in ("name", "description") if k in collection}
    out["vars"] = {**collection.get("vars", {}), **book_vars}
    out["secrets"] = sorted(set(collection.get("secrets", [])) | set(book_vars))
    out.update((k, v) for k, v in collection.items() if k not in out)
    return out
