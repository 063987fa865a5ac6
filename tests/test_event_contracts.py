"""The event contracts under events/schemas/: each version accepts its own example and every
earlier version's, and producers refuse what a contract does not accept."""

import json
import shutil
from pathlib import Path

import pytest

from events.contracts import Registry, registry
from events.envelope import InvalidEvent, decode, new_event

PRODUCT = "3f1c2a9e-8d4b-4e7a-9c21-5b6d7e8f9a01"


def test_every_committed_version_accepts_its_own_and_every_earlier_example() -> None:
    contracts = registry()
    assert len(list(contracts)) >= 11
    assert contracts.incompatibilities() == []


def test_a_version_that_adds_a_required_field_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    shutil.copytree(Path(registry().root), root)
    folder = root / "product.archived"
    schema = json.loads((folder / "v1.schema.json").read_text())
    schema["properties"]["reason"] = {"type": "string"}
    schema["required"].append("reason")
    (folder / "v2.schema.json").write_text(json.dumps(schema))
    example = json.loads((folder / "v1.example.json").read_text()) | {"reason": "discontinued"}
    (folder / "v2.example.json").write_text(json.dumps(example))

    assert Registry(root).incompatibilities() == [
        "product.archived v2 refuses the v1 example: (root): 'reason' is a required property",
        "product.archived v2 requires 'reason', which v1 did not",
    ]


def test_a_version_that_changes_a_field_or_closes_itself_is_reported(tmp_path: Path) -> None:
    """The v1 example happens to satisfy both changes; the schemas themselves show them."""
    root = tmp_path / "schemas"
    shutil.copytree(Path(registry().root), root)
    folder = root / "product.archived"
    schema = json.loads((folder / "v1.schema.json").read_text())
    schema["properties"]["sku"] = {"type": "string", "maxLength": 40}
    schema["additionalProperties"] = False
    (folder / "v2.schema.json").write_text(json.dumps(schema))
    (folder / "v2.example.json").write_text((folder / "v1.example.json").read_text())

    assert Registry(root).incompatibilities() == [
        "product.archived v2 refuses fields it does not know",
        "product.archived v2 changes or drops properties 'sku' of v1",
    ]


def test_a_version_that_adds_an_optional_field_is_compatible(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    shutil.copytree(Path(registry().root), root)
    folder = root / "product.archived"
    schema = json.loads((folder / "v1.schema.json").read_text())
    schema["properties"]["reason"] = {"type": "string"}
    (folder / "v2.schema.json").write_text(json.dumps(schema))
    example = json.loads((folder / "v1.example.json").read_text()) | {"reason": "discontinued"}
    (folder / "v2.example.json").write_text(json.dumps(example))

    contracts = Registry(root)
    assert contracts.incompatibilities() == []
    assert contracts.latest("product.archived").version == 2


def test_an_event_survives_the_trip_through_its_envelope() -> None:
    event = new_event(
        "product.archived",
        source="shopgraph/catalog",
        tenant="acme",
        aggregate_id=PRODUCT,
        data={"productId": PRODUCT, "sku": "MUG"},
    )
    envelope = json.loads(event.encode())

    assert decode(event.encode()) == event
    assert {
        key: envelope[key] for key in ("specversion", "type", "subject", "partitionkey", "tenant", "schemaversion")
    } == {
        "specversion": "1.0",
        "type": "product.archived",
        "subject": PRODUCT,
        "partitionkey": PRODUCT,
        "tenant": "acme",
        "schemaversion": 1,
    }


@pytest.mark.parametrize(
    ("event_type", "data", "complaint"),
    [
        ("product.archived", {"sku": "MUG"}, "'productId' is a required property"),
        ("product.archived", {"productId": "42", "sku": "MUG"}, "productId: '42' does not match"),
        ("product.archived", {"productId": PRODUCT, "sku": ""}, "sku: '' should be non-empty"),
        ("order.created", {**registry().latest("order.created").example, "lines": []}, "lines: [] should be non-empty"),
        ("product.vanished", {"productId": PRODUCT}, "no contract for event type 'product.vanished'"),
    ],
)
def test_a_producer_refuses_an_event_its_contract_does_not_accept(
    event_type: str, data: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        new_event(event_type, source="shopgraph/catalog", tenant="acme", aggregate_id=PRODUCT, data=data)
    assert complaint in str(refused.value)


def test_a_consumer_reads_a_newer_version_by_the_newest_contract_it_knows() -> None:
    event = new_event(
        "product.archived",
        source="shopgraph/catalog",
        tenant="acme",
        aggregate_id=PRODUCT,
        data={"productId": PRODUCT, "sku": "MUG"},
    )
    newer = json.loads(event.encode()) | {"schemaversion": 2}
    newer["data"]["reason"] = "discontinued"

    assert decode(json.dumps(newer).encode()).data["reason"] == "discontinued"
    newer["data"].pop("productId")
    with pytest.raises(InvalidEvent, match="productId"):
        decode(json.dumps(newer).encode())
