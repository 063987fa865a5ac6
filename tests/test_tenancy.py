"""A store's data never shows in another store."""

from typing import Any

from devstack import tokens
from tests.support import factories
from tests.support.graphql import data, error_codes


async def test_tenant_a_never_sees_tenant_b_products_carts_or_orders(stack: Any, token: Any) -> None:
    # Given a product, a cart and an order in tenant "beta"
    product = await factories.product(stack, tenant="beta")
    placed = await factories.order(stack, "ada", tenant="beta")
    carts = stack.client("carts")
    data(
        await carts(
            "mutation($p: ID!) { addToCart(productId: $p) { itemCount } }",
            {"p": product.id},
            token=token("ada", tenant="beta"),
            tenant="beta",
        )
    )

    # When the same user asks in tenant "acme"
    ada = token("ada")
    listing = data(await stack.client("catalog")("{ products { totalCount } }", tenant="acme"))
    by_id = data(
        await stack.client("catalog")("query($id: ID!) { product(id: $id) { id } }", {"id": product.id}, tenant="acme")
    )
    cart = data(
        await carts(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { cart { id } } } }",
            {"r": [{"__typename": "User", "id": "ada"}]},
            token=ada,
            tenant="acme",
        )
    )
    order = data(
        await stack.client("orders")(
            "query($id: ID!) { order(id: $id) { id } }", {"id": placed.id}, token=ada, tenant="acme"
        )
    )
    add = await carts(
        "mutation($p: ID!) { addToCart(productId: $p) { itemCount } }", {"p": product.id}, token=ada, tenant="acme"
    )

    # Then nothing of beta's shows, and beta's product cannot be put in an acme cart
    assert listing == {"products": {"totalCount": 0}}
    assert by_id == {"product": None}
    assert cart == {"_entities": [{"cart": None}]}
    assert order == {"order": None}
    assert error_codes(add) == ["NOT_FOUND"]


async def test_a_token_for_one_tenant_is_refused_in_another(stack: Any, token: Any, signing_key: Any) -> None:
    other_tenant = await stack.client("users")("{ me { id } }", token=token("ada", tenant="beta"), tenant="acme")
    no_tenant = await stack.client("users")("{ me { id } }", token=tokens.mint(signing_key, "ada"), tenant="acme")

    assert error_codes(other_tenant) == ["FORBIDDEN"]
    assert error_codes(no_tenant) == ["FORBIDDEN"]


async def test_the_token_names_the_tenant_when_the_header_is_absent(stack: Any, token: Any) -> None:
    await factories.product(stack, tenant="beta")

    body = await stack.client("catalog")("{ products { totalCount } }", token=token("ada", tenant="beta"), tenant=None)

    assert data(body) == {"products": {"totalCount": 1}}


async def test_a_request_must_name_a_valid_tenant(stack: Any) -> None:
    catalog = stack.client("catalog")

    missing = await catalog("{ products { totalCount } }", tenant=None)
    malformed = await catalog("{ products { totalCount } }", tenant="../../etc")

    assert error_codes(missing) == ["BAD_USER_INPUT"]
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
