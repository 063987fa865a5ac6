"""What the request guard costs: the storefront grid's CPU per request with and without it,
at the catalog and at the router, measured back to back.

Starts the system on free ports (SQLite, the demo store), an unguarded catalog on the same
database (bench/unguarded_catalog.py) and an unguarded router (bench/router-unguarded.config.ts)
in front of the same subgraphs. Each round sends the same grid requests to the guarded and the
unguarded variant in turn; CPU is the serving process's own user + system time from
/proc/<pid>/stat, divided by the requests. The router's figures are the router process only.
The guard's share is the median over the rounds of each round's guarded / unguarded ratio.

    .venv/bin/python -m bench.guard [--requests 500] [--rounds 3] [--concurrency 8]
"""

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from bench.grid import cpu_seconds, drive, prepare
from shopgraph.system import HOST, Ports, System, SystemConfig, router_readiness_url, running

UNGUARDED_ROUTER = Path(__file__).with_name("router-unguarded.config.ts")


def start_unguarded(system: System, ports: Ports) -> dict[str, str]:
    """The unguarded variants, next to the running system; their URLs by name."""
    config = system.config
    catalog_port = ports.subgraphs["catalog"] + 50
    router_port = ports.router + 50
    env = {**config.subgraph_env("catalog"), "SHOPGRAPH_CATALOG_PORT": str(catalog_port)}
    system.spawn("catalog-unguarded", [sys.executable, "-m", "bench.unguarded_catalog"], env)
    system.start_router("router-unguarded", router_port, config_file=UNGUARDED_ROUTER)
    system.wait_until_ready(
        {
            "catalog-unguarded": f"http://{HOST}:{catalog_port}/ready",
            "router-unguarded": router_readiness_url(router_port),
        }
    )
    return {
        "catalog-unguarded": f"http://{HOST}:{catalog_port}/graphql",
        "router-unguarded": f"http://{HOST}:{router_port}/graphql",
    }


def cpu_ms_per_request(system: System, process: str, url: str, requests: int, concurrency: int) -> float:
    pid = system.processes[process].pid
    before = cpu_seconds(pid)
    asyncio.run(drive(url, requests, concurrency))
    return (cpu_seconds(pid) - before) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        urls, _ = asyncio.run(prepare(var, postgres=False))
        ports = Ports.free(first_offset=1500)
        # The demo tenant by default, and no rate limit in the way of the requests.
        config = SystemConfig(ports=ports, var=var, database_urls=urls, rate_limit=1_000_000)
        with running(config) as system:
            unguarded = start_unguarded(system, ports)
            variants = {
                "catalog, guarded": ("catalog", system.urls()["catalog"]),
                "catalog, unguarded": ("catalog-unguarded", unguarded["catalog-unguarded"]),
                "router, guarded": ("router", system.urls()["router"]),
                "router, unguarded": ("router-unguarded", unguarded["router-unguarded"]),
            }
            for _process, url in variants.values():
                asyncio.run(drive(url, min(100, args.requests), args.concurrency))  # warm up every cache
            figures: dict[str, list[float]] = {name: [] for name in variants}
            for _round in range(args.rounds):
                for name, (process, url) in variants.items():
                    figures[name].append(cpu_ms_per_request(system, process, url, args.requests, args.concurrency))

    print(f"the request guard: storefront grid, SQLite, {args.rounds} rounds of {args.requests} requests each,")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"concurrency {args.concurrency}; {machine}")
    print(f"{'variant':<22}{'CPU ms/req (median)':>21}  rounds")
    for name, values in figures.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"{name:<22}{statistics.median(values):>21.2f}  {shown}")
    for where in ("catalog", "router"):
        pairs = list(zip(figures[f"{where}, guarded"], figures[f"{where}, unguarded"], strict=True))
        # Each round's variants ran back to back: their ratio cancels the machine's drift.
        ratio = statistics.median(guarded / bare for guarded, bare in pairs)
        difference = statistics.median(guarded - bare for guarded, bare in pairs)
        print(f"guard at the {where}: {difference:+.2f} ms/req ({(ratio - 1) * 100:+.1f}%, median of the rounds)")


if __name__ == "__main__":
    main()
