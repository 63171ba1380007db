"""The engine's hook for paid APIs: admission (``--budget``, ``--max-requests``), pacing, OAuth2 tokens, usage and cost.

``run_request`` calls, per request: ``admit`` once it is rendered (a refusal
stops the run: this request and every later one are skipped with the reason),
``before_send`` before each attempt (waits for the host's slot, puts the OAuth2
token in), ``after_attempt`` after each response (reads the rate-limit headers;
asks for one more try after a 401 with an OAuth2 token), and ``account`` when the
request is done (usage, cost, what the budget has left).

Money.  ``spent`` counts the cost of every finished request; a request still in
flight holds its worst case (``max_tokens`` x output price + its body at 4 bytes
a token x input price) in ``reserved``, so ``--jobs`` workers cannot together go
over.  A priced request whose response reports no usage stays counted at its
worst case.  All in one event loop: no locks are needed between the check and
the reservation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from ..errors import UsageError
from ..jsonstream import STREAM_THRESHOLD
from ..reports.document import format_money
from ..results import RequestResult
from .ratelimit import HostPacer
from .settings import PricingSpec, RateSpec, UsageSpec, parse_pricing, parse_rate, parse_usage
from .usage import estimate_input_tokens, make_usage, max_output_tokens, request_body, requested_model, response_usage


@dataclass
class PaidSettings:
    """The command line's part: ``--budget``, ``--max-requests``, ``--rate``, and the environment file's ``pricing`` and ``rate``."""

    budget: float | None = None
    max_requests: int | None = None
    rate: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)  # pricing / rate of the environment file, as written
    mock: bool = False  # --mock: no OAuth2 token is fetched (the mock checks no credential for it)


@dataclass
class _Ticket:
    body: Any
    model: str
    worst: float = 0.0
    resent: bool = False
    token: str = ""


class PaidRun:
    """What the paid-API features keep for one run (see the module docstring)."""

    def __init__(self, settings: PaidSettings, collections: list[Any], redactor: Any, clock: Callable[[], float] | None = None):
        from ..oauth2 import TokenCache

        self.settings = settings
        self.pacer = HostPacer(clock) if clock else HostPacer()
        self.tokens = TokenCache(redactor)
        self.halted = ""
        self.spent = 0.0
        self.reserved = 0.0
        self.sent = 0
        self._tickets: dict[int, _Ticket] = {}
        self._done: Any = None  # an asyncio.Condition, made in the run's loop when first needed
        env = settings.environment
        self._env_pricing = parse_pricing(env["pricing"]) if env.get("pricing") else None
        self._cli_rate = self._rate(settings.rate, "--rate") if settings.rate else None
        self._env_rate = self._rate(env["rate"], "rate (environment file)") if env.get("rate") else None
        self._pricing: dict[int, PricingSpec | None] = {}
        self._usage: dict[int, UsageSpec] = {}
        self._rates: dict[int, RateSpec | None] = {}
        for collection in collections:
            self._pricing[id(collection)] = self._env_pricing or (parse_pricing(collection.pricing) if collection.pricing else None)
            self._usage[id(collection)] = parse_usage(collection.usage)
            self._rates[id(collection)] = self._cli_rate or self._env_rate or (parse_rate(collection.rate) if collection.rate else None)
        self.currency = self._budget_currency()

    @staticmethod
    def _rate(text: Any, where: str) -> RateSpec:
        rate = parse_rate(str(text))
        if rate is None:
            from .settings import RATE_HINT

            raise UsageError(f"{where} {text!r}: not a rate ({RATE_HINT})")
        return rate

    def _budget_currency(self) -> str:
        currencies = {pricing.currency for pricing in self._pricing.values() if pricing is not None}
        if self.settings.budget is None:
            return next(iter(currencies)) if len(currencies) == 1 else ""
        if not currencies:
            raise UsageError("--budget needs a price table: add 'pricing:' to the environment file or the collection (see docs/llm.md)")
        if len(currencies) > 1:
            raise UsageError(f"--budget is in one currency, but the price tables use {', '.join(sorted(currencies))}: give every collection the same table, or put one in the environment file")
        return currencies.pop()

    # -- the engine's calls ------------------------------------------------------------------

    async def admit(self, collection: Any, request: Any, name: str) -> str:
        """Whether ``request`` may be sent: ``""``, or why not (the run then stops sending)."""
        if self.halted:
            return self.halted
        body = request_body(request.content, request.header("content-type"))
        ticket = _Ticket(body, requested_model(body))
        limit = self.settings.max_requests
        if limit is not None and self.sent >= limit:
            return self._halt(f"--max-requests {limit} reached")
        budget = self.settings.budget
        if budget is not None and ticket.model:
            pricing = self._pricing.get(id(collection))
            price = pricing.price(ticket.model) if pricing is not None else None
            if pricing is None or price is None:
                return self._halt(f"--budget {format_money(budget, self.currency)}: no price for model {ticket.model!r} (request {name!r}), so its cost has no bound")
            cap = max_output_tokens(body) or price.max_output_tokens or pricing.max_output_tokens
            if cap is None and price.output > 0:
                return self._halt(f"--budget {format_money(budget, self.currency)}: request {name!r} sets no max_tokens and the price table gives no max_output_tokens for {ticket.model!r}, so its cost has no bound")
            ticket.worst = pricing.cost(price, estimate_input_tokens(request.content), cap or 0)
            while self.reserved > 0 and self.spent + self.reserved + ticket.worst > budget and self.spent + ticket.worst <= budget:
                await self._settled()  # it may fit once the requests in flight know their real cost
            if self.halted:
                return self.halted
            if self.spent + self.reserved + ticket.worst > budget:
                money = format_money(budget, self.currency)
                return self._halt(f"budget {money} reached: request {name!r} may cost up to {format_money(ticket.worst, self.currency)}, and {format_money(self.spent, self.currency)} is spent")
        self.sent += 1
        self.reserved += ticket.worst
        self._tickets[id(request)] = ticket
        return ""

    def _halt(self, reason: str) -> str:
        self.halted = reason
        return reason

    async def _settled(self) -> None:
        """Until a request in flight is accounted for."""
        import asyncio

        if self._done is None:
            self._done = asyncio.Condition()
        async with self._done:
            await self._done.wait()

    def _notify(self) -> None:
        import asyncio

        if self._done is not None:
            done = self._done

            async def wake() -> None:
                async with done:
                    done.notify_all()

            asyncio.ensure_future(wake())

    async def before_send(self, collection: Any, request: Any, result: RequestResult, client: Any, sleep: Callable[[float], Any]) -> None:
        """Wait for the host's slot, then put the OAuth2 token in; ``TransportError`` when no token can be had."""
        ticket = self._tickets.get(id(request)) or _Ticket(None, "")
        rate = self._rates.get(id(collection))
        needed = 0
        if ticket.model:
            needed = estimate_input_tokens(request.content) + (max_output_tokens(ticket.body) or 0)
        host, interval = host_of(request.url), rate.interval if rate else None
        wait, reason = self.pacer.slot(host, interval, rate.text if rate else "", needed)
        while True:
            if wait > 0:
                result.waited_ms += wait * 1000
                result.wait_reason = reason or result.wait_reason or f"rate {rate.text if rate else ''} for {host}"
                await sleep(wait)
            wait = self.pacer.confirm(host, interval)
            if wait <= 0:
                break
            reason = ""
        if request.oauth2 is not None and not self.settings.mock:
            ticket.token = await self.tokens.token(request.oauth2, client)
            request.headers = [(name, value) for name, value in request.headers if name.lower() != "authorization"]
            request.headers.append(("Authorization", f"Bearer {ticket.token}"))

    def after_attempt(self, request: Any, response: Any) -> bool:
        """Read the response's rate-limit headers; True when the request should go again at once (401 with an OAuth2 token, once)."""
        self.pacer.observe(host_of(request.url), response.headers)
        ticket = self._tickets.get(id(request))
        if ticket is None or request.oauth2 is None or response.status != 401 or ticket.resent or not ticket.token:
            return False
        ticket.resent = True
        self.tokens.expire(request.oauth2, ticket.token)
        return True

    def account(self, collection: Any, request: Any, response: Any, view: Any, result: RequestResult) -> None:
        """The request is done: its usage and cost go to ``result``, its cost (or worst case) to ``spent``."""
        ticket = self._tickets.pop(id(request), None)
        if ticket is None:
            return
        self.reserved -= ticket.worst
        if ticket.worst:
            self._notify()
        spec = self._usage.get(id(collection), UsageSpec())
        found = None
        if response is not None and response.events is not None:
            found = response_usage(spec, None, response.events)
        elif response is not None and "json" in result.content_type and (spec != UsageSpec() or _mentions_usage(view)):
            large = len(view.body) > STREAM_THRESHOLD  # no tree of a large body: its usage paths, streamed
            found = response_usage(spec, streamed_usage(spec, view) if large else view.json, None)  # parsed only when it may hold usage
        if found is None:
            self.spent += ticket.worst  # no usage reported: it may still have been billed
            return
        answered, input_tokens, output_tokens = found
        model = ticket.model or answered  # billed as asked for (as the budget reckoned it); the answer may name a dated version
        pricing = self._pricing.get(id(collection))
        price = pricing.price(model, answered) if pricing is not None else None
        cost = pricing.cost(price, input_tokens, output_tokens) if pricing is not None and price is not None else None
        # currency without cost: the table has no price for the model ("cost unknown"); neither: there is no table
        result.usage = make_usage(model, input_tokens, output_tokens, cost, pricing.currency if pricing is not None else "")
        self.spent += cost if cost is not None else ticket.worst


def host_of(url: str) -> str:
    """The host a rate applies to: scheme, name and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _mentions_usage(view: Any) -> bool:
    """Whether the body names ``usage`` (the default paths all do): read in its bytes when its charset keeps ASCII as is, a large text is not decoded."""
    import codecs

    from ..bodytext import body_charset

    if codecs.lookup(body_charset(view.headers)).name in ("utf-8", "ascii") and view.decoded is None:
        return b"usage" in view.body
    return "usage" in view.text


def streamed_usage(spec: UsageSpec, view: Any) -> Any:
    """The values of the usage paths in a large JSON body, read in one streamed pass (``None`` when it is not JSON)."""
    from ..jsonstream import BudgetError, NotJsonError, stream_queries
    from .usage import Answers

    paths = list(dict.fromkeys((*spec.input, *spec.output, *spec.model)))
    try:
        outcomes = stream_queries(view.body, view.headers, [(path, False) for path in paths])
    except NotJsonError:
        return None
    return Answers((path, value) for path, value in zip(paths, outcomes) if not isinstance(value, BudgetError))
