"""A server that echoes part of a key (its first or last characters) does not get that part shown.

APIs answer a wrong key with "Incorrect API key provided: sk-abcd1234****wxyz": twelve
characters or more of a secret of sixteen or more are masked wherever they appear
(docs/security.md, "Part of a secret").
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

KEY = f"sk-proj-{uuid.uuid4().hex}"


def wrong_key(request: Request) -> Response:
    """OpenAI's answer to a wrong key: its first 12 characters and its last 4, in the body and a header."""
    key = request.headers.get("Authorization", "").removeprefix("Bearer ")
    message = f"Incorrect API key provided: {key[:12]}{'*' * 10}{key[-4:]}. You can find your API key at https://example.invalid."
    response = Response(json.dumps({"error": {"message": message, "code": "invalid_api_key"}}), status=401, content_type="application/json")
    response.headers["X-Key-Tail"] = key[-14:]
    return response


@pytest.mark.parametrize("flags", [[], ["-v"]], ids=["plain", "verbose"])
def test_the_part_of_a_key_a_server_echoes_is_masked_everywhere(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer, flags: list[str]) -> None:
    httpserver.expect_request("/v1/models").respond_with_handler(wrong_key)
    path = write("models.yaml", f"""
name: models
base_url: {httpserver.url_for('')}
secrets: [api_key]
requests:
  - name: list models
    url: /v1/models
    auth: {{bearer: "{{{{ api_key }}}}"}}
    expect:
      status: 200
      body: {{contains: "{{{{ api_key }}}}"}}
""")
    reports = {fmt: project / f"report.{fmt}" for fmt in ("json", "junit", "html", "markdown")}
    result = run_cli("run", str(path), *flags, *(f"--report={fmt}:{report}" for fmt, report in reports.items()), "--var", f"api_key={KEY}")
    assert result.exit_code == 1, result.output
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"  # sent whole
    assert "Incorrect API key provided: ****" in result.output  # the server's message, its key part masked
    for channel, text in [("console", result.output), *((fmt, report.read_text(encoding="utf-8")) for fmt, report in reports.items())]:
        assert KEY[:12] not in text and KEY[-14:] not in text, channel
