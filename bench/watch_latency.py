"""How soon ``runner run --watch`` starts again after a save (the target: within 300 ms).

    python bench/watch_latency.py [--saves 20]

A loopback server answers one request; a ``runner run --watch`` process watches
the collection.  Each round saves the file (the way editors do: a temporary file
renamed over it) and measures the time from the rename to the process's
``[watch] change seen`` line, which it prints just before the run starts.  Then
one burst of five writes checks that it gives one run.  Exits 1 when the median
or the worst latency misses the target, or the burst gave more than one run.
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_MS = 300.0


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _save(path: Path, text: str) -> float:
    temp = path.with_name("." + path.name + ".tmp")
    temp.write_text(text)
    os.replace(temp, path)
    return time.perf_counter()


def _read_until(process: subprocess.Popen[str], text: str) -> tuple[float, str]:
    assert process.stdout is not None
    seen = ""
    while True:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"the watch process ended:\n{seen}")
        seen += line
        if text in line:
            return time.perf_counter(), seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    with tempfile.TemporaryDirectory() as folder:
        collection = Path(folder) / "watched.yaml"
        template = f"name: watched\nbase_url: {url}\nrequests:\n  - name: ping\n    url: /ping\n    expect: {{status: 200}}\n# save N\n"
        collection.write_text(template.replace('N', '0'))
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-c", "from runner.cli import main; main()", "run", str(collection), "--watch"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            _read_until(process, "[watch] watching")
            latencies = []
            for number in range(1, args.saves + 1):
                time.sleep(0.4)  # let the watcher settle: a save right after a run is another case (the stat check)
                saved = _save(collection, template.replace('N', str(number)))
                seen, _ = _read_until(process, "[watch] change seen")
                latencies.append((seen - saved) * 1000)
                _read_until(process, "[watch] watching")
            time.sleep(0.4)
            for number in range(5):  # an editor's burst: five writes in a row
                _save(collection, template.replace("N", f"burst {number}"))
            _, burst = _read_until(process, "[watch] watching")
            time.sleep(1.0)
            _save(collection, template.replace("N", "after the burst"))
            _, after = _read_until(process, "[watch] watching")
            runs_for_burst = burst.count("change seen") + after.count("change seen") - 1
        finally:
            process.terminate()
            process.wait(timeout=10)
            server.shutdown()
    median, worst = statistics.median(latencies), max(latencies)
    print(f"save -> re-run: median {median:.0f} ms, worst {worst:.0f} ms over {len(latencies)} saves (target {TARGET_MS:.0f} ms)")
    print(f"a burst of 5 writes gave {runs_for_burst} run(s) (target 1)")
    return 0 if median <= TARGET_MS and worst <= TARGET_MS and runs_for_burst == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
