"""``runner export postman``: collections -> one Postman Collection v2.1 file (Postman, Apidog).

Templates become Postman variables (``{{ name }}`` -> ``{{name}}``, ``{{ env.KEY }}`` ->
``{{KEY}}``, helpers -> ``{{$guid}}``, ``{{$timestamp}}``...), ``expect`` and ``capture``
become a test script in the idioms ``runner import postman`` reads back, and examples
become saved responses.  Secret values are never written: a secret variable holding a
literal is exported empty, with a description saying so.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from .writer import check_writable, write_text

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_HELPERS = {"uuid4()": "$guid", "timestamp()": "$timestamp", "now()": "$isoTimestamp"}
_TEMPLATE = re.compile(r"\{\{\s*(.+?)\s*\}\}")


class _Exporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.checks = 0

    def text(self, value: Any) -> str:
        """A runner template as Postman text."""
        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if re.fullmatch(r"\w+", expression):
                return "{{" + expression + "}}"
            env = re.fullmatch(r"env\.(\w+)|env\[\s*['\"](\w+)['\"]\s*\]", expression)
            if env:
                return "{{" + (env.group(1) or env.group(2)) + "}}"
            if expression in _HELPERS:
                return "{{" + _HELPERS[expression] + "}}"
            if expression.startswith("random_int("):
                return "{{$randomInt}}"
            self.warn(f"the template {{{{ {expression} }}}} has no Postman equivalent: exported as it is")
            return match.group(0)

        return _TEMPLATE.sub(replace, value) if isinstance(value, str) else json.dumps(value) if not isinstance(value, str) else value

    def data(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return self.text(value) if isinstance(value, str) else value

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def auth(self, auth: Any) -> dict[str, Any] | None:
        if auth is None:
            return None
        if auth == "none" or auth is False:
            return {"type": "noauth"}
        if not isinstance(auth, dict):
            return None

        def attributes(**values: Any) -> list[dict[str, Any]]:
            return [{"key": k, "value": self.text(v), "type": "string"} for k, v in values.items()]

        if "bearer" in auth:
            return {"type": "bearer", "bearer": attributes(token=auth["bearer"])}
        if "basic" in auth:
            basic = auth["basic"]
            return {"type": "basic", "basic": attributes(username=basic.get("username", ""), password=basic.get("password", ""))}
        if "api_key" in auth:
            key = auth["api_key"]
            where = "query" if "query" in key else "header"
            return {"type": "apikey", "apikey": attributes(key=key.get(where, ""), value=key.get("value", ""), **{"in": where})}
        return None

    def url(self, base: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
        raw = self.text(url)
        if not re.match(r"^(\w+://|\{\{)", raw) and base:
            raw = self.text(base).rstrip("/") + "/" + raw.lstrip("/")
        query = []
        for key, value in (params or {}).items():
            for item in value if isinstance(value, list) else [value]:
                query.append({"key": str(key), "value": self.text(item if isinstance(item, str) else json.dumps(item))})
        if query:
            raw += ("&" if "?" in raw else "?") + "&".join(f"{q['key']}={q['value']}" for q in query)
        out: dict[str, Any] = {"raw": raw}
        address = raw.split("?")[0]
        scheme, sep, rest = address.partition("://")
        if sep:
            out["protocol"] = scheme
        else:
            rest = address
        host, _, path = rest.partition("/")
        out["host"] = host.split(".") if not host.startswith("{{") else [host]
        out["path"] = [part for part in path.split("/")] if path else []
        if query:
            out["query"] = query
        return out

    def body(self, request: dict[str, Any], headers: list[dict[str, Any]]) -> dict[str, Any] | None:
        if "json" in request:
            if not any(h["key"].lower() == "content-type" for h in headers):
                headers.append({"key": "Content-Type", "value": "application/json"})
            return {"mode": "raw", "raw": json.dumps(self.data(request["json"]), indent=2, ensure_ascii=False), "options": {"raw": {"language": "json"}}}
        if "form" in request:
            return {"mode": "urlencoded", "urlencoded": [{"key": str(k), "value": self.text(v if isinstance(v, str) else json.dumps(v)), "type": "text"} for k, vs in request["form"].items() for v in (vs if isinstance(vs, list) else [vs])]}
        if "multipart" in request:
            parts = []
            for key, value in request["multipart"].items():
                if isinstance(value, dict) and "file" in value:
                    part = {"key": str(key), "src": self.text(value["file"]), "type": "file"}
                    if value.get("content_type"):
                        part["contentType"] = value["content_type"]
                    parts.append(part)
                elif isinstance(value, dict):  # a text part with its own content type
                    part = {"key": str(key), "value": self.text(value["value"] if isinstance(value["value"], str) else json.dumps(value["value"])), "type": "text"}
                    if value.get("content_type"):
                        part["contentType"] = value["content_type"]
                    parts.append(part)
                else:
                    for item in value if isinstance(value, list) else [value]:
                        parts.append({"key": str(key), "value": self.text(item if isinstance(item, str) else json.dumps(item)), "type": "text"})
            return {"mode": "formdata", "formdata": parts}
        if "body" in request:
            return {"mode": "raw", "raw": self.text(request["body"])}
        return None

    def tests(self, request: dict[str, Any]) -> list[str]:
        """``expect`` and ``capture`` as a Postman test script (the idioms the importer reads back)."""
        lines: list[str] = []
        expect = request.get("expect") or {}
        if not isinstance(expect, dict):
            return lines
        status = expect.get("status")
        if isinstance(status, int):
            lines.append(f"pm.test({json.dumps(f'status is {status}')}, function () {{ pm.response.to.have.status({status}); }});")
        elif isinstance(status, list):
            lines.append(f"pm.test('status', function () {{ pm.expect(pm.response.code).to.be.oneOf({json.dumps(status)}); }});")
        elif isinstance(status, str) and re.fullmatch(r"[245]xx", status):
            word = {"2": "success", "4": "clientError", "5": "serverError"}[status[0]]
            lines.append(f"pm.test('status {status}', function () {{ pm.response.to.be.{word}; }});")
        if isinstance(expect.get("max_ms"), (int, float)):
            lines.append(f"pm.test('fast enough', function () {{ pm.expect(pm.response.responseTime).to.be.below({expect['max_ms']}); }});")
        for name, predicate in (expect.get("headers") or {}).items():
            if predicate == {"exists": True}:
                lines.append(f"pm.test({json.dumps('header ' + name)}, function () {{ pm.response.to.have.header({json.dumps(name)}); }});")
            elif isinstance(predicate, str):
                lines.append(f"pm.test({json.dumps('header ' + name)}, function () {{ pm.response.to.have.header({json.dumps(name)}, {json.dumps(self.text(predicate))}); }});")
        json_checks = expect.get("json") or {}
        captures = {k: v for k, v in (request.get("capture") or {}).items() if isinstance(v, (str, dict))}
        if json_checks or any(isinstance(v, str) or "json" in v for v in captures.values()):
            lines.append("var jsonData = pm.response.json();")
        for path, predicate in json_checks.items():
            accessor = _accessor(path)
            assertions = _assertions(predicate)
            if accessor is None or assertions is None:
                self.warn(f"request {request.get('name')!r}: the check {path}: {predicate!r} has no simple Postman form: left out")
                continue
            body = " ".join(f"pm.expect(jsonData{accessor}{suffix}).{assertion};" for suffix, assertion in assertions)
            lines.append(f"pm.test({json.dumps(path)}, function () {{ {body} }});")
        for name, spec in captures.items():
            path = spec if isinstance(spec, str) else spec.get("json")
            accessor = _accessor(path) if path else None
            if accessor is not None:
                lines.append(f"pm.environment.set({json.dumps(name)}, jsonData{accessor});")
            elif isinstance(spec, dict) and spec.get("header"):
                lines.append(f"pm.environment.set({json.dumps(name)}, pm.response.headers.get({json.dumps(spec['header'])}));")
            else:
                self.warn(f"request {request.get('name')!r}: the capture {name!r} has no simple Postman form: left out")
        self.checks += sum(1 for line in lines if line.startswith(("pm.test", "pm.environment")))
        return lines

    def response(self, example: Any, name: str) -> dict[str, Any] | None:
        if not isinstance(example, dict):
            return None
        headers = [{"key": str(k), "value": str(v)} for k, v in (example.get("headers") or {}).items()]
        if "json" in example:
            body = json.dumps(example["json"], indent=2, ensure_ascii=False)
            if not any(h["key"].lower() == "content-type" for h in headers):
                headers.append({"key": "Content-Type", "value": "application/json"})
        else:
            body = example.get("body") if isinstance(example.get("body"), str) else ""
        return {"name": f"{name} example", "code": int(example.get("status", 200)), "header": headers, "body": body}


def _accessor(path: str) -> str | None:
    """``$.a.b[0]`` -> ``.a.b[0]``; ``None`` for JSONPath a JavaScript accessor cannot express."""
    if not isinstance(path, str) or not path.startswith("$"):
        return None
    rest = path[1:]
    if not re.fullmatch(r"(\.[A-Za-z_$][\w$]*|\[\d+\]|\['[^'\\]*'\])*", rest):
        return None
    return rest


_FORMS = {"eq": "to.eql", "ne": "to.not.eql", "gt": "to.be.above", "ge": "to.be.at.least", "lt": "to.be.below", "le": "to.be.at.most", "contains": "to.include", "not_contains": "to.not.include", "in": "to.be.oneOf"}


def _assertions(predicate: Any) -> list[tuple[str, str]] | None:
    """A predicate as chai assertions: (accessor suffix, assertion) pairs, one per operator; ``None`` if one has no form."""
    if not isinstance(predicate, dict):
        return [("", f"to.eql({json.dumps(predicate)})")]
    out: list[tuple[str, str]] = []
    for operator, value in predicate.items():
        if operator in _FORMS and not isinstance(value, dict):
            out.append(("", f"{_FORMS[operator]}({json.dumps(value)})"))
        elif operator == "exists":
            out.append(("", "to.exist" if value else "to.not.exist"))
        elif operator == "type" and value in ("string", "number", "object", "array", "boolean"):
            out.append(("", f"to.be.a({json.dumps(value)})"))
        elif operator == "length" and isinstance(value, int):
            out.append(("", f"to.have.lengthOf({value})"))
        elif operator == "length" and isinstance(value, dict):
            inner = _assertions(value)
            if inner is None:
                return None
            out.extend((".length", assertion) for _, assertion in inner)
        elif operator == "matches" and isinstance(value, str):
            out.append(("", f"to.match(new RegExp({json.dumps(value)}))"))
        else:
            return None
    return out


def export_postman(paths: list[str], out: Path, force: bool) -> list[str]:
    """Write the collections under ``paths`` as one Postman Collection v2.1 file."""
    from ..loader import find_collections, load_collection

    check_writable(out, force)
    collections = [load_collection(path) for path in find_collections(paths)]  # invalid input: exit 2, nothing written
    exporter = _Exporter()
    folders = []
    variables: dict[str, Any] = {}
    count = 0
    for collection in collections:
        data = collection.source.data
        secrets = set(data.get("secrets") or [])
        for name, value in (data.get("vars") or {}).items():
            literal = not (isinstance(value, str) and _TEMPLATE.search(value))
            if name in secrets and literal:
                variables[name] = {"key": name, "value": "", "type": "string", "description": "a secret: set it in a Postman environment (never exported)"}
            else:
                variables.setdefault(name, {"key": name, "value": exporter.text(value) if isinstance(value, str) else json.dumps(value), "type": "string"})
        base = str(data.get("base_url") or "")
        defaults = {"auth": data.get("auth"), "headers": data.get("headers") or {}, "params": data.get("params") or {}}
        items = []
        for request in data.get("requests") or []:
            items.append(_item(exporter, request, base, defaults))
            count += 1
        folder: dict[str, Any] = {"name": str(data.get("name") or Path(collection.path).stem), "item": items}
        if data.get("description"):
            folder["description"] = str(data["description"])
        folders.append(folder)
    name = folders[0]["name"] if len(folders) == 1 else out.stem
    document: dict[str, Any] = {"info": {"_postman_id": str(uuid.uuid4()), "name": name, "schema": SCHEMA}}
    if len(folders) == 1 and folders[0].get("description"):
        document["info"]["description"] = folders[0]["description"]
    document["item"] = folders[0]["item"] if len(folders) == 1 else folders
    if variables:
        document["variable"] = list(variables.values())
    write_text(out, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    notes = [f"warning: {w}" for w in exporter.warnings]
    notes.append(f"wrote {out}: {count} request(s) from {len(collections)} collection(s), {exporter.checks} checks as test scripts (Postman Collection v2.1)")
    return notes


def _item(exporter: _Exporter, request: dict[str, Any], base: str, defaults: dict[str, Any]) -> dict[str, Any]:
    headers = [{"key": str(k), "value": exporter.text(v if isinstance(v, str) else json.dumps(v)), "type": "text"} for k, v in {**defaults["headers"], **(request.get("headers") or {})}.items()]
    body = exporter.body(request, headers)
    postman: dict[str, Any] = {"method": str(request.get("method") or "GET").upper(), "header": headers}
    auth = exporter.auth(request.get("auth", defaults["auth"]))
    if auth:
        postman["auth"] = auth
    if body:
        postman["body"] = body
    postman["url"] = exporter.url(base, str(request.get("url", "")), {**defaults["params"], **(request.get("params") or {})})
    if request.get("description"):
        postman["description"] = str(request["description"])
    item: dict[str, Any] = {"name": str(request.get("name")), "request": postman}
    lines = exporter.tests(request)
    if lines:
        item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]
    response = exporter.response(request.get("example"), str(request.get("name")))
    item["response"] = [response] if response else []
    return item
