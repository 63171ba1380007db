"""--shard K/N over real loopback runs, and merge-reports joining the shards' JUnit and JSON reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(REPO / "tests/data/junit/junit-10.xsd")))
REPORT_SCHEMA = Draft202012Validator(json.loads((REPO / "schemas/report.schema.json").read_text()))

SIZES = [3, 1, 4, 1, 5, 2, 2]  # requests per collection


def _collection(number: int, size: int, failing: bool = False) -> str:
    lines = [f"name: suite {number}", "requests:"]
    for index in range(size):
        status = 201 if failing and index == 0 else 200
        lines += [f"  - name: r{number}-{index}", "    url: /ping", f"    expect: {{status: {status}}}", "    example: {status: 200, json: {ok: true}}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def suite(write: Any, project: Path) -> Path:
    for number, size in enumerate(SIZES):
        write(f"suite/c{number}.yaml", _collection(number, size))
    return project / "suite"


def _names(junit: Path) -> list[str]:
    return [case.get("name") for case in etree.parse(str(junit)).iter("testcase")]


@pytest.mark.parametrize("total", [1, 2, 3, 4, 5])
def test_shards_partition_the_requests_and_merge_into_the_unsharded_report(total: int, suite: Path, project: Path, run_cli: Any) -> None:
    whole = run_cli("run", str(suite), "--mock", "-q", "--report", f"junit:{project / 'whole.xml'}", cwd=project)
    assert whole.exit_code == 0, whole.output
    parts = []
    for index in range(1, total + 1):
        junit, report = project / f"s{index}.xml", project / f"s{index}.json"
        result = run_cli("run", "suite", "--mock", "-q", "--shard", f"{index}/{total}", "--report", f"junit:{junit}", "--report", f"json:{report}", cwd=project)
        assert result.exit_code == 0, result.output
        parts.append((junit, report))
    per_shard = [_names(junit) for junit, _ in parts]
    assert sorted(name for names in per_shard for name in names) == sorted(_names(project / "whole.xml"))  # nothing lost or run twice
    if total > 1:
        counts = [len(names) for names in per_shard]
        assert max(counts) - min(counts) <= max(SIZES)  # balanced by request count

    merged = run_cli("merge-reports", "junit", "merged.xml", *[str(j) for j, _ in parts], cwd=project)
    assert merged.exit_code == 0, merged.output
    tree = etree.parse(str(project / "merged.xml"))
    assert XSD.validate(tree), XSD.error_log
    assert tree.getroot().get("tests") == str(sum(SIZES))
    assert len(tree.getroot().findall("testsuite")) == len(SIZES)

    merged = run_cli("merge-reports", "json", "merged.json", *[str(r) for _, r in parts], cwd=project)
    assert merged.exit_code == 0, merged.output
    document = json.loads((project / "merged.json").read_text())
    REPORT_SCHEMA.validate(document)
    assert document["counts"]["total"] == document["counts"]["passed"] == sum(SIZES)
    assert document["exit_status"] == 0


def test_the_same_shard_is_chosen_whatever_the_folder_is_called(write: Any, project: Path, run_cli: Any) -> None:
    for number, size in enumerate(SIZES):
        write(f"a/c{number}.yaml", _collection(number, size))
        write(f"b/c{number}.yaml", _collection(number, size))
    first = run_cli("run", "a", "--mock", "--shard", "2/3", "--report", "junit:a.xml", cwd=project)
    second = run_cli("run", "b", "--mock", "--shard", "2/3", "--report", "junit:b.xml", cwd=project)
    assert first.exit_code == second.exit_code == 0
    assert _names(project / "a.xml") == _names(project / "b.xml")


def test_a_merged_report_keeps_failures_and_the_failing_exit_status(write: Any, project: Path, run_cli: Any) -> None:
    write("s/ok.yaml", _collection(1, 2))
    write("s/bad.yaml", _collection(2, 2, failing=True))
    for index in (1, 2):
        run_cli("run", "s", "--mock", "-q", "--shard", f"{index}/2", "--report", f"junit:p{index}.xml", "--report", f"json:p{index}.json", cwd=project)
    assert run_cli("merge-reports", "junit", "m.xml", "p1.xml", "p2.xml", cwd=project).exit_code == 0
    root = etree.parse(str(project / "m.xml")).getroot()
    assert (root.get("tests"), root.get("failures")) == ("4", "1")
    assert run_cli("merge-reports", "json", "m.json", "p1.json", "p2.json", cwd=project).exit_code == 0
    document = json.loads((project / "m.json").read_text())
    assert document["exit_status"] == 1 and document["counts"]["failed"] == 1


def test_an_empty_shard_passes_with_an_empty_report(write: Any, project: Path, run_cli: Any) -> None:
    write("one/c.yaml", _collection(1, 1))
    result = run_cli("run", "one", "--mock", "--shard", "2/2", "--report", "junit:empty.xml", cwd=project)
    assert result.exit_code == 0, result.output
    assert XSD.validate(etree.parse(str(project / "empty.xml")))
    assert _names(project / "empty.xml") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "one", "--mock", "--shard", "3/2"], "K must be between 1 and N"),
        (["run", "one", "--mock", "--shard", "half"], "expected K/N"),
        (["merge-reports", "junit", "out.xml", "missing.xml"], "no such report file: missing.xml"),
        (["merge-reports", "junit", "out.xml", "notxml.xml"], "notxml.xml is not well-formed XML"),
        (["merge-reports", "junit", "out.xml", "other.xml"], "not a JUnit report"),
        (["merge-reports", "json", "out.json", "notxml.xml"], "notxml.xml is not JSON"),
        (["merge-reports", "json", "out.json", "other.json"], "not a runner JSON report"),
        (["merge-reports", "junit", "exists.xml", "exists.xml"], "is also an input"),
        (["merge-reports", "junit", "exists.xml", "good.xml"], "exists; pass --force"),
        (["merge-reports", "junit", "out.xml", "good.xml", "./good.xml"], "./good.xml is given twice (also as good.xml)"),
    ],
    ids=["shard-past-n", "shard-words", "missing", "not-xml", "not-junit", "not-json", "not-report", "out-is-in", "no-overwrite", "input-twice"],
)
def test_bad_shards_and_bad_reports_are_usage_errors(args: list[str], message: str, write: Any, project: Path, run_cli: Any) -> None:
    write("one/c.yaml", _collection(1, 1))
    write("notxml.xml", "<testsuites")
    write("other.xml", "<html/>")
    write("other.json", '{"a": 1}')
    write("exists.xml", "keep me")
    write("good.xml", '<testsuites name="x" tests="0" failures="0" errors="0" time="0"/>')
    result = run_cli(*args, cwd=project)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert (project / "exists.xml").read_text() == "keep me"
    assert not (project / "out.xml").exists() and not (project / "out.json").exists()


def test_merge_reports_overwrites_with_force(write: Any, project: Path, run_cli: Any) -> None:
    write("one/c.yaml", _collection(1, 1))
    run_cli("run", "one", "--mock", "--report", "junit:in.xml", cwd=project)
    write("out.xml", "old")
    result = run_cli("merge-reports", "junit", "out.xml", "in.xml", "--force", cwd=project)
    assert result.exit_code == 0, result.output
    assert XSD.validate(etree.parse(str(project / "out.xml")))
