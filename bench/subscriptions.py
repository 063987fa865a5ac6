"""Subscriptions, measured: ``orderEvents`` through the router to ``--subscriptions`` clients at
once (every other one over graphql-transport-ws, the rest over Server-Sent Events) in several
tenants, while orders are placed, and some cancelled, at a steady rate straight into the orders
database, as a mutation writes them (each in its own transaction, its event in the outbox).

Each tenant has a few admin subscriptions (orders:admin: every order of the tenant) and many
shopper ones (orders:read: their own orders), two per shopper, one on each transport, as a
phone and a browser would. Reports:

- commit to client, p50/p99: from the moment the order's transaction committed (taken in this
  process) to the moment a client read the event (the same clock: one asyncio process holds
  every subscription), matched by order id and event type;
- delivered/expected: each event should reach every admin subscription of its tenant and the
  subscriptions of its customer, and nobody else (the report counts those too);
- CPU seconds and resident memory of the router and of the orders subgraph (their process
  groups, from /proc) for opening the subscriptions, per 100 subscriptions; the cores each
  kept busy while the events flowed, and how busy the whole machine was meanwhile (other work
  on it included: the latencies mean little on a busy machine); their memory after the events
  and after closing, and the router's sockets to the orders subgraph (one per subscribed
  caller), which should all be gone after closing.

Before measuring, every subscription must have read a warm-up order (one per watched shopper
and tenant): the subscribe message has no acknowledgement, and an event that reaches the
orders subgraph before a subscription is registered there is not that subscription's.

    .venv/bin/python -m bench.subscriptions [--subscriptions 1000] [--events 200] [--rate 20]
"""

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.grid import prepare
from devstack import tokens
from devstack.oidc.keys import KeyRing
from resolvers.db import create_engine, writer
from resolvers.scopes import ORDERS_ADMIN, ORDERS_READ
from shopgraph.system import Ports, System, SystemConfig, running
from subgraphs.orders import services as orders
from subgraphs.orders.tables import OrderStatus

QUERY = "subscription { orderEvents { cursor type from to at orderId } }"
TICKS = os.sysconf("SC_CLK_TCK")
ADDRESS: dict[str, str | None] = {
    "recipient": "Bench",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "1",
    "country": "US",
}
LINE = orders.LineDraft("00000000-0000-4000-8000-00000000b00c", "BENCH-MUG", "Bench mug", 1450, 1)
# Subscriptions opened at once: a thousand handshakes in one go would measure the listen
# backlog, not the subscriptions.
OPENING_AT_ONCE = 50
# Bounds on every wait, so a broken run ends with a report instead of hanging.
START_SECONDS = 60.0
WARM_UP_SECONDS = 90.0
WARM_UP_ROUND_SECONDS = 5.0
DRAIN_SECONDS = 60.0
QUIET_SECONDS = 5.0
# The router closes its socket to a subgraph 3 s after the socket's last subscription there
# ended (the WebSocket transport's lazyCloseTimeout).
SOCKETS_CLOSE_SECONDS = 6.0
SERVED = ("router", "orders")

Transport = Literal["ws", "sse"]


@dataclass(frozen=True, slots=True)
class Committed:
    """One measured event, as the benchmark wrote it."""

    key: str
    order_id: str
    tenant: str
    customer: str
    at: float
    """``time.perf_counter()`` just after its transaction committed."""


@dataclass(eq=False)
class Subscriber:
    """One subscription and what it read: each event's key and when it arrived."""

    tenant: str
    subject: str
    admin: bool
    transport: Transport
    token: str
    received: dict[str, float] = field(default_factory=dict)
    repeated: int = 0
    errors: list[str] = field(default_factory=list)
    ended: bool = False
    last: float = 0.0
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def sees(self, event: Committed) -> bool:
        return event.tenant == self.tenant and (self.admin or event.customer == self.subject)

    def take(self, payload: dict[str, Any]) -> None:
        at = time.perf_counter()
        self.last = at
        if payload.get("errors"):
            self.errors.extend(_error_text(error) for error in payload["errors"])
            return
        event = payload["data"]["orderEvents"]
        key = f"{event['type']}:{event['orderId']}"
        if key in self.received:
            self.repeated += 1
        else:
            self.received[key] = at


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    code = (error.get("extensions") or {}).get("code")
    return f"{code}: {error.get('message')}"


@dataclass(frozen=True, slots=True)
class Usage:
    cpu: float
    """User + system seconds."""
    rss: int
    """Resident kB."""


def usage(leader: int) -> Usage:
    """The CPU time and resident memory of every process in ``leader``'s process group: each
    process of the system leads its own, so whatever it forks counts too."""
    cpu, rss = 0.0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != leader:
                continue
            status = (entry / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        cpu += (int(fields[11]) + int(fields[12])) / TICKS
        rss += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return Usage(cpu, rss)


def machine_jiffies() -> tuple[int, int]:
    """The machine's CPU time since boot: all of it, and idle (idle and waiting for I/O)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values), values[3] + values[4]


def sockets_to(port: int) -> int:
    """Established TCP connections on this machine to ``port``: the router's sockets to a
    subgraph, one per subscribed caller."""
    lines = (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
    return sum(1 for fields in lines if fields[2].endswith(f":{port:04X}") and fields[3] == "01")


@dataclass(frozen=True, slots=True)
class Moment:
    """The served processes, the machine's CPU counters and the router's subgraph sockets."""

    at: float
    processes: dict[str, Usage]
    machine: tuple[int, int]
    subgraph_sockets: int


def snapshot(system: System) -> Moment:
    return Moment(
        time.perf_counter(),
        {name: usage(system.processes[name].pid) for name in SERVED},
        machine_jiffies(),
        sockets_to(system.config.ports.subgraphs["orders"]),
    )


def tenant_names(count: int) -> list[str]:
    """``demo`` (the demo data's tenant) and as many more as asked."""
    return ["demo", *(f"bench-{n}" for n in range(2, count + 1))][:count]


def population(
    count: int, tenants: Sequence[str], admin_share: float, per_shopper: int, mint: Callable[[str, str, str], str]
) -> list[Subscriber]:
    """``count`` subscriptions spread evenly over ``tenants``; in each tenant ``admin_share`` of
    them (at least one where there are two or more) are admins, each with a token of their own,
    the rest shoppers, ``per_shopper`` each. WebSocket and SSE alternate within each group (the
    first one's alternating by tenant), so both kinds of subscriber use both transports and a
    shopper's two are one of each."""
    subscribers = []
    for index, tenant in enumerate(tenants):
        here = count // len(tenants) + (1 if index < count % len(tenants) else 0)
        admins = max(1, round(here * admin_share)) if here >= 2 and admin_share > 0 else 0
        for n in range(here):
            if n < admins:
                subject, scope = f"{tenant}-admin-{n}", ORDERS_ADMIN
            else:
                subject, scope = f"{tenant}-shopper-{(n - admins) // per_shopper}", ORDERS_READ
            transport: Transport = "ws" if ((n if n < admins else n - admins) + index) % 2 == 0 else "sse"
            subscribers.append(Subscriber(tenant, subject, n < admins, transport, mint(tenant, subject, scope)))
    return subscribers


def watched_shoppers(subscribers: Sequence[Subscriber]) -> list[tuple[str, str]]:
    """Every (tenant, shopper) with a subscription, the tenants interleaved, so orders placed
    round the list spread evenly."""
    by_tenant: dict[str, list[str]] = {}
    for subscriber in subscribers:
        if not subscriber.admin and subscriber.subject not in by_tenant.setdefault(subscriber.tenant, []):
            by_tenant[subscriber.tenant].append(subscriber.subject)
    longest = max((len(shoppers) for shoppers in by_tenant.values()), default=0)
    return [
        (tenant, shoppers[n]) for n in range(longest) for tenant, shoppers in by_tenant.items() if n < len(shoppers)
    ]


class Orders:
    """Writes to the orders database as the orders subgraph's mutations do: one transaction
    per change, its event in the outbox with it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def place(self, tenant: str, customer: str) -> Committed:
        async with self.sessions.begin() as session:
            row = await orders.place_order(
                tenant, customer, [LINE], currency="USD", shipping_address=ADDRESS, session=session
            )
            order_id = row.id
        return Committed(f"CREATED:{order_id}", order_id, tenant, customer, time.perf_counter())

    async def cancel(self, placed: Committed) -> Committed:
        async with self.sessions.begin() as session:
            row = await orders.locked(placed.tenant, placed.order_id, session=session)
            await orders.move(row, OrderStatus.CANCELLED, reason="cancelled by the customer", session=session)
        return Committed(
            f"STATUS_CHANGED:{placed.order_id}", placed.order_id, placed.tenant, placed.customer, time.perf_counter()
        )


async def handshake(url: str, token: str) -> ClientConnection:
    """A graphql-transport-ws socket to the router, acknowledged, the token its caller."""
    socket = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=START_SECONDS)
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    acknowledged = json.loads(await socket.recv(decode=True))
    if acknowledged.get("type") != "connection_ack":
        await socket.close()
        raise RuntimeError(f"no connection_ack: {acknowledged}")
    return socket


async def over_websocket(url: str, subscriber: Subscriber) -> None:
    async with await handshake(url, subscriber.token) as socket:
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        subscriber.opened.set()
        async for text in socket:
            message = json.loads(text)
            kind = message.get("type")
            if kind == "next":
                subscriber.take(message["payload"])
            elif kind == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif kind == "error":
                subscriber.errors.extend(_error_text(error) for error in message.get("payload", []))
                return
            elif kind == "complete":
                subscriber.errors.append("completed by the server")
                return


async def over_sse(http: httpx.AsyncClient, url: str, subscriber: Subscriber) -> None:
    """graphql-sse's distinct connections mode: one POST per subscription, ``event: next``
    frames with the result as their data, ``event: complete`` at the end."""
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {subscriber.token}"}
    async with http.stream("POST", url, json={"query": QUERY}, headers=headers) as response:
        if response.status_code != 200:
            subscriber.errors.append(f"HTTP {response.status_code}: {(await response.aread())[:200]!r}")
            return
        subscriber.opened.set()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "complete":
                    subscriber.errors.append("completed by the server")
                    return
            elif line.startswith("data:") and event in ("", "next"):
                subscriber.take(json.loads(line.removeprefix("data:")))
            elif not line:
                event = ""


async def listen(subscriber: Subscriber, ws_url: str, http: httpx.AsyncClient, http_url: str) -> None:
    """One subscription for as long as it lasts; whatever ends it is kept with it."""
    try:
        if subscriber.transport == "ws":
            await over_websocket(ws_url, subscriber)
        else:
            await over_sse(http, http_url, subscriber)
    except Exception as exc:
        subscriber.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        subscriber.ended = True
        subscriber.opened.set()


async def until_subscriptions_start(ws_url: str, token: str) -> None:
    """The orders subgraph refuses subscriptions (UNAVAILABLE) until its live feed knows where
    the topics end: one probe subscription at a time until one is not refused within a second."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        async with await handshake(ws_url, token) as socket:
            await socket.send(json.dumps({"id": "probe", "type": "subscribe", "payload": {"query": QUERY}}))
            try:
                async with asyncio.timeout(1.0):
                    refusal = await socket.recv(decode=True)
            except TimeoutError:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"subscriptions still refused after {START_SECONDS:.0f} s: {refusal}")
        await asyncio.sleep(0.5)


async def until(done: Callable[[], bool], *, within: float, quiet: Callable[[], bool] | None = None) -> None:
    """Until ``done``, ``within`` seconds at most; sooner when ``quiet`` says nothing moves."""
    deadline = time.monotonic() + within
    while True:
        if done() or time.monotonic() > deadline or (quiet is not None and quiet()):
            return
        await asyncio.sleep(0.1)


def quiet_for(subscribers: Sequence[Subscriber], seconds: float) -> Callable[[], bool]:
    def quiet() -> bool:
        return time.perf_counter() - max((s.last for s in subscribers), default=0.0) > seconds

    return quiet


async def warm_up(subscribers: Sequence[Subscriber], placing: Orders) -> None:
    """Until every subscription has read an event: an order for each shopper whose
    subscriptions have not (one per tenant whose admins alone have not), again each round."""
    deadline = time.monotonic() + WARM_UP_SECONDS
    while time.monotonic() < deadline:
        waiting = [s for s in subscribers if not s.received and not s.ended]
        if not waiting:
            return
        targets = {(s.tenant, s.subject) for s in waiting if not s.admin}
        for tenant in sorted({s.tenant for s in waiting if s.admin} - {tenant for tenant, _ in targets}):
            targets.add((tenant, f"{tenant}-warm-up"))
        for tenant, customer in sorted(targets):
            await placing.place(tenant, customer)
        await until(all_live(waiting), within=WARM_UP_ROUND_SECONDS)


def all_live(subscribers: Sequence[Subscriber]) -> Callable[[], bool]:
    return lambda: all(s.received or s.ended for s in subscribers)


async def stream_events(
    placing: Orders, shoppers: Sequence[tuple[str, str]], count: int, rate: float, cancel_every: int
) -> tuple[list[Committed], float]:
    """``count`` events at ``rate`` per second: orders placed for the shoppers in turn, and
    every ``cancel_every``-th event the oldest order still open cancelled. Returns them and
    the seconds it took."""
    committed: list[Committed] = []
    open_orders: deque[Committed] = deque()
    placed = 0
    started = time.perf_counter()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        if cancel_every and n % cancel_every == cancel_every - 1 and open_orders:
            committed.append(await placing.cancel(open_orders.popleft()))
        else:
            tenant, customer = shoppers[placed % len(shoppers)]
            placed += 1
            order = await placing.place(tenant, customer)
            open_orders.append(order)
            committed.append(order)
    return committed, time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Tally:
    expected: int
    delivered: int
    unexpected: int
    latencies: dict[Transport, list[float]]


def tally(subscribers: Sequence[Subscriber], events: Sequence[Committed]) -> Tally:
    by_key = {event.key: event for event in events}
    expected = delivered = unexpected = 0
    latencies: dict[Transport, list[float]] = {"ws": [], "sse": []}
    for subscriber in subscribers:
        for event in events:
            if subscriber.sees(event):
                expected += 1
                at = subscriber.received.get(event.key)
                if at is not None:
                    delivered += 1
                    latencies[subscriber.transport].append(at - event.at)
        unexpected += sum(1 for key in subscriber.received if key in by_key and not subscriber.sees(by_key[key]))
    return Tally(expected, delivered, unexpected, latencies)


def milliseconds(latencies: Sequence[float]) -> str:
    if len(latencies) < 2:
        return "-"
    cuts = statistics.quantiles(latencies, n=100)
    return f"{cuts[49] * 1000:.0f} / {cuts[98] * 1000:.0f} ms"


def raise_file_limit(needed: int) -> None:
    """Every subscription holds a socket in this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@dataclass
class Run:
    subscribers: list[Subscriber]
    events: list[Committed]
    moments: dict[str, Moment]
    seconds: dict[str, float]
    not_live: int


async def measure(system: System, args: argparse.Namespace) -> Run:
    config = system.config
    key = KeyRing(config.key_file).signing_key

    def mint(tenant: str, subject: str, scope: str) -> str:
        return tokens.mint(key, subject, scopes=(scope,), tenant=tenant, issuer=config.issuer)

    tenants = tenant_names(args.tenants)
    subscribers = population(args.subscriptions, tenants, args.admin_share, args.per_shopper, mint)
    shoppers = watched_shoppers(subscribers) or [(tenant, f"{tenant}-customer") for tenant in tenants]
    ws_url, http_url = config.router_url.replace("http://", "ws://"), config.router_url
    engine = create_engine(config.database_urls["orders"])
    placing = Orders(writer(engine))
    moments: dict[str, Moment] = {}
    seconds: dict[str, float] = {}
    tasks: list[asyncio.Task[None]] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(START_SECONDS, read=None), limits=limits) as http:
            await until_subscriptions_start(ws_url, mint(tenants[0], "bench-probe", ORDERS_ADMIN))
            orders_port = config.ports.subgraphs["orders"]
            await until(lambda: sockets_to(orders_port) == 0, within=SOCKETS_CLOSE_SECONDS)
            moments["before"] = snapshot(system)
            started = time.perf_counter()
            for first in range(0, len(subscribers), OPENING_AT_ONCE):
                batch = subscribers[first : first + OPENING_AT_ONCE]
                tasks += [
                    asyncio.create_task(listen(s, ws_url, http, http_url), name=f"subscription {first + n}")
                    for n, s in enumerate(batch)
                ]
                async with asyncio.timeout(START_SECONDS):
                    await asyncio.gather(*(s.opened.wait() for s in batch))
            seconds["open"] = time.perf_counter() - started
            await asyncio.sleep(2.0)  # the last subscribe messages reach the subgraph
            moments["open"] = snapshot(system)

            started = time.perf_counter()
            await warm_up(subscribers, placing)
            seconds["live"] = time.perf_counter() - started
            not_live = sum(1 for s in subscribers if not s.received)
            await until(lambda: False, within=30.0, quiet=quiet_for(subscribers, 1.0))

            moments["events before"] = snapshot(system)
            events, seconds["events"] = await stream_events(
                placing, shoppers, args.events, args.rate, args.cancel_every
            )
            measured, expected = {event.key for event in events}, tally(subscribers, events).expected

            def all_delivered() -> bool:
                return sum(len(s.received.keys() & measured) for s in subscribers) >= expected

            await until(all_delivered, within=DRAIN_SECONDS, quiet=quiet_for(subscribers, QUIET_SECONDS))
            moments["events after"] = snapshot(system)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await until(lambda: sockets_to(orders_port) == 0, within=SOCKETS_CLOSE_SECONDS)
            moments["closed"] = snapshot(system)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
    return Run(subscribers, events, moments, seconds, not_live)


def report(run: Run, args: argparse.Namespace) -> None:
    subscribers, events, moments, seconds = run.subscribers, run.events, run.moments, run.seconds
    count = len(subscribers)
    result = tally(subscribers, events)
    kinds = Counter(s.transport for s in subscribers)
    admins = sum(1 for s in subscribers if s.admin)
    created = sum(1 for event in events if event.key.startswith("CREATED:"))
    ended = [s for s in subscribers if s.errors]
    errors = Counter(error for s in ended for error in s.errors)
    everything = result.latencies["ws"] + result.latencies["sse"]
    share = result.delivered / result.expected * 100 if result.expected else 0.0

    print(f"SQLite, {platform.python_version()}, {os.cpu_count()} cores")
    print(
        f"subscriptions: {count} ({kinds['ws']} WebSocket, {kinds['sse']} SSE) in {args.tenants} tenants: "
        f"{admins} admin, {count - admins} shopper ({args.per_shopper} per shopper)"
    )
    print(
        f"opened in {seconds['open']:.1f} s; live (each read a warm-up event) {seconds['live']:.1f} s later; "
        f"never live: {run.not_live}"
    )
    print(
        f"events: {len(events)} ({created} orders placed, {len(events) - created} cancelled) "
        f"at {len(events) / seconds['events']:.1f}/s"
    )
    print(
        f"delivered/expected: {result.delivered}/{result.expected} ({share:.2f}%); "
        f"to a subscriber who may not see it: {result.unexpected}; "
        f"repeated: {sum(s.repeated for s in subscribers)}; ended early: {len(ended)}"
    )
    for error, times in errors.most_common(5):
        print(f"  {times} x {error}")
    worst = f"{max(everything) * 1000:.0f} ms" if everything else "-"
    print(f"commit to client p50/p99: {milliseconds(everything)}   max {worst}")
    print(f"  over WebSocket p50/p99: {milliseconds(result.latencies['ws'])}")
    print(f"  over SSE       p50/p99: {milliseconds(result.latencies['sse'])}")

    per_100 = 100 / count if count else 0.0
    before, opened = moments["before"].processes, moments["open"].processes
    start, end = moments["events before"], moments["events after"]
    total, idle = (end.machine[0] - start.machine[0]), (end.machine[1] - start.machine[1])
    print(
        f"while events flowed: {result.delivered / (end.at - start.at):.0f} deliveries/s; "
        f"the machine {100 * (1 - idle / max(total, 1)):.0f}% busy (all of it, other work included)"
    )
    print(f"{'':<40}{'router':>10}{'orders':>10}")
    print(f"{'CPU s per 100 subscriptions, opening':<40}" + _row(lambda n: (opened[n].cpu - before[n].cpu) * per_100))
    print(
        f"{'RSS MB per 100 subscriptions, opened':<40}"
        + _row(lambda n: (opened[n].rss - before[n].rss) / 1024 * per_100)
    )
    print(
        f"{'CPU cores busy while events flowed':<40}"
        + _row(lambda n: (end.processes[n].cpu - start.processes[n].cpu) / (end.at - start.at))
    )
    for name, moment in moments.items():
        print(f"{'RSS MB, ' + name:<40}" + "".join(f"{moment.processes[n].rss / 1024:>10.2f}" for n in SERVED))
    sockets = ", ".join(f"{name} {moment.subgraph_sockets}" for name, moment in moments.items())
    print(f"router sockets to the orders subgraph: {sockets}")


def _row(value: Callable[[str], float]) -> str:
    return "".join(f"{value(name):>10.2f}" for name in SERVED)


def run(var: Path, args: argparse.Namespace) -> None:
    raise_file_limit(args.subscriptions + 1024)
    urls, _databases = asyncio.run(prepare(var, postgres=False))
    config = SystemConfig(
        ports=Ports.free(first_offset=1700), var=var, database_urls=urls, default_tenant=None, rate_limit=1_000_000
    )
    with running(config) as system:
        result = asyncio.run(measure(system, args))
    report(result, args)
    if args.keep_logs:
        print(f"logs in {var / 'logs'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200, help="order events to measure")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--admin-share", type=float, default=0.1, help="of each tenant's subscriptions")
    parser.add_argument("--per-shopper", type=int, default=2, help="subscriptions per shopper")
    parser.add_argument("--cancel-every", type=int, default=3, help="every n-th event cancels an order; 0: none")
    parser.add_argument("--keep-logs", type=Path, default=None, help="run in this (new) directory and keep it")
    args = parser.parse_args()
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
        run(args.keep_logs.resolve(), args)
        return
    with tempfile.TemporaryDirectory() as var:
        run(Path(var), args)


if __name__ == "__main__":
    main()
