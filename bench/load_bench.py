"""`runner load` against plain Locust on the same target: requests per second per core.  One command:

    python bench/load_bench.py [--seconds 10] [--users 4]     (in the project's virtualenv, with '.[load]')

Both sides are one Locust process (one core), headless, with no think time, sending
the same POST to the same server (nginx when installed, else bench.py's asyncio
server): `runner load` with runner's checks on (status, a JSONPath and the JSON
Schema of bench.py) against a plain `FastHttpUser` that checks the status only.  The
figure is Locust's own aggregated requests/s; the ratio is runner / plain.
See bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import SCHEMA, TOKEN, start_fallback, start_nginx  # noqa: E402

COLLECTION = """\
name: bench
base_url: "{url}"
auth: {{bearer: "{token}"}}
requests:
  - name: chat
    method: POST
    url: /v1/chat/completions
    json: {{model: mistral-small-latest, messages: [{{role: user, content: hi}}]}}
    expect:
      status: 200
      json: {{"$.object": chat.completion}}
      schema: schema.json
"""

LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def chat(self):
        body = {{"model": "mistral-small-latest", "messages": [{{"role": "user", "content": "hi"}}]}}
        with self.client.post("/v1/chat/completions", json=body, headers={{"Authorization": "Bearer {token}"}}, name="chat", catch_response=True) as response:
            if response.status_code != 200:
                response.failure("status")
"""


def aggregated(path: Path) -> tuple[float, int]:
    """Locust's aggregated requests/s and failure count from a ``*_stats.csv``."""
    with path.open(newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return float(row["Requests/s"]), int(row["Failure Count"])


def main(argv: list[str] | None = None) -> int:
    """Run both load tests and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        server = start_nginx(work) or start_fallback(work)
        try:
            (work / "pyproject.toml").write_text("")
            (work / "schema.json").write_text(json.dumps(SCHEMA))
            (work / "bench.yaml").write_text(COLLECTION.format(url=server.url, token=TOKEN))
            (work / "plain.py").write_text(LOCUSTFILE.format(token=TOKEN))
            common = ["--users", str(args.users), "--spawn-rate", str(args.users * 10), "--run-time", f"{args.seconds}s"]
            runner = [sys.executable, "-m", "runner.cli", "load", "bench.yaml", *common, "--csv", "runner"]
            plain = [sys.executable, "-m", "locust", "-f", "plain.py", "--headless", "--host", server.url, *common, "--csv", "plain", "--only-summary"]
            for command in (runner, plain):
                subprocess.run(command, cwd=work, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=args.seconds + 60)
            ours, our_failures = aggregated(work / "runner_stats.csv")
            theirs, their_failures = aggregated(work / "plain_stats.csv")
        finally:
            server.stop()
    print(f"target: {server.kind}; {args.users} users, {args.seconds} s each, one process (one core) per side")
    print(f"{'side':<40} {'req/s':>10} {'failures':>9}")
    print(f"{'runner load (status + JSONPath + schema)':<40} {ours:>10.0f} {our_failures:>9}")
    print(f"{'Locust FastHttpUser (status only)':<40} {theirs:>10.0f} {their_failures:>9}")
    print(f"ratio runner / plain: {ours / theirs:.2f}" if theirs else "plain Locust sent nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
