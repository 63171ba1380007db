"""Importers, real-world shapes: a key as the basic-auth username, Postman variable names, JSON with comments, text bodies, HAR uploads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
QUERY_KEY = "sk-abcdefghijklmnopqrstuvwx"
PASSWORD = "hunter2hunter2"


def _env(text: str, values: dict[str, str]) -> dict[str, str]:
    return {name: values[name] for name in re.findall(r"\{\{ env\.(\w+) \}\}", text)}


def test_curl_a_key_as_username_with_an_empty_password(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/charges", method="POST").respond_with_json({"ok": True})
    line = f"curl {httpserver.url_for('/v1/charges')} -u {STRIPE_KEY}: -d amount=2000"
    imported = run_cli("import", "curl", line, "-o", "c.yaml", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = (project / "c.yaml").read_text()
    assert STRIPE_KEY not in text + imported.output and "password: ''" in text
    ran = run_cli("run", "c.yaml", env=_env(text, {"API_KEY": STRIPE_KEY}))
    assert ran.exit_code == 0, ran.output
    (request, _), = httpserver.log
    assert request.authorization.username == STRIPE_KEY and request.authorization.password == ""  # what curl sends


def test_postman_secrets_keep_apart_from_its_variables_and_json_comments_go(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile("/.*")).respond_with_json({"ok": True})
    raw = '{\n  // creds\n  "user": "ada", "note": "a // b",\n  "password": "%s" /* inline */\n}' % PASSWORD
    data = {
        "info": {"name": "Keys", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "variable": [{"key": "baseUrl", "value": httpserver.url_for("").rstrip("/")}, {"key": "api-key", "value": "plainkey12345"}],
        "item": [
            {"name": "Delete", "request": {"method": "DELETE", "url": f"{{{{baseUrl}}}}/users/7?api_key={QUERY_KEY}",
             "auth": {"type": "apikey", "apikey": [{"key": "key", "value": "X-API-Key"}, {"key": "value", "value": "{{api-key}}"}]}}},
            {"name": "Login", "request": {"method": "POST", "url": "{{baseUrl}}/login", "header": [{"key": "Content-Type", "value": "application/json"}],
             "body": {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}}},
            {"name": "Charge", "request": {"method": "POST", "url": "{{baseUrl}}/charge",
             "auth": {"type": "basic", "basic": [{"key": "username", "value": STRIPE_KEY}, {"key": "password", "value": ""}]}}},
        ],
    }
    (project / "c.json").write_text(json.dumps(data))
    imported = run_cli("import", "postman", "c.json", "-o", "out", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = "".join(p.read_text() for p in (project / "out").glob("*.yaml"))
    assert not any(secret in text + imported.output for secret in (PASSWORD, QUERY_KEY, STRIPE_KEY, "plainkey12345"))
    env = {name: f"value-of-{name}" for name in re.findall(r"\{\{ env\.(\w+) \}\}", text)}
    ran = run_cli("run", "out", env=env)
    assert ran.exit_code == 0, ran.output
    sent = {request.path: request for request, _ in httpserver.log}
    header, query = sent["/users/7"].headers["X-API-Key"], sent["/users/7"].args["api_key"]
    assert header != query and {header, query} <= set(env.values())  # two values, two variables
    assert json.loads(sent["/login"].get_data()) == {"user": "ada", "note": "a // b", "password": env[next(n for n in env if "PASSWORD" in n)]}
    assert sent["/charge"].authorization.password == ""


def test_credentials_inside_text_bodies_become_secret_variables(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile("/.*")).respond_with_json({"ok": True})
    base = httpserver.url_for("").rstrip("/")
    bodies = {  # none parses as JSON or encodes as a form: each stays a text body
        "/json": ('{"n": {{count}}, "password": "%s", "max_tokens": 5}' % PASSWORD, "json"),
        "/xml": ("<login><user>ada</user><password>%s</password></login>" % PASSWORD, "xml"),
    }
    data = {
        "info": {"name": "Bodies", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "variable": [{"key": "count", "value": "3"}],
        "item": [{"name": path, "request": {"method": "POST", "url": base + path, "body": {"mode": "raw", "raw": raw, "options": {"raw": {"language": language}}}}} for path, (raw, language) in bodies.items()],
    }
    (project / "c.json").write_text(json.dumps(data))
    assert run_cli("import", "postman", "c.json", "-o", "out", cwd=project).exit_code == 0
    curl = run_cli("import", "curl", f"curl {base}/form -d 'password={PASSWORD}&meta[x]=1'", "-o", "out/curl.yaml", cwd=project)
    assert curl.exit_code == 0, curl.output
    text = "".join(p.read_text() for p in (project / "out").glob("*.yaml"))
    assert PASSWORD not in text + curl.output and "max_tokens\": 5" in text
    env = {name: PASSWORD for name in re.findall(r"\{\{ env\.(\w+) \}\}", text)}
    ran = run_cli("run", "out", env=env)
    assert ran.exit_code == 0, ran.output
    sent = {request.path: request.get_data(as_text=True) for request, _ in httpserver.log}
    assert sent["/json"] == bodies["/json"][0].replace("{{count}}", "3") and sent["/xml"] == bodies["/xml"][0]
    assert sent["/form"] == f"password={PASSWORD}&meta[x]=1"


def test_each_credential_is_named_after_the_host_it_goes_to(run_cli: Any, project: Path) -> None:
    lines = f"curl https://api.stripe.com/v1/charges -u {STRIPE_KEY}:\ncurl https://api.github.com/user -H 'Authorization: Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a'\n"
    (project / "cmds.sh").write_text(lines)
    imported = run_cli("import", "curl", "-f", "cmds.sh", "-o", "c.yaml", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = (project / "c.yaml").read_text()
    assert "'{{ env.STRIPE_API_KEY }}'" in text and "'{{ env.GITHUB_TOKEN }}'" in text and "ghp_" not in text


def test_har_a_put_answered_with_an_image_is_kept_and_a_base64_body_is_decoded(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/avatar", method="PUT").respond_with_data(b"png", content_type="image/png")

    def entry(method: str, path: str, post: dict[str, Any] | None) -> dict[str, Any]:
        request = {"method": method, "url": httpserver.url_for(path), "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
        response = {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [], "content": {"size": 3, "mimeType": "image/png"}, "redirectURL": "", "headersSize": -1, "bodySize": -1}
        return {"startedDateTime": "2024-01-01T00:00:00Z", "time": 1, "request": {**request, **({"postData": post} if post else {})}, "response": response, "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}

    har = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [
        entry("GET", "/logo.png", None),
        entry("PUT", "/avatar", {"mimeType": "text/plain", "text": "aGVsbG8gd29ybGQ=", "encoding": "base64"}),
    ]}}
    (project / "a.har").write_text(json.dumps(har))
    imported = run_cli("import", "har", "a.har", "-o", "a.yaml", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = (project / "a.yaml").read_text()
    assert "/logo.png" not in text and "1 static asset(s)" in text
    assert run_cli("run", "a.yaml").exit_code == 0
    (request, _), = httpserver.log
    assert request.get_data() == b"hello world"
