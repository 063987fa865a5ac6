"""A WebSocket client names itself in `connection_init`, since a browser cannot set headers on
a WebSocket: a subgraph uses a good token for every operation on the socket, closes the socket
on a bad one, and treats no token as anonymous."""

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from shopgraph.system import System
from tests.e2e.conftest import mint

pytestmark = pytest.mark.e2e

ME = {"query": "{ me { name } }"}


def users_socket(system: System) -> str:
    return f"ws://127.0.0.1:{system.config.ports.subgraphs['users']}/graphql"


async def operate(system: System, payload: dict[str, Any]) -> dict[str, Any]:
    """Opens a graphql-transport-ws socket with ``payload`` in connection_init and runs ME."""
    async with connect(users_socket(system), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack", ack
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": ME}))
        answer: dict[str, Any] = json.loads(await socket.recv())
        return answer


async def test_a_token_in_connection_init_is_the_caller(system: System) -> None:
    answer = await operate(system, {"Authorization": f"Bearer {mint(system, 'demo-shopper')}"})

    assert answer["type"] == "next"
    assert answer["payload"] == {"data": {"me": {"name": "Dana Demo"}}}


async def test_no_token_is_anonymous(system: System) -> None:
    answer = await operate(system, {})

    assert answer["type"] == "next"
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_closes_the_socket(system: System) -> None:
    async with connect(users_socket(system), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged.token.x"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
