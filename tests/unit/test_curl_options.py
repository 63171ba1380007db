"""``runner import curl``: parsing curl's options, warnings, secrets, and bad input (nothing sent here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.interop.shell import split_commands


@pytest.mark.parametrize(
    "text, words",
    [
        ("curl -H 'A: b c' x", [["curl", "-H", "A: b c", "x"]]),
        ('curl -H "Authorization: Bearer $KEY" x', [["curl", "-H", "Authorization: Bearer {{ env.KEY }}", "x"]]),
        ("curl -H 'Authorization: Bearer $KEY' x", [["curl", "-H", "Authorization: Bearer $KEY", "x"]]),
        ("curl ${HOST}/a \\\n  -d x", [["curl", "{{ env.HOST }}/a", "-d", "x"]]),
        ("curl a\ncurl b # comment\n# curl c", [["curl", "a"], ["curl", "b"]]),
        ("curl a | jq .", [["curl", "a"]]),
        ("curl $'a\\tb\\x41' \"q\\\"q\"", [["curl", "a\tbA", 'q"q']]),
        ("curl a; curl b && curl c", [["curl", "a"], ["curl", "b"], ["curl", "c"]]),
    ],
    ids=["single-quotes", "env-in-double-quotes", "no-env-in-single-quotes", "braces-and-continuation", "lines-and-comments", "pipe", "ansi-c-quotes", "separators"],
)
def test_commands_split_as_a_shell_does(text: str, words: list[list[str]]) -> None:
    assert [command.words for command in split_commands(text)] == words


@pytest.mark.parametrize(
    "line, message",
    [
        ("curl -H 'Accept: x https://a", "line 1: a single quote (') opened here is never closed"),
        ('curl https://a \\\n -d "{\\"a\\": 1}\n', 'line 2: a double quote (") opened here is never closed'),
        ("wget https://a", "expected a curl command, found 'wget'"),
        ("curl -X", "option -X needs a value"),
        ("curl -s -v", "the curl command has no URL"),
        ("curl -H NoColon https://a", "header 'NoColon' has no ':'"),
        ("curl -d @missing.json https://a", "cannot read missing.json"),
        ("curl -F f=@missing.bin https://a", "names the file missing.bin, which does not exist"),
        ("", "no curl command found"),
    ],
    ids=["unbalanced-single", "unbalanced-double", "not-curl", "missing-value", "no-url", "bad-header", "missing-data-file", "missing-form-file", "empty"],
)
def test_bad_input_is_one_clear_error_and_exit_2(line: str, message: str, run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("import", "curl", line, "-o", "out.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_unknown_options_are_listed_in_a_warning_and_in_the_file(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("import", "curl", "curl --proxy http://p:3128 --http2 -s -o out.json https://a.example/x", cwd=tmp_path)
    assert result.exit_code == 0
    assert "not converted (no runner equivalent): --proxy http://p:3128, --http2" in result.stderr
    assert "# warning:" in result.stdout and "--http2" in result.stdout
    assert "# Ignored (they change only curl's output, not the request): -s -o out.json" in result.stdout


def test_secrets_become_environment_variables_with_a_note(run_cli: Any, tmp_path: Path) -> None:
    token, password = "sk-abcdefghijklmnopqrstuvwxyz012345", "hunter2hunter2"
    line = f"curl https://api.mistral.ai/v1/models -H 'Authorization: Bearer {token}' -u me:{password} -H 'X-Session: zz9' -d 'client_secret=abc&n=1'"
    result = run_cli("import", "curl", line, cwd=tmp_path)
    assert result.exit_code == 0
    for value in (token, password, "zz9", "abc&"):
        assert value not in result.output
    assert "export MISTRAL_TOKEN=..." in result.stderr and "export MISTRAL_PASSWORD=..." in result.stderr
    assert "token: '{{ env.MISTRAL_TOKEN }}'" in result.stdout and "- token" in result.stdout
    assert "client_secret: '{{ client_secret }}'" in result.stdout


def test_commands_come_from_a_file_or_stdin_and_land_in_one_collection(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "calls.sh").write_text("curl https://a.example/one\n\ncurl -X POST \\\n  https://a.example/two -d x=1\ncurl https://other.example/three\n")
    from_file = run_cli("import", "curl", "-f", "calls.sh", "-o", "calls.yaml", cwd=tmp_path)
    assert from_file.exit_code == 0, from_file.output
    text = (tmp_path / "calls.yaml").read_text()
    assert "url: /one" in text and "url: /two" in text and "url: https://other.example/three" in text
    assert "name: POST /two" in text
    assert run_cli("validate", "calls.yaml").exit_code == 0


def test_an_existing_output_is_refused_without_force(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "out.yaml").write_text("keep me")
    refused = run_cli("import", "curl", "curl https://a.example/", "-o", "out.yaml", cwd=tmp_path)
    assert refused.exit_code == 2 and "exists" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "out.yaml").read_text() == "keep me"
    forced = run_cli("import", "curl", "curl https://a.example/", "-o", "out.yaml", "--force")
    assert forced.exit_code == 0 and "url: /" in (tmp_path / "out.yaml").read_text()


def test_credentials_in_unconverted_options_and_url_userinfo_never_show(run_cli: Any, tmp_path: Path) -> None:
    line = "curl https://ada:s3cr3t-pass@api.example.com/x -U proxyuser:pr0xy-pass --proxy http://u:pr0xy2-pass@p:3128 -H 'X-Token: t0ken-value-1'"
    result = run_cli("import", "curl", line, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    for secret in ("s3cr3t-pass", "pr0xy-pass", "pr0xy2-pass", "t0ken-value-1"):
        assert secret not in result.output
    assert "-U ****" in result.stderr and "--proxy http://u:****@p:3128" in result.stderr
    assert "username: ada" in result.stdout and "url: /x" in result.stdout


def test_a_command_comes_from_stdin(run_cli: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runner.cli import main

    result = CliRunner().invoke(main, ["import", "curl", "-"], input="curl -X DELETE https://a.example/items/1\n")
    assert result.exit_code == 0 and "method: DELETE" in result.stdout and "url: /items/1" in result.stdout


def test_literal_template_delimiters_in_a_curl_line_are_sent_as_they_are(run_cli: Any, tmp_path: Path) -> None:
    line = "curl https://a.example/t -H \"X-Tpl: {{name}} {%x%} $USER\" --data-raw 'text with {{braces}}' -H 'Content-Type: text/plain'"
    result = run_cli("import", "curl", line, "-o", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    from runner.loader import load_collection
    from runner.templating import Templates

    spec = load_collection(tmp_path / "t.yaml")
    templates = Templates({"USER": "ada"})
    (request,) = spec.requests
    assert templates.render(request.headers["X-Tpl"], {}) == "{{name}} {%x%} ada"
    assert templates.render(request.body.value, {}) == "text with {{braces}}"


@pytest.mark.parametrize("form", ["x=\"sk-live-0123456789abcdefXYZ;type=x", "x=1;type=sk-live-0123456789abcdefXYZ"], ids=["in-the-value", "in-the-type"])
def test_a_form_error_shows_no_token(form: str, run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("import", "curl", f"curl -F '{form}' https://api.example.com/up", "-o", "out.yaml", cwd=tmp_path)
    assert result.exit_code == 2 and "is not TYPE/SUBTYPE" in result.stderr
    assert "0123456789ab" not in result.output and "****" in result.stderr
    assert not (tmp_path / "out.yaml").exists()
