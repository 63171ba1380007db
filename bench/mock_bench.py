"""Benchmark `runner mock` against a minimal ThreadingHTTPServer answering a fixed body.  One command:

    python bench/mock_bench.py      (in the project's virtualenv; needs `wrk`: apt-get install wrk)

Both servers run as their own processes on free loopback ports and are driven by
`wrk` with the same POST /v1/chat/completions (bearer key, JSON body), on 1 and
16 connections; runs are interleaved (baseline, mock, baseline, mock, ...) and
the median is kept. The baseline answers the chat example's bytes with no
routing, validation or templating; the mock serves `collections/` as shipped:
route ranking, request validation against the spec's ChatCompletionRequest, and
a templated example (model echoed). Peak RSS is each server's VmHWM after its
load. Start-up is the time from process start to the first answer of
/__runner/health, for `collections/`, Mistral's spec (209 paths) and a generated
spec of 200 paths. Exit 1 when a target is missed (see bench/README.md). With
--vary, every request's prompt is new, so no validation verdict is reused.

With --prism BIN (Stoplight Prism: `npm install @stoplight/prism-cli@5`, BIN is
node_modules/.bin/prism), Prism and `runner mock` each serve Mistral's spec (less
the operation whose dangling $ref Prism refuses) and are driven alike; the
targets are at least 10x Prism's requests/s and at most a third of its memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BODY = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Who is the most renowned French painter?"}], "stream": False}

BASELINE = r'''
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
BODY = open(sys.argv[2], "rb").read()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else the body waits for the delayed ACK of the headers (40 ms)
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
    do_GET = do_POST
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            httpx.get(url, timeout=5)
            return time.perf_counter() - start
        except httpx.TransportError:
            time.sleep(0.005)
    raise SystemExit(f"no answer from {url}")


def start(command: list[str], port: int, health: str = "/__runner/health") -> tuple[subprocess.Popen[bytes], float]:
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}{health}")
    return process, time.perf_counter() - began


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(port: int, connections: int, seconds: int, script: Path) -> tuple[float, int]:
    """Requests per second and the count of non-2xx answers."""
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}/v1/chat/completions"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def spec_of(paths: int) -> dict[str, object]:
    """An OpenAPI 3.1 document of ``paths`` paths, each a GET with a schema and an example and a POST with a request body."""
    item = {"type": "object", "required": ["id", "items"], "properties": {"id": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}
    doc: dict[str, object] = {"openapi": "3.1.0", "info": {"title": "bench", "version": "1"}, "components": {"schemas": {"Item": {"type": "object", "properties": {"n": {"type": "integer"}, "name": {"type": "string"}}}}, "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}}, "security": [{"key": []}], "paths": {}}
    for index in range(paths):
        doc["paths"][f"/v1/things{index}/{{id}}"] = {  # type: ignore[index]
            "get": {"operationId": f"get{index}", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": item, "example": {"id": "a", "items": [{"n": 1, "name": "x"}]}}}}}},
            "post": {"operationId": f"post{index}", "requestBody": {"content": {"application/json": {"schema": item}}}, "responses": {"201": {"description": "made", "content": {"application/json": {"schema": item}}}}},
        }
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prism", metavar="BIN", help="also compare with Stoplight Prism serving Mistral's spec (path of its prism executable)")
    parser.add_argument("--vary", action="store_true", help="a different prompt in every request (each body validated anew, no cached verdict)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mock-bench-"))
    script = tmp / "post.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(BODY))}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer bench-key"\n')
    if args.vary:  # the prompt ends with a counter: "... painter? 12345"
        head, tail = json.dumps(BODY).split('?"', 1)
        script.write_text(script.read_text() + f'counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, nil, nil, {json.dumps(head + "? ")} .. counter .. {json.dumps(chr(34) + tail)})\nend\n')

    mock_port, base_port = free_port(), free_port()
    mock, mock_start = start([sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", str(mock_port)], mock_port)
    answer = httpx.post(f"http://127.0.0.1:{mock_port}/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer bench-key"})
    assert answer.status_code == 200 and answer.json()["model"] == BODY["model"], answer.text
    fixed = tmp / "body.json"
    fixed.write_bytes(answer.content)  # the baseline answers the very same bytes
    baseline, _ = start([sys.executable, "-c", BASELINE, str(base_port), str(fixed)], base_port, "/")
    results: dict[tuple[str, int], list[float]] = {}
    bad = 0
    try:
        for connections in (1, 16):
            for _ in range(args.repeat):
                for name, port in (("baseline", base_port), ("mock", mock_port)):
                    rps, errors = wrk(port, connections, args.seconds, script)
                    results.setdefault((name, connections), []).append(rps)
                    bad += errors if name == "mock" else 0
        rss = {"baseline": peak_rss_mib(baseline.pid), "mock": peak_rss_mib(mock.pid)}
    finally:
        for process in (mock, baseline):
            process.terminate()
            process.wait(timeout=30)

    starts = {"collections/": mock_start}
    spec = tmp / "spec200.json"
    spec.write_text(json.dumps(spec_of(200)))
    for label, path in (("Mistral spec (209 paths, 1 MB YAML)", REPO / "tests/data/interop/mistral-openapi.yaml"), ("generated spec, 200 paths (JSON)", spec)):
        times = []
        for _ in range(3):
            port = free_port()
            process, took = start([sys.executable, "-m", "runner.cli", "mock", str(path), "--port", str(port)], port)
            process.terminate()
            process.wait(timeout=30)
            times.append(took)
        starts[label] = statistics.median(times)

    print(f"POST /v1/chat/completions{' (a new prompt each time)' if args.vary else ''}, wrk, {args.seconds} s a run, median of {args.repeat} (interleaved)")
    print(f"{'':12} {'1 connection':>14} {'16 connections':>16} {'peak RSS':>10}")
    for name in ("baseline", "mock"):
        one, many = (statistics.median(results[(name, c)]) for c in (1, 16))
        print(f"{name:12} {one:>10.0f} r/s {many:>12.0f} r/s {rss[name]:>7.1f} MiB")
    ratios = {c: statistics.median(results[("baseline", c)]) / statistics.median(results[("mock", c)]) for c in (1, 16)}
    print(f"baseline / mock: {ratios[1]:.2f}x on 1 connection, {ratios[16]:.2f}x on 16 (target: at most 2x); mock non-2xx answers: {bad}")
    for label, took in starts.items():
        print(f"start-up to the first health answer, {label}: {took:.2f} s")
    if args.prism:
        missed_prism = compare_with_prism(args.prism, tmp, script, args.seconds, args.repeat)
    else:
        missed_prism = []
    missed = missed_prism + [f"{c} connections: {ratios[c]:.2f}x" for c in (1, 16) if ratios[c] > 2] + (["non-2xx answers"] if bad else [])
    missed += [f"start-up of the 200-path spec {starts['generated spec, 200 paths (JSON)']:.2f} s > 1 s"] if starts["generated spec, 200 paths (JSON)"] > 1 else []
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    return 0


def compare_with_prism(prism: str, tmp: Path, script: Path, seconds: int, repeat: int) -> list[str]:
    """Prism and `runner mock` serving the same spec, interleaved; print both and return the missed targets."""
    import yaml

    document = yaml.safe_load((REPO / "tests/data/interop/mistral-openapi.yaml").read_text(encoding="utf-8"))
    document["paths"].pop("/v1/audio/speech", None)  # Prism refuses the whole document over this operation's dangling $ref
    spec = tmp / "mistral.json"
    spec.write_text(json.dumps(document))
    ports = {"prism": free_port(), "runner mock": free_port()}
    commands = {"prism": [prism, "mock", "-h", "127.0.0.1", "-p", str(ports["prism"]), str(spec)], "runner mock": [sys.executable, "-m", "runner.cli", "mock", str(spec), "--port", str(ports["runner mock"])]}
    servers = {name: start(command, ports[name], "/v1/models")[0] for name, command in commands.items()}
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for connections in (1, 16):
            for _ in range(repeat):
                for name, port in ports.items():
                    results.setdefault((name, connections), []).append(wrk(port, connections, seconds, script)[0])
        rss = {name: peak_rss_mib(process.pid) for name, process in servers.items()}
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)
    print(f"Mistral's spec served by each, same requests, median of {repeat}")
    for name in ports:
        one, many = (statistics.median(results[(name, c)]) for c in (1, 16))
        print(f"{name:12} {one:>10.0f} r/s {many:>12.0f} r/s {rss[name]:>7.1f} MiB")
    speed = {c: statistics.median(results[("runner mock", c)]) / statistics.median(results[("prism", c)]) for c in (1, 16)}
    memory = rss["runner mock"] / rss["prism"]
    print(f"runner mock / prism: {speed[1]:.1f}x requests/s on 1 connection, {speed[16]:.1f}x on 16 (target: at least 10x); memory {memory:.2f} (target: at most 0.33)")
    return [f"{speed[c]:.1f}x Prism on {c} connections" for c in (1, 16) if speed[c] < 10] + ([f"memory {memory:.2f} of Prism's"] if memory > 1 / 3 else [])


if __name__ == "__main__":
    sys.exit(main())
