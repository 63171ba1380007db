"""The pytest plugin, tested by running pytest itself (pytester, in a subprocess) over real loopback mocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CAPTURES = """\
name: flow
requests:
  - name: create a thing
    method: POST
    url: /things
    tags: [smoke]
    expect: {status: 201}
    capture: {thing: "$.id"}
    example: {status: 201, json: {id: t-42}}
  - name: read the thing back
    url: "/things/{{ thing }}"
    expect:
      status: 200
      json: {"$.id": "{{ thing }}"}
    example: {status: 200, json: {id: t-42}}
"""

FAILING = """\
name: broken
requests:
  - name: wrong status
    url: /x
    expect:
      status: 201
      json: {"$.ok": false}
    example: {status: 200, json: {ok: true}}
"""


@pytest.fixture
def shipped(pytester: pytest.Pytester) -> pytest.Pytester:
    """A copy of the repository's collections and schemas in pytester's folder."""
    for folder in ("collections", "schemas"):
        shutil.copytree(REPO / folder, pytester.path / folder)
    (pytester.path / "pyproject.toml").write_text("")
    return pytester


def test_the_shipped_collections_pass_as_pytest_items(shipped: pytest.Pytester) -> None:
    result = shipped.runpytest_subprocess("collections", "--runner-mock", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=13)
    result.stdout.fnmatch_lines(["*collections/chat.yaml::single-turn chat PASSED*"])


def test_the_shipped_collections_pass_on_two_xdist_workers(shipped: pytest.Pytester) -> None:
    result = shipped.runpytest_subprocess("collections", "--runner-mock", "-p", "no:cacheprovider", "-n", "2", "-v")
    result.assert_outcomes(passed=13)
    result.stdout.fnmatch_lines(["*LoadFileScheduling*"])  # -n alone keeps each collection on one worker


def test_captures_flow_between_the_items_of_a_collection_on_xdist(pytester: pytest.Pytester) -> None:
    for number in range(4):  # several files, so the workers share them out
        pytester.makefile(".yaml", **{f"flow{number}": CAPTURES.replace("name: flow", f"name: flow {number}")})
    result = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)


def test_a_failed_item_shows_runners_failure_block_not_a_traceback(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", broken=FAILING)
    result = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "expected 201, got 200" in out
    assert "broken.yaml:3" in out  # the request's file:line
    assert "Traceback" not in out and "runtest" not in out


def test_markers_and_k_select_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", flow=CAPTURES)
    by_tag = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider", "-m", "smoke", "-W", "error::pytest.PytestUnknownMarkWarning")
    by_tag.assert_outcomes(passed=1, deselected=1)
    by_name = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider", "-k", "create")
    by_name.assert_outcomes(passed=1, deselected=1)


def test_an_invalid_collection_is_a_collection_error_with_runners_message(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", bad="name: bad\nrequests:\n  - name: x\n    url: /x\n    expect: {stauts: 200}\n")
    result = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider")
    assert result.ret == 2
    out = result.stdout.str()
    assert "bad.yaml:5" in out and "did you mean" in out
    assert "Traceback" not in out


def test_other_yaml_is_left_alone_and_collection_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", config="name: not a collection\nitems: [1, 2]\n", flow=CAPTURES)
    pytester.makefile(".yml", other="requests_total: 3\n")
    result = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider", "--co", "-q")
    result.stdout.fnmatch_lines(["flow.yaml::create a thing", "flow.yaml::read the thing back", "2 tests collected*"])
    pytester.makeini("[pytest]\nrunner_collect = false\n")
    off = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider")
    assert off.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_variables_and_environment_reach_the_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", envfile="greeting: hello\n")
    pytester.makefile(
        ".yaml",
        uses="name: uses\nrequests:\n  - name: echo\n    url: /echo\n    params: {a: '{{ greeting }}', b: '{{ who }}'}\n    expect: {status: 200}\n    example: {status: 200, json: {}}\n",
    )
    result = pytester.runpytest_subprocess("uses.yaml", "--runner-mock", "--runner-env", "envfile.yaml", "--runner-var", "who=world", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    missing = pytester.runpytest_subprocess("uses.yaml", "--runner-mock", "-p", "no:cacheprovider")
    assert missing.ret == 2 and "undefined variable 'greeting'" in missing.stdout.str()


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_a_timeout_that_is_not_positive_is_a_usage_error_before_anything_runs(value: str, pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", flow=CAPTURES)
    result = pytester.runpytest_subprocess("--runner-mock", "-p", "no:cacheprovider", f"--runner-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--runner-timeout" in result.stderr.str() and "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stdout.no_fnmatch_line("*passed*")
