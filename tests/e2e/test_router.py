"""Queries through the router to the five subgraphs, over real HTTP."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers.migrations import upgrade
from shopgraph.registry import SUBGRAPHS
from shopgraph.system import Ports, System, SystemConfig, port_is_free, running
from tests.e2e.conftest import ask as ask_at
from tests.e2e.conftest import mint

pytestmark = pytest.mark.e2e

ACROSS = """
query Me {
  me {
    name
    cart { itemCount subtotal { amount currency } lines { quantity product { name price { amount currency } stock { available } } } }
    orders(first: 5) { totalCount edges { node { number status lines { name } payment { status amount { amount } } } } }
  }
}
"""


def shopper_token(system: System) -> str:
    return mint(system, "demo-shopper")


def ask(system: System, query: str, token: str | None = None, **headers: str) -> dict[str, Any]:
    body: dict[str, Any] = ask_at(system.urls()["router"], query, token, headers=headers)
    return body


def test_a_query_across_five_subgraphs_through_the_router(system: System) -> None:
    body = ask(system, ACROSS, shopper_token(system), **{"X-Tenant-Id": "demo"})

    assert "errors" not in body, body["errors"]
    me = body["data"]["me"]
    assert me["name"] == "Dana Demo"
    lines = me["cart"]["lines"]
    assert [line["quantity"] for line in lines] == [1, 2, 3]
    assert all(line["product"]["price"]["currency"] == "USD" for line in lines)
    assert me["cart"]["subtotal"]["amount"] == sum(
        line["quantity"] * line["product"]["price"]["amount"] for line in lines
    )
    orders = me["orders"]
    assert orders["totalCount"] == 2
    assert sorted(edge["node"]["status"] for edge in orders["edges"]) == ["FULFILLED", "PAID"]
    assert [edge["node"]["payment"]["status"] for edge in orders["edges"]] == ["SUCCEEDED", "SUCCEEDED"]


def test_public_catalog_through_the_router_with_the_token_naming_the_tenant(system: System) -> None:
    body = ask(
        system,
        "{ products(first: 3, sort: {field: PRICE, direction: DESC}) { totalCount edges { node { name category { name } } } } categories { name } }",
        shopper_token(system),
    )

    assert "errors" not in body, body["errors"]
    assert body["data"]["products"]["totalCount"] > 100
    assert len(body["data"]["categories"]) == 10


def test_errors_keep_their_codes_through_the_router(system: System) -> None:
    anonymous = ask(system, "{ me { name } }", **{"X-Tenant-Id": "demo"})
    bad_input = ask(system, "{ products(first: 1000) { totalCount } }", **{"X-Tenant-Id": "demo"})

    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert bad_input["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphiql_is_served_at_the_router(system: System) -> None:
    response = httpx.get(system.urls()["router"], headers={"Accept": "text/html"}, timeout=10)

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    # The sign-in asks for every scope the supergraph's fields name.
    assert '"clientId":"graphiql"' in response.text and "orders:admin" in response.text


def test_every_process_stops(tmp_path: Path) -> None:
    var = tmp_path
    urls = {name: f"sqlite+aiosqlite:///{var / name}.db" for name in SUBGRAPHS}
    asyncio.run(_migrate(urls))
    config = SystemConfig(ports=Ports.free(first_offset=100), var=var, database_urls=urls)
    with running(config) as started:
        processes = list(started.processes.values())
    assert all(process.poll() is not None for process in processes)
    assert all(port_is_free(port) for port in config.ports.all())


async def _migrate(urls: dict[str, str]) -> None:
    for name, url in urls.items():
        await upgrade(name, url)
