"""``runner import har``: browser exports -> requests in order, secrets hidden, static assets left out, streamed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _entry(method: str, url: str, status: int = 200, mime: str = "application/json", body: str = '{"ok": true}', headers: list[dict[str, str]] | None = None, post: dict[str, Any] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": headers or [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
    if "?" in url:
        request["queryString"] = [{"name": k, "value": v} for k, _, v in (pair.partition("=") for pair in url.split("?", 1)[1].split("&"))]
    if post:
        request["postData"] = post
    return {
        "startedDateTime": "2026-01-01T00:00:00.000Z", "time": 1, "request": request,
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [], "content": {"size": len(body), "mimeType": mime, "text": body}, "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
    }


def _har(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}


def test_requests_come_in_order_with_secrets_hidden_and_assets_left_out(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/api/login", method="POST").respond_with_json({"ok": True})
    httpserver.expect_request("/api/items").respond_with_json([{"id": 1}])
    httpserver.expect_request("/").respond_with_data("<html></html>", content_type="text/html")
    auth = [{"name": "Authorization", "value": f"Bearer {TOKEN}"}, {"name": "Cookie", "value": "sid=s3ss10nvalue99; theme=dark"}, {"name": "sec-fetch-mode", "value": "cors"}, {"name": "X-Trace", "value": "t1"}]
    har = _har([
        _entry("GET", f"{base}/", mime="text/html", body="<html></html>"),
        _entry("GET", f"{base}/static/app.js", mime="application/javascript", body="x()"),
        _entry("GET", f"{base}/logo.png", mime="image/png", body=""),
        _entry("POST", f"{base}/api/login", headers=[{"name": "Content-Type", "value": "application/json"}], post={"mimeType": "application/json", "text": json.dumps({"user": "ada", "password": "pw-123456"})}),
        _entry("GET", f"{base}/api/items?page=2&access_token={TOKEN}", headers=auth, body='[{"id": 1}]'),
    ])
    (project / "session.har").write_text(json.dumps(har))
    result = run_cli("import", "har", "session.har", "-o", "session.yaml", cwd=project)
    assert result.exit_code == 0, result.output
    text = (project / "session.yaml").read_text()
    for secret in (TOKEN, "s3ss10nvalue99", "pw-123456"):
        assert secret not in text + result.output
    assert text.index("name: GET /\n") < text.index("name: POST /api/login") < text.index("name: GET /api/items")
    assert "app.js" not in text and "logo.png" not in text and "2 static asset(s)" in text
    assert "sec-fetch-mode" not in text and "X-Trace: t1" in text
    assert "bearer: '{{ access_token }}'" in text and "access_token: '{{ access_token }}'" in text  # one value, one variable
    env = {"ACCESS_TOKEN": TOKEN, "PASSWORD": "pw-123456", "COOKIE_SID": "s3ss10nvalue99", "COOKIE_THEME": "dark"}
    assert run_cli("validate", "session.yaml", env=env).exit_code == 0
    ran = run_cli("run", "session.yaml", env=env)
    assert ran.exit_code == 0, ran.output
    _, login, items = [request for request, _ in httpserver.log]
    assert json.loads(login.get_data()) == {"user": "ada", "password": "pw-123456"}
    assert items.headers["Authorization"] == f"Bearer {TOKEN}" and items.headers["Cookie"] == "sid=s3ss10nvalue99; theme=dark"
    assert items.args["access_token"] == TOKEN and items.args["page"] == "2"
    kept = run_cli("import", "har", "session.har", "--all")
    assert kept.exit_code == 0 and "app.js" in kept.stdout and "logo.png" in kept.stdout


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "is not valid JSON"),
        ('{"log": {"entries": []}}', "has no requests under log.entries"),
        ('{"info": {}, "item": []}', "has no requests under log.entries"),
    ],
    ids=["not-json", "no-entries", "a-postman-file"],
)
def test_bad_input_is_one_clear_error_and_exit_2(text: str, message: str, run_cli: Any, project: Path) -> None:
    (project / "x.har").write_text(text)
    result = run_cli("import", "har", "x.har", "-o", "x.yaml", cwd=project)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert not (project / "x.yaml").exists()


def _peak_kb(har: Path, out: Path) -> int:
    """Peak RSS of a fresh interpreter importing ``har``."""
    code = (
        "import resource\nfrom pathlib import Path\nfrom runner.interop.har import import_har\n"
        f"import_har(Path({str(har)!r}), {str(out)!r}, False, False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return int(completed.stdout.strip())


def _write_har(path: Path, count: int) -> int:
    body = json.dumps({"data": "x" * 600_000})  # over MAX_BODY: left out of the collection
    with open(path, "w") as file:
        file.write('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [')
        for index in range(count):
            file.write(("," if index else "") + json.dumps(_entry("GET", f"https://shop.example.com/api/{index}", body=body)))
        file.write("]}}")
    return path.stat().st_size


def test_a_large_har_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    """30 MB of HAR needs about the memory of 1 MB: the peak does not grow with the file."""
    small = _write_har(tmp_path / "small.har", 1)
    big = _write_har(tmp_path / "big.har", 50)
    assert big >= 49 * small
    growth_kb = _peak_kb(tmp_path / "big.har", tmp_path / "big.yaml") - _peak_kb(tmp_path / "small.har", tmp_path / "small.yaml")
    assert growth_kb * 1024 < big / 6, f"peak grew by {growth_kb} KB for {big} more bytes"
    assert (tmp_path / "big.yaml").read_text().count("- name: GET /api/") == 50
