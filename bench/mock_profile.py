"""The mock's CPU time per request, in-process, next to the baseline handler's: where the time goes, without sockets.

    python bench/mock_profile.py                 # microseconds of CPU per request, mock and baseline
    python bench/mock_profile.py --profile 20    # and cProfile's 20 costliest functions of the mock

Each handler reads the bench's keep-alive POST /v1/chat/completions N times from a
socket stand-in (reads from memory, writes counted) and answers it as it would over
a real socket: the same stdlib request parsing, the same routes, validation and
templating as `runner mock collections/`. CPU time of this thread, best of 7 rounds
(other processes on the machine change it less than wall time); the socket's own
cost is not in it (see mock_bench.py for that).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BODY = json.dumps({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Who is the most renowned French painter?"}], "stream": False}).encode()
REQUEST = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer bench-key\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)


class Connection:
    """What a request handler uses of a socket: reads come from ``data``, writes are counted."""

    def __init__(self, data: bytes):
        self.data, self.sent, self.last = data, 0, b""

    def settimeout(self, timeout: Any) -> None:
        """Nothing to time out."""

    def setsockopt(self, *args: Any) -> None:
        """No socket options."""

    def makefile(self, mode: str, size: int = -1) -> io.BufferedReader:
        """The requests to read."""
        return io.BufferedReader(io.BytesIO(self.data), 65536)

    def sendall(self, data: bytes) -> None:
        """Count the answer's bytes."""
        self.sent += len(data)
        self.last = data


class Baseline(BaseHTTPRequestHandler):
    """mock_bench.py's baseline handler: a fixed body."""

    protocol_version = "HTTP/1.1"
    answer = b""

    def log_message(self, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        """The fixed body."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)


def cpu_per_request(serve: Callable[[Connection], None], count: int) -> float:
    """Microseconds of this thread's CPU per request, best of 7 rounds of ``count`` requests."""
    serve(Connection(REQUEST * 5))  # warm: the validator is built on first use
    best = float("inf")
    for _ in range(7):
        connection = Connection(REQUEST * count)
        start = time.thread_time()
        serve(connection)
        best = min(best, time.thread_time() - start)
    return best / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also print cProfile's N costliest functions (by own time)")
    args = parser.parse_args()

    from runner.mock.serve import MockSettings, load_and_serve
    from runner.mock.server import MockServer, _Handler

    server = MockServer("127.0.0.1", 0)
    load_and_serve(server, MockSettings([str(REPO / "collections")]), server.start())
    try:
        serve_mock: Callable[[Connection], None] = lambda connection: _Handler(connection, ("127.0.0.1", 1), server._server)  # noqa: E731
        probe = Connection(REQUEST)
        serve_mock(probe)
        Baseline.answer = probe.last.partition(b"\r\n\r\n")[2]  # the mock's own answer, as in mock_bench.py
        mock = cpu_per_request(serve_mock, args.requests)
        baseline = cpu_per_request(lambda connection: Baseline(connection, ("127.0.0.1", 1), None), args.requests)  # type: ignore[arg-type]
        print(f"CPU per request, in-process, best of 7 x {args.requests}: mock {mock:.1f} us, baseline handler {baseline:.1f} us ({mock / baseline:.2f}x)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(serve_mock, Connection(REQUEST * args.requests))
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
