"""Benchmark `runner` against a raw httpx loop doing the same requests.  One command:

    python bench/bench.py      (in the project's virtualenv)

It starts nginx on a free loopback port (a generated config serving a fixed JSON
body), writes a benchmark collection (POST, bearer auth, JSON body, status and
JSON Schema checks) into a temporary folder, and measures side by side:

  sequential  marginal cost per request: (T(2000) - T(1)) / 1999, runner vs httpx.Client
  parallel    throughput of one-request collections with --jobs 8 vs httpx.AsyncClient
              with 8 workers
  start-up    a whole `runner run` of a one-request collection vs `python -c "import httpx"`
  memory      peak RSS of `runner run` at 1,000 and 10,000 requests (console, json, junit, html)

Every figure is a whole process timed from outside (median of several runs), so
both sides pay the same process costs and the marginal figures cancel them.
See bench/README.md for the targets and recorded results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw_httpx.py"
TOKEN = "bench-token-0123456789"
SECTIONS = ("sequential", "parallel", "startup", "memory")

RESPONSE = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "created": 1702256327,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Comté, aged 24 months."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 16, "completion_tokens": 8, "total_tokens": 24},
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "object", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["index", "message", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"},
                    "message": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {"role": {"enum": ["assistant"]}, "content": {"type": "string"}},
                    },
                    "finish_reason": {"enum": ["stop", "length", "tool_calls"]},
                },
            },
        },
        "usage": {
            "type": "object",
            "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
            "properties": {name: {"type": "integer", "minimum": 0} for name in ("prompt_tokens", "completion_tokens", "total_tokens")},
        },
    },
}

COLLECTION = """\
name: bench {index}
vars:
  model: mistral-small-latest
  api_key: {token}
secrets: [api_key]
base_url: "{{{{ base_url }}}}"
auth: {{bearer: "{{{{ api_key }}}}"}}
requests:
  - name: chat completion
    method: POST
    url: /v1/chat/completions
    json:
      model: "{{{{ model }}}}"
      max_tokens: 16
      messages:
        - {{role: user, content: "What is the best French cheese?"}}
    expect:
      status: 200
      schema: {schema}
"""

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port};
        location = /v1/chat/completions {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""


# -- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    """Return once something accepts connections on ``port``; fail if ``process`` died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


@dataclass
class Server:
    """A running server: its URL, its process, and what it is."""

    url: str
    process: subprocess.Popen[bytes]
    kind: str

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop the server process (only the one this script started)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(workdir: Path) -> Server | None:
    """nginx (Debian's package) in the foreground with a generated config, or None if absent."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    folder = workdir / "nginx"
    folder.mkdir()
    body = json.dumps(RESPONSE, ensure_ascii=True, separators=(",", ":"))
    for _ in range(5):
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, port=port, body=body))
        process = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, process)
        except RuntimeError:
            process.kill()
            process.wait()
            continue  # the port was taken in between: try another
        return Server(f"http://127.0.0.1:{port}", process, f"nginx ({subprocess.run([binary, '-v'], capture_output=True, text=True).stderr.strip()})")
    raise RuntimeError(f"nginx would not start; see {folder / 'error.log'}")


def start_fallback(workdir: Path) -> Server:
    """A minimal asyncio HTTP/1.1 keep-alive server in its own process (when nginx is missing)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(Path(__file__)), "--serve", str(port)], stdout=subprocess.DEVNULL)
    wait_for_port(port, process)
    return Server(f"http://127.0.0.1:{port}", process, "fallback: python asyncio server")


def serve(port: int) -> None:
    """The fallback server: answers every request with the fixed JSON body."""
    import asyncio

    body = json.dumps(RESPONSE).encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                headers = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in headers.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                writer.write(head + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- measuring ---------------------------------------------------------------------------------------


def runner_command() -> list[str]:
    """The installed ``runner`` script next to this Python, else ``python -m runner.cli``."""
    script = Path(sys.executable).with_name("runner")
    return [str(script)] if script.exists() else [sys.executable, "-m", "runner.cli"]


def run_once(command: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds of one process; it must exit 0 (every check passed)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed (exit {process.returncode}): {' '.join(command)}\n{stderr.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


@dataclass
class Row:
    """One line of the report."""

    label: str
    runner: str
    raw: str
    ratio: float | None
    target: str
    met: bool | None


def ms(seconds: float) -> str:
    """Seconds as milliseconds with 3 decimals."""
    return f"{seconds * 1000:.3f} ms"


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests for the marginal-cost runs (default 2000)")
    parser.add_argument("--collections", type=int, default=200, help="one-request collections for the parallel run (default 200)")
    parser.add_argument("--jobs", type=int, default=8, help="--jobs / concurrent workers (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing, median kept (default 3)")
    parser.add_argument("--memory", type=int, nargs=2, default=[1000, 10000], metavar=("SMALL", "LARGE"), help="request counts for peak RSS (default 1000 10000)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run (default: all of them)")
    parser.add_argument("--no-nginx", action="store_true", help="use the Python fallback server even if nginx is installed")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="runner-bench-"))
    server = None if args.no_nginx else start_nginx(workdir)
    if server is None:
        print("nginx not found: using the Python fallback server (slower; see the server CPU line)", file=sys.stderr)
        server = start_fallback(workdir)
    try:
        return measure(args, workdir, server)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class Bench:
    """The benchmark's files, server and commands; one method per section, each returning rows."""

    def __init__(self, args: argparse.Namespace, workdir: Path, server: Server):
        self.args = args
        self.server = server
        self.workdir = workdir
        (workdir / "schema.json").write_text(json.dumps(SCHEMA))
        self.one = str(workdir / "one.yaml")
        Path(self.one).write_text(COLLECTION.format(index=0, token=TOKEN, schema="schema.json"))
        self.many = workdir / "many"
        self.many.mkdir()
        for index in range(args.collections):
            (self.many / f"c{index:04d}.yaml").write_text(COLLECTION.format(index=index, token=TOKEN, schema="../schema.json"))
        self.runner = [*runner_command(), "run", "--var", f"base_url={server.url}"]
        self.raw = [sys.executable, str(RAW)]
        self.raw_args = [f"{server.url}/v1/chat/completions", TOKEN, str(workdir / "schema.json")]

    def medians(self, commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
        """Median wall seconds of each command (and CPU seconds, as "NAME cpu"), runs interleaved
        so that background load hits every command alike."""
        times: dict[str, list[float]] = {}
        for _ in range(repeat):
            for name, command in commands.items():
                wall, _, cpu = run_once(command)
                times.setdefault(name, []).append(wall)
                times.setdefault(f"{name} cpu", []).append(cpu)
        return {name: statistics.median(values) for name, values in times.items()}

    def sequential(self) -> list[Row]:
        """Marginal cost per request: (T(n) - T(1)) / (n - 1), runner --iterations vs an httpx.Client loop."""
        n = self.args.requests
        cpu_before = self.server.cpu_seconds()
        t = self.medians(
            {
                "raw 1": [*self.raw, "seq", *self.raw_args, "1"],
                "raw n": [*self.raw, "seq", *self.raw_args, str(n)],
                "run 1": [*self.runner, self.one, "--iterations", "1"],
                "run n": [*self.runner, self.one, "--iterations", str(n)],
            },
            self.args.repeat,
        )
        server_cpu = (self.server.cpu_seconds() - cpu_before) / (self.args.repeat * 2 * (n + 1))
        raw = (t["raw n"] - t["raw 1"]) / (n - 1)
        run = (t["run n"] - t["run 1"]) / (n - 1)
        run_cpu = (t["run n cpu"] - t["run 1 cpu"]) / (n - 1)
        raw_cpu = (t["raw n cpu"] - t["raw 1 cpu"]) / (n - 1)
        return [
            Row(f"sequential: cost per request ((T{n} - T1) / {n - 1})", ms(run), ms(raw), run / raw, "ratio <= 1.3", run / raw <= 1.3),
            Row("sequential: the same, CPU time (user + system)", ms(run_cpu), ms(raw_cpu), run_cpu / raw_cpu, "(information)", None),
            Row("sequential: server CPU per request (both sides)", "", ms(server_cpu), None, "(information)", None),
        ]

    def parallel(self) -> list[Row]:
        """Throughput of one-request collections with --jobs vs httpx.AsyncClient with as many workers.

        Both sides are timed at ``count`` and ``count * EXTRA`` requests; the throughput is the
        added requests over the added time, so process start-up and file loading cancel out.
        """
        extra = 10
        count, jobs = self.args.collections, str(self.args.jobs)
        t = self.medians(
            {
                "raw small": [*self.raw, "par", *self.raw_args, str(count), jobs],
                "raw large": [*self.raw, "par", *self.raw_args, str(count * extra), jobs],
                "run small": [*self.runner, str(self.many), "--jobs", jobs],
                "run large": [*self.runner, str(self.many), "--jobs", jobs, "--iterations", str(extra)],
            },
            self.args.repeat,
        )
        added = count * (extra - 1)
        raw = added / (t["raw large"] - t["raw small"])
        run = added / (t["run large"] - t["run small"])
        return [
            Row(f"parallel: throughput, --jobs {jobs} ({count} -> {count * extra} collection runs)", f"{run:.0f} req/s", f"{raw:.0f} req/s", run / raw, "ratio >= 0.8", run / raw >= 0.8),
            Row(f"parallel: whole process, {count} collections", f"{t['run small']:.3f} s", f"{t['raw small']:.3f} s", t["run small"] / t["raw small"], "(information)", None),
        ]

    def startup(self) -> list[Row]:
        """A whole `runner run` of a one-request collection vs `python -c "import httpx"`."""
        t = self.medians(
            {
                "run": [*self.runner, self.one],
                "httpx": [sys.executable, "-c", "import httpx"],
                "pass": [sys.executable, "-c", "pass"],
                "version": [*runner_command(), "--version"],
            },
            max(9, self.args.repeat),
        )
        return [
            Row("start-up: runner run (1 request) vs python -c 'import httpx'", f"{t['run']:.3f} s", f"{t['httpx']:.3f} s", t["run"] / t["httpx"], "runner <= 0.25 s", t["run"] <= 0.25),
            Row("start-up: the same, CPU time (user + system)", f"{t['run cpu']:.3f} s", f"{t['httpx cpu']:.3f} s", t["run cpu"] / t["httpx cpu"], "(information)", None),
            Row("start-up: runner --version vs python -c pass", f"{t['version']:.3f} s", f"{t['pass']:.3f} s", t["version"] / t["pass"], "(information)", None),
        ]

    def memory(self) -> list[Row]:
        """Peak RSS of `runner run --iterations N` for a small and a large N: console only, then with each streamed report, then html."""
        small, large = self.args.memory

        def peak(count: int, *extra: str) -> float:
            return max(run_once([*self.runner, self.one, "--iterations", str(count), *extra])[1] for _ in range(2)) / 1024

        rows = []
        for fmt in ("", "json", "junit", "html"):
            extra = ["--report", f"{fmt}:{self.workdir / ('report.' + fmt)}"] if fmt else []
            rss_small, rss_large = peak(small, *extra), peak(large, *extra)
            growth = rss_large / rss_small
            what = f" with --report {fmt}" if fmt else ""
            kept = fmt == "html"  # rendered at the end from every result: for information
            rows += [
                Row(f"memory: peak RSS at {small} requests{what}", f"{rss_small:.1f} MiB", "", None, "(information)" if kept else "<= 60 MiB", None if kept else rss_small <= 60),
                Row(f"memory: peak RSS at {large} requests{what}", f"{rss_large:.1f} MiB", "", growth, "(information)" if kept else f"<= 1.2x the {small} figure", None if kept else growth <= 1.2),
            ]
        return rows


def compile_runner() -> None:
    """Byte-compile the runner package, as ``pip install`` does.

    Otherwise a source file changed since its last import (or any file, with
    PYTHONDONTWRITEBYTECODE set) is compiled again in every timed process, which is
    not what a user's start-up costs.
    """
    where = subprocess.run([sys.executable, "-c", "import os, runner; print(os.path.dirname(runner.__file__))"], capture_output=True, text=True, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", where.stdout.strip()], stdout=subprocess.DEVNULL, check=True)


def machine() -> str:
    """CPU model and count, Python version: the context every figure needs."""
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "")
    except OSError:
        pass
    return f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs ({model or 'unknown model'})"


def measure(args: argparse.Namespace, workdir: Path, server: Server) -> int:
    """Run the chosen sections against ``server``, print the table; 1 when a target is missed."""
    bench = Bench(args, workdir, server)
    compile_runner()
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.2f} at start")
    print(f"server: {server.kind} at {server.url}")
    print(f"runner: {' '.join(runner_command())}")
    # Warm the page cache and the .pyc files so the first timed run is not special.
    run_once([*bench.runner, bench.one])
    run_once([*bench.raw, "seq", *bench.raw_args, "1"])
    rows: list[Row] = []
    for section in args.only.split(","):
        if section not in SECTIONS:
            raise SystemExit(f"--only: unknown section {section!r} (known: {', '.join(SECTIONS)})")
        rows += getattr(bench, section)()
    print_table(rows)
    return 0 if all(row.met is not False for row in rows) else 1


def print_table(rows: list[Row]) -> None:
    """The results, one measurement a line, with the ratio to raw httpx and the target."""
    print()
    header = ("measurement", "runner", "raw httpx", "ratio", "target", "")
    table = [header] + [
        (row.label, row.runner, row.raw, "" if row.ratio is None else f"{row.ratio:.2f}", row.target, {True: "met", False: "MISSED", None: ""}[row.met])
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
