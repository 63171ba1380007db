"""``runner init``: a scaffold that validates and runs green against the mock; a non-empty folder is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def test_init_scaffolds_a_project_that_runs_green_against_the_mock(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("init", "api", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "api"
    for name in ("collections/example.yaml", "environments/local.yaml", "environments/production.yaml", "schemas/collection.schema.json", ".gitignore", ".env.example", ".github/workflows/api.yml"):
        assert (root / name).is_file(), name
    example = (root / "collections" / "example.yaml").read_text()
    first = example.splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/collection.schema.json"
    assert (root / "collections" / "../schemas/collection.schema.json").resolve().is_file()
    assert (root / "schemas" / "collection.schema.json").read_text() == (Path(__file__).resolve().parents[2] / "schemas" / "collection.schema.json").read_text()
    gitignore = (root / ".gitignore").read_text().split()
    assert "reports/" in gitignore and ".env" in gitignore
    workflow = yaml.safe_load((root / ".github" / "workflows" / "api.yml").read_text())
    steps = " ".join(str(step.get("run", "")) for step in workflow["jobs"]["api"]["steps"])
    assert "runner run collections/ --mock" in steps and "junit:" in steps and "github:-" in steps
    assert run_cli("validate", "collections", cwd=root).exit_code == 0
    ran = run_cli("run", "collections", "--mock")
    assert ran.exit_code == 0, ran.output
    assert run_cli("validate", "collections", "-e", "environments/local.yaml").exit_code == 0
    production = run_cli("validate", "collections", "-e", "environments/production.yaml")
    assert production.exit_code == 2 and "API_KEY" in production.stderr  # the key comes from the environment
    assert run_cli("validate", "collections", "-e", "environments/production.yaml", env={"API_KEY": "k" * 16}).exit_code == 0


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = run_cli("init", cwd=tmp_path)
    assert refused.exit_code == 2 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    forced = run_cli("init", ".", "--force")
    assert forced.exit_code == 0 and (tmp_path / "collections" / "example.yaml").exists() and (tmp_path / "notes.txt").read_text() == "mine"
