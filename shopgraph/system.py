"""Starts the whole system as real processes: the local Kafka broker, the local OIDC provider,
the five subgraphs, their event workers and the router. ``shopgraph run`` uses it, and so does
the end-to-end test (on other ports). It imports ``devstack`` only where it uses it, so
importing this module loads none of the stand-ins."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shopgraph.contracts import ROOT, ROUTER_DIR, compose_with_urls
from shopgraph.registry import SUBGRAPHS, settings_for, streams_events

HOST = "127.0.0.1"
ROUTER_CONFIG = ROUTER_DIR / "gateway.config.ts"
STOP_GRACE_SECONDS = 5.0
START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Ports:
    router: int = 4000
    oidc: int = 4010
    stripe: int = 4020
    smtp: int = 2525
    broker: int = 19092
    subgraphs: dict[str, int] = field(default_factory=lambda: {name: settings_for(name).port for name in SUBGRAPHS})

    @classmethod
    def offset(cls, by: int) -> "Ports":
        base = cls()
        return cls(
            router=base.router + by,
            oidc=base.oidc + by,
            stripe=base.stripe + by,
            smtp=base.smtp + by,
            broker=base.broker + by,
            subgraphs={n: p + by for n, p in base.subgraphs.items()},
        )

    @classmethod
    def free(cls, *, first_offset: int) -> "Ports":
        """The first block of ports, ``first_offset`` or more above the defaults, that nothing
        listens on: tests and benchmarks run beside a `make run` without clashing."""
        for by in range(first_offset, first_offset + 1000, 100):
            ports = cls.offset(by)
            if all(port_is_free(port) for port in ports.all()):
                return ports
        raise RuntimeError(f"no free block of ports from {cls().router + first_offset}")

    def all(self) -> list[int]:
        return [self.router, self.oidc, self.stripe, self.smtp, self.broker, *self.subgraphs.values()]


@dataclass(frozen=True, slots=True)
class Production:
    """What a production-mode run needs that development has defaults for: the secrets
    (production refuses the development ones), a shared Redis, and the router's client rules.
    The stand-ins still play the outside world, told the same secrets."""

    router_secret: str
    services_secret: str
    stripe_api_key: str
    stripe_webhook_secret: str
    redis_url: str
    cors_origins: str
    adhoc_clients: str


@dataclass(frozen=True, slots=True)
class SystemConfig:
    ports: Ports
    var: Path
    database_urls: dict[str, str]
    default_tenant: str | None = "demo"
    rate_limit: int = 100
    """Requests per caller per minute at the router."""
    production: Production | None = None

    @property
    def issuer(self) -> str:
        return f"http://{HOST}:{self.ports.oidc}"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.ports.broker}"

    @property
    def router_url(self) -> str:
        return f"http://{HOST}:{self.ports.router}/graphql"

    @property
    def key_file(self) -> Path:
        from devstack.oidc.keys import KEY_FILE_NAME  # noqa: PLC0415 - see the module's docstring

        return self.var / KEY_FILE_NAME

    @property
    def stripe_url(self) -> str:
        return f"http://{HOST}:{self.ports.stripe}"

    @property
    def maildir(self) -> Path:
        """Where the SMTP sink keeps what the system mailed."""
        return self.var / "mail"

    def subgraph_url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports.subgraphs[name]}"

    def subgraph_env(self, name: str) -> dict[str, str]:
        """One subgraph's settings as its ``SHOPGRAPH_<NAME>_*`` variables: where it listens
        and keeps its data, whom it trusts, and where the services it calls are."""
        prefix = f"SHOPGRAPH_{name.upper()}_"
        values = {
            "PORT": str(self.ports.subgraphs[name]),
            "DATABASE_URL": self.database_urls[name],
            "OIDC_ISSUER": self.issuer,
            "JWKS_URL": f"{self.issuer}/.well-known/jwks.json",
            "TOKEN_URL": f"{self.issuer}/token",
            "CATALOG_URL": self.subgraph_url("catalog"),
            "CARTS_URL": self.subgraph_url("carts"),
            "PAYMENTS_URL": self.subgraph_url("payments"),
            "STRIPE_API_BASE": self.stripe_url,
            "SMTP_PORT": str(self.ports.smtp),
            **({"DEFAULT_TENANT": self.default_tenant} if self.default_tenant else {}),
        }
        if self.production is not None:
            values |= {
                "ENVIRONMENT": "production",
                "ROUTER_HMAC_SECRET": self.production.router_secret,
                "SERVICE_CLIENT_SECRET": self.production.services_secret,
                "STRIPE_API_KEY": self.production.stripe_api_key,
                "STRIPE_WEBHOOK_SECRET": self.production.stripe_webhook_secret,
            }
        return {f"{prefix}{key}": value for key, value in values.items()}

    def router_env(self) -> dict[str, str]:
        """The router's settings beyond where it listens."""
        env = {"OIDC_ISSUER": self.issuer, "RATE_LIMIT": str(self.rate_limit)}
        if self.production is not None:
            env |= {
                "ENVIRONMENT": "production",
                "ROUTER_HMAC_SECRET": self.production.router_secret,
                "CORS_ORIGINS": self.production.cors_origins,
                "ADHOC_CLIENTS": self.production.adhoc_clients,
                "APQ_REDIS_URL": self.production.redis_url,
                "RATE_LIMIT_REDIS_URL": self.production.redis_url,
            }
        return env


class System:
    """The running processes; ``stop`` ends every one of them, whatever state they are in."""

    def __init__(self, config: SystemConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started_as: dict[str, tuple[list[str], dict[str, str] | None]] = {}

    def urls(self) -> dict[str, str]:
        ports = self.config.ports
        urls = {
            "router": self.config.router_url,
            "oidc": self.config.issuer,
            "kafka": self.config.bootstrap_servers,
            "stripe": self.config.stripe_url,
            "smtp": f"smtp://{HOST}:{ports.smtp} (mail kept in {self.config.maildir})",
        }
        urls.update({name: f"{self.config.subgraph_url(name)}/graphql" for name in ports.subgraphs})
        return urls

    def start(self) -> None:
        config = self.config
        config.var.mkdir(parents=True, exist_ok=True)
        (config.var / "logs").mkdir(exist_ok=True)
        python = sys.executable
        broker = [python, "-m", "shopgraph", "devstack", "broker", "--port", str(config.ports.broker)]
        self.spawn("broker", broker)
        secret = {"SHOPGRAPH_DEVSTACK_SERVICES_SECRET": config.production.services_secret} if config.production else {}
        self.spawn(
            "oidc",
            [
                python,
                "-m",
                "shopgraph",
                "devstack",
                "oidc",
                "--port",
                str(config.ports.oidc),
                "--key-file",
                str(config.key_file),
                "--router-url",
                config.router_url,
            ],
            secret,
        )
        self.spawn("stripe", [python, "-m", "shopgraph", "devstack", "stripe", "--port", str(config.ports.stripe)])
        smtp = [python, "-m", "shopgraph", "devstack", "smtp", "--port", str(config.ports.smtp)]
        self.spawn("smtp", [*smtp, "--maildir", str(config.maildir)])
        kafka_env = {"SHOPGRAPH_EVENTS_BOOTSTRAP_SERVERS": config.bootstrap_servers}
        workers_env = dict(kafka_env)
        for name in SUBGRAPHS:
            env = config.subgraph_env(name)
            workers_env.update(env)
            # Those that stream events to subscribers read them from Kafka themselves.
            streaming = kafka_env if streams_events(name) else {}
            self.spawn(name, [python, "-m", "shopgraph", "serve", name], {**env, **streaming})
        # One process relays and consumes for all five (production runs one per subgraph); it
        # waits for the broker and its topics by itself.
        self.spawn("workers", [python, "-m", "shopgraph", "worker"], workers_env)
        self.supergraph.write_text(
            compose_with_urls({n: f"http://{HOST}:{p}/graphql" for n, p in config.ports.subgraphs.items()})
        )
        self.start_router("router", config.ports.router)
        self.wait_until_ready()
        from devstack import stripe as stripe_server  # noqa: PLC0415 - see the module's docstring

        # Stripe's dashboard does this for the real one: where to send the signed events.
        webhooks = f"{config.subgraph_url('payments')}/webhooks/stripe"
        if config.production is not None:
            stripe_server.register_webhook(config.stripe_url, webhooks, secret=config.production.stripe_webhook_secret)
        else:
            stripe_server.register_webhook(config.stripe_url, webhooks)

    @property
    def supergraph(self) -> Path:
        return self.config.var / "supergraph.graphql"

    def start_router(self, name: str, port: int, *, config_file: Path = ROUTER_CONFIG, **settings: str) -> None:
        """One router instance; ``settings`` adds to or overrides its environment (several
        routers share a rate limit only with ``RATE_LIMIT_REDIS_URL``), and a benchmark may
        give it a ``config_file`` of its own."""
        config = self.config
        env = {"ROUTER_PORT": str(port), "SUPERGRAPH_PATH": str(self.supergraph), **config.router_env(), **settings}
        command = [str(ROUTER_DIR / "node_modules/.bin/hive-gateway"), "supergraph", "-c", str(config_file)]
        self.spawn(name, [*command, "--host", HOST], env)

    def restart(self, name: str) -> None:
        """Stops one process (SIGTERM, as a deploy would) and starts it again as it was started,
        returning once it answers."""
        process = self.processes[name]
        _signal_group(process, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE_SECONDS)
        self.spawn(name, *self.started_as[name])
        self.wait_until_ready({name: self.health_urls()[name]})

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        """Starts one process of the system (its log in var/logs/<name>.log); ``stop`` ends it."""
        self.started_as[name] = (command, env)
        # The child keeps its own copy of the log's descriptor; ours closes at once.
        with (self.config.var / "logs" / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our own commands, no shell
                command,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def health_urls(self) -> dict[str, str]:
        ports = self.config.ports
        urls = {name: f"http://{HOST}:{port}/ready" for name, port in ports.subgraphs.items()}
        urls["oidc"] = f"{self.config.issuer}/.well-known/openid-configuration"
        urls["router"] = router_readiness_url(ports.router)
        urls["broker"] = f"tcp://{HOST}:{ports.broker}"
        urls["stripe"] = f"{self.config.stripe_url}/js.stripe.com/v3/"
        urls["smtp"] = f"tcp://{HOST}:{ports.smtp}"
        return urls

    def wait_until_ready(self, pending: dict[str, str] | None = None) -> None:
        """Until every process in ``pending`` (name to health URL; all by default) answers."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        pending = dict(pending or self.health_urls())
        with httpx.Client(timeout=2.0) as http:
            while pending:
                for name, url in list(pending.items()):
                    process = self.processes[name]
                    if process.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with {process.returncode}; see {self.config.var}/logs/{name}.log"
                        )
                    if _answers(http, url):
                        del pending[name]
                if pending and time.monotonic() > deadline:
                    raise RuntimeError(f"not ready after {START_TIMEOUT_SECONDS:.0f}s: {', '.join(pending)}")
                if pending:
                    time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def _answers(http: httpx.Client, url: str) -> bool:
    """An HTTP URL answers 200; a ``tcp://`` one accepts connections."""
    if url.startswith("tcp://"):
        return not port_is_free(int(url.rsplit(":", 1)[1]))
    try:
        return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def router_readiness_url(port: int) -> str:
    return f"http://{HOST}:{port}/readiness"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Each child leads its own process group, so whatever it started goes down with it.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@contextmanager
def running(config: SystemConfig) -> Iterator[System]:
    system = System(config)
    try:
        system.start()
        yield system
    finally:
        system.stop()
