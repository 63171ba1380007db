"""A captured mapping whose key is a secret (a server echoing the key as a name) is masked in every report."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

KEY = f"sk-CANARY-{uuid.uuid4().hex}"


def test_a_secret_as_a_key_of_a_captured_mapping_is_masked_in_every_report(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/echo").respond_with_json({"obj": {KEY: f"owner of {KEY}"}, "list": [{KEY: 1}]})
    path = write("keys.yaml", f"""
name: keys
base_url: {httpserver.url_for('')}
secrets: [api_key]
requests:
  - name: echo
    url: /echo
    expect: {{status: 500}}
    capture:
      obj: {{json: "$.obj"}}
      items: {{json: "$.list"}}
""")
    reports = {fmt: project / f"report.{fmt}" for fmt in ("json", "junit", "html", "markdown", "github")}
    result = run_cli("run", str(path), "-v", *(f"--report={fmt}:{report}" for fmt, report in reports.items()), "--var", f"api_key={KEY}")
    assert result.exit_code == 1, result.output
    captures = json.loads(reports["json"].read_text(encoding="utf-8"))["collections"][0]["requests"][0]["captures"]
    assert captures == {"obj": {"****": "owner of ****"}, "items": [{"****": 1}]}  # the report stays valid JSON, its shape kept
    for channel, text in [("console", result.output), *((fmt, report.read_text(encoding="utf-8")) for fmt, report in reports.items())]:
        assert KEY not in text and KEY[:12] not in text and KEY[-12:] not in text, channel
