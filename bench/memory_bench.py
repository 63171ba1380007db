"""Peak memory of one `runner run` per hostile or large response (issue 10 item 2).

    python bench/memory_bench.py            # about 2 minutes; prints one line per case
    python bench/memory_bench.py --json     # only the JSON bodies, each shape after a json.loads baseline

Each case starts a loopback server (a thread of this process) and one `runner run`
child through a wrapper process whose RUSAGE_CHILDREN holds the child's peak RSS
alone.  Cases: compression bombs (`gzip, gzip`, `br`, `zstd`) against a 4 MiB
`max_response_bytes`; 1,000,000 tiny SSE events; one 52 MB SSE line (its time is
printed too: the parser is linear); plain JSON bodies of 16 and 48 MB in four
shapes (an array of small objects, many small numbers, one giant string, objects
nested 90 levels deep), each with a narrow JSONPath, a `$..*` or `$[*]` count,
and where it applies a filter and a selection over the budget (docs/security.md,
"Memory per response").  The baseline is an empty run (start-up).
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

MIB = 1024 * 1024
MEASURE = textwrap.dedent("""
    import resource, subprocess, sys, time
    started = time.perf_counter()
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, round(time.perf_counter() - started, 2))
""")


def serve(head: bytes, chunks: list[bytes] | None = None, repeat: int = 1) -> tuple[str, socket.socket]:
    """A loopback server answering every connection with ``head`` then ``chunks`` ``repeat`` times, then closing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def loop() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(head)
                    for _ in range(repeat):
                        for chunk in chunks or []:
                            conn.sendall(chunk)
                except OSError:
                    pass

    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def run(folder: Path, collection: str) -> tuple[int, float, float]:
    (folder / "c.yaml").write_text(collection)
    out = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "runner.cli", "run", "c.yaml"], capture_output=True, text=True, cwd=folder, timeout=600).stdout.split()
    return int(out[0]), int(out[1]) / 1024, float(out[2])


def json_shapes(size: int) -> list[tuple[str, bytes, list[tuple[str, str]]]]:
    """JSON bodies of about ``size`` bytes in the shapes the red team named, each with the ``expect`` mappings to measure."""
    item = json.dumps({"id": "x" * 20, "n": 12345, "tags": ["a", "b"], "ok": True}).encode()
    objects = b"[" + b",".join([item] * (size // (len(item) + 1))) + b"]"
    numbers = b"[" + b",".join(b"%d" % (i % 1000) for i in range(size // 4)) + b"]"
    blob = b'{"blob": "' + b"x" * size + b'", "n": 1}'
    level = b'{"a": [' * 45 + b"1" + b"]}" * 45  # 90 levels, under the 100-level rule
    nested = b"[" + b",".join([level] * (size // (len(level) + 1))) + b"]"

    def json_check(path: str, predicate: str) -> str:
        return f"{{json: {{'{path}': {predicate}}}}}"

    return [
        ("objects", objects, [
            ("$[0].id", json_check("$[0].id", "{exists: true}")),
            ("$[-1].id", json_check("$[-1].id", "{exists: true}")),
            ("$..* count", json_check("$..*", "{exists: true}")),
            ("filter", json_check("$[?@.n > 99999].id", "{exists: false}")),
            ("$[*] (over budget)", json_check("$[*]", "{contains: 1}")),
            ("schema (a tree)", "{schema: {type: array}}"),
        ]),
        ("numbers", numbers, [
            ("$[-1]", json_check("$[-1]", "{type: integer}")),
            ("$[*] length", json_check("$[*]", "{length: {gt: 0}}")),
            ("$ length", json_check("$", "{length: {gt: 0}}")),
        ]),
        ("one string", blob, [("$.n", json_check("$.n", "{eq: 1}")), ("$.blob startswith", json_check("$.blob", "{startswith: xxx}"))]),
        ("90 levels deep", nested, [("$[0]..a length", json_check("$[0]..a", "{length: {gt: 0}}")), ("$..* count", json_check("$..*", "{exists: true}"))]),
    ]


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / "pyproject.toml").write_text("")
    bomb = gzip.compress(gzip.compress(b"\0" * (512 * MIB), 1), 9)
    import brotli

    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    zeros = b"\0" * (512 * MIB)
    cases = {
        "baseline (empty body)": (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", [], 1, ""),
        "gzip, gzip bomb (512 MiB decoded, %d B wire)" % len(bomb): (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb), [bomb], 1, "max_response_bytes: 4194304"),
        "br bomb (512 MiB decoded)": (b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nConnection: close\r\n\r\n", [brotli.compress(zeros, quality=5)], 1, "max_response_bytes: 4194304"),
        "zstd bomb (512 MiB decoded)": (b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nConnection: close\r\n\r\n", [zstd.compress(zeros)], 1, "max_response_bytes: 4194304"),
        "SSE: 1,000,000 tiny events": (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n", [b"data: x\n\n" * 10_000], 100, ""),
        "SSE: one 52 MB line": (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n", [b"data: " + b"x" * (1 * MIB)], 50, "max_response_bytes: 104857600"),
    }
    del zeros
    if "--json" in sys.argv:
        cases = {"baseline (empty body)": cases["baseline (empty body)"]}
    for size in (16, 48):
        for shape, body, queries in json_shapes(size * MIB):
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            started = time.perf_counter()
            json.loads(body)  # the speed to compare with: the whole tree, in C
            cases[f"JSON {size} MB {shape}: json.loads here {time.perf_counter() - started:.2f} s"] = (b"", [], 0, "")
            for label, expect in queries:
                cases[f"JSON {size} MB {shape}, {label}"] = (head, [body], 1, f"expect: {expect}")
    for name, (head, chunks, repeat, extra) in cases.items():
        if not head:
            print(name)
            continue
        url, listener = serve(head, chunks, repeat)
        settings = f", {extra}" if extra else ""
        code, peak, seconds = run(folder, f"requests:\n  - {{name: r, url: '{url}/x'{settings}}}\n")
        listener.close()
        print(f"{name:45s} exit {code}  peak RSS {peak:7.1f} MiB  {seconds:6.2f} s")


if __name__ == "__main__":
    main()
