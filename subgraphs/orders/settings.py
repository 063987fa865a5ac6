from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class OrdersSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_ORDERS_", extra="ignore")

    name: str = "orders"
    port: int = 4004
    database_url: str = "sqlite+aiosqlite:///var/orders.db"
    catalog_url: str = "http://127.0.0.1:4001"
    carts_url: str = "http://127.0.0.1:4003"
    payments_url: str = "http://127.0.0.1:4005"
    # An order unpaid this long after checkout (or after a retried payment) expires.
    payment_window_seconds: float = 1800.0
    # Its reservation outlives that by this much, so the order's own expiry releases it; the
    # catalog's sweep only catches reservations whose order never came to be.
    reservation_grace_seconds: float = 600.0
    # A checkout still running after this long is taken to have died; its key runs again.
    checkout_lease_seconds: float = 60.0
    # Unpaid orders (and checkouts under way) hold stock: one shopper may have this many at
    # once, so nobody can empty the shelves by checking out under new keys without paying.
    max_pending_checkouts: int = 3
    expiry_sweep_seconds: float = 10.0
    # The order confirmation goes out by SMTP (an aiosmtpd sink locally).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "orders@shopgraph.example"
    mail_every_seconds: float = 2.0
