"""Paid APIs, pure parts: rates, rate-limit headers, the pacer's slots, usage paths, worst cases, money."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from runner.llm.ratelimit import HostPacer, read_limits
from runner.llm.settings import UsageSpec, parse_pricing, parse_rate, parse_usage
from runner.llm.usage import estimate_input_tokens, max_output_tokens, response_usage, usage_of
from runner.reports.document import format_money, usage_lines, usage_text
from runner.streaming import Event


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("5/s", 5, 1), ("60/m", 60, 60), ("1000/h", 1000, 3600), ("100/10s", 100, 10), (" 2.5 / min ", 2.5, 60), ("1/second", 1, 1)],
    ids=["per-second", "per-minute", "per-hour", "per-10s", "spaces-and-decimals", "long-unit"],
)
def test_rates_parse(text: str, count: float, seconds: float) -> None:
    rate = parse_rate(text)
    assert rate is not None and (rate.count, rate.seconds) == (count, seconds)
    assert rate.interval == pytest.approx(seconds / count)


@pytest.mark.parametrize("text", ["5", "5/x", "0/s", "/s", "five/s", "5/0s", ""], ids=["no-unit", "bad-unit", "zero", "no-count", "words", "zero-period", "empty"])
def test_bad_rates_are_refused(text: str) -> None:
    assert parse_rate(text) is None


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"x-ratelimit-limit-req-minute": "60", "x-ratelimit-remaining-req-minute": "0", "x-ratelimit-limit-tokens-minute": "500000", "x-ratelimit-remaining-tokens-minute": "499000", "x-ratelimit-tokens-query-cost": "30"},
            {"requests": (0, 60, 60.0), "tokens": (499000, 500000, 60.0)},
        ),
        (
            {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499", "x-ratelimit-reset-requests": "120ms", "x-ratelimit-limit-tokens": "30000", "x-ratelimit-remaining-tokens": "29000", "x-ratelimit-reset-tokens": "1m30s"},
            {"requests": (499, 500, 0.12), "tokens": (29000, 30000, 90.0)},
        ),
        ({"RateLimit-Limit": "10", "RateLimit-Remaining": "3", "RateLimit-Reset": "7"}, {"requests": (3, 10, 7.0)}),
        ({"RateLimit": "limit=10, remaining=2, reset=5"}, {"requests": (2, 10, 5.0)}),
        ({"RateLimit": '"default";r=4;t=9', "RateLimit-Policy": '"default";q=100;w=60'}, {"requests": (4, 100, 9.0)}),
        ({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": str(int(NOW) + 30)}, {"requests": (1, 5000, 30.0)}),
        ({"content-type": "application/json"}, {}),
    ],
    ids=["mistral", "openai", "ietf-separate", "ietf-combined", "ietf-structured", "github-unix-time", "none"],
)
def test_rate_limit_headers_are_read(headers: dict[str, str], expected: dict[str, tuple[float, float, float]]) -> None:
    found = {budget.kind: (budget.remaining, budget.limit, budget.reset) for budget in read_limits(httpx.Headers(headers), NOW)}
    assert found.keys() == expected.keys()
    for kind, (remaining, limit, reset) in expected.items():
        assert found[kind][0] == remaining and found[kind][1] == limit
        assert found[kind][2] == pytest.approx(reset)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_fixed_rate_spaces_requests_to_one_host_and_not_across_hosts() -> None:
    clock = FakeClock()
    pacer = HostPacer(clock)
    waits = [pacer.slot("http://a", 0.5, "2/s")[0] for _ in range(3)]
    assert waits == [0.0, 0.5, 1.0]  # three workers asking at once get three slots
    assert pacer.slot("http://b", 0.5, "2/s") == (0.0, "")
    clock.now += 10
    assert pacer.slot("http://a", 0.5, "2/s") == (0.0, "")


def test_no_requests_left_holds_the_host_until_the_reset() -> None:
    clock = FakeClock()
    pacer = HostPacer(clock)
    pacer.observe("http://a", httpx.Headers({"x-ratelimit-remaining-requests": "0", "x-ratelimit-limit-requests": "10", "x-ratelimit-reset-requests": "2s"}))
    wait, reason = pacer.slot("http://a", None)
    assert wait == pytest.approx(2.0)
    assert "no requests left" in reason and "x-ratelimit-remaining-requests" in reason
    assert pacer.slot("http://other", None) == (0.0, "")


def test_few_requests_left_are_spread_over_the_window() -> None:
    clock = FakeClock()
    pacer = HostPacer(clock)
    pacer.observe("http://a", httpx.Headers({"RateLimit-Limit": "100", "RateLimit-Remaining": "3", "RateLimit-Reset": "8"}))
    assert pacer.slot("http://a", None)[0] == pytest.approx(2.0)  # 8 s / (3 + 1)
    assert pacer.slot("http://a", None)[0] == pytest.approx(4.0)  # the next worker: one gap later
    pacer.observe("http://b", httpx.Headers({"RateLimit-Limit": "100", "RateLimit-Remaining": "60", "RateLimit-Reset": "8"}))
    assert pacer.slot("http://b", None) == (0.0, "")  # plenty left: no slowing down


def test_too_few_tokens_left_for_the_next_request_waits_for_the_tokens_reset() -> None:
    clock = FakeClock()
    pacer = HostPacer(clock)
    pacer.observe("http://a", httpx.Headers({"x-ratelimit-remaining-tokens": "100", "x-ratelimit-limit-tokens": "1000", "x-ratelimit-reset-tokens": "3s"}))
    assert pacer.slot("http://a", None, tokens_needed=50) == (0.0, "")
    wait, reason = pacer.slot("http://a", None, tokens_needed=500)
    assert wait == pytest.approx(3.0) and "tokens left" in reason


def test_usage_defaults_fit_chat_completions_and_the_responses_api() -> None:
    spec = UsageSpec()
    assert usage_of({"usage": {"prompt_tokens": 19, "completion_tokens": 7}}, spec) == (19, 7)
    assert usage_of({"usage": {"input_tokens": 5, "output_tokens": 9}}, spec) == (5, 9)
    assert usage_of({"usage": {"prompt_tokens": 4, "total_tokens": 4}}, spec) == (4, 0)  # embeddings
    assert usage_of({"usage": None}, spec) is None
    assert usage_of({"choices": []}, spec) is None
    assert usage_of(["not", "usage"], spec) is None


def test_a_stream_is_read_from_its_last_chunk_with_usage() -> None:
    events = [Event(0, '{"model": "m", "usage": null}'), Event(1, '{"model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 8}}'), Event(2, "not json")]
    assert response_usage(UsageSpec(), None, events) == ("m", 3, 8)
    assert response_usage(UsageSpec(), None, events[:1]) is None


def test_custom_usage_paths_are_tried_in_order() -> None:
    spec = parse_usage({"input": ["$.meta.tokens.in", "$.usage.prompt_tokens"], "output": "$.meta.tokens.out", "model": "$.meta.engine"})
    assert response_usage(spec, {"meta": {"engine": "e1", "tokens": {"in": 2, "out": 3}}}, None) == ("e1", 2, 3)
    assert response_usage(spec, {"usage": {"prompt_tokens": 6}}, None) == ("", 6, 0)


@pytest.mark.parametrize(
    ("body", "cap"),
    [({"max_tokens": 64}, 64), ({"max_completion_tokens": 10, "n": 3}, 30), ({"max_output_tokens": 5}, 5), ({"model": "m"}, None), (None, None), ({"max_tokens": True}, None)],
    ids=["max_tokens", "times-n", "responses-api", "none", "no-body", "not-a-number"],
)
def test_the_output_cap_of_a_request(body: Any, cap: int | None) -> None:
    assert max_output_tokens(body) == cap


def test_the_input_estimate_counts_four_bytes_a_token_rounded_up() -> None:
    assert [estimate_input_tokens(b"x" * size) for size in (0, 1, 4, 5)] == [0, 1, 1, 2]
    assert estimate_input_tokens(None) == 0


def test_prices_are_per_million_tokens() -> None:
    pricing = parse_pricing({"currency": "EUR", "models": {"big": {"input": 2, "output": 6}, "embed": {"input": 0.1}}})
    big = pricing.price("dated-name", "big")
    assert big is not None and pricing.cost(big, 1_000_000, 500_000) == pytest.approx(5.0)
    embed = pricing.price("embed")
    assert embed is not None and embed.output == 0.0
    assert pricing.price("unknown", None) is None


def test_money_and_usage_text() -> None:
    assert format_money(0.00001230, "EUR") == "0.0000123 EUR"
    assert format_money(0.5, "USD") == "0.5 USD"
    assert format_money(0.0, "USD") == "0 USD"
    assert usage_text(19, 7, None, None) == "19/7 tokens"
    assert usage_text(19, 7, None, "EUR") == "19/7 tokens, cost unknown"
    lines = usage_lines([
        {"model": "a", "requests": 2, "input_tokens": 10, "output_tokens": 4, "cost": 0.25, "currency": "EUR"},
        {"model": "b", "requests": 1, "input_tokens": 1, "output_tokens": 1, "cost": None, "currency": "EUR"},
    ])
    assert lines == [
        "usage: a  2 requests  10 in / 4 out tokens  0.25 EUR",
        "usage: b  1 request  1 in / 1 out tokens  cost unknown (no price)",
        "cost: 0.25 EUR (and 1 model without a price)",
    ]


def test_the_environment_schema_describes_pricing_and_rate_as_the_collection_schema_does() -> None:
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    repo = Path(__file__).resolve().parents[2]
    environment = json.loads((repo / "schemas/environment.schema.json").read_text())
    collection = json.loads((repo / "schemas/collection.schema.json").read_text())
    for name in ("pricing", "rate", "model_price"):
        assert environment["$defs"][name] == collection["$defs"][name], name  # the loader checks environments with the collection's
    shipped = yaml.safe_load((repo / "environments/mistral.yaml").read_text())
    jsonschema.validate(shipped, environment)
    assert shipped["pricing"]["currency"] and shipped["pricing"]["models"]["mistral-small-latest"]["output"] > 0


def test_other_providers_usage_shapes_are_read_by_default() -> None:
    anthropic = [
        Event(0, '{"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 25, "output_tokens": 1}}}'),
        Event(1, '{"type": "content_block_delta", "delta": {"text": "hi"}}'),
        Event(2, '{"type": "message_delta", "usage": {"output_tokens": 15}}'),
    ]
    assert response_usage(UsageSpec(), None, anthropic) == ("claude-x", 25, 15)
    gemini = {"modelVersion": "gemini-x", "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 30, "totalTokenCount": 38}}
    assert response_usage(UsageSpec(), gemini, None) == ("gemini-x", 8, 30)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "100000"},  # seconds, a day and more
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "999h"},
        {"x-ratelimit-remaining-req-day": "0"},  # a daily window, no reset header
        {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "999h"},
    ],
    ids=["seconds", "openai-duration", "mistral-day", "tokens"],
)
def test_a_far_reset_holds_the_host_back_at_most_max_hold(headers: dict[str, str]) -> None:
    from runner.llm.ratelimit import MAX_HOLD_S

    clock = FakeClock()
    pacer = HostPacer(clock)
    pacer.observe("http://a", httpx.Headers(headers))
    wait, reason = pacer.slot("http://a", None, tokens_needed=10)
    assert 0 < wait <= MAX_HOLD_S and reason
