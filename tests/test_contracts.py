"""The committed contracts under schema/ match the code, and breaking changes are caught."""

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from resolvers.db import create_engine
from shopgraph import contracts
from shopgraph.registry import SUBGRAPHS


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_committed_sdl_matches_the_code(name: str) -> None:
    committed = contracts.sdl_path(name).read_text()

    current = contracts.subgraph_sdl(name)

    assert current == committed, (
        f"schema/{name}.graphql is stale; run `shopgraph compose`. Breaking changes in it: "
        f"{contracts.breaking_changes(committed, current) or 'none'}"
    )


def test_committed_supergraph_is_the_composition_of_the_committed_sdls() -> None:
    committed = (contracts.SCHEMA_DIR / contracts.SUPERGRAPH).read_text()

    assert contracts.compose() == committed, "schema/supergraph.graphql is stale; run `shopgraph compose`"


def test_supergraph_declares_federation_2_9_and_the_auth_directives() -> None:
    supergraph = (contracts.SCHEMA_DIR / contracts.SUPERGRAPH).read_text()

    assert '@requiresScopes(scopes: [["catalog:write"]])' in supergraph
    assert '@requiresScopes(scopes: [["orders:read"], ["orders:admin"]])' in supergraph
    for name in SUBGRAPHS:
        assert "specs.apollo.dev/federation/v2.9" in contracts.sdl_path(name).read_text()


def test_removing_a_field_or_changing_a_type_is_breaking_adding_is_not() -> None:
    before = "type Query { product(id: ID!): Product }\ntype Product { id: ID! name: String! price: Int! }"
    removed = "type Query { product(id: ID!): Product }\ntype Product { id: ID! price: Int! }"
    retyped = "type Query { product(id: ID!): Product }\ntype Product { id: ID! name: String! price: String! }"
    added = "type Query { product(id: ID!): Product }\ntype Product { id: ID! name: String! price: Int! sku: String }"

    assert contracts.breaking_changes(before, removed) == ["FIELD_REMOVED: Field Product.name was removed."]
    assert contracts.breaking_changes(before, retyped) == [
        "FIELD_CHANGED_KIND: Field Product.price changed type from Int! to String!."
    ]
    assert contracts.breaking_changes(before, added) == []


def test_export_refuses_an_unintended_breaking_change_until_it_is_marked(tmp_path: Path) -> None:
    # Given a committed catalog SDL with a field the code no longer has
    for name in SUBGRAPHS:
        contracts.sdl_path(name, tmp_path).write_text(contracts.sdl_path(name).read_text())
    stale = (
        contracts.sdl_path("catalog")
        .read_text()
        .replace("  slug: String!\n", "  slug: String!\n  retired: String\n", 1)
    )
    contracts.sdl_path("catalog", tmp_path).write_text(stale)

    # When it is checked and exported, then the removal is reported and nothing is written
    [drift] = contracts.drift(tmp_path)
    assert drift.breaking == ["FIELD_REMOVED: Field Category.retired was removed."]
    with pytest.raises(contracts.BreakingChangesError):
        contracts.export(tmp_path)
    assert contracts.sdl_path("catalog", tmp_path).read_text() == stale

    # And exported with --allow-breaking, it is recorded as intended and the SDL is current
    contracts.export(tmp_path, allow_breaking=True)
    assert contracts.intended_breaking(tmp_path) == {"FIELD_REMOVED: Field Category.retired was removed."}
    assert contracts.drift(tmp_path) == []


async def test_migrations_build_exactly_the_tables_the_code_declares(database_urls: dict[str, str]) -> None:
    # Given every subgraph's database migrated to head (the fixture does it), when Alembic
    # compares it with the table declarations, then nothing differs
    for name, url in database_urls.items():
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                differences = await connection.run_sync(_differences, name)
        finally:
            await engine.dispose()
        assert differences == [], f"{name}: tables and migrations disagree; add a migration: {differences}"


def _differences(connection: Connection, name: str) -> list[object]:
    metadata = importlib.import_module(f"subgraphs.{name}.tables").Base.metadata
    context = MigrationContext.configure(
        connection, opts={"version_table": f"alembic_version_{name}", "compare_type": True}
    )
    return list(compare_metadata(context, metadata))
