"""``shopgraph``: what the Makefile does, as commands.

Production runs ``serve`` and ``worker`` (and ``migrate``, ``events``) in an image without the
local stand-ins, so this module imports none of them: ``devstack ...`` lives in
``shopgraph.devstack_cli``, loaded only when asked for, and the development-only commands
(``run``, ``seed``, ``token``) import what they need when they run.
"""

import asyncio
import gc
import importlib.util
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
from typer._click import Command, Context  # Typer's own copy of Click, whose types its groups use
from typer.core import TyperGroup

from events import kafka, operations
from events.settings import EventSettings
from events.worker import run_worker
from resolvers.db import create_engine
from resolvers.logging import configure_logging
from resolvers.migrations import autogenerate, upgrade
from resolvers.scopes import SCOPES
from shopgraph import contracts, documents
from shopgraph.registry import SUBGRAPHS, app_factory, event_store, handlers, jobs, settings_for, topics


class _Commands(TyperGroup):
    """The top-level commands, with ``devstack`` among them only by name until it is asked
    for: its module imports the stand-ins, which no production command may load. The
    production image has no ``devstack`` package, and there the command does not exist."""

    def list_commands(self, ctx: Context) -> list[str]:
        names = super().list_commands(ctx)
        if _has_devstack():
            names.insert(names.index("schema") + 1, "devstack")
        return names

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name == "devstack" and _has_devstack():
            from shopgraph import devstack_cli  # noqa: PLC0415 - imports the stand-ins

            return typer.main.get_command(devstack_cli.app)
        return super().get_command(ctx, cmd_name)


def _has_devstack() -> bool:
    return importlib.util.find_spec("devstack") is not None  # finds it without importing it


app = typer.Typer(cls=_Commands, help="shopgraph: a GraphQL federated commerce API.", no_args_is_help=True)
schema_app = typer.Typer(help="The SDL contracts under schema/.", no_args_is_help=True)
events_app = typer.Typer(help="Kafka events: follow a topic, replay an outbox, see the lag.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
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
    # A subgraph streaming to many subscribers holds hundreds of thousands of long-lived
    # objects; with CPython's default thresholds a full collection then ran every few
    # seconds and paused every stream for up to half a second (bench/README.md, subscriptions).
    # Young objects are collected less often, and old ones far less.
    gc.set_threshold(50_000, 20, 100)
    uvicorn.run(
        app_factory(name)(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        # Subscriptions (graphql-transport-ws); no message larger than a request body.
        ws="websockets-sansio",
        ws_max_size=settings.max_body_bytes,
        access_log=False,
        log_level="warning",
    )


def _subgraph(name: str) -> str:
    if name not in SUBGRAPHS:
        raise typer.BadParameter(f"unknown subgraph {name!r}; one of: {', '.join(SUBGRAPHS)}")
    return name


def until_signalled(work: Coroutine[Any, Any, object]) -> None:
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

    until_signalled(work())


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
    from shopgraph import demo_data  # noqa: PLC0415 - its shopper is the local provider's demo account

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
    except contracts.BrokenOperationsError as exc:
        console.print(
            f"[red]{exc}[/]\nKeep the schema compatible, or change those operations and run `shopgraph documents`."
        )
        raise typer.Exit(1) from exc
    except contracts.BreakingChangesError as exc:
        console.print(f"[red]{exc}[/]\nIf they are intended, run again with --allow-breaking.")
        raise typer.Exit(1) from exc
    console.print("\n".join(str(path.relative_to(contracts.ROOT)) for path in written) or "schema/ is up to date")


@app.command("documents")
def register_documents() -> None:
    """Register the first-party apps' operations as trusted documents (their manifests under
    schema/trusted-documents/), checked against the supergraph."""
    written = documents.write()
    supergraph = (contracts.SCHEMA_DIR / contracts.SUPERGRAPH).read_text()
    problems = documents.problems(supergraph, documents.registered())
    for problem in problems:
        console.print(f"[red]{problem}[/]")
    console.print("\n".join(str(path.relative_to(contracts.ROOT)) for path in written) or "manifests are up to date")
    if problems:
        raise typer.Exit(1)


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
    from shopgraph import login  # noqa: PLC0415 - Authlib's client, for this command only

    try:
        scopes = scope or list(SCOPES)  # the provider grants the ones the account holds
        response = asyncio.run(login.access_token(issuer, username, password, scopes=scopes, tenant=tenant))
    except login.LoginFailed as exc:
        console.print(f"[red]sign-in failed:[/] {exc}")
        raise typer.Exit(1) from exc
    print(response["access_token"])


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
        until_signalled(tail())
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
    from shopgraph.system import Ports, SystemConfig, running  # noqa: PLC0415 - starts the stand-ins

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
            f"Subscriptions (graphql-transport-ws or SSE): {system.urls()['router'].replace('http://', 'ws://')}, "
            "e.g. subscription { productEvents { type available product { name } } }; the README's 'Subscriptions'\n"
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
