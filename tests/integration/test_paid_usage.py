"""Token usage and cost, summed from the shipped mock's JSON and streamed answers, in every report; budgets and --max-requests.

The expected numbers are read from the collections' own saved examples (what the
mock serves), never written here: the body's ``usage``, or the last event with one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from runner.loader import load_collection

REPO = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(REPO / "tests/data/junit/junit-10.xsd")))
REPORT_SCHEMA = json.loads((REPO / "schemas/report.schema.json").read_text())
SHIPPED = ["chat.yaml", "chat-stream.yaml", "embeddings.yaml"]
PRICES = {"test-chat": (2.0, 6.0), "test-embed": (0.1, 0.0)}  # per million tokens: input, output


def example_usage(file: str) -> dict[str, tuple[int, int]]:
    """Request name -> (input, output) tokens its saved example reports."""
    from runner.examples import example_body, example_scope, render_example, sample_request
    from runner.templating import Templates

    out = {}
    collection = load_collection(REPO / "collections" / file)
    templates = Templates(environ={})
    for spec in collection.requests:
        assert spec.example is not None
        values = dict(collection.vars)  # a templated example (embeddings) answers the collection's own request
        example = render_example(spec.example, templates, example_scope(sample_request(spec, values, templates), values))
        documents = list(reversed(example.events)) if example.events is not None else [json.loads(example_body(example)[0])]
        usage = next(doc["usage"] for doc in documents if isinstance(doc, dict) and doc.get("usage"))
        out[spec.name] = (usage["prompt_tokens"], usage.get("completion_tokens", 0))
    return out


@pytest.fixture
def priced_env(tmp_path: Path) -> Path:
    models = "\n".join(f"    {name}: {{input: {price[0]}, output: {price[1]}}}" for name, price in PRICES.items())
    path = tmp_path / "priced.yaml"
    path.write_text(f"model: test-chat\nembed_model: test-embed\npricing:\n  currency: EUR\n  models:\n{models}\n", encoding="utf-8")
    return path


def test_usage_and_cost_of_the_mock_answers_in_every_report(run_cli: Any, priced_env: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    reports = {kind: tmp_path / f"report.{kind}" for kind in ("json", "junit", "markdown", "html")}
    args = [item for kind, path in reports.items() for item in ("--report", f"{kind}:{path}")]
    result = run_cli("run", *(f"collections/{name}" for name in SHIPPED), "--mock", "-e", str(priced_env), "--no-color", *args, "--report", f"github:{tmp_path / 'annotations.txt'}", cwd=REPO, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0, result.output

    expected = {name: tokens for file in SHIPPED for name, tokens in example_usage(file).items()}
    model_of = {name: "test-embed" if "embed" in name else "test-chat" for name in expected}
    document = json.loads(reports["json"].read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    seen = {}
    for collection in document["collections"]:
        for request in collection["requests"]:
            usage = request["usage"]
            seen[request["name"]] = (usage["input_tokens"], usage["output_tokens"])
            price = PRICES[model_of[request["name"]]]
            assert usage["model"] == model_of[request["name"]] and usage["currency"] == "EUR"
            assert usage["cost"] == pytest.approx((usage["input_tokens"] * price[0] + usage["output_tokens"] * price[1]) / 1e6)
    assert seen == expected  # streamed (last chunk with usage) and JSON answers alike

    totals = {entry["model"]: entry for entry in document["usage"]}
    for model, price in PRICES.items():
        names = [name for name in expected if model_of[name] == model]
        tokens_in, tokens_out = sum(expected[n][0] for n in names), sum(expected[n][1] for n in names)
        assert (totals[model]["requests"], totals[model]["input_tokens"], totals[model]["output_tokens"]) == (len(names), tokens_in, tokens_out)
        assert totals[model]["cost"] == pytest.approx((tokens_in * price[0] + tokens_out * price[1]) / 1e6)
        assert f"usage: {model}  {len(names)} request" in result.stdout  # the console summary, per model
    assert document["cost"]["total"] == pytest.approx(sum(entry["cost"] for entry in document["usage"]))
    assert document["stopped"] is None

    first_name = next(iter(expected))
    line = next(text for text in result.stdout.splitlines() if f"  {first_name}  " in text)
    assert f"{expected[first_name][0]}/{expected[first_name][1]} tokens, " in line and "EUR" in line

    junit = etree.parse(str(reports["junit"]))
    XSD.assertValid(junit)
    properties = {prop.get("name"): prop.get("value") for prop in junit.iter("property")}
    chat_in = sum(expected[name][0] for name in example_usage("chat.yaml"))
    assert properties["usage.test-chat.input_tokens"] in {str(chat_in), str(sum(expected[n][0] for n in example_usage("chat-stream.yaml")))}
    assert "usage.test-embed.cost" in properties

    markdown = reports["markdown"].read_text()
    assert "#### Usage" in markdown and "| `test-embed` | 1 |" in markdown
    assert "#### Usage" in summary.read_text()  # the GitHub job summary carries it too
    html = reports["html"].read_text()
    assert f"{expected[first_name][0]}/{expected[first_name][1]} tokens" in html and "usage: test-chat" in html


def test_without_a_price_table_usage_is_shown_and_cost_is_not(run_cli: Any, tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    result = run_cli("run", "collections/chat-stream.yaml", "--mock", "--no-color", "--report", f"json:{report}", cwd=REPO)
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["cost"] is None
    assert all(request["usage"]["cost"] is None and request["usage"]["currency"] is None for request in document["collections"][0]["requests"])
    assert "tokens" in result.stdout and "EUR" not in result.stdout and "USD" not in result.stdout


def test_a_model_missing_from_the_table_has_usage_and_an_unknown_cost(run_cli: Any, tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text("pricing: {currency: USD, models: {some-other-model: {input: 1, output: 1}}}\n", encoding="utf-8")
    report = tmp_path / "run.json"
    result = run_cli("run", "collections/embeddings.yaml", "--mock", "-e", str(env), "--no-color", "--report", f"json:{report}", cwd=REPO)
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["usage"][0]["cost"] is None and document["cost"]["unpriced_models"] == ["mistral-embed"]
    assert "cost unknown" in result.stdout


BUDGET_COLLECTION = """name: budgeted
requests:
{requests}
"""
REQUEST = """  - name: r{number}
    method: POST
    url: /v1/chat/completions
    json: {{model: {model}, max_tokens: {cap}, messages: [{{role: user, content: hi}}]}}
    expect: {{status: 200}}
    example:
      json: {{model: {model}, usage: {{prompt_tokens: 3, completion_tokens: {used}}}}}
"""


def budget_files(write: Any, count: int = 5, cap: int = 10, used: int = 4, model: str = "m", pricing: str = "{currency: EUR, models: {m: {input: 0, output: 1000000}}}") -> tuple[Path, Path]:
    requests = "".join(REQUEST.format(number=n, model=model, cap=cap, used=used) for n in range(1, count + 1))
    collection = write("budget.yaml", BUDGET_COLLECTION.format(requests=requests.rstrip("\n")))
    env = write("env.yaml", f"pricing: {pricing}\n")
    return collection, env


def outcomes(report: Path) -> list[tuple[str, str]]:
    document = json.loads(report.read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    return [(request["name"], request["outcome"]) for collection in document["collections"] for request in collection["requests"]]


def test_the_budget_stops_before_the_request_that_could_overspend(run_cli: Any, write: Any, project: Path) -> None:
    # one output token costs 1 EUR: each request may cost 10 (max_tokens) and costs 4 (its usage)
    collection, env = budget_files(write)
    result = run_cli("run", str(collection), "--mock", "-e", str(env), "--budget", "20", "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 1, result.output
    # 4 + 4 + 4 = 12 spent; the 4th may bring it to 22 > 20: it is not sent, nor anything after it
    assert outcomes(project / "run.json") == [("r1", "passed"), ("r2", "passed"), ("r3", "passed"), ("r4", "skipped"), ("r5", "skipped")]
    last = result.stdout.strip().splitlines()[-1]
    assert last == "stopped: budget 20 EUR reached: request 'r4' may cost up to 10 EUR, and 12 EUR is spent"
    document = json.loads((project / "run.json").read_text())
    assert document["exit_status"] == 1 and document["stopped"] == last.removeprefix("stopped: ")
    assert document["cost"]["total"] == 12
    skipped = document["collections"][0]["requests"][3]
    assert skipped["skip_reason"] == f"not sent: {document['stopped']}"


def test_jobs_share_one_budget(run_cli: Any, write: Any, project: Path) -> None:
    # five collections of one request each, three at a time: a request in flight holds its worst case (10),
    # a request that would not fit beside it waits for it to finish, so the run ends where a sequential one does
    for number in range(1, 6):
        write(f"suite/c{number}.yaml", BUDGET_COLLECTION.format(requests=REQUEST.format(number=number, model="m", cap=10, used=4).rstrip("\n")))
    env = write("env.yaml", "pricing: {currency: EUR, models: {m: {input: 0, output: 1000000}}}\n")
    result = run_cli("run", str(project / "suite"), "--mock", "-e", str(env), "--budget", "20", "--jobs", "3", "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 1, result.output
    found = [outcome for _, outcome in outcomes(project / "run.json")]
    assert sorted(found) == ["passed"] * 3 + ["skipped"] * 2
    document = json.loads((project / "run.json").read_text())
    assert document["cost"]["total"] == 12 and "may cost up to 10 EUR, and 12 EUR is spent" in document["stopped"]


def test_the_input_estimate_counts_in_the_worst_case(run_cli: Any, write: Any, project: Path) -> None:
    collection, env = budget_files(write, count=2, cap=1, used=1, pricing="{currency: EUR, models: {m: {input: 1000000, output: 0}}}")
    body_bytes = len(json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}, ensure_ascii=False).encode())
    estimate = -(-body_bytes // 4)
    # the first request fits exactly; the second would need its estimate again, on top of the 3 input tokens the first used
    result = run_cli("run", str(collection), "--mock", "-e", str(env), "--budget", str(estimate + 2), "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 1, result.output
    assert outcomes(project / "run.json") == [("r1", "passed"), ("r2", "skipped")]
    assert f"may cost up to {estimate} EUR, and 3 EUR is spent" in result.stdout


def test_an_unpriced_model_or_an_unbounded_request_is_not_sent_under_a_budget(run_cli: Any, write: Any, project: Path) -> None:
    collection, env = budget_files(write, count=2, model="unpriced")
    result = run_cli("run", str(collection), "--mock", "-e", str(env), "--budget", "100", "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 1
    assert outcomes(project / "run.json") == [("r1", "skipped"), ("r2", "skipped")]
    assert "no price for model 'unpriced'" in result.stdout


def test_max_requests_caps_what_is_sent(run_cli: Any, write: Any, project: Path) -> None:
    collection, _ = budget_files(write, count=4)
    result = run_cli("run", str(collection), "--mock", "--max-requests", "2", "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 1
    assert outcomes(project / "run.json") == [("r1", "passed"), ("r2", "passed"), ("r3", "skipped"), ("r4", "skipped")]
    assert result.stdout.strip().splitlines()[-1] == "stopped: --max-requests 2 reached"


def test_a_budget_without_a_price_table_is_a_usage_error(run_cli: Any, write: Any, project: Path) -> None:
    collection, _ = budget_files(write)
    result = run_cli("run", str(collection), "--mock", "--budget", "1", cwd=project)
    assert result.exit_code == 2
    assert "--budget needs a price table" in result.stderr


@pytest.mark.parametrize(
    ("file", "text", "message", "line"),
    [
        ("env.yaml", "pricing: {currency: EUR, models: {m: {input: cheap}}}\n", "pricing.models.m.input", 1),
        ("env.yaml", "model: m\nrate: fast\n", "rate", 2),
        ("budget.yaml", "name: x\nrate: 5 per second\nrequests: [{name: a, url: http://127.0.0.1:9/}]\n", "rate", 2),
        ("budget.yaml", "name: x\nusage: {input: '$.usage[?'}\nrequests: [{name: a, url: http://127.0.0.1:9/}]\n", "invalid JSONPath", 2),
    ],
    ids=["env-price-not-a-number", "env-rate", "collection-rate", "usage-jsonpath"],
)
def test_bad_paid_settings_are_input_errors_naming_file_and_line(run_cli: Any, write: Any, project: Path, file: str, text: str, message: str, line: int) -> None:
    write("budget.yaml", "name: x\nrequests: [{name: a, url: http://127.0.0.1:9/}]\n")
    write(file, text)
    env = ["-e", str(project / "env.yaml")] if file == "env.yaml" else []
    result = run_cli("run", str(project / "budget.yaml"), *env, cwd=project)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and f"{file}:{line}" in result.stderr
    assert "Traceback" not in result.output


def test_max_requests_stop_is_an_annotation_on_github(run_cli: Any, write: Any, project: Path) -> None:
    collection, _ = budget_files(write, count=2)
    result = run_cli("run", str(collection), "--mock", "--max-requests", "1", "--report", "github:annotations.txt", cwd=project)
    assert result.exit_code == 1
    assert "::error title=runner stopped::--max-requests 1 reached" in (project / "annotations.txt").read_text()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--rate", "fast"], "", "--rate 'fast': not a rate (a rate is COUNT/UNIT: 5/s, 60/m"),
        (["--budget", "1"], "", "--budget needs a price table"),
    ],
    ids=["bad-rate", "budget-without-prices"],
)
def test_bad_paid_options_are_usage_errors_and_nothing_is_sent(run_cli: Any, write: Any, project: Path, threaded_server: Any, args: list[str], env: str, message: str) -> None:
    path = write("one.yaml", f"name: one\nrequests: [{{name: a, url: '{threaded_server.url_for('/a')}', json: {{model: m}}}}]\n")
    result = run_cli("run", str(path), *args, cwd=project)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(threaded_server.log) == 0  # nothing sent


def test_a_budget_over_tables_in_two_currencies_is_a_usage_error(run_cli: Any, write: Any, project: Path) -> None:
    write("suite/a.yaml", "name: a\npricing: {currency: EUR, models: {m: {input: 1}}}\nrequests: [{name: a, url: 'http://127.0.0.1:9/'}]\n")
    write("suite/b.yaml", "name: b\npricing: {currency: USD, models: {m: {input: 1}}}\nrequests: [{name: b, url: 'http://127.0.0.1:9/'}]\n")
    result = run_cli("run", str(project / "suite"), "--budget", "1", cwd=project)
    assert result.exit_code == 2
    assert "the price tables use EUR, USD" in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--budget", "nan"), ("--budget", "inf"), ("--timeout", "nan"), ("--timeout", "1e400")])
def test_a_budget_or_timeout_that_is_not_a_finite_number_is_a_usage_error(option: str, value: str, run_cli: Any, write: Any, project: Path) -> None:
    collection, env = budget_files(write)
    result = run_cli("run", str(collection), "--mock", "-e", str(env), option, value, "--report", "json:run.json", cwd=project)
    assert result.exit_code == 2 and result.exception is None
    assert f"'{value}' is not a finite number" in result.stderr
    assert not (project / "run.json").exists()  # nothing ran
