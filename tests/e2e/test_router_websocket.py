"""The router over a WebSocket (graphql-transport-ws): the token in `connection_init` is the
caller for the socket's operations, a bad one closes the socket with 4403, none is anonymous.
Queries run over the socket too, so `{ me { name } }` shows whose token was used."""

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from shopgraph.system import System
from tests.e2e.conftest import mint, provider_key
from tests.support.forged import FORGERIES, Forgery

pytestmark = pytest.mark.e2e

FORBIDDEN = 4403


def socket_url(system: System) -> str:
    return system.config.router_url.replace("http://", "ws://")


async def opened(system: System, payload: dict[str, Any] | None) -> ClientConnection:
    socket = await connect(socket_url(system), subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10)
    await socket.send(json.dumps({"type": "connection_init", **({} if payload is None else {"payload": payload})}))
    assert json.loads(await socket.recv(decode=True)) == {"type": "connection_ack"}
    return socket


async def run(socket: ClientConnection, query: str) -> dict[str, Any]:
    """One operation's result (the `next` payload), after which the server completes it."""
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    result: dict[str, Any] = json.loads(await socket.recv(decode=True))
    assert result["type"] == "next", result
    assert json.loads(await socket.recv(decode=True)) == {"id": "1", "type": "complete"}
    payload: dict[str, Any] = result["payload"]
    return payload


@pytest.mark.parametrize("key", ["Authorization", "authorization"])
async def test_the_token_in_connection_init_is_the_caller(system: System, key: str) -> None:
    socket = await opened(system, {key: f"Bearer {mint(system, 'demo-shopper')}", "X-Tenant-Id": "demo"})
    async with socket:
        first = await run(socket, "{ me { name } }")
        second = await run(socket, "{ me { id } }")

    assert first == {"data": {"me": {"name": "Dana Demo"}}}
    assert second == {"data": {"me": {"id": "demo-shopper"}}}


async def test_without_a_token_the_socket_is_anonymous(system: System) -> None:
    socket = await opened(system, None)
    async with socket:
        typename = await run(socket, "{ __typename }")
        me = await run(socket, "{ me { name } }")

    assert typename == {"data": {"__typename": "Query"}}
    assert me["data"]["me"] is None
    assert [error["extensions"]["code"] for error in me["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_bad_token_closes_the_socket_with_4403(system: System, forge: Forgery) -> None:
    token = forge(provider_key(system), system.config.issuer)
    socket = await opened(system, {"Authorization": f"Bearer {token}"})
    async with socket:
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == FORBIDDEN


async def test_a_refused_operation_is_an_error_on_an_open_socket(system: System) -> None:
    socket = await opened(system, None)
    async with socket:
        await socket.send(
            json.dumps({"id": "deep", "type": "subscribe", "payload": {"query": "{ " + "__typename " * 2001 + "}"}})
        )
        deep = json.loads(await socket.recv(decode=True))
        after = await run(socket, "{ __typename }")

    # graphql-transport-ws: an operation refused before it runs is one `error` message.
    assert deep["type"] == "error" and deep["id"] == "deep"
    assert [error["extensions"]["code"] for error in deep["payload"]] == ["TOO_MANY_TOKENS"]
    assert after == {"data": {"__typename": "Query"}}


async def test_a_message_over_the_body_limit_closes_the_socket_unread(system: System) -> None:
    socket = await opened(system, None)
    # Over HTTP this body would be a 413; on a socket it ends the socket before it is parsed.
    huge = {"query": "{ __typename }", "variables": {"pad": "x" * 200_000}}

    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": huge}))
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
