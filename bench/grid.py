"""The storefront grid, measured: `products(first: 20)` with price, stock and category,
through the router and straight to the catalog subgraph.

Starts the real system on free ports with the demo store (200 products) in SQLite or
PostgreSQL, then reports server CPU milliseconds per request (from /proc/<pid>/stat), requests
per second at a fixed concurrency, and SQL statements per request.

    .venv/bin/python -m bench.grid [--requests 1000] [--concurrency 8] [--postgres]
"""

import argparse
import asyncio
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from resolvers.migrations import upgrade
from shopgraph import demo_data
from shopgraph.registry import SUBGRAPHS, app_factory, settings_for
from shopgraph.system import Ports, System, SystemConfig, running
from tests.support.sql import SqlCounter

GRID = """
query Grid($first: Int!, $minPrice: Int) {
  products(first: $first, filter: {minPrice: $minPrice}) {
    edges { node { id name price { amount currency } stock { available } category { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def drive(url: str, requests: int, concurrency: int) -> float:
    """Sends ``requests`` grid queries, ``concurrency`` at a time; returns the wall time.
    The variables vary so the router cannot merge identical requests in flight."""
    queue = iter(range(requests))

    async def worker(http: httpx.AsyncClient) -> None:
        for i in queue:
            response = await http.post(url, json={"query": GRID, "variables": {"first": 20, "minPrice": i % 50}})
            response.raise_for_status()
            assert "errors" not in response.json(), response.text

    async with httpx.AsyncClient(headers={"X-Tenant-Id": "demo"}, timeout=30) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return time.perf_counter() - started


async def statements_per_request(database_url: str) -> int:
    settings = settings_for("catalog", database_url=database_url, default_tenant="demo")
    app = app_factory("catalog")(settings)
    async with LifespanManager(app):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog")
        with SqlCounter(app.state.runtime.engine) as sql:
            (await http.post("/graphql", json={"query": GRID, "variables": {"first": 20}})).raise_for_status()
        return sql.count


async def prepare(var: Path, postgres: bool) -> tuple[dict[str, str], list[str]]:
    databases: list[str] = []
    if postgres:
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        urls = {}
        for name in SUBGRAPHS:
            database = f"shopgraph_bench_{uuid.uuid4().hex[:8]}_{name}"
            await admin.execute(f'CREATE DATABASE "{database}"')
            databases.append(database)
            urls[name] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        await admin.close()
    else:
        urls = {name: f"sqlite+aiosqlite:///{var / name}.db" for name in SUBGRAPHS}
    for name, url in urls.items():
        await upgrade(name, url)
    await demo_data.seed(urls)
    return urls, databases


async def drop(databases: list[str]) -> None:
    if databases:
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        for database in databases:
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        await admin.close()


def measure(system: System, target: str, requests: int, concurrency: int) -> dict[str, float]:
    url = system.urls()[target]
    asyncio.run(drive(url, 100, concurrency))  # warm up: caches, connection pools, JIT-less paths
    pids = {name: system.processes[name].pid for name in ("catalog", "router")}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    wall = asyncio.run(drive(url, requests, concurrency))
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    return {
        "rps": requests / wall,
        "catalog_ms": (after["catalog"] - before["catalog"]) * 1000 / requests,
        "router_ms": (after["router"] - before["router"]) * 1000 / requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        urls, databases = asyncio.run(prepare(var, args.postgres))
        try:
            sql = asyncio.run(statements_per_request(urls["catalog"]))
            # No rate limit in the way: the runs send thousands of requests from one address.
            config = SystemConfig(ports=Ports.free(first_offset=500), var=var, database_urls=urls, rate_limit=1_000_000)
            with running(config) as system:
                direct = measure(system, "catalog", args.requests, args.concurrency)
                routed = measure(system, "router", args.requests, args.concurrency)
        finally:
            asyncio.run(drop(databases))

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"storefront grid, products(first: 20), {backend}, {args.requests} requests, concurrency {args.concurrency}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'path':<22}{'req/s':>8}{'catalog CPU ms/req':>20}{'router CPU ms/req':>19}{'SQL/req':>9}")
    print(f"{'straight to catalog':<22}{direct['rps']:>8.0f}{direct['catalog_ms']:>20.2f}{'-':>19}{sql:>9}")
    print(
        f"{'through the router':<22}{routed['rps']:>8.0f}{routed['catalog_ms']:>20.2f}"
        f"{routed['router_ms']:>19.2f}{sql:>9}"
    )


if __name__ == "__main__":
    main()
