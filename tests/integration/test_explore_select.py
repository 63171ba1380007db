"""``--request NAME`` (exact names, spaces and all) and quoted phrases in ``-k``, over loopback."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer


def _collection(write: Any, server: HTTPServer) -> Any:
    return write(
        "c.yaml",
        f"""name: select
base_url: {server.url_for('')}
requests:
  - name: make a uuid
    url: /uuid
    capture: {{id: "$.uuid"}}
  - name: use the uuid
    url: "/things/{{{{ id }}}}"
  - name: use the uuid again
    url: "/things/{{{{ id }}}}"
    tags: [smoke]
""",
    )


def test_request_selects_exact_names_spaces_and_all(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/uuid").respond_with_json({"uuid": "u-1"})
    httpserver.expect_request("/things/u-1").respond_with_json({"ok": True})
    path = _collection(write, httpserver)
    result = run_cli("run", str(path), "--request", "make a uuid", "--request", "use the uuid")
    assert result.exit_code == 0, result.output
    assert "use the uuid " in result.stdout and "use the uuid again" not in result.stdout  # exact: not a substring match
    assert [request.path for request, _ in httpserver.log] == ["/uuid", "/things/u-1"]


def test_k_accepts_quoted_phrases(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/uuid").respond_with_json({"uuid": "u-1"})
    httpserver.expect_request("/things/u-1").respond_with_json({"ok": True})
    path = _collection(write, httpserver)
    result = run_cli("run", str(path), "-k", '"make a uuid" or smoke')
    assert result.exit_code == 0, result.output
    assert [request.path for request, _ in httpserver.log] == ["/uuid", "/things/u-1"]
    assert "use the uuid again" in result.stdout


def test_an_unknown_name_exits_2_with_did_you_mean_and_sends_nothing(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    path = _collection(write, httpserver)
    result = run_cli("run", str(path), "--request", "use the uid")
    assert result.exit_code == 2
    assert result.stderr.strip() == "--request 'use the uid' matches no request; did you mean 'use the uuid' or 'use the uuid again'?"
    assert httpserver.log == []


@pytest.mark.parametrize("expression", ['"" or smoke', "smoke and not ''"], ids=["empty-or", "not-empty"])
def test_an_empty_phrase_exits_2_and_sends_nothing(run_cli: Any, write: Any, httpserver: HTTPServer, expression: str) -> None:
    path = _collection(write, httpserver)
    result = run_cli("run", str(path), "-k", expression)
    assert result.exit_code == 2
    assert "is empty; put a word between the quotes" in result.stderr
    assert httpserver.log == []


def test_a_request_left_out_that_captures_is_named_in_the_hint(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    path = _collection(write, httpserver)
    result = run_cli("run", str(path), "--request", "use the uuid")
    assert result.exit_code == 2
    assert "'id' is captured by 'make a uuid', which the selection (-k, --request) leaves out: select it too" in result.stderr
    assert httpserver.log == []
