"""``shopgraph``: what the Makefile does, as commands."""

import asyncio
import signal
import time
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from devstack import smtp
from devstack import stripe as stripe_server
from devstack.broker import Broker
from devstack.oidc import app as oidc_app
from devstack.oidc.keys import KEY_FILE_NAME, KeyRing
from events import kafka, operations
from events.settings import EventSettings
from events.worker import run_worker
from resolvers.db import create_engine
from resolvers.logging import configure_logging
from resolvers.migrations import autogenerate, upgrade
from resolvers.scopes import SCOPES
from shopgraph import contracts, demo_data, login
from shopgraph.registry import SUBGRAPHS, app_factory, event_store, handlers, jobs, settings_for, topics
from shopgraph.system import Ports, SystemConfig, running

app = typer.Typer(help="shopgraph: a GraphQL federated commerce API.", no_args_is_help=True)
schema_app = typer.Typer(help="The SDL contracts under schema/.", no_args_is_help=True)
devstack_app = typer.Typer(help="Local stand-ins for the outside world.", no_args_is_help=True)
events_app = typer.Typer(help="Kafka events: follow a topic, replay an outbox, see the lag.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(devstack_app, name="devstack")
app.add_typer(events_app, name="events")
console = Console()
err_console = Console(stderr=True)

VAR = Path("var")


def _database_urls() -> dict[str, str]:
    return {name: settings_for(name).database_url for name in SUBGRAPHS}


@app.command()
def serve(name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SUBGRAPHS)}")]) -> None:
    """Serve one subgraph (settings from SHOPGRAPH_<NAME>_* variables)."""
    if name not in SUBGRAPHS:
        raise typer.BadParameter(f"unknown subgraph {name!r}")
    settings = settings_for(name)
    configure_logging(settings.environment)
    uvicorn.run(
        app_factory(name)(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


def _subgraph(name: str) -> str:
    if name not in SUBGRAPHS:
        raise typer.BadParameter(f"unknown subgraph {name!r}; one of: {', '.join(SUBGRAPHS)}")
    return name


def _until_signalled(work: Coroutine[Any, Any, object]) -> None:
    """Runs ``work`` until it ends or SIGTERM / Ctrl-C cancels it, letting it clean up."""

    async def main() -> None:
        task = asyncio.ensure_future(work)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())


@app.command()
def worker(
    names: Annotated[list[str] | None, typer.Argument(help=f"Some of: {', '.join(SUBGRAPHS)}; default: all.")] = None,
    relay: Annotated[bool, typer.Option(help="Publish the subgraphs' outboxes to Kafka.")] = True,
    consume: Annotated[
        bool, typer.Option(help="Handle the events the subgraphs consume, and run their periodic jobs.")
    ] = True,
) -> None:
    """Run event workers: each subgraph's outbox relay and consumers. Production runs one
    process per subgraph (and may run several relays on PostgreSQL); `make run` runs one for all."""
    chosen = [_subgraph(name) for name in names or SUBGRAPHS]
    events = EventSettings()
    configure_logging(settings_for(chosen[0]).environment)

    async def work() -> None:
        async with asyncio.TaskGroup() as group:
            for name in chosen:
                settings = settings_for(name)
                group.create_task(
                    run_worker(
                        event_store(name),
                        settings.database_url,
                        events,
                        handlers(name, settings),
                        relay=relay,
                        consume=consume,
                        jobs=jobs(name, settings) if consume else None,
                    )
                )

    _until_signalled(work())


@app.command()
def migrate() -> None:
    """Bring every subgraph's database to the newest migration."""
    for name, url in _database_urls().items():
        if url.startswith("sqlite"):
            VAR.mkdir(exist_ok=True)
        asyncio.run(upgrade(name, url))
        console.print(f"[green]migrated[/] {name}")


@app.command()
def revision(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SUBGRAPHS)}")],
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")],
) -> None:
    """Write a new migration for one subgraph from its table declarations (review it!)."""
    if name not in SUBGRAPHS:
        raise typer.BadParameter(f"unknown subgraph {name!r}")
    asyncio.run(autogenerate(name, message))


@app.command()
def seed() -> None:
    """Load the demo store (once; a second run changes nothing)."""
    result = asyncio.run(demo_data.seed(_database_urls()))
    verb = "loaded" if result.created else "already there:"
    console.print(f"[green]demo data {verb}[/] {result.products} products in tenant '{demo_data.TENANT}'")


@app.command()
def compose(
    allow_breaking: Annotated[bool, typer.Option(help="Accept breaking changes and record them as intended.")] = False,
) -> None:
    """Print each subgraph's SDL into schema/ and compose the supergraph."""
    try:
        written = contracts.export(allow_breaking=allow_breaking)
    except contracts.BreakingChangesError as exc:
        console.print(f"[red]{exc}[/]\nIf they are intended, run again with --allow-breaking.")
        raise typer.Exit(1) from exc
    console.print("\n".join(str(path.relative_to(contracts.ROOT)) for path in written) or "schema/ is up to date")


@schema_app.command("check")
def schema_check() -> None:
    """Fail when the code's SDL differs from schema/ (and say which changes break clients)."""
    drifted = contracts.drift()
    for d in drifted:
        console.print(f"[red]{d.subgraph}[/]: SDL differs from schema/{d.subgraph}.graphql")
        for change in d.breaking:
            console.print(f"  breaking: {change}")
    if drifted:
        raise typer.Exit(1)
    console.print("schema/ matches the code")


@app.command()
def token(
    username: Annotated[str, typer.Argument(help="A demo account: shopper, admin or partner.")] = "shopper",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="SHOPGRAPH_PASSWORD")] = "",
    scope: Annotated[list[str] | None, typer.Option(help="Repeat for several; default: all the account has.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Default: the account's first tenant.")] = None,
    issuer: Annotated[str, typer.Option(envvar="SHOPGRAPH_OIDC_ISSUER")] = "http://127.0.0.1:4010",
) -> None:
    """Sign in through the provider's PKCE flow and print an access token (for scripts)."""
    try:
        scopes = scope or list(SCOPES)  # the provider grants the ones the account holds
        response = asyncio.run(login.access_token(issuer, username, password, scopes=scopes, tenant=tenant))
    except login.LoginFailed as exc:
        console.print(f"[red]sign-in failed:[/] {exc}")
        raise typer.Exit(1) from exc
    print(response["access_token"])


@devstack_app.command("oidc")
def devstack_oidc(
    port: Annotated[int, typer.Option()] = 4010,
    key_file: Annotated[Path, typer.Option()] = VAR / KEY_FILE_NAME,
    router_url: Annotated[str, typer.Option(help="GraphiQL signs in from here.")] = "http://127.0.0.1:4000/graphql",
) -> None:
    """Run the local OIDC provider."""
    provider = oidc_app.create_app(key_file=key_file, issuer=f"http://127.0.0.1:{port}", router_url=router_url)
    uvicorn.run(provider, host="127.0.0.1", port=port, log_level="warning")


@devstack_app.command("rotate-key")
def devstack_rotate_key(key_file: Annotated[Path, typer.Option()] = VAR / KEY_FILE_NAME) -> None:
    """Sign with a new key from now on; the previous one stays published for tokens it signed."""
    key = KeyRing(key_file).rotate()
    console.print(f"signing with kid {key.kid}")


@devstack_app.command("stripe")
def devstack_stripe(port: Annotated[int, typer.Option()] = 4020) -> None:
    """Run the Stripe test server (localstripe, in memory)."""
    stripe_server.serve(port)


@devstack_app.command("smtp")
def devstack_smtp(
    port: Annotated[int, typer.Option()] = 2525,
    maildir: Annotated[Path, typer.Option(help="Where every received message is kept.")] = VAR / "mail",
) -> None:
    """Run the SMTP sink: mail the system sends lands in a Maildir."""
    smtp.serve(port, maildir)


@devstack_app.command("broker")
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

    _until_signalled(serve())


@events_app.command("create-topics")
def events_create_topics() -> None:
    """Create the topics that do not exist yet (for a Kafka that does not create them)."""
    created = asyncio.run(kafka.create_topics(EventSettings(), topics()))
    console.print(f"created {len(created)} topics: {', '.join(created) or 'none needed'}")


@events_app.command("tail")
def events_tail(
    topic: Annotated[str, typer.Argument(help="An event type, such as order.created, or a dead-letter topic.")],
    from_beginning: Annotated[bool, typer.Option(help="Print what the topic holds first.")] = False,
    count: Annotated[int | None, typer.Option(help="Stop after this many.")] = None,
) -> None:
    """Print events as they arrive, one JSON document per line (headers on stderr)."""

    async def tail() -> None:
        seen = 0
        async for message in operations.follow(EventSettings(), topic, from_beginning=from_beginning):
            headers = {key: value.decode(errors="replace") for key, value in message.headers}
            if headers:
                err_console.print(f"{message.topic}/{message.partition}@{message.offset} {headers}")
            print((message.value or b"").decode(errors="replace"), flush=True)
            seen += 1
            if count is not None and seen >= count:
                return

    try:
        _until_signalled(tail())
    except (LookupError, KafkaError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@events_app.command("replay")
def events_replay(
    name: Annotated[str, typer.Argument(help="The subgraph whose outbox to replay.")],
    first: Annotated[int, typer.Option("--from", help="The first outbox sequence number.")],
    last: Annotated[int, typer.Option("--to", help="The last outbox sequence number.")],
) -> None:
    """Publish a range of an outbox again; consumers ignore what they already handled."""
    settings = settings_for(_subgraph(name))
    if first > last:
        raise typer.BadParameter("--from must not be greater than --to")

    async def replay() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await operations.replay(event_store(name), engine, EventSettings(), first, last)
        finally:
            await engine.dispose()

    try:
        published = asyncio.run(replay())
    except KafkaError as exc:
        console.print(f"[red]Kafka did not take the events:[/] {exc!r}")
        raise typer.Exit(1) from exc
    console.print(f"published {published} events from {name}'s outbox (seq {first} to {last})")


@events_app.command("lag")
def events_lag() -> None:
    """How far each relay (unsent outbox events) and each consumer group (uncommitted
    messages) is behind."""
    events = EventSettings()

    async def measure() -> Table:
        table = Table("subgraph", "outbox unsent", "oldest unsent", "last seq", "consumer lag")
        for name in SUBGRAPHS:
            engine = create_engine(settings_for(name).database_url)
            try:
                backlog = await operations.outbox_backlog(event_store(name), engine)
            finally:
                await engine.dispose()
            consumed = list(handlers(name))
            lag: dict[str, int | str]
            try:
                lag = dict(await operations.consumer_lag(events, name, consumed)) if consumed else {}
            except KafkaError:
                lag = dict.fromkeys(consumed, "Kafka unreachable")
            table.add_row(
                name,
                str(backlog.unsent),
                f"{backlog.age.total_seconds():.1f}s ago" if backlog.oldest else "-",
                str(backlog.last_seq or "-"),
                ", ".join(f"{topic}: {count}" for topic, count in lag.items()) or "-",
            )
        return table

    console.print(asyncio.run(measure()))


@app.command()
def run() -> None:
    """Migrate, load demo data, start everything, print the URLs; Ctrl-C stops it all."""
    migrate()
    seed()
    console.print("composing the supergraph and starting the services...")
    config = SystemConfig(ports=Ports(), var=VAR.resolve(), database_urls=_database_urls())
    stop = False

    def request_stop(*_args: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    with running(config) as system:
        table = Table("service", "URL")
        for name, url in system.urls().items():
            table.add_row(name, url)
        console.print(table)
        console.print(
            f"\nGraphiQL: [bold]{system.urls()['router']}[/] (Sign in, top right)\n"
            "Demo accounts (username/password): shopper/shopper, admin/admin, partner/partner.\n"
            "A token for scripts: .venv/bin/shopgraph token shopper\n"
            "Events as they happen: .venv/bin/shopgraph events tail product.updated\n"
            "Checkout: the README's 'Check out and pay'; pay at the Stripe test server, mail lands in "
            f"{config.maildir}/new/.\n"
            f"Logs: {VAR}/logs/. Press Ctrl-C to stop everything.",
            soft_wrap=True,
        )
        try:
            while not stop:
                time.sleep(0.5)
                for name, process in system.processes.items():
                    if process.poll() is not None:
                        console.print(f"[red]{name} exited ({process.returncode}); stopping[/]")
                        stop = True
        except KeyboardInterrupt:
            pass
        # A second Ctrl-C while the children stop would leave some of them running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        console.print("stopping...")
