"""The Stripe test server: ``localstripe``, a stateful fake of Stripe's API that the real
``stripe`` SDK talks to, bound to loopback.

localstripe's own command listens on every interface and pickles its whole store to
``/tmp/localstripe.pickle`` on every write (shared by every instance on the machine, and
slower with each object); here it listens on 127.0.0.1 only and keeps its state in memory.
It signs and sends ``payment_intent.*`` webhooks to the URLs registered at
``POST /_config/webhooks/<id>``, once each and about a second late; it ignores
``Idempotency-Key`` (the project's own guarantees must hold without it).
"""

import httpx

from subgraphs.payments.settings import DEVELOPMENT_WEBHOOK_SECRET

HOST = "127.0.0.1"


def serve(port: int) -> None:
    """Runs the server until the process is stopped."""
    # Imported here: building localstripe's app at import time warns, and only this process
    # needs it.
    from aiohttp import web  # noqa: PLC0415
    from localstripe import resources, server  # noqa: PLC0415

    resources.store.dump_to_disk = lambda: None
    web.run_app(server.app, host=HOST, port=port, print=None, access_log=None)


def register_webhook(
    api_base: str, url: str, *, secret: str = DEVELOPMENT_WEBHOOK_SECRET, name: str = "shopgraph"
) -> None:
    """Tells the test server where to send its signed events (Stripe's dashboard does this
    for the real one)."""
    response = httpx.post(f"{api_base}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5.0)
    response.raise_for_status()
