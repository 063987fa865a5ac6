"""The router's rate limit: 100 requests per caller per window with bursts, shared by two
router instances through Redis."""

import asyncio
import uuid

import httpx
import pytest

from shopgraph.system import Ports, System, router_readiness_url
from tests.e2e.conftest import mint
from tests.support.subscriptions import socket

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/0"
# A long window, so the bucket leaks less than one request while the test sends its burst
# on a slow machine: one request every 6 s.
WINDOW_S = 600


@pytest.fixture(scope="module")
def two_routers(system: System) -> list[str]:
    ports = [Ports.free(first_offset=400).router, Ports.free(first_offset=500).router]
    for index, port in enumerate(ports):
        system.start_router(
            f"router-limited-{index}",
            port,
            RATE_LIMIT="100",
            RATE_LIMIT_WINDOW_S=str(WINDOW_S),
            RATE_LIMIT_REDIS_URL=REDIS_URL,
        )
    system.wait_until_ready({f"router-limited-{i}": router_readiness_url(port) for i, port in enumerate(ports)})
    return [f"http://127.0.0.1:{port}/graphql" for port in ports]


async def test_the_101st_request_is_refused_across_routers_and_the_limit_recovers(
    system: System, two_routers: list[str]
) -> None:
    token = mint(system, f"busy-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as http:

        async def send(url: str) -> httpx.Response:
            return await http.post(url, json={"query": "{ __typename }"}, headers=headers)

        burst = await asyncio.gather(*(send(two_routers[i % 2]) for i in range(100)))
        refused = await send(two_routers[0])
        other_caller = await http.post(
            two_routers[1],
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {mint(system, 'someone-else')}"},
        )

        assert [r.status_code for r in burst] == [200] * 100
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= WINDOW_S // 100
        assert other_caller.status_code == 200

        await asyncio.sleep(retry_after)
        assert (await send(two_routers[1])).status_code == 200
        assert (await send(two_routers[0])).status_code == 429


async def test_refused_operations_count_against_the_rate_too(system: System, two_routers: list[str]) -> None:
    token = mint(system, f"refused-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {token}"}
    # Refused before any subgraph is called, yet each cost the router some work.
    too_many_aliases = {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"}
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await asyncio.gather(
            *(http.post(two_routers[0], json=too_many_aliases, headers=headers) for _ in range(100))
        )
        after = await http.post(two_routers[1], json={"query": "{ __typename }"}, headers=headers)

    assert {r.status_code for r in refused} == {400}
    assert after.status_code == 429 and after.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_subscribing_counts_against_the_rate(system: System, two_routers: list[str]) -> None:
    token = mint(system, f"subscriber-{uuid.uuid4().hex[:8]}", scopes=("orders:admin",))
    headers = {"Authorization": f"Bearer {token}"}
    async with socket(two_routers[0], token) as opened, httpx.AsyncClient(timeout=30) as http:
        for index in range(100):
            await opened.subscribe(str(index), "subscription { orderEvents { cursor } }")
            await opened.send({"id": str(index), "type": "complete"})
        await opened.subscribe("one-too-many", "subscription { orderEvents { cursor } }")
        refused = await opened.receive()
        after = await http.post(two_routers[1], json={"query": "{ __typename }"}, headers=headers)

    assert refused["type"] == "error" and refused["id"] == "one-too-many"
    assert [error["extensions"]["code"] for error in refused["payload"]] == ["RATE_LIMITED"]
    assert after.status_code == 429
