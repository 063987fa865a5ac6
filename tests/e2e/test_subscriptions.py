"""Subscriptions through the router between real processes: events from Kafka, enriched across
subgraphs, over graphql-transport-ws and Server-Sent Events; authorized per field and per
event; resumable from a cursor; and graphql-transport-ws spoken to the letter."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from devstack import tokens
from resolvers.scopes import SCOPES
from shopgraph.system import System
from tests.e2e.conftest import ask, mint, provider_key
from tests.e2e.test_authorization_matrix import protected_fields
from tests.e2e.test_checkout import ADDRESS, CHECKOUT, pay
from tests.support.subscriptions import EventStream, Socket, event_stream, socket

pytestmark = pytest.mark.e2e

TENANT = {"X-Tenant-Id": "demo"}
PARTNER_SCOPES = ("orders:admin",)
ENRICHED_ORDERS = """
subscription($order: ID) {
  orderEvents(orderId: $order) {
    cursor type from to orderId
    order { id number status payment { status } lines { quantity product { name } } }
  }
}
"""
PAYMENTS = "subscription { paymentEvents { cursor type orderId payment { status amount { amount } } } }"
ORDERS = "subscription { orderEvents { type to orderId } }"
PRODUCTS = "subscription($ids: [ID!], $after: String) { productEvents(ids: $ids, after: $after) { cursor available } }"


def new_product(system: System, sku: str, *, tenant: str = "demo") -> tuple[str, str]:
    """A product with stock, and its store admin's token."""
    admin = mint(system, f"admin-{tenant}", scopes=("catalog:write", "inventory:write"), tenant=tenant)
    created = ask(
        system.config.router_url,
        'mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Live mug", '
        'price: {amount: 900, currency: "USD"}}) { id } }',
        admin,
        variables={"sku": sku},
    )
    product: str = created["data"]["createProduct"]["id"]
    set_stock(system, admin, product, 50)
    return product, admin


def set_stock(system: System, admin: str, product: str, on_hand: int) -> None:
    answer = ask(
        system.config.router_url,
        "mutation($p: ID!, $n: Int!) { setStock(productId: $p, onHand: $n) { id } }",
        admin,
        variables={"p": product, "n": on_hand},
    )
    assert "errors" not in answer, answer


def checkout(system: System, shopper: str, product: str) -> dict[str, Any]:
    """A one-line order, placed and not yet paid."""
    router = system.config.router_url
    added = ask(
        router, "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { id } }", shopper, variables={"p": product}
    )
    assert "errors" not in added, added
    placed = ask(
        router,
        CHECKOUT,
        shopper,
        variables={
            "input": {"idempotencyKey": str(uuid.uuid4()), "shippingAddress": ADDRESS, "email": "s@example.com"}
        },
    )
    order: dict[str, Any] = placed["data"]["checkout"]
    return order


Open = Callable[..., AbstractAsyncContextManager["Subscription"]]


class Subscription:
    """One subscription over either transport: ``results`` gives its next payloads."""

    def __init__(self, results: Callable[[int, float], Any], silent: Callable[[float], Any]) -> None:
        self.results = results
        self.silent = silent

    async def about(self, order_id: str, count: int, within: float = 30.0) -> list[dict[str, Any]]:
        """The next ``count`` events of one order, passing over the store's others."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                [payload] = await self.results(1, within)
                event = next(iter(payload["data"].values()))
                if event.get("orderId", event.get("order", {}).get("id")) == order_id:
                    found.append(event)
        return found


@asynccontextmanager
async def over_websocket(
    system: System, query: str, token: str | None, variables: dict[str, Any] | None = None
) -> AsyncIterator[Subscription]:
    # A signed-in caller's store is the token's; anyone else names it.
    async with socket(system.config.router_url, token, tenant=None if token else "demo") as opened:
        await opened.subscribe("1", query, variables)
        yield Subscription(lambda count, within: opened.results("1", count, within), opened.silent)


@asynccontextmanager
async def over_sse(
    system: System, query: str, token: str | None, variables: dict[str, Any] | None = None
) -> AsyncIterator[Subscription]:
    headers = {} if token else TENANT
    async with event_stream(system.config.router_url, query, token, variables=variables, headers=headers) as stream:
        yield Subscription(stream.results, lambda within: _silent(stream, within))


async def _silent(stream: EventStream, within: float) -> bool:
    try:
        event = await stream.receive(within)
    except TimeoutError:
        return True
    raise AssertionError(f"expected nothing, got {event}")


TRANSPORTS = [pytest.param(over_websocket, id="websocket"), pytest.param(over_sse, id="sse")]


async def settled() -> None:
    """Gives a new subscription time to reach its subgraph before the test makes events."""
    await asyncio.sleep(1.0)


@pytest.mark.parametrize("opened", TRANSPORTS)
async def test_a_paid_checkout_streams_order_and_payment_events_with_fields_of_three_subgraphs(
    system: System, opened: Open
) -> None:
    product, _ = new_product(system, f"LIVE-{uuid.uuid4().hex[:8]}")
    partner = mint(system, "partner-live", scopes=PARTNER_SCOPES)
    shopper = mint(system, f"live-{uuid.uuid4().hex[:8]}")
    async with (
        opened(system, ENRICHED_ORDERS, partner) as orders,
        opened(system, PAYMENTS, partner) as payments,
    ):
        await settled()
        order = await asyncio.to_thread(checkout, system, shopper, product)
        await asyncio.to_thread(pay, system, order["payment"]["providerRef"], "pm_card_visa")
        moves = await orders.about(order["id"], 2)
        paid = await payments.about(order["id"], 1)

    assert [(m["type"], m["from"], m["to"]) for m in moves] == [
        ("CREATED", None, "PENDING_PAYMENT"),
        ("STATUS_CHANGED", "PENDING_PAYMENT", "PAID"),
    ]
    assert {m["order"]["id"] for m in moves} == {order["id"]}
    final = moves[1]["order"]
    assert final["status"] == "PAID"
    assert final["payment"] == {"status": "SUCCEEDED"}  # from payments
    assert final["lines"] == [{"quantity": 1, "product": {"name": "Live mug"}}]  # from catalog
    assert paid[0]["type"] == "SUCCEEDED" and paid[0]["orderId"] == order["id"]
    assert paid[0]["payment"]["status"] == "SUCCEEDED"
    assert moves[0]["cursor"] != moves[1]["cursor"]


async def test_a_shopper_follows_their_order_from_pending_payment_to_paid(system: System) -> None:
    product, _ = new_product(system, f"FOLLOW-{uuid.uuid4().hex[:8]}")
    shopper = mint(system, f"follower-{uuid.uuid4().hex[:8]}")
    order = await asyncio.to_thread(checkout, system, shopper, product)
    async with over_websocket(system, ENRICHED_ORDERS, shopper, {"order": order["id"]}) as following:
        await settled()
        await asyncio.to_thread(pay, system, order["payment"]["providerRef"], "pm_card_visa")
        moves = [p["data"]["orderEvents"] for p in await following.results(1, 30)]
        if moves[0]["type"] == "CREATED":  # placed moments before: it may still have been on its way
            moves += [p["data"]["orderEvents"] for p in await following.results(1, 30)]

    move = moves[-1]
    assert (move["from"], move["to"], move["order"]["status"]) == ("PENDING_PAYMENT", "PAID", "PAID")


async def test_no_event_of_another_shopper_or_another_tenant_ever_arrives(system: System) -> None:
    product, _ = new_product(system, f"ISOLATE-{uuid.uuid4().hex[:8]}")
    mine, theirs = (mint(system, f"{who}-{uuid.uuid4().hex[:8]}") for who in ("me", "them"))
    elsewhere = mint(system, "partner-acme", scopes=PARTNER_SCOPES, tenant="acme")
    async with (
        over_websocket(system, ORDERS, mine) as my_orders,
        over_sse(system, PAYMENTS, mine) as my_payments,
        over_websocket(system, ORDERS, elsewhere) as other_store,
        over_sse(system, PRODUCTS, elsewhere) as other_products,
    ):
        await settled()
        their_order = await asyncio.to_thread(checkout, system, theirs, product)
        await asyncio.to_thread(pay, system, their_order["payment"]["providerRef"], "pm_card_visa")
        my_order = await asyncio.to_thread(checkout, system, mine, product)
        await asyncio.to_thread(pay, system, my_order["payment"]["providerRef"], "pm_card_visa")
        # Everything above happened before this, and each stream keeps its events in order.
        seen = [p["data"]["orderEvents"] for p in await my_orders.results(2, 30)]
        [payment] = [p["data"]["paymentEvents"] for p in await my_payments.results(1, 30)]
        assert await other_store.silent(2.0)
        assert await other_products.silent(0.5)
        assert await my_orders.silent(0.5)

    assert {event["orderId"] for event in seen} == {my_order["id"]}
    assert payment["orderId"] == my_order["id"]


async def test_a_cart_open_in_two_tabs_sees_the_other_tabs_change(system: System) -> None:
    product, _ = new_product(system, f"TABS-{uuid.uuid4().hex[:8]}")
    shopper = mint(system, f"tabs-{uuid.uuid4().hex[:8]}")
    someone = mint(system, f"other-{uuid.uuid4().hex[:8]}")
    query = "subscription { cartEvents { cause cart { itemCount subtotal { amount } } } }"
    add = "mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { id } }"
    async with over_websocket(system, query, shopper) as other_tab:
        await settled()
        await asyncio.to_thread(ask, system.config.router_url, add, someone, variables={"p": product})
        await asyncio.to_thread(ask, system.config.router_url, add, shopper, variables={"p": product})
        [changed] = [p["data"]["cartEvents"] for p in await other_tab.results(1, 30)]
        assert await other_tab.silent(1.0)

    assert changed == {"cause": "shopper", "cart": {"itemCount": 2, "subtotal": {"amount": 1800}}}


def direct(system: System, subgraph: str) -> str:
    return f"{system.config.subgraph_url(subgraph)}/graphql"


def refusals() -> list[Any]:
    """Every protected subscription field of the supergraph: anonymous, then without its scope."""
    cases = []
    for field in protected_fields(subscriptions=True):
        named = {scope for group in field.groups for scope in group}
        lacking = tuple(scope for scope in SCOPES if scope not in named)
        query = f"subscription {{ {field.field} {{ cursor }} }}"
        cases.append(pytest.param(field.subgraph, query, None, "UNAUTHENTICATED", id=f"{field.field}-anonymous"))
        cases.append(pytest.param(field.subgraph, query, lacking, "FORBIDDEN", id=f"{field.field}-without-scope"))
    return cases


@pytest.mark.parametrize("where", ["router", "subgraph"])
@pytest.mark.parametrize(("subgraph", "query", "scopes", "code"), refusals())
async def test_a_caller_without_the_fields_rights_is_refused_with_an_error_message(
    system: System, where: str, subgraph: str, query: str, scopes: tuple[str, ...] | None, code: str
) -> None:
    url = system.config.router_url if where == "router" else direct(system, subgraph)
    token = None if scopes is None else mint(system, "refused", scopes=scopes)
    async with socket(url, token, tenant="demo") as opened:
        await opened.subscribe("1", query)
        refusal = await opened.receive()
        assert await opened.silent(0.5)  # an `error` ends the operation: no `complete` after it

    assert refusal["type"] == "error" and refusal["id"] == "1"
    assert [error["extensions"]["code"] for error in refusal["payload"]] == [code]


def test_the_refusals_cover_every_protected_subscription() -> None:
    assert {field.field for field in protected_fields(subscriptions=True)} >= {"orderEvents", "paymentEvents"}


async def test_an_expired_token_ends_the_subscription_with_unauthenticated(system: System) -> None:
    short = tokens.mint(
        provider_key(system),
        "short-lived",
        scopes=PARTNER_SCOPES,
        tenant="demo",
        issuer=system.config.issuer,
        ttl_seconds=4,
    )
    expires = time.time() + 4
    async with socket(system.config.router_url, short) as opened:
        await opened.subscribe("1", ORDERS)
        ended = await opened.receive(within=15)
        ended_at = time.time()
        assert await opened.silent(0.5)

    assert ended["type"] == "error" and ended["id"] == "1"
    assert [error["extensions"]["code"] for error in ended["payload"]] == ["UNAUTHENTICATED"]
    assert expires - 1 <= ended_at <= expires + 5


async def test_a_client_resumes_from_its_cursor_with_nothing_missed_or_repeated(system: System) -> None:
    product, admin = new_product(system, f"RESUME-{uuid.uuid4().hex[:8]}")
    variables: dict[str, Any] = {"ids": [product]}
    async with over_websocket(system, PRODUCTS, None, variables) as first:
        await settled()
        await asyncio.to_thread(set_stock, system, admin, product, 1)
        seen = {"available": None}
        while seen["available"] != 1:  # the product's first stock may still have been on its way
            [seen] = [p["data"]["productEvents"] for p in await first.results(1, 30)]

    def missed() -> None:
        for on_hand in range(2, 102):
            set_stock(system, admin, product, on_hand)

    await asyncio.to_thread(missed)
    async with over_websocket(system, PRODUCTS, None, variables | {"after": seen["cursor"]}) as resumed:
        replayed = [p["data"]["productEvents"] for p in await resumed.results(100, 60)]
        await asyncio.to_thread(set_stock, system, admin, product, 500)
        [live] = [p["data"]["productEvents"] for p in await resumed.results(1, 30)]
        assert await resumed.silent(1.0)

    assert [event["available"] for event in replayed] == list(range(2, 102))
    assert live["available"] == 500
    assert len({event["cursor"] for event in [*replayed, live]}) == 101


async def test_a_bogus_cursor_is_refused(system: System) -> None:
    partner = mint(system, "partner-cursor", scopes=PARTNER_SCOPES)
    product, admin = new_product(system, f"CURSOR-{uuid.uuid4().hex[:8]}")
    async with over_websocket(system, PRODUCTS, None, {"ids": [product]}) as products:
        await settled()
        await asyncio.to_thread(set_stock, system, admin, product, 7)
        [event] = await products.results(1, 30)
    product_cursor = event["data"]["productEvents"]["cursor"]
    ahead = _with_offsets(product_cursor, 10**9)

    bogus = {"malformed": ("orderEvents", "not-a-cursor"), "other-stream": ("orderEvents", product_cursor)}
    bogus["ahead"] = ("productEvents", ahead)
    async with socket(system.config.router_url, partner) as opened:
        for id, (field, after) in bogus.items():
            await opened.subscribe(id, f"subscription($a: String) {{ {field}(after: $a) {{ cursor }} }}", {"a": after})
            refusal = await opened.receive()
            assert refusal["type"] == "error" and refusal["id"] == id, refusal
            assert [e["extensions"]["code"] for e in refusal["payload"]] == ["BAD_USER_INPUT"]


def _with_offsets(cursor: str, offset: int) -> str:
    """The cursor as a client might forge it: every partition at ``offset``."""
    document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    document["o"] = dict.fromkeys(document["o"], offset)
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


async def test_the_router_speaks_graphql_transport_ws_to_the_letter(system: System) -> None:
    router = system.config.router_url
    partner = mint(system, "partner-protocol", scopes=PARTNER_SCOPES)
    async with socket(router, partner) as opened:
        await opened.send({"type": "ping"})
        assert await opened.receive() == {"type": "pong"}

        await opened.subscribe("bad", "subscription { noSuchField }")
        refusal = await opened.receive()
        assert refusal["type"] == "error" and refusal["id"] == "bad"
        assert await opened.silent(0.5)

        await opened.subscribe("query", "{ __typename }")
        assert await opened.receive() == {"id": "query", "type": "next", "payload": {"data": {"__typename": "Query"}}}
        assert await opened.receive() == {"id": "query", "type": "complete"}  # completed by the server

        await opened.subscribe("live", ORDERS)
        await opened.send({"id": "live", "type": "complete"})  # completed by the client
        assert await opened.silent(1.0)

        await opened.subscribe("twice", ORDERS)
        await opened.subscribe("twice", ORDERS)
        with pytest.raises(ConnectionClosed) as closed:
            await opened.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409


async def test_an_operation_before_the_handshake_closes_the_socket(system: System) -> None:
    from websockets.asyncio.client import connect  # noqa: PLC0415

    from tests.support.subscriptions import PROTOCOL  # noqa: PLC0415

    url = system.config.router_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[PROTOCOL]) as connection:
        early = Socket(connection)
        await early.subscribe("1", "{ __typename }")
        with pytest.raises(ConnectionClosed) as closed:
            await early.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_sse_refusals_carry_their_codes(system: System) -> None:
    """Over SSE a refused subscription is one `next` event with the coded errors, then `complete`."""
    with httpx.stream(
        "POST",
        system.config.router_url,
        json={"query": ORDERS},
        headers={"Accept": "text/event-stream", **TENANT},
        timeout=15,
    ) as response:
        body = "".join(response.iter_text())
    assert '"code":"UNAUTHENTICATED"' in body
    assert "INTERNAL_SERVER_ERROR" not in body
    assert "event: complete" in body


async def test_a_subgraph_restart_ends_the_stream_and_the_client_resumes_from_its_cursor(system: System) -> None:
    product, admin = new_product(system, f"RESTART-{uuid.uuid4().hex[:8]}")
    following = {"ids": [product]}
    async with socket(system.config.router_url, None, tenant="demo") as opened:
        await opened.subscribe("1", PRODUCTS, following)
        await settled()
        await asyncio.to_thread(set_stock, system, admin, product, 1)
        seen: dict[str, Any] = {"available": None}
        while seen["available"] != 1:
            [payload] = await opened.results("1", 1)
            seen = payload["data"]["productEvents"]
        await asyncio.to_thread(system.restart, "catalog")
        ended = await opened.receive(within=15)

    assert ended["type"] == "error", ended
    assert [error["extensions"]["code"] for error in ended["payload"]] == ["SERVICE_UNAVAILABLE"]
    await asyncio.to_thread(set_stock, system, admin, product, 2)
    await asyncio.to_thread(set_stock, system, admin, product, 3)
    async with over_websocket(system, PRODUCTS, None, following | {"after": seen["cursor"]}) as resumed:
        replayed = [p["data"]["productEvents"]["available"] for p in await resumed.results(2, 30)]
        assert await resumed.silent(1.0)
    assert replayed == [2, 3]


async def test_leaving_a_quiet_subscription_frees_it_at_once(system: System) -> None:
    """Completing a subscription that has had no event yet ends it at the subgraph too: the
    caller's allowance (20 at a time) is not used up by streams it left."""
    shopper = mint(system, f"leaver-{uuid.uuid4().hex[:8]}")
    async with socket(system.config.router_url, shopper) as opened:
        for round in range(25):
            await opened.subscribe(f"quiet-{round}", "subscription { cartEvents { cursor } }")
            await asyncio.sleep(0.05)
            await opened.send({"id": f"quiet-{round}", "type": "complete"})
        await asyncio.sleep(0.5)
        await opened.subscribe("still-allowed", "subscription { cartEvents { cursor } }")
        assert await opened.silent(1.0)  # no TOO_MANY_SUBSCRIPTIONS


async def test_each_operation_on_a_socket_reads_afresh(system: System) -> None:
    product, admin = new_product(system, f"FRESH-{uuid.uuid4().hex[:8]}")
    query = "query($id: ID!) { product(id: $id) { stock { available } } }"
    async with socket(direct(system, "catalog"), None, tenant="demo") as opened:
        await opened.subscribe("before", query, {"id": product})
        [before] = await opened.results("before", 1)
        await asyncio.to_thread(set_stock, system, admin, product, 3)
        await opened.subscribe("after", query, {"id": product})
        [after] = await opened.results("after", 1)

    assert before["data"]["product"]["stock"]["available"] == 50
    assert after["data"]["product"]["stock"]["available"] == 3
