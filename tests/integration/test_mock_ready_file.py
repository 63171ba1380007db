"""``runner mock --ready-file PATH``: written once the routes are served, removed on a clean stop, never overwritten by surprise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 30) -> dict:
    """The ready file's JSON, polled every 20 ms for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate(timeout=5)[1]
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        time.sleep(0.02)
    raise AssertionError(f"no {path} after {seconds} s")


def test_the_ready_file_gives_the_url_and_goes_away_on_ctrl_c(tmp_path: Path) -> None:
    ready = tmp_path / "state" / "mock.json"  # its folder is created
    command = [sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", "0", "--ready-file", str(ready)]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stderr=subprocess.PIPE, text=True)
    try:
        info = _wait_for(ready, process)
        assert info["pid"] == process.pid
        assert info["health"] == info["url"] + "/__runner/health"
        health = httpx.get(info["health"], timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ready"
        assert httpx.get(info["url"] + "/v1/models", headers={"Authorization": "Bearer k"}, timeout=10).status_code == 200
        assert [p.name for p in ready.parent.iterdir()] == ["mock.json"]  # the temporary file was renamed, not left
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "mock: stopped" in stderr
    assert not ready.exists()


def test_an_existing_ready_file_is_refused_without_force(tmp_path: Path) -> None:
    ready = tmp_path / "mock.json"
    ready.write_text("left by a killed mock\n")
    command = [sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", "0", "--ready-file", str(ready)]
    refused = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert f"{ready} exists: refusing to overwrite the file (pass --force to replace it)" in refused.stderr
    assert "serving" not in refused.stderr and "Traceback" not in refused.stderr
    assert ready.read_text() == "left by a killed mock\n"

    process = subprocess.Popen([*command, "--force"], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while ready.read_text() == "left by a killed mock\n" and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        assert info["pid"] == process.pid
        assert httpx.get(info["health"], timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert not ready.exists()


def test_a_folder_is_not_a_ready_file(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", "0", "--ready-file", str(tmp_path), "--force"]
    refused = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert f"--ready-file {tmp_path} is a folder: give a file name" in refused.stderr


def test_no_ready_file_when_nothing_can_be_served(tmp_path: Path) -> None:
    ready = tmp_path / "mock.json"
    command = [sys.executable, "-m", "runner.cli", "mock", str(tmp_path / "missing.yaml"), "--port", "0", "--ready-file", str(ready)]
    failed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert not ready.exists()


def test_a_ready_file_that_cannot_be_written_is_refused_before_serving(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    ready = tmp_path / "a-file" / "mock.json"  # its folder cannot be made: a file holds the name
    command = [sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", "0", "--ready-file", str(ready)]
    refused = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert f"mock: cannot write --ready-file {ready}" in refused.stderr
    assert "serving" not in refused.stderr and "internal error" not in refused.stderr and "Traceback" not in refused.stderr
    assert (tmp_path / "a-file").read_text() == "not a folder\n"
