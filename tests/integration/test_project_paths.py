"""Issue 10 item 9: certificates and report paths keep to the project folder, as schemas and uploads do.

The project folder is the nearest folder above the collection holding ``.git`` or
``pyproject.toml`` (the ``project`` fixture has one); outside any, the parent of
the collection's folder.  ``validate`` and ``run -v`` say which folder it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the project, holding a PEM-looking file."""
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
    return folder


TLS_KEYS = {
    "verify": "verify: {path}",
    "client_cert": "client_cert: {path}",
    "client_cert-pair": "client_cert: {{cert: {path}, key: {path}}}",
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("key", list(TLS_KEYS), ids=list(TLS_KEYS))
def test_a_certificate_outside_the_project_is_refused(run_cli: Any, write: Any, project: Path, outside: Path, httpserver: HTTPServer, key: str, command: str) -> None:
    line = TLS_KEYS[key].format(path=outside / "ca.pem")
    path = write("c.yaml", f"{line}\nrequests:\n  - {{name: a, url: '{httpserver.url_for('/x')}'}}\n")
    result = run_cli(command, str(path))
    assert result.exit_code == 2, result.output
    assert f"is outside the project folder {project.resolve()}" in result.stderr and "c.yaml:1:" in result.stderr
    assert len(httpserver.log) == 0
    allowed = run_cli(command, str(path), "--allow-outside-files")
    assert "outside the project folder" not in allowed.output  # then the file itself is checked (not a usable PEM)


def test_a_certificate_symlinked_out_of_the_project_is_refused(run_cli: Any, write: Any, project: Path, outside: Path) -> None:
    (project / "certs").symlink_to(outside, target_is_directory=True)
    path = write("c.yaml", "verify: certs/ca.pem\nrequests:\n  - {name: a, url: 'http://127.0.0.1:9/x'}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "verify:" in result.stderr and "outside the project folder" in result.stderr, result.output


def test_a_report_path_symlinked_out_of_the_project_is_refused(run_cli: Any, write: Any, project: Path, outside: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    (project / "reports").symlink_to(outside, target_is_directory=True)
    (project / "out.xml").symlink_to(outside / "linked.xml")
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}'}}\n")
    for target in ("reports/junit.xml", "out.xml"):
        result = run_cli("run", str(path), "--report", f"junit:{target}", cwd=project)
        assert result.exit_code == 2, result.output
        assert "leads outside the project folder" in result.stderr and "through a symbolic link" in result.stderr
    assert len(httpserver.log) == 0 and not (outside / "junit.xml").exists() and not (outside / "linked.xml").exists()
    allowed = run_cli("run", str(path), "--report", "junit:reports/junit.xml", "--allow-outside-files", cwd=project)
    assert allowed.exit_code == 0, allowed.output
    assert (outside / "junit.xml").exists()


def test_a_report_path_given_outside_the_project_is_the_users_choice(run_cli: Any, write: Any, project: Path, outside: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}'}}\n")
    result = run_cli("run", str(path), "--report", f"json:{outside / 'r.json'}", cwd=project)
    assert result.exit_code == 0, result.output
    assert (outside / "r.json").exists()


def test_validate_and_verbose_runs_name_the_project_folder(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    path = write("sub/c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}'}}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 0 and f"project folder: {project.resolve()} (it holds pyproject.toml)" in result.stdout, result.output
    result = run_cli("run", str(path), "-v")
    assert result.exit_code == 0 and f"project folder: {project.resolve()} (it holds pyproject.toml)" in result.stdout, result.output


def test_outside_any_repository_the_project_folder_is_the_parent_of_the_collections_folder(run_cli: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    bare = tmp_path_factory.mktemp("bare")
    (bare / "api").mkdir()
    path = bare / "api" / "c.yaml"
    path.write_text("requests:\n  - {name: a, url: 'http://127.0.0.1:9/x'}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 0, result.output
    assert f"project folder: {bare.resolve()} (no .git or pyproject.toml above the collection" in result.stdout
