"""Output to a pipe: a reader that leaves early (`| head`) stops the run quietly."""

from __future__ import annotations

import subprocess
import sys

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_closed_pipe_is_not_an_internal_error(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from runner.cli import main; main()", "run", "collections/", "--mock", "--iterations", "20"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    with process.stderr:
        stderr = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert first.startswith(b"collections/")
    assert "internal error" not in stderr and "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert code == 1
