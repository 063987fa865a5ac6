"""Catalog domain rules. Functions take a keyword-only ``session`` and never commit: the
mutation that calls them owns the transaction."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import validation
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.money import check_amount, check_currency
from subgraphs.catalog import published
from subgraphs.catalog.tables import CategoryRow, ProductRow, StockRow

MAX_STOCK = 1_000_000


@dataclass(frozen=True, slots=True)
class ProductDraft:
    sku: str
    name: str
    description: str
    price_amount: int
    currency: str
    category_id: str | None


@dataclass(frozen=True, slots=True)
class ProductChanges:
    name: str | None = None
    description: str | None = None
    price_amount: int | None = None
    category_id: str | None = None


def check_sku(sku: str) -> str:
    cleaned = validation.text(sku, field="sku", max_length=64)
    if not all(ch.isalnum() or ch in "-_." for ch in cleaned):
        raise BadUserInput("sku may hold letters, digits, '-', '_' and '.'.", field="sku")
    return cleaned.upper()


async def category(tenant: str, category_id: str, *, session: AsyncSession) -> CategoryRow:
    row = await session.get(CategoryRow, validation.uuid_id(category_id, field="categoryId"))
    if row is None or row.tenant_id != tenant:
        raise NotFound("No such category.", field="categoryId")
    return row


async def product(tenant: str, product_id: str, *, session: AsyncSession) -> ProductRow:
    """The product, locked until the transaction ends: a change and the event that reports it are
    computed from the row as it is, and two changes to one product take turns (so its events
    are committed in the order they happened)."""
    row = await session.get(ProductRow, validation.uuid_id(product_id, field="id"), with_for_update=True)
    if row is None or row.tenant_id != tenant:
        raise NotFound("No such product.", field="id")
    return row


async def create_category(tenant: str, *, slug: str, name: str, session: AsyncSession) -> CategoryRow:
    slug = validation.text(slug, field="slug", max_length=80).lower()
    if not all(ch.isalnum() or ch == "-" for ch in slug):
        raise BadUserInput("slug may hold letters, digits and '-'.", field="slug")
    taken = await session.scalar(
        select(CategoryRow.id).where(CategoryRow.tenant_id == tenant, CategoryRow.slug == slug)
    )
    if taken is not None:
        raise Conflict(f"A category with slug {slug!r} exists.", field="slug")
    row = CategoryRow(tenant_id=tenant, slug=slug, name=validation.text(name, field="name", max_length=120))
    session.add(row)
    await session.flush()
    await published.category_created(session, row)
    return row


async def create_product(tenant: str, draft: ProductDraft, *, session: AsyncSession) -> ProductRow:
    sku = check_sku(draft.sku)
    taken = await session.scalar(select(ProductRow.id).where(ProductRow.tenant_id == tenant, ProductRow.sku == sku))
    if taken is not None:
        raise Conflict(f"A product with SKU {sku} exists.", field="sku")
    category_id = (await category(tenant, draft.category_id, session=session)).id if draft.category_id else None
    row = ProductRow(
        tenant_id=tenant,
        sku=sku,
        name=validation.text(draft.name, field="name", max_length=200),
        description=validation.text(draft.description, field="description", max_length=5000, allow_empty=True),
        price_amount=check_amount(draft.price_amount, field="price.amount"),
        currency=check_currency(draft.currency),
        category_id=category_id,
    )
    session.add(row)
    await session.flush()
    session.add(StockRow(product_id=row.id, tenant_id=tenant, on_hand=0, reserved=0))
    await session.flush()
    await published.product_created(session, row)
    return row


async def update_product(tenant: str, product_id: str, changes: ProductChanges, *, session: AsyncSession) -> ProductRow:
    """Applies the given changes; ``product.updated`` names the fields whose value changed, and
    an update that changes nothing publishes nothing."""
    row = await product(tenant, product_id, session=session)
    wanted: dict[str, object] = {}
    if changes.name is not None:
        wanted["name"] = validation.text(changes.name, field="name", max_length=200)
    if changes.description is not None:
        wanted["description"] = validation.text(
            changes.description, field="description", max_length=5000, allow_empty=True
        )
    if changes.price_amount is not None:
        wanted["price_amount"] = check_amount(changes.price_amount, field="price.amount")
    if changes.category_id is not None:
        wanted["category_id"] = (await category(tenant, changes.category_id, session=session)).id
    changed = [field for field, value in wanted.items() if getattr(row, field) != value]
    for field in changed:
        setattr(row, field, wanted[field])
    await session.flush()
    if changed:
        await published.product_updated(session, row, [_EVENT_FIELDS[field] for field in changed])
    return row


# Column names as the product.updated contract spells them.
_EVENT_FIELDS = {"name": "name", "description": "description", "price_amount": "price", "category_id": "categoryId"}


async def archive_product(tenant: str, product_id: str, *, session: AsyncSession) -> ProductRow:
    """Archived products leave the storefront but stay resolvable for old carts and orders."""
    row = await product(tenant, product_id, session=session)
    if row.active:
        row.active = False
        await session.flush()
        await published.product_archived(session, row)
    return row


async def set_stock(tenant: str, product_id: str, on_hand: int, *, session: AsyncSession) -> StockRow:
    if not 0 <= on_hand <= MAX_STOCK:
        raise BadUserInput(f"onHand must be between 0 and {MAX_STOCK}.", field="onHand")
    row = await product(tenant, product_id, session=session)
    stock = await session.get(StockRow, row.id, with_for_update=True)
    assert stock is not None, "every product is created with its stock row"
    if on_hand < stock.reserved:
        raise Conflict(
            f"{stock.reserved} units are reserved for unpaid orders; on hand cannot drop below that.",
            field="onHand",
        )
    if on_hand != stock.on_hand:
        previous, stock.on_hand = stock.on_hand, on_hand
        await session.flush()
        await published.inventory_adjusted(session, stock, previous)
    return stock
