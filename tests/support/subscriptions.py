"""Subscription clients for tests: graphql-transport-ws over a WebSocket and GraphQL over
Server-Sent Events (graphql-sse's distinct-connections mode), both yielding what the server
sent, message by message."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")


class Socket:
    """One graphql-transport-ws connection, acknowledged."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = 15.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), within))
        return message

    async def silent(self, within: float) -> bool:
        """Whether nothing arrives for ``within`` seconds."""
        try:
            message = await self.receive(within)
        except TimeoutError:
            return True
        raise AssertionError(f"expected nothing, got {message}")

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def results(self, id: str, count: int, within: float = 30.0) -> list[dict[str, Any]]:
        """The next ``count`` payloads of operation ``id``; fails on anything else for it."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                message = await self.receive(within)
                if message.get("id") != id:
                    continue
                assert message["type"] == "next", message
                found.append(message["payload"])
        return found


def connection_params(token: str | None, tenant: str | None = None) -> dict[str, str]:
    params = {} if token is None else {"Authorization": f"Bearer {token}"}
    return params | ({} if tenant is None else {"X-Tenant-Id": tenant})


@asynccontextmanager
async def socket(url: str, token: str | None = None, *, tenant: str | None = None) -> AsyncIterator[Socket]:
    """An acknowledged socket at ``url`` (http:// or ws://) for the caller ``token`` names."""
    async with connect(url.replace("http://", "ws://"), subprotocols=[PROTOCOL], open_timeout=10) as connection:
        opened = Socket(connection)
        await opened.send({"type": "connection_init", "payload": connection_params(token, tenant)})
        assert await opened.receive() == {"type": "connection_ack"}
        yield opened


class EventStream:
    """One subscription over Server-Sent Events."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self.lines = lines

    async def receive(self, within: float = 15.0) -> tuple[str, Any]:
        """The next event: its name and its data (None for an empty one); comments (the
        server's keep-alives) are skipped."""
        name, data = "message", ""
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line.startswith(":"):
                    continue
                if line.startswith("event:"):
                    name = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data += line.removeprefix("data:").strip()
                elif line == "" and (data or name != "message"):
                    return name, json.loads(data) if data else None
        raise EOFError("the stream ended")

    async def results(self, count: int, within: float = 30.0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                name, data = await self.receive(within)
                assert name == "next", (name, data)
                found.append(data)
        return found


@asynccontextmanager
async def event_stream(
    url: str,
    query: str,
    token: str | None = None,
    *,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[EventStream]:
    headers = {"Accept": "text/event-stream", **(headers or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as http,
        http.stream("POST", url, json={"query": query, "variables": variables or {}}, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response.aiter_lines())
