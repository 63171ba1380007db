"""A multipart upload may not read a file outside the project unless --allow-outside-files is given."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer


def _collection(write, server: HTTPServer, file: str) -> Path:
    return write("c.yaml", f"""
name: uploads
base_url: {server.url_for('')}
vars: {{outside: "{file}"}}
requests:
  - name: literal path
    method: POST
    url: /upload
    multipart: {{doc: {{file: "{file}"}}}}
""")


def test_upload_outside_the_project_is_refused_before_sending(run_cli, write, project: Path, httpserver: HTTPServer, tmp_path_factory) -> None:
    secret_file = tmp_path_factory.mktemp("elsewhere") / "id_rsa"
    secret_file.write_text("PRIVATE KEY")
    httpserver.expect_request("/upload").respond_with_data("ok")
    path = _collection(write, httpserver, str(secret_file))
    result = run_cli("run", str(path))
    assert result.exit_code == 2
    assert "is outside the project folder" in result.stderr and "--allow-outside-files" in result.stderr
    assert len(httpserver.log) == 0
    allowed = run_cli("run", str(path), "--allow-outside-files")
    assert allowed.exit_code == 0, allowed.output
    assert b"PRIVATE KEY" in httpserver.log[0][0].get_data()


def test_templated_upload_path_is_checked_when_sent(run_cli, write, project: Path, httpserver: HTTPServer, tmp_path_factory) -> None:
    secret_file = tmp_path_factory.mktemp("elsewhere") / "token.txt"
    secret_file.write_text("TOKEN")
    httpserver.expect_request("/upload").respond_with_data("ok")
    path = write("c.yaml", f"""
name: uploads
base_url: {httpserver.url_for('')}
vars: {{target: "{secret_file}"}}
requests:
  - name: templated path
    method: POST
    url: /upload
    multipart: {{doc: {{file: "{{{{ target }}}}"}}}}
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "outside the project folder" in result.stdout
    assert len(httpserver.log) == 0


def test_upload_inside_the_project_is_sent(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    write("data/file.txt", "inside")
    httpserver.expect_request("/upload").respond_with_data("ok")
    result = run_cli("run", str(_collection(write, httpserver, "data/file.txt")))
    assert result.exit_code == 0, result.output
    assert b"inside" in httpserver.log[0][0].get_data()
