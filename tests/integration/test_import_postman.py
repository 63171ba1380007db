"""``runner import postman``: folders, auth, variables, bodies, scripts -> collections that validate and run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

DATA = Path(__file__).resolve().parent.parent / "data" / "interop"
TOKEN = "sk-postman-0123456789abcdefghij"
PASSWORD = "correct-horse-battery"

SCRIPT = [
    "pm.test(\"Status code is 200\", function () {",
    "    pm.response.to.have.status(200);",
    "});",
    "var jsonData = pm.response.json();",
    "pm.test('user', () => {",
    "    pm.expect(jsonData.user.name).to.eql(\"Ada\");",
    "    pm.expect(jsonData.user.roles).to.include('admin');",
    "    pm.expect(jsonData.items).to.have.lengthOf(2);",
    "    pm.expect(jsonData.items[0].id).to.be.above(0);",
    "});",
    "pm.test(\"fast\", function () { pm.expect(pm.response.responseTime).to.be.below(5000); });",
    "pm.response.to.have.header(\"Content-Type\");",
    "pm.expect(pm.response.code).to.eql(200);",
    "pm.environment.set(\"session\", jsonData.session.token);",
    "pm.test(\"custom\", function () { console.log(pm.response.json()); if (jsonData.x) { throw new Error('no'); } });",
]


def _collection(url: str, schema: str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json") -> dict[str, Any]:
    v21 = "v2.1" in schema

    def auth(kind: str, **values: str) -> dict[str, Any]:
        return {"type": kind, kind: [{"key": k, "value": v, "type": "string"} for k, v in values.items()] if v21 else values}

    return {
        "info": {"name": "Shop API", "schema": schema, "description": "The shop"},
        "auth": auth("bearer", token=TOKEN),
        "variable": [{"key": "baseUrl", "value": url}, {"key": "userId", "value": "42"}],
        "item": [
            {
                "name": "Login",
                "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": SCRIPT}}, {"listen": "prerequest", "script": {"exec": ["pm.variables.set('t', Date.now());"]}}],
                "request": {
                    "method": "POST",
                    "header": [{"key": "Content-Type", "value": "application/json"}, {"key": "X-Disabled", "value": "no", "disabled": True}],
                    "body": {"mode": "raw", "raw": json.dumps({"user": "ada", "password": PASSWORD, "n": 1}), "options": {"raw": {"language": "json"}}},
                    "url": {"raw": "{{baseUrl}}/login?debug=1&skip=x", "host": ["{{baseUrl}}"], "path": ["login"], "query": [{"key": "debug", "value": "1"}, {"key": "skip", "value": "x", "disabled": True}]},
                },
                "response": [{"name": "ok", "code": 200, "header": [{"key": "Content-Type", "value": "application/json"}], "body": json.dumps({"user": {"name": "Ada", "roles": ["admin"]}, "items": [{"id": 1}, {"id": 2}], "session": {"token": "abc"}})}],
            },
            {
                "name": "Users",
                "auth": auth("basic", username="ada", password=PASSWORD),
                "item": [
                    {"name": "Get user", "request": {"method": "GET", "url": {"raw": "{{baseUrl}}/users/:id", "host": ["{{baseUrl}}"], "path": ["users", ":id"], "variable": [{"key": "id", "value": "{{userId}}"}]}, "header": [{"key": "X-Session", "value": "{{session}}"}]}},
                    {"name": "Admin", "item": [
                        {"name": "Form", "request": {"method": "POST", "url": "{{baseUrl}}/form", "auth": {"type": "noauth"}, "body": {"mode": "urlencoded", "urlencoded": [{"key": "a", "value": "1"}, {"key": "off", "value": "2", "disabled": True}, {"key": "api_key", "value": TOKEN}]}}},
                        {"name": "Upload", "request": {"method": "POST", "url": "{{baseUrl}}/upload", "auth": {"type": "apikey", "apikey": [{"key": "key", "value": "X-Api-Key"}, {"key": "value", "value": TOKEN}, {"key": "in", "value": "header"}]} if v21 else {"type": "noauth"}, "body": {"mode": "formdata", "formdata": [{"key": "note", "value": "hi", "type": "text"}, {"key": "meta", "value": "{\"a\": 1}", "type": "text", "contentType": "application/json"}, {"key": "doc", "src": "/nowhere/report.pdf", "type": "file"}]}}},
                        {"name": "GraphQL", "request": {"method": "POST", "url": "{{baseUrl}}/graphql", "body": {"mode": "graphql", "graphql": {"query": "{ me { id } }", "variables": "{\"a\": 1}"}}}},
                    ]},
                ],
            },
        ],
    }


@pytest.mark.parametrize("version", ["v2.1.0", "v2.0.0"])
def test_a_collection_imports_validates_and_runs(version: str, run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    body = {"user": {"name": "Ada", "roles": ["admin"]}, "items": [{"id": 1}, {"id": 2}], "session": {"token": "abc"}}
    httpserver.expect_request("/login", method="POST").respond_with_json(body)
    httpserver.expect_request(re.compile("/(users/42|form|upload|graphql)"),).respond_with_json({"ok": True})
    schema = f"https://schema.getpostman.com/json/collection/{version}/collection.json"
    (project / "shop.postman_collection.json").write_text(json.dumps(_collection(httpserver.url_for("").rstrip("/"), schema)))
    imported = run_cli("import", "postman", "shop.postman_collection.json", "-o", "shop", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = "\n".join(p.read_text() for p in sorted((project / "shop").glob("*.yaml")))
    assert TOKEN not in text + imported.output and PASSWORD not in text + imported.output
    assert "checks converted" in imported.stderr and "2 scripts kept as comments: Login, Login (prerequest)" in imported.stderr
    assert "status: 200" in text and "$.user.name: Ada" in text and "contains: admin" in text and "length: 2" in text
    assert "max_ms: 5000" in text and "session:\n        json: $.session.token\n        secret: true" in text
    assert "# Postman test script, the part not converted" in text and "console.log" in text
    assert "X-Disabled" not in text and "off:" not in text and "skip" not in text
    assert "url: '{{ baseUrl }}/users/{{ id }}'" in text and "id: '{{ userId }}'" in text
    # "Login" captures the session that "Get user" (another folder) reads: one file, folders as tags
    assert [p.name for p in (project / "shop").glob("*.yaml")] == ["shop-api.yaml"]
    assert "tags:\n    - Users\n    - Admin" in text
    assert "query: '{ me { id } }'" in text
    env = {name: {"PASSWORD": PASSWORD}.get(name.split("_")[-1], TOKEN) for name in re.findall(r"\{\{ env\.(\w+) \}\}", text)}
    assert run_cli("validate", "shop", env=env).exit_code == 0
    ran = run_cli("run", "shop", env=env)
    assert ran.exit_code == 0, ran.output
    sent = {request.path: request for request, _ in httpserver.log}
    assert json.loads(sent["/login"].get_data()) == {"user": "ada", "password": PASSWORD, "n": 1}
    assert sent["/login"].headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent["/users/42"].headers["X-Session"] == "abc" and sent["/users/42"].authorization.password == PASSWORD
    assert sent["/form"].form.to_dict() == {"a": "1", "api_key": TOKEN} and "Authorization" not in sent["/form"].headers
    # a text field's own content type is kept: {value, content_type}
    assert b'name="meta"\r\nContent-Type: application/json\r\n\r\n{"a": 1}' in sent["/upload"].get_data()


def test_folders_become_files_when_no_capture_crosses_them(run_cli: Any, project: Path) -> None:
    data = _collection("https://shop.example.com")
    data["item"][0]["event"] = []
    # scripts on the collection and a folder run for every request below them, as in Postman
    data["event"] = [{"listen": "test", "script": {"exec": ["pm.test('fast', () => { pm.expect(pm.response.responseTime).to.be.below(900); });"]}}]
    data["item"][1]["event"] = [{"listen": "test", "script": {"exec": ["pm.response.to.have.status(200);"]}}]
    (project / "c.json").write_text(json.dumps(data))
    env_file = {"name": "Shop Prod", "values": [{"key": "baseUrl", "value": "https://shop.example.com", "enabled": True}, {"key": "apiToken", "value": TOKEN, "type": "secret", "enabled": True}]}
    (project / "prod.json").write_text(json.dumps(env_file))
    imported = run_cli("import", "postman", "c.json", "-e", "prod.json", "-o", "out", cwd=project)
    assert imported.exit_code == 0, imported.output
    assert sorted(p.name for p in (project / "out").glob("*.yaml")) == ["shop-api.yaml", "users.yaml"]
    environment = (project / "out" / "environments" / "shop-prod.yaml").read_text()
    assert TOKEN not in environment and "apiToken: '{{ env.SHOP_API_TOKEN }}'" in environment and "- apiToken" in environment
    text = (project / "out" / "users.yaml").read_text()
    assert text.count("max_ms: 900") == 4 and text.count("status: 200") == 4
    assert (project / "out" / "shop-api.yaml").read_text().count("max_ms: 900") == 1
    assert "tags:\n    - Admin" in text and "files/report.pdf" in text and (project / "out" / "files" / "report.pdf").exists()
    env = {name: "x" * 12 for name in re.findall(r"\{\{ env\.(\w+) \}\}", "".join(p.read_text() for p in (project / "out").rglob("*.yaml")))}
    assert run_cli("validate", "out", "-e", "out/environments/shop-prod.yaml", env=env).exit_code == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": "1", "name": "old", "order": [], "requests": []}, "is a Postman Collection v1 export"),
        ({"name": "env", "values": []}, "is an environment file (pass it with -e)"),
        ({"foo": 1}, "is not a Postman collection"),
        ({"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v3.0.0/"}, "item": []}, "unsupported Postman collection schema"),
        ({"info": {"name": "x"}, "item": []}, "the collection has no requests"),
    ],
    ids=["v1", "environment", "not-a-collection", "unknown-schema", "empty"],
)
def test_bad_input_is_one_clear_error_and_exit_2(data: Any, message: str, run_cli: Any, project: Path) -> None:
    (project / "c.json").write_text(json.dumps(data))
    result = run_cli("import", "postman", "c.json", "-o", "out", cwd=project)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_a_file_that_is_not_json_is_refused(run_cli: Any, project: Path) -> None:
    (project / "c.json").write_text("{not json")
    result = run_cli("import", "postman", "c.json", cwd=project)
    assert result.exit_code == 2 and "is not valid JSON" in result.stderr


def test_a_token_in_a_form_field_or_a_checked_text_becomes_a_secret_variable(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_data(f"echo {TOKEN}")
    url = httpserver.url_for("/x")
    formdata = [{"key": "meta", "value": json.dumps({"k": TOKEN}), "type": "text", "contentType": "application/json"}, {"key": "plain", "value": TOKEN, "type": "text"}]
    check = [f"pm.test('echoed', () => pm.expect(pm.response.text()).to.include('{TOKEN}'));"]
    items = [
        {"name": "multipart", "request": {"method": "POST", "url": url, "body": {"mode": "formdata", "formdata": formdata}}, "event": [{"listen": "test", "script": {"exec": check}}]},
        {"name": "form", "request": {"method": "POST", "url": url, "body": {"mode": "urlencoded", "urlencoded": [{"key": "note", "value": TOKEN}]}}},
    ]
    (project / "c.json").write_text(json.dumps({"info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "item": items}))
    imported = run_cli("import", "postman", "c.json", "-o", "out", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = (project / "out" / "c.yaml").read_text(encoding="utf-8")
    assert TOKEN not in text and TOKEN[:12] not in imported.output
    env = {name: TOKEN for name in re.findall(r"'\{\{ env\.(\w+) \}\}'", text)}
    ran = run_cli("run", "out", env=env)
    assert ran.exit_code == 0, ran.output  # the check on the echoed token passes: it reads the variable
    multipart, form = (request.get_data() for request, _ in httpserver.log)
    assert json.dumps({"k": TOKEN}).encode() in multipart and TOKEN.encode() in multipart.split(b"plain")[1]
    assert form == f"note={TOKEN}".encode()
