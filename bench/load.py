"""Simulated customers through the REST channel: latency, throughput, errors.

Each customer is one asyncio task that runs realistic multi-turn conversations
(orders verified with the order number and the phone, product and price questions,
FAQ, complaints, greetings), a fresh sender id per conversation. The generator is
cheap on purpose (one process, aiohttp) because it shares the cores it measures.

Two ways to drive the customers:
- closed loop: the next message leaves as soon as the reply arrives (no think time):
  the throughput the stack can sustain at that concurrency;
- paced: all customers together offer a fixed rate (e.g. 40 messages/s), each
  waiting for its next slot: the latency a customer sees at that load.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import aiohttp
import yaml

from bench.stack import PROJECT_ROOT

REQUEST_TIMEOUT_S = 30.0
# What makes a REST reply non-empty.
REPLY_KEYS = ("text", "image", "buttons", "custom", "attachment")


@dataclass(frozen=True)
class Turn:
    """One customer message and a substring that a right reply contains."""

    text: str
    expect: Optional[str] = None


@dataclass(frozen=True)
class Conversation:
    scenario: str
    turns: Tuple[Turn, ...]


@dataclass
class Sample:
    scenario: str
    started: float
    latency_s: float
    error: Optional[str] = None  # http_<code>, timeout, connection, empty, apology
    unexpected: bool = False  # 200 with a reply, but not the one the script expects


def _seed_orders() -> List[Tuple[str, str]]:
    """(order number, phone) pairs of the seeded records."""
    seed = PROJECT_ROOT / "knowledge" / "seed"
    customers = yaml.safe_load((seed / "customers.yml").read_text(encoding="utf-8"))
    orders = yaml.safe_load((seed / "orders.yml").read_text(encoding="utf-8"))
    phones = {c["id"]: str(c["phone"]) for c in customers["customers"]}
    return [(o["order_no"], phones[o["customer"]]) for o in orders["orders"]
            if o.get("customer") in phones]


def _products() -> List[Tuple[str, str]]:
    """(alias a customer would type, price as the bot writes it) of catalogue products."""
    catalogue = yaml.safe_load(
        (PROJECT_ROOT / "knowledge" / "catalogue.yml").read_text(encoding="utf-8")
    )
    found = []
    for product in catalogue["products"]:
        alias = (product.get("aliases") or [product["name"]])[0]
        found.append((alias, f"{int(product['price']):,}"))
    return found


class Scenarios:
    """Draws conversations by weight, filled with seeded orders and catalogue products."""

    # Share of conversations (orders hit the database through the verified form).
    WEIGHTS = {
        "order_status": 20, "order_inline": 10, "order_wrong_phone": 5,
        "price": 15, "product_then_price": 15, "faq": 15, "complaint": 10, "greeting": 10,
    }

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.orders = _seed_orders()
        self.products = _products()
        self._names = list(self.WEIGHTS)
        self._weights = [self.WEIGHTS[n] for n in self._names]

    def draw(self) -> Conversation:
        name = self.rng.choices(self._names, self._weights)[0]
        builder: Callable[[], Sequence[Turn]] = getattr(self, f"_{name}")
        return Conversation(name, tuple(builder()))

    def _order(self) -> Tuple[str, str]:
        return self.rng.choice(self.orders)

    def _product(self) -> Tuple[str, str]:
        return self.rng.choice(self.products)

    def _order_status(self) -> Sequence[Turn]:
        order_no, phone = self._order()
        opener = self.rng.choice(["帮我查下快递到哪了", "我的订单到哪了", "查一下物流"])
        return [Turn(opener, "订单号"), Turn(order_no, "后四位"),
                Turn(phone[-4:], order_no), Turn("好的谢谢")]

    def _order_inline(self) -> Sequence[Turn]:
        order_no, phone = self._order()
        return [Turn("你好", "客服"), Turn(f"订单{order_no}怎么还没到", "后四位"),
                Turn(f"手机号{phone}", order_no)]

    def _order_wrong_phone(self) -> Sequence[Turn]:
        # A mistyped (well-formed, unknown) order number: the bot answers it exactly as
        # it answers wrong digits for a real order. Wrong digits against the 100 seed
        # orders would, at bench rates, lock them (10 failures per order per day,
        # knowledge/policies.yml) and turn every later lookup into a handoff.
        order_no = (f"DD2099{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
                    f"{self.rng.randint(0, 9999):04d}")
        return [Turn("查订单", "订单号"), Turn(order_no, "后四位"), Turn("0000", "不一致")]

    def _price(self) -> Sequence[Turn]:
        alias, price = self._product()
        return [Turn(f"{alias}多少钱", price), Turn("谢谢"), Turn("拜拜")]

    def _product_then_price(self) -> Sequence[Turn]:
        alias, price = self._product()
        return [Turn(f"{alias}怎么样 有什么配置"), Turn("那这个现在卖多少钱", price)]

    def _faq(self) -> Sequence[Turn]:
        return [Turn("支持花呗分期吗", "花呗"), Turn("能开发票吗", "发票"),
                Turn("下单后多久能到", "天")]

    def _complaint(self) -> Sequence[Turn]:
        return [Turn("你们服务太差劲了"),
                Turn("送货师傅态度恶劣 东西往门口一扔就走了"), Turn("谢谢")]

    def _greeting(self) -> Sequence[Turn]:
        return [Turn("你好", "客服"), Turn("你是机器人吗"), Turn("拜拜")]


@dataclass
class LevelResult:
    customers: int
    pace_rate: Optional[float]
    samples: List[Sample] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    conversations: int = 0


def _percentile(sorted_values: List[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def latency_summary(latencies_s: List[float]) -> Dict[str, float]:
    """p50/p90/p95/p99/max/mean in milliseconds."""
    values = sorted(x * 1000 for x in latencies_s)
    if not values:
        return {}
    summary = {f"p{q}": round(_percentile(values, q), 1) for q in (50, 90, 95, 99)}
    summary["max"] = round(values[-1], 1)
    summary["mean"] = round(sum(values) / len(values), 1)
    return summary


def _count(names: Iterable[str]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def summarise(level: LevelResult) -> Dict[str, Any]:
    """The figures of one level (everything but the raw samples)."""
    samples = level.samples
    elapsed = max(level.finished - level.started, 1e-9)
    errors: Dict[str, int] = {}
    for sample in samples:
        if sample.error:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    by_scenario: Dict[str, List[float]] = {}
    for sample in samples:
        by_scenario.setdefault(sample.scenario, []).append(sample.latency_s)
    return {
        "customers": level.customers,
        "pace_rate_offered": level.pace_rate,
        "duration_s": round(elapsed, 1),
        "messages": len(samples),
        "conversations": level.conversations,
        "throughput_msg_s": round(len(samples) / elapsed, 2),
        "latency_ms": latency_summary([s.latency_s for s in samples]),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "unexpected_replies": sum(1 for s in samples if s.unexpected),
        "unexpected_by_scenario": _count(s.scenario for s in samples if s.unexpected),
        "latency_ms_by_scenario": {
            name: {k: v for k, v in latency_summary(values).items() if k in ("p50", "p95")}
            for name, values in sorted(by_scenario.items())
        },
    }


class Customers:
    """Runs N simulated customers against one Rasa server for a while."""

    def __init__(self, url: str, apology: str, seed: int = 5) -> None:
        self.webhook = f"{url}/webhooks/rest/webhook"
        # "…系统暂时出了点问题…": the clause the domain's apology shares with the
        # guard's last-resort wording (the first, "非常抱歉", opens other replies too).
        clauses = apology.split("，")
        self.apology = clauses[1] if len(clauses) > 1 else apology
        self.rng = random.Random(seed)
        self.scenarios = Scenarios(self.rng)

    async def _send(
        self, http: aiohttp.ClientSession, sender: str, turn: Turn, scenario: str,
        client: str = "",
    ) -> Sample:
        started = time.perf_counter()
        error: Optional[str] = None
        unexpected = False
        try:
            # Each conversation is a customer of its own address; the stack's Rasa server
            # believes X-Forwarded-For from loopback (TRUSTED_PROXIES, as behind nginx).
            async with http.post(
                self.webhook, json={"sender": sender, "message": turn.text},
                headers={"X-Forwarded-For": client} if client else None,
            ) as response:
                body = await response.json(content_type=None) if response.status == 200 \
                    else await response.text()
                if response.status != 200:
                    error = f"http_{response.status}"
        except asyncio.TimeoutError:
            error = "timeout"
        except aiohttp.ClientError:
            error = "connection"
        latency = time.perf_counter() - started
        if error is None:
            messages = [m for m in body or [] if isinstance(m, dict)]
            text = "\n".join(str(m.get("text") or "") for m in messages)
            if not any(m.get(key) for m in messages for key in REPLY_KEYS):
                error = "empty"
            elif self.apology and self.apology in text:
                error = "apology"
            elif turn.expect and turn.expect not in text:
                unexpected = True
        return Sample(scenario, started, latency, error, unexpected)

    async def _customer(
        self, index: int, http: aiohttp.ClientSession, level: LevelResult, deadline: float,
        interval: Optional[float],
    ) -> None:
        next_slot = time.perf_counter()
        if interval:  # spread the customers over one interval
            next_slot += self.rng.random() * interval
        while time.perf_counter() < deadline:
            conversation = self.scenarios.draw()
            sender = f"bench-{level.customers}-{index}-{uuid.uuid4().hex[:12]}"
            client = f"198.18.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
            for turn in conversation.turns:
                if interval:
                    await asyncio.sleep(max(0.0, next_slot - time.perf_counter()))
                    # A late customer does not burst to catch up.
                    next_slot = max(next_slot + interval, time.perf_counter())
                if time.perf_counter() >= deadline:
                    return
                sample = await self._send(http, sender, turn, conversation.scenario, client)
                level.samples.append(sample)
            level.conversations += 1

    async def run(
        self, customers: int, seconds: float, pace_rate: Optional[float] = None,
        level: Optional[LevelResult] = None,
    ) -> LevelResult:
        """`customers` concurrent customers for `seconds`; optionally paced in total.
        Samples go into `level` as they come when given (the soak reads them live)."""
        level = level or LevelResult(customers, pace_rate)
        interval = customers / pace_rate if pace_rate else None
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=max(100, customers * 2))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            level.started = time.perf_counter()
            deadline = level.started + seconds
            await asyncio.gather(*(
                self._customer(i, http, level, deadline, interval) for i in range(customers)
            ))
            level.finished = time.perf_counter()
        return level

    async def warm_up(self, conversations: int = 10) -> LevelResult:
        """A few conversations of every kind, one at a time (results not reported)."""
        level = LevelResult(1, None)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            level.started = time.perf_counter()
            names = list(Scenarios.WEIGHTS)
            for i in range(conversations):
                builder = getattr(self.scenarios, f"_{names[i % len(names)]}")
                sender = f"bench-warmup-{uuid.uuid4().hex[:12]}"
                for turn in builder():
                    level.samples.append(await self._send(http, sender, turn, "warm_up"))
                level.conversations += 1
            level.finished = time.perf_counter()
        return level
