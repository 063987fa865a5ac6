"""The internal endpoints services call each other on: versioned, described by OpenAPI, closed
to anything but a service token, and answering refusals as problem+json with our codes."""

from datetime import timedelta
from typing import Any

import pytest

from resolvers.db import utcnow
from resolvers.scopes import SERVICES_INTERNAL
from tests.support import factories

INTERNAL = {
    "catalog": ["/internal/v1/products", "/internal/v1/reservations/{reservation_id}"],
    "carts": ["/internal/v1/users/{user_id}/cart"],
    "payments": ["/internal/v1/orders/{order_id}/payments/{attempt}", "/webhooks/stripe"],
}


@pytest.mark.parametrize("name", sorted(INTERNAL))
async def test_each_internal_endpoint_is_in_the_subgraphs_openapi(stack: Any, name: str) -> None:
    spec = (await stack.client(name).http.get("/openapi.json")).json()

    assert set(INTERNAL[name]) <= set(spec["paths"])
    assert all(path.startswith(("/internal/v1/", "/webhooks/")) for path in spec["paths"])


async def test_reservation_refusals_are_problems_with_codes_and_change_nothing(stack: Any, token: Any) -> None:
    mug = await factories.product(stack, on_hand=2)
    http = stack.client("catalog").http
    headers = {
        "Authorization": f"Bearer {token('shopgraph-services', scopes=[SERVICES_INTERNAL], tenant=None)}",
        "X-Tenant-Id": "acme",
    }
    order = "00000000-0000-4000-8000-000000000001"

    def body(quantity: int, product: str = mug.id, *, hold: timedelta = timedelta(hours=1)) -> dict[str, Any]:
        return {
            "orderId": order,
            "lines": [{"productId": product, "quantity": quantity}],
            "expiresAt": (utcnow() + hold).isoformat(),
        }

    malformed = await http.put(f"/internal/v1/reservations/{order}-1", json={"orderId": order}, headers=headers)
    too_late = await http.put(
        f"/internal/v1/reservations/{order}-1", json=body(1, hold=timedelta(days=2)), headers=headers
    )
    short = await http.put(f"/internal/v1/reservations/{order}-1", json=body(3), headers=headers)
    unknown = await http.put(
        f"/internal/v1/reservations/{order}-1", json=body(1, "00000000-0000-4000-8000-0000000000ff"), headers=headers
    )
    long_order = await http.put(
        f"/internal/v1/reservations/{order}-1", json={**body(1), "orderId": "x" * 100}, headers=headers
    )
    stock = (await http.get("/internal/v1/products", params={"ids": [mug.id]}, headers=headers)).json()

    assert (malformed.status_code, malformed.json()["code"]) == (422, "BAD_USER_INPUT")
    assert (long_order.status_code, long_order.json()["code"]) == (422, "BAD_USER_INPUT")
    assert (too_late.status_code, too_late.json()["code"]) == (400, "BAD_USER_INPUT")
    assert (short.status_code, short.json()["code"]) == (409, "INSUFFICIENT_STOCK")
    assert short.headers["content-type"] == "application/problem+json"
    assert (unknown.status_code, unknown.json()["code"]) == (409, "PRODUCT_UNAVAILABLE")
    assert stock["products"][0]["available"] == 2
