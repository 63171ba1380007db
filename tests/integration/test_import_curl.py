"""``runner import curl``: the imported collection sends what curl sends.

The oracle is the real ``curl`` binary: both send to the same loopback capture
server (pytest-httpserver), and the two recorded requests are compared on method,
target (path and query, byte for byte), the headers that matter and the body.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

CURL = shutil.which("curl")
# What each client adds by itself, or says differently without changing the request.
_TRANSPORT = {"host", "connection", "content-length", "accept-encoding", "expect", "transfer-encoding"}
SECRET = "sk-test-0123456789abcdefghijklmn"


def _recorded(server: HTTPServer) -> list[dict[str, Any]]:
    out = []
    for request, _ in server.log:
        out.append(
            {
                "method": request.method,
                "target": request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI"),
                "headers": {name.lower(): value for name, value in request.headers.items()},
                "body": request.get_data(),
            }
        )
    return out


def _parts(content_type: str, body: bytes) -> list[tuple[str, str | None, str | None, bytes]]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    return [
        (part.get_param("name", header="content-disposition"), part.get_filename(), part.get_content_type() if part.get("content-type") else None, part.get_payload(decode=True))
        for part in message.iter_parts()
    ]


def _same_request(curl: dict[str, Any], ours: dict[str, Any]) -> None:
    assert ours["method"] == curl["method"]
    assert ours["target"] == curl["target"]
    for name, value in curl["headers"].items():
        if name in _TRANSPORT or (name == "user-agent" and value.startswith("curl/")) or (name == "accept" and value == "*/*"):
            continue
        if name == "content-type" and value.startswith("multipart/"):
            assert ours["headers"][name].split(";")[0] == "multipart/form-data"
            continue
        assert ours["headers"].get(name) == value, name
    media = curl["headers"].get("content-type", "")
    if media.startswith("multipart/"):
        # httpx sends text fields before files: the same parts, maybe in another order (docs/import.md)
        assert sorted(_parts(ours["headers"]["content-type"], ours["body"])) == sorted(_parts(media, curl["body"]))
    elif "json" in media and curl["body"]:
        assert json.loads(ours["body"]) == json.loads(curl["body"])
    else:
        assert ours["body"] == curl["body"]


# Each case: a curl line ({url} is the capture server), and files it reads.
CASES = {
    "json-body-with-header": ("curl -sS {url}/v1/chat/completions -H 'Content-Type: application/json' -H \"Authorization: Bearer $API_KEY\" -d '{{\"model\": \"m\", \"n\": 2, \"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}]}}'", {}),
    "json-option": ("curl --json '{{\"a\": [1, 2, null], \"b\": \"é\"}}' {url}/j", {}),
    "form-data": ("curl -d a=1 -d b=two {url}/form", {}),
    "form-not-reencodable": ("curl -d 'q=hello world&x=1+2' {url}/raw", {}),
    "urlencode-variants": ("curl --data-urlencode 'name=a b&c=d/é' --data-urlencode '=only value' --data-urlencode 'f@note.txt' --data-urlencode plain~text {url}/enc", {"note.txt": "line one\nline two & more"}),
    "get-with-data": ("curl -G -d 'limit=5' --data-urlencode 'q=a b' '{url}/search?x=1#top'", {}),
    "url-query": ("curl --url-query 'page=2' --url-query 'q=a b*' --url-query '+raw=a%20b' '{url}/search?x=1'", {}),
    "multipart": ("curl -F title='My file' -F 'doc=@data.json;type=application/json' -F 'pic=@pic.bin;filename=photo.png' -F 'text=<body.txt' {url}/upload", {"data.json": '{"k": 1}', "pic.bin": "\x00\x01binary", "body.txt": "from a file"}),
    "multipart-part-types": ("curl -F 'meta={{\"a\":1}};type=application/json' -F 'q=\"quoted;value\";type=text/plain' -F 'named=hello;filename=h.txt' -F 'both=x;type=text/csv;filename=y.csv' -F 'md=<note.md;type=text/markdown' -F 'cs=v; type=text/plain; charset=utf-8' -F 'cut=a;b' --form-string 'raw=x;type=text/csv' {url}/upload", {"note.md": "# title"}),
    "multipart-secret-filename": (f"curl -F 'x=hi;type=text/plain;filename={SECRET}' -F 'doc=@data.json;filename={SECRET}' {{url}}/upload", {"data.json": '{"k": 1}'}),
    "multipart-typed-text-only": ("curl -F 'meta={{\"a\":1}};type=application/json' -F plain=1 {url}/upload", {}),
    "basic-auth": ("curl -u 'bob:pa ss:word' {url}/private", {}),
    "oauth2-bearer": (f"curl --oauth2-bearer {SECRET} -X DELETE {{url}}/items/7", {}),
    "cookie-agent-referer": ("curl -b 'session=abcdef0123456789; theme=dark' -A 'MyAgent/1.0' -e https://example.com/page {url}/c", {}),
    "data-files": ("curl -X PUT --data-binary @two-lines.txt -H 'Content-Type: text/plain' {url}/put && curl -d @two-lines.txt {url}/stripped", {"two-lines.txt": "first\nsecond\n"}),
    "head": ("curl -I {url}/h", {}),
    "api-key-in-query-and-header": (f"curl '{{url}}/q?api_key={SECRET}&lang=en' -H 'X-Api-Key: {SECRET}'", {}),
    "continuations-and-ansi-quotes": ("curl \\\n  -X PATCH \\\n  -H $'X-Note: tab\\there' \\\n  --data-raw '@not-a-file' \\\n  {url}/p", {}),
    "short-clusters": ("curl -sSLXPOST -HX-One:1 -dk=v {url}/cluster", {}),
}


@pytest.mark.skipif(CURL is None, reason="needs the curl binary")  # apt-get install curl
@pytest.mark.parametrize("line, files", CASES.values(), ids=CASES.keys())
def test_the_imported_collection_sends_what_curl_sends(line: str, files: dict[str, str], run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_data("ok")
    for name, text in files.items():
        (project / name).write_bytes(text.encode("utf-8"))
    line = line.format(url=httpserver.url_for("").rstrip("/"))
    env = {"API_KEY": SECRET, "PATH": "/usr/bin:/bin"}
    for command in line.split(" && "):
        subprocess.run(["bash", "-c", command + " -o /dev/null -s"], cwd=project, env=env, check=True, timeout=20)
    sent_by_curl = _recorded(httpserver)
    httpserver.clear_log()

    imported = run_cli("import", "curl", line, "-o", "collections/imported.yaml", cwd=project)
    assert imported.exit_code == 0, imported.output
    text = (project / "collections" / "imported.yaml").read_text()
    assert SECRET not in text and "pa ss:word" not in text and "abcdef0123456789" not in text
    assert run_cli("validate", "collections", env=_secret_env(text)).exit_code == 0
    ran = run_cli("run", "collections", env=_secret_env(text))
    assert ran.exit_code == 0, ran.output
    sent_by_us = _recorded(httpserver)
    assert len(sent_by_us) == len(sent_by_curl) >= 1
    for curl, ours in zip(sent_by_curl, sent_by_us):
        _same_request(curl, ours)


def _secret_env(collection: str) -> dict[str, str]:
    """The environment variables the import asked for, set to the values curl sent."""
    values = {"password": "pa ss:word", "cookie_session": "abcdef0123456789", "cookie_theme": "dark"}
    env = {}
    for variable, name in re.findall(r"^  (\w+): '\{\{ env\.(\w+) \}\}'$", collection, re.MULTILINE):
        env[name] = values.get(variable, SECRET)
    return env
