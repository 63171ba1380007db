"""A ``.env`` file in the working folder feeds ``env`` in templates; the process environment wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer


def test_dotenv_values_reach_templates_and_the_process_environment_wins(run_cli: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/check").respond_with_data("ok")
    (project / ".env").write_text("# local secrets\nAPI_TOKEN=from-dotenv-0123456789\nexport REGION='eu-west'\nSHADOWED=from-file\n")
    (project / "c.yaml").write_text(
        "vars:\n  token: '{{ env.API_TOKEN }}'\nsecrets: [token]\nrequests:\n"
        f"  - name: check\n    url: {httpserver.url_for('/check')}\n"
        "    headers: {X-Token: '{{ token }}', X-Region: '{{ env.REGION }}', X-Shadowed: '{{ env.SHADOWED }}'}\n"
    )
    result = run_cli("run", "c.yaml", "-v", cwd=project, env={"SHADOWED": "from-process"})
    assert result.exit_code == 0, result.output
    (request, _), = httpserver.log
    assert request.headers["X-Token"] == "from-dotenv-0123456789" and request.headers["X-Region"] == "eu-west"
    assert request.headers["X-Shadowed"] == "from-process"
    assert "from-dotenv-0123456789" not in result.output  # a secret from .env is masked like any other


def test_without_dotenv_a_missing_variable_is_still_an_error(run_cli: Any, project: Path) -> None:
    (project / "c.yaml").write_text("requests:\n  - name: a\n    url: 'http://127.0.0.1:9/{{ env.NOPE }}'\n")
    result = run_cli("validate", "c.yaml", cwd=project)
    assert result.exit_code == 2 and "NOPE" in result.stderr
