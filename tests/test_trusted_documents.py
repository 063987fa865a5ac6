"""The first-party apps' registered operations (trusted documents): their committed manifests
match their `.graphql` files and validate against the supergraph, and a schema change that
breaks one is refused like any other breaking change."""

import shutil
from pathlib import Path

import pytest

from shopgraph import contracts, documents

SUPERGRAPH = (contracts.SCHEMA_DIR / contracts.SUPERGRAPH).read_text()


def test_committed_manifests_are_built_from_the_operations() -> None:
    assert documents.stale() == [], "schema/trusted-documents/ is stale; run `shopgraph documents`"


def test_every_registered_operation_validates_against_the_supergraph() -> None:
    registered = documents.registered()

    assert set(registered) == set(documents.CLIENTS)
    assert len(registered["storefront"]) >= 10
    assert documents.problems(SUPERGRAPH, registered) == []


def test_an_operation_is_registered_with_the_fragments_it_spreads(tmp_path: Path) -> None:
    (tmp_path / "Cart.graphql").write_text("query Cart { me { cart { ...Lines } } }")
    (tmp_path / "fragments.graphql").write_text(
        "fragment Lines on Cart { lines { ...Line } } fragment Line on CartLine { id } fragment Unused on Cart { id }"
    )

    [(key, text)] = documents.build(tmp_path).items()

    assert key == documents.document_id(text)
    assert "fragment Lines on Cart" in text and "fragment Line on CartLine" in text and "Unused" not in text


def test_a_schema_change_that_breaks_a_registered_operation_is_reported() -> None:
    field = '  """\n  How many units the cart holds, archived products included.\n  """\n  itemCount: Int!\n'
    without_item_count = SUPERGRAPH.replace(field, "")
    assert without_item_count != SUPERGRAPH

    problems = documents.problems(without_item_count, documents.registered())

    assert {p.operation for p in problems} == {"Cart", "AddToCart", "UpdateCartLine", "RemoveCartLine"}
    assert all("itemCount" in p.message for p in problems)


def test_compose_refuses_when_a_registered_operation_no_longer_validates(tmp_path: Path) -> None:
    schema_dir = tmp_path / "schema"
    shutil.copytree(contracts.SCHEMA_DIR, schema_dir)
    manifest = {documents.document_id("query Gone { gone }"): "query Gone { gone }"}
    (schema_dir / "trusted-documents" / "partner-app.json").write_text(documents.serialised(manifest))

    with pytest.raises(contracts.BrokenOperationsError) as refused:
        contracts.export(schema_dir)

    assert refused.value.changes == [
        "registered operation partner-app: Gone: Cannot query field 'gone' on type 'Query'."
    ]


def test_a_manifest_entry_whose_id_is_not_its_texts_hash_is_reported() -> None:
    problems = documents.problems(SUPERGRAPH, {"storefront": {"0" * 64: "query Me { me { id } }"}})

    assert [str(p) for p in problems] == ["storefront: Me: its id is not the SHA-256 of its text"]
