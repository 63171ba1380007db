"""``--jobs N``: collections run concurrently, yet print and report in plan order, each with its own variables.

The servers force the interleaving with events instead of sleeps: a collection's
handler waits until a later collection has got somewhere, so the later one
finishes first for sure; the assertions are about order and values, never time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

WAIT_S = 20  # a handler that waits longer than this answers 504: the test fails instead of hanging


def test_collections_finishing_in_reverse_print_and_report_in_plan_order(run_cli, write, project: Path, threaded_server: HTTPServer) -> None:
    count = 6
    answered = [threading.Event() for _ in range(count)]
    finished: list[int] = []

    def handler(number: int):
        def respond(request: Request) -> Response:
            # Collection i answers only after collection i+1 has been answered: they finish last to first.
            if number + 1 < count and not answered[number + 1].wait(WAIT_S):
                return Response("the next collection never arrived", status=504)
            finished.append(number)
            answered[number].set()
            return Response(json.dumps({"number": number}), content_type="application/json")

        return respond

    for number in range(count):
        threaded_server.expect_request(f"/c{number}").respond_with_handler(handler(number))
        write(
            f"suite/c{number}.yaml",
            f"name: c{number}\nbase_url: {threaded_server.url_for('')}\nrequests:\n"
            f"  - name: only request of c{number}\n    url: /c{number}\n    expect: {{status: 200, json: {{$.number: {number}}}}}\n",
        )

    result = run_cli("run", str(project / "suite"), "--jobs", str(count), "--report", "json:report.json", "--report", "junit:junit.xml", cwd=project)

    assert result.exit_code == 0, result.output
    assert finished == list(reversed(range(count)))  # they really ran at once, and ended in reverse
    lines = result.stdout.splitlines()
    titles = [index for index, line in enumerate(lines) if line.startswith(str(project / "suite"))]
    assert [lines[index].rsplit(None, 1)[-1] for index in titles] == [f"c{n}" for n in range(count)]
    for number, index in enumerate(titles):  # each title is followed by its own request, nothing in between
        assert lines[index + 1].startswith("PASS") and f"only request of c{number}" in lines[index + 1]
    document = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert [collection["name"] for collection in document["collections"]] == [f"c{n}" for n in range(count)]
    junit = (project / "junit.xml").read_text(encoding="utf-8")
    positions = [junit.index(f'name="c{n}"') for n in range(count)]
    assert positions == sorted(positions)


def test_a_capture_of_one_collection_is_undefined_in_another(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    base = httpserver.url_for("")
    write("suite/a.yaml", f"name: a\nbase_url: {base}\nrequests:\n  - name: login\n    url: /login\n    capture: {{token: $.token}}\n")
    write("suite/b.yaml", f'name: b\nbase_url: {base}\nrequests:\n  - name: use\n    url: /use\n    headers: {{X-Token: "{{{{ token }}}}"}}\n')

    result = run_cli("run", str(project / "suite"), "--jobs", "2", cwd=project)

    assert result.exit_code == 2, result.output
    assert "undefined variable 'token'" in result.stderr
    assert "b.yaml" in result.stderr
    assert httpserver.log == []  # nothing was sent


def test_collections_capturing_the_same_name_keep_their_own_value(run_cli, write, project: Path, threaded_server: HTTPServer) -> None:
    y_captured = threading.Event()
    seen: dict[str, str] = {}

    def first(name: str):
        return lambda request: Response(json.dumps({"id": f"from-{name}"}), content_type="application/json")

    def hold_x(request: Request) -> Response:
        # x goes on only once y has captured its own "id" (y's second request proves it): with one
        # shared scope, x's next request would carry y's value.
        return Response("go" if y_captured.wait(WAIT_S) else "y never captured", status=200 if y_captured.is_set() else 504)

    def second(name: str):
        def respond(request: Request) -> Response:
            seen[name] = request.args["id"]
            if name == "y":
                y_captured.set()
            return Response("ok")

        return respond

    threaded_server.expect_request("/x/first").respond_with_handler(first("x"))
    threaded_server.expect_request("/y/first").respond_with_handler(first("y"))
    threaded_server.expect_request("/x/hold").respond_with_handler(hold_x)
    threaded_server.expect_request("/x/second").respond_with_handler(second("x"))
    threaded_server.expect_request("/y/second").respond_with_handler(second("y"))
    base = threaded_server.url_for("")
    write(
        "suite/x.yaml",
        f"""name: x
base_url: {base}
requests:
  - {{name: first, url: /x/first, capture: {{id: $.id}}}}
  - {{name: hold, url: /x/hold, expect: {{status: 200}}}}
  - {{name: second, url: /x/second, params: {{id: "{{{{ id }}}}"}}}}
""",
    )
    write(
        "suite/y.yaml",
        f"""name: y
base_url: {base}
requests:
  - {{name: first, url: /y/first, capture: {{id: $.id}}}}
  - {{name: second, url: /y/second, params: {{id: "{{{{ id }}}}"}}}}
""",
    )

    result = run_cli("run", str(project / "suite"), "--jobs", "2", cwd=project)

    assert result.exit_code == 0, result.output
    assert seen == {"x": "from-x", "y": "from-y"}


def test_bail_stops_the_collections_not_yet_started(write, project: Path, threaded_server: HTTPServer) -> None:
    release = threading.Event()

    def fine_once_released(request: Request) -> Response:
        # b runs beside a and is answered only once the runner has printed a's failure (the
        # same step of its event loop sets the stop flag): the workers then start nothing more.
        return Response("fine" if release.wait(WAIT_S) else "never released", status=200 if release.is_set() else 504)

    threaded_server.expect_request("/fail").respond_with_data("no", status=500)
    threaded_server.expect_request("/ok").respond_with_handler(fine_once_released)
    base = threaded_server.url_for("")
    write("suite/a.yaml", f"name: a\nbase_url: {base}\nrequests:\n  - {{name: breaks, url: /fail, expect: {{status: 200}}}}\n")
    for name in "bcdef":
        write(f"suite/{name}.yaml", f"name: {name}\nbase_url: {base}\nrequests:\n  - {{name: fine, url: /ok}}\n")
    command = [sys.executable, "-m", "runner.cli", "run", "suite", "--jobs", "2", "--bail", "--report", "json:report.json"]

    with subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        output = ""
        while "breaks" not in output:  # a's result is printed as soon as it is in (a is first in plan order)
            line = process.stdout.readline()
            assert line, output
            output += line
        release.set()
        output += process.stdout.read()
        process.wait(timeout=WAIT_S)

    assert process.returncode == 1, output
    document = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert [collection["name"] for collection in document["collections"]] == ["a", "b"]
    assert len(threaded_server.log) == 2
    assert [line.split()[0] for line in output.splitlines() if line.endswith(("  a", "  b", "  c", "  d"))] == [
        str(Path("suite") / "a.yaml"),
        str(Path("suite") / "b.yaml"),
    ]
    assert "1 passed, 1 failed, 0 skipped" in output


def test_jobs_with_iterations_reports_every_iteration_in_order(run_cli, write, project: Path, threaded_server: HTTPServer) -> None:
    counter = iter(range(1000))
    lock = threading.Lock()

    def count(request: Request) -> Response:
        with lock:
            return Response(json.dumps({"n": next(counter)}), content_type="application/json")

    threaded_server.expect_request("/n").respond_with_handler(count)
    write("c.yaml", f"name: counted\nbase_url: {threaded_server.url_for('')}\nrequests:\n  - {{name: tick, url: /n}}\n  - {{name: tock, url: /n}}\n")

    result = run_cli("run", "c.yaml", "--jobs", "3", "--iterations", "5", "--report", "json:report.json", cwd=project)

    assert result.exit_code == 0, result.output
    titles = [line for line in result.stdout.splitlines() if "counted" in line]
    assert titles == [f"c.yaml  counted  (iteration {n})" for n in range(1, 6)]
    ticks = [line.split()[2] + " " + line.split()[3] for line in result.stdout.splitlines() if line.startswith("PASS")]
    assert ticks == [f"{name} [{n}]" for n in range(1, 6) for name in ("tick", "tock")]
    document = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert [c["iteration"] for c in document["collections"]] == [1, 2, 3, 4, 5]
    assert [[r["display_name"] for r in c["requests"]] for c in document["collections"]] == [[f"tick [{n}]", f"tock [{n}]"] for n in range(1, 6)]
