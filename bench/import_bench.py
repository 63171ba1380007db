"""Speed and memory of `runner import`.  One command, in the project's virtualenv:

    python bench/import_bench.py

  openapi   `runner import openapi` of Mistral's spec (35,000 lines, 288 operations):
            wall time and peak RSS of the whole process (target: < 3 s, < 300 MB)
  validate  `runner validate` of the collections it wrote (target: < 2 s)
  har       `runner import har` of a generated 100 MB HAR: peak RSS (flat: streamed)

Each figure is the median of three runs of a whole process, timed from outside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "data" / "interop" / "mistral-openapi.yaml"
RUNNER = [sys.executable, "-m", "runner.cli"]


def _measure(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process (a fresh wrapper, so the peak is this child's alone)."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
        "print(code, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    completed = subprocess.run([sys.executable, "-c", wrapper, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300)
    code, elapsed, peak_kb = completed.stdout.split()
    if code != "0":
        sys.exit(f"{' '.join(args)} failed with exit code {code}")
    return float(elapsed), int(peak_kb) / 1024


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def _har(path: Path, megabytes: int) -> None:
    body = json.dumps({"data": "x" * 500_000})
    entry = {"request": {"method": "GET", "url": "", "headers": [], "queryString": []}, "response": {"status": 200, "content": {"mimeType": "application/json", "text": body}}}
    with open(path, "w") as file:
        file.write('{"log": {"version": "1.2", "entries": [')
        for index in range(megabytes * 2):
            entry["request"]["url"] = f"https://shop.example.com/api/{index}"
            file.write(("," if index else "") + json.dumps(entry))
        file.write("]}}")


def main() -> None:
    """Run the three measurements and print them."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "pyproject.toml").write_text("")
        shutil.copyfile(SPEC, work / "openapi.yaml")
        runs = []
        for attempt in range(3):
            out = work / f"out{attempt}"
            runs.append(_measure([*RUNNER, "import", "openapi", "openapi.yaml", "-o", out.name], work))
        seconds, peak = _median(runs)
        print(f"openapi   import of {SPEC.name} ({sum(1 for _ in open(SPEC))} lines): {seconds:.2f} s, peak {peak:.0f} MB (target < 3 s, < 300 MB)")
        names = set()
        for path in (work / "out0").glob("*.yaml"):
            names |= set(re.findall(r"\{\{ env\.(\w+) \}\}", path.read_text()))
        env = {name: "bench-secret-value" for name in names}
        seconds, peak = _median([_measure([*RUNNER, "validate", "out0"], work, env) for _ in range(3)])
        print(f"validate  of the {len(list((work / 'out0').glob('*.yaml')))} collections written: {seconds:.2f} s, peak {peak:.0f} MB (target < 2 s)")
        _har(work / "big.har", 100)
        size = (work / "big.har").stat().st_size / 1e6
        seconds, peak = _median([_measure([*RUNNER, "import", "har", "big.har", "-o", f"har{i}.yaml"], work) for i in range(3)])
        print(f"har       import of a {size:.0f} MB HAR: {seconds:.2f} s, peak {peak:.0f} MB (streamed: flat in the file's size)")


if __name__ == "__main__":
    main()
