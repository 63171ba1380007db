"""Generated commands, word by word: shell quoting, environment references, masking (``runner.codegen``)."""

from __future__ import annotations

import ast
import shlex
import subprocess

import pytest

from runner.codegen import format_command
from runner.codegen.words import EnvRef, Secrets, py_expr, sh_quote
from runner.errors import UsageError
from runner.redact import Redactor
from runner.render import RenderedRequest

KEY = "sk-unit-0123456789"


def secrets(monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> Secrets:
    redactor = Redactor()
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
        redactor.add(value)
    for value in extra:
        redactor.add(value)
    return Secrets(redactor)


@pytest.mark.parametrize(
    "word",
    [["plain"], ["it's"], ["a!b", EnvRef("HOME")], ['"$(id)`id`\\', EnvRef("HOME"), "x"], [EnvRef("HOME"), "_glued"], ["", EnvRef("HOME")]],
    ids=["plain", "quote", "bang", "escapes", "glued", "empty-literal"],
)
def test_a_shell_word_expands_to_the_value_with_only_the_references_read(word: list[object]) -> None:
    expected = "".join("/home/test" if isinstance(piece, EnvRef) else str(piece) for piece in word)
    done = subprocess.run(["sh", "-c", f"printf %s {sh_quote(word)}"], env={"HOME": "/home/test", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=10)
    assert done.stdout == expected


def test_a_literal_word_is_shlex_quoted() -> None:
    assert sh_quote(["it's $x"]) == shlex.quote("it's $x")


def test_a_python_expression_is_literals_and_environment_reads() -> None:
    expression = py_expr(["a'\"\\\n", EnvRef("KEY"), "b"])
    assert ast.literal_eval(expression.split(" + ")[0]) == "a'\"\\\n"
    assert "os.environ['KEY']" in expression


def test_a_secret_held_by_an_environment_variable_becomes_a_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    words = secrets(monkeypatch, {"API_KEY": KEY})
    assert words.split(f"a{KEY}b") == ["a", EnvRef("API_KEY"), "b"]
    assert words.header("Authorization", f"Bearer {KEY}") == ["Bearer ", EnvRef("API_KEY")]
    assert words.used == {"API_KEY"}


def test_a_credential_header_with_more_than_a_scheme_and_references_is_masked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    words = secrets(monkeypatch, {"API_KEY": KEY})
    assert words.header("Authorization", f"Bearer {KEY} other-token") == ["Bearer ****"]
    assert words.header("Cookie", "sid=abc") == ["****"]


def test_a_secret_not_in_the_environment_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    words = secrets(monkeypatch, extra=(KEY,))
    assert words.split(f"x{KEY}") == ["x****"]


def test_an_escaped_form_of_an_environment_secret_is_masked_not_referenced(monkeypatch: pytest.MonkeyPatch) -> None:
    quoted = 'sk-"quoted"-secret'
    words = secrets(monkeypatch, {"API_KEY": quoted})
    request = RenderedRequest("POST", "http://127.0.0.1:9/", content=b'{"k": "sk-\\"quoted\\"-secret"}', headers=[("Content-Type", "application/json")])
    text = format_command(request, words.redactor, "curl")
    assert '"k": "****"' in text and "quoted" not in text


def test_a_url_that_starts_with_a_dash_is_given_to_curl_as_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    request = RenderedRequest("GET", "-o/tmp/x")
    assert " --url -o/tmp/x" in format_command(request, Redactor(), "curl")


def test_a_url_with_brackets_turns_curl_globbing_off() -> None:
    request = RenderedRequest("GET", "http://[::1]:9/a{b,c}")
    assert " -g " in format_command(request, Redactor(), "curl")


def test_a_body_with_a_nul_byte_is_piped_by_printf() -> None:
    request = RenderedRequest("POST", "http://127.0.0.1:9/", content=b"a\x00'%\\b")
    text = format_command(request, Redactor(), "curl")
    assert text.startswith("printf ") and "--data-binary @-" in text
    printf = text.split(" | ")[0]
    done = subprocess.run(["sh", "-c", printf], capture_output=True, timeout=10)
    assert done.stdout == b"a\x00'%\\b"


@pytest.mark.parametrize("value", ["a\\:b", "a\\=b", "end\\"], ids=["colon", "equals", "trailing"])
def test_httpie_refuses_a_backslash_it_would_misread(value: str) -> None:
    request = RenderedRequest("GET", "http://127.0.0.1:9/", headers=[("X-A", value)])
    with pytest.raises(UsageError, match="use --format curl"):
        format_command(request, Redactor(), "httpie")


def test_httpie_escapes_separators_so_a_header_never_reads_a_file() -> None:
    request = RenderedRequest("GET", "http://127.0.0.1:9/", headers=[("X-A", "@/etc/passwd"), ("X-B", "=@/etc/passwd")])
    text = format_command(request, Redactor(), "httpie")
    assert "'X-A:\\@/etc/passwd'" in text and "'X-B:\\=\\@/etc/passwd'" in text
