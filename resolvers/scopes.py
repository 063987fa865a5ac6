"""Every OAuth scope the API knows, one place for the subgraphs, the provider and the docs.

A shopper's token carries the ``read``/``write`` scopes and reaches only the shopper's own
objects; the ``admin`` scopes reach every object of the tenant.
"""

from typing import Final

CATALOG_WRITE: Final = "catalog:write"
INVENTORY_WRITE: Final = "inventory:write"
USERS_READ: Final = "users:read"
USERS_ADMIN: Final = "users:admin"
CARTS_WRITE: Final = "carts:write"
ORDERS_READ: Final = "orders:read"
ORDERS_WRITE: Final = "orders:write"
ORDERS_ADMIN: Final = "orders:admin"
PAYMENTS_READ: Final = "payments:read"
PAYMENTS_REFUND: Final = "payments:refund"

SCOPES: Final[dict[str, str]] = {
    CATALOG_WRITE: "create, change and archive products and categories",
    INVENTORY_WRITE: "read and set stock levels",
    USERS_READ: "read and change one's own profile and addresses",
    USERS_ADMIN: "read every profile of the store, and any user's cart",
    CARTS_WRITE: "change one's own cart",
    ORDERS_READ: "read one's own orders",
    ORDERS_WRITE: "place and cancel one's own orders",
    ORDERS_ADMIN: "read and manage every order and payment of the store",
    PAYMENTS_READ: "read one's own payments",
    PAYMENTS_REFUND: "refund payments",
}

# Held by service accounts only (client credentials), never offered to people: it opens the
# internal endpoints services call each other on.
SERVICES_INTERNAL: Final = "services:internal"

SHOPPER_SCOPES: Final = (USERS_READ, CARTS_WRITE, ORDERS_READ, ORDERS_WRITE, PAYMENTS_READ)
