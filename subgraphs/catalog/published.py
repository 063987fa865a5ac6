"""The events the catalog publishes, each added to the outbox in the transaction of the change
it reports (contracts under ``events/schemas/``)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.catalog.tables import EVENTS, CategoryRow, ProductRow, StockRow


async def category_created(session: AsyncSession, category: CategoryRow) -> None:
    data = {"categoryId": category.id, "slug": category.slug, "name": category.name}
    await EVENTS.emit(session, "category.created", tenant=category.tenant_id, aggregate_id=category.id, data=data)


async def product_created(session: AsyncSession, product: ProductRow) -> None:
    await EVENTS.emit(
        session, "product.created", tenant=product.tenant_id, aggregate_id=product.id, data=_product(product)
    )


async def product_updated(session: AsyncSession, product: ProductRow, changed: list[str]) -> None:
    data = {**_product(product), "changed": changed}
    await EVENTS.emit(session, "product.updated", tenant=product.tenant_id, aggregate_id=product.id, data=data)


async def product_archived(session: AsyncSession, product: ProductRow) -> None:
    data = {"productId": product.id, "sku": product.sku}
    await EVENTS.emit(session, "product.archived", tenant=product.tenant_id, aggregate_id=product.id, data=data)


async def inventory_adjusted(session: AsyncSession, stock: StockRow, previous_on_hand: int) -> None:
    data = {
        "productId": stock.product_id,
        "onHand": stock.on_hand,
        "previousOnHand": previous_on_hand,
        "reserved": stock.reserved,
        "available": stock.available,
    }
    await EVENTS.emit(session, "inventory.adjusted", tenant=stock.tenant_id, aggregate_id=stock.product_id, data=data)


def _product(product: ProductRow) -> dict[str, Any]:
    return {
        "productId": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price": {"amount": product.price_amount, "currency": product.currency},
        "categoryId": product.category_id,
        "active": product.active,
    }
