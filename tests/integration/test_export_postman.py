"""``runner export postman``: a valid Collection v2.1 that imports back with the same requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pytest_httpserver import HTTPServer

SECRET = "sk-literal-0123456789abcdefghijk"

COLLECTION = f"""
name: Shop
description: The shop API
vars:
  base_url: http://127.0.0.1:1
  api_key: "{{{{ env.SHOP_KEY }}}}"
  leaked: {SECRET}
secrets: [api_key, leaked]
base_url: "{{{{ base_url }}}}"
auth: {{bearer: "{{{{ api_key }}}}"}}
headers: {{Accept: application/json}}
requests:
  - name: login
    method: POST
    url: /login
    json: {{user: ada, n: 2, id: "{{{{ uuid4() }}}}"}}
    expect:
      status: 200
      max_ms: 2000
      headers: {{content-type: application/json}}
      json:
        "$.user.name": Ada
        "$.items": {{length: 2}}
        "$.items[0].id": {{gt: 0}}
    capture:
      session: "$.session.token"
    example:
      status: 200
      json: {{user: {{name: Ada}}, items: [{{id: 1}}, {{id: 2}}], session: {{token: t}}}}
  - name: search
    url: /search
    params: {{q: cheese, page: 2}}
    headers: {{X-Session: "{{{{ session }}}}"}}
    auth: none
  - name: form
    method: PUT
    url: /form
    form: {{a: "1", b: two}}
    auth: {{basic: {{username: ada, password: "{{{{ api_key }}}}"}}}}
  - name: upload
    method: POST
    url: /upload
    multipart:
      note: hi
      meta: {{value: '{{"a": 1}}', content_type: application/json}}
"""

# The rules of the Postman Collection Format v2.1.0 that Postman and Apidog enforce on import and
# that the exporter relies on, written from the published format (the reference schema itself is
# not copied into the repository): the info block and schema URL, items and folders, requests with
# method, url, headers, bodies, auth and test scripts, saved responses, collection variables.
_KEY_VALUES = {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "value": {}, "disabled": {"type": "boolean"}}}}
POSTMAN_V21_RULES = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["info", "item"],
    "properties": {
        "info": {
            "type": "object",
            "required": ["name", "schema"],
            "properties": {"name": {"type": "string"}, "schema": {"const": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}},
        },
        "item": {"type": "array", "items": {"$ref": "#/definitions/item"}},
        "variable": {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "value": {}, "type": {"enum": ["string", "boolean", "any", "number"]}}}},
        "auth": {"$ref": "#/definitions/auth"},
        "event": {"$ref": "#/definitions/events"},
    },
    "definitions": {
        "item": {
            "type": "object",
            "required": ["name"],
            "oneOf": [{"required": ["request"]}, {"required": ["item"]}],
            "properties": {
                "name": {"type": "string"},
                "item": {"type": "array", "items": {"$ref": "#/definitions/item"}},
                "request": {"$ref": "#/definitions/request"},
                "response": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "integer"}, "header": _KEY_VALUES, "body": {"type": ["string", "null"]}}}},
                "event": {"$ref": "#/definitions/events"},
            },
        },
        "request": {
            "type": "object",
            "required": ["method", "url"],
            "properties": {
                "method": {"type": "string"},
                "url": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["raw"], "properties": {"raw": {"type": "string"}, "query": _KEY_VALUES, "variable": _KEY_VALUES}}]},
                "header": _KEY_VALUES,
                "auth": {"$ref": "#/definitions/auth"},
                "body": {
                    "type": "object",
                    "properties": {
                        "mode": {"enum": ["raw", "urlencoded", "formdata", "file", "graphql"]},
                        "raw": {"type": "string"},
                        "urlencoded": _KEY_VALUES,
                        "formdata": _KEY_VALUES,
                    },
                },
            },
        },
        "auth": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": ["apikey", "awsv4", "basic", "bearer", "digest", "edgegrid", "hawk", "noauth", "oauth1", "oauth2", "ntlm"]}},
            "additionalProperties": {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "type": {"type": "string"}}}},
        },
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["listen"],
                "properties": {"listen": {"enum": ["test", "prerequest"]}, "script": {"type": "object", "properties": {"type": {"type": "string"}, "exec": {"type": "array", "items": {"type": "string"}}}}},
            },
        },
    },
}



def test_the_export_is_valid_v21_and_imports_back_with_the_same_requests(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    (project / "shop.yaml").write_text(COLLECTION)
    exported = run_cli("export", "postman", "shop.yaml", "-o", "shop.postman.json", cwd=project, env={"SHOP_KEY": "k" * 20})
    assert exported.exit_code == 0, exported.output
    text = (project / "shop.postman.json").read_text()
    assert SECRET not in text
    document = json.loads(text)
    jsonschema.Draft7Validator(POSTMAN_V21_RULES).validate(document)
    login = document["item"][0]
    assert login["request"]["url"]["raw"] == "{{base_url}}/login"
    assert login["request"]["auth"] == {"type": "bearer", "bearer": [{"key": "token", "value": "{{api_key}}", "type": "string"}]}
    assert json.loads(login["request"]["body"]["raw"]) == {"user": "ada", "n": 2, "id": "{{$guid}}"}
    assert "pm.response.to.have.status(200)" in "\n".join(login["event"][0]["script"]["exec"])
    assert login["response"][0]["code"] == 200
    assert {"key": "api_key", "value": "{{SHOP_KEY}}", "type": "string"} in document["variable"]
    assert next(v for v in document["variable"] if v["key"] == "leaked")["value"] == ""

    back = run_cli("import", "postman", "shop.postman.json", "-o", "back", cwd=project)
    assert back.exit_code == 0, back.output
    assert "0 scripts kept as comments" in back.stderr
    original = yaml.safe_load(COLLECTION)["requests"]
    (imported_file,) = (project / "back").glob("*.yaml")
    again = yaml.safe_load(imported_file.read_text())["requests"]
    assert [(r["name"], r.get("method", "GET")) for r in again] == [(r["name"], r.get("method", "GET")) for r in original]
    assert again[0]["expect"] == original[0]["expect"] and again[0]["capture"]["session"]["json"] == "$.session.token"
    assert again[1]["params"] == {"q": "cheese", "page": "2"} and again[2]["form"] == original[2]["form"]
    assert again[3]["multipart"] == original[3]["multipart"]  # a text part keeps its content type (Postman's contentType)

    # the same requests on the wire: run the original and the round-tripped collection against one server
    httpserver.expect_request("/login").respond_with_json({"user": {"name": "Ada"}, "items": [{"id": 1}, {"id": 2}], "session": {"token": "t"}})
    httpserver.expect_request("/search").respond_with_data("ok")
    httpserver.expect_request("/form").respond_with_data("ok")
    httpserver.expect_request("/upload").respond_with_data("ok")
    env = {"SHOP_KEY": "k" * 20}
    url = httpserver.url_for("").rstrip("/")
    assert run_cli("run", "shop.yaml", "--var", f"base_url={url}", env=env).exit_code == 0
    ran = run_cli("run", str(imported_file), "--var", f"base_url={url}", "--var", "SHOP_KEY=" + "k" * 20, "--var", "leaked=x", env=env)
    assert ran.exit_code == 0, ran.output
    first, second = httpserver.log[:4], httpserver.log[4:]
    for (a, _), (b, _) in zip(first, second):
        assert (a.method, a.full_path, a.headers.get("Authorization"), a.headers.get("X-Session"), a.form.to_dict()) == (b.method, b.full_path, b.headers.get("Authorization"), b.headers.get("X-Session"), b.form.to_dict())
        if a.is_json:
            assert json.loads(a.get_data())["user"] == json.loads(b.get_data())["user"]
        if a.mimetype == "multipart/form-data":
            assert b"Content-Type: application/json" in a.get_data() and b"Content-Type: application/json" in b.get_data()


def test_export_refuses_to_overwrite_and_invalid_input(run_cli: Any, project: Path) -> None:
    (project / "shop.yaml").write_text(COLLECTION)
    (project / "out.json").write_text("keep")
    refused = run_cli("export", "postman", "shop.yaml", "-o", "out.json", cwd=project)
    assert refused.exit_code == 2 and "--force" in refused.stderr and (project / "out.json").read_text() == "keep"
    (project / "bad.yaml").write_text("requests: 3\n")
    invalid = run_cli("export", "postman", "bad.yaml", "-o", "bad.json")
    assert invalid.exit_code == 2 and not (project / "bad.json").exists() and "Traceback" not in invalid.output
