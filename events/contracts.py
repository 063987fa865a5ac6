"""Event contracts: a JSON Schema per event type and version under ``events/schemas/``, each
with an example payload beside it.

    schemas/envelope.schema.json          the CloudEvents envelope every event travels in
    schemas/<type>/v<N>.schema.json       the payload (``data``) of version N of <type>
    schemas/<type>/v<N>.example.json      a payload that version N accepts

The files are the contract, written by hand and reviewed like an API: producers and consumers
validate against them, and a new version may only add to the one before it (new optional
fields), which ``incompatibilities`` proves with the examples.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent / "schemas"


class UnknownEvent(LookupError):
    """No contract for this type, or for this version of it."""


@dataclass(frozen=True, slots=True)
class Contract:
    type: str
    version: int
    schema: dict[str, Any]
    example: dict[str, Any]
    validator: Draft202012Validator

    def problems(self, data: object) -> list[str]:
        """Everything wrong with ``data`` under this contract, as readable lines."""
        return [_describe(error) for error in self.validator.iter_errors(data)]


class Registry:
    """Every committed contract, read once from a folder laid out as above."""

    def __init__(self, root: Path = SCHEMAS) -> None:
        self.root = root
        self._contracts: dict[str, dict[int, Contract]] = {}
        for folder in sorted(path for path in root.iterdir() if path.is_dir()):
            versions = {}
            for schema_file in folder.glob("v*.schema.json"):
                version = int(schema_file.name.removeprefix("v").removesuffix(".schema.json"))
                schema = _read(schema_file)
                Draft202012Validator.check_schema(schema)
                example = _read(folder / f"v{version}.example.json")
                versions[version] = Contract(folder.name, version, schema, example, Draft202012Validator(schema))
            self._contracts[folder.name] = dict(sorted(versions.items()))
        self.envelope = Draft202012Validator(_read(root / "envelope.schema.json"))

    def types(self) -> list[str]:
        return list(self._contracts)

    def versions(self, event_type: str) -> list[Contract]:
        try:
            return list(self._contracts[event_type].values())
        except KeyError:
            raise UnknownEvent(f"no contract for event type {event_type!r}") from None

    def latest(self, event_type: str) -> Contract:
        return self.versions(event_type)[-1]

    def __iter__(self) -> Iterator[Contract]:
        for versions in self._contracts.values():
            yield from versions.values()

    def incompatibilities(self) -> list[str]:
        """Every way a version is more than an addition to the ones before it. Consumers
        reading by a newer version must accept what older producers still send (every earlier
        example), and consumers still on an older version must accept newer events: so no
        field changes its schema or becomes required, and no version closes itself to fields
        it does not know (``additionalProperties: false``)."""
        found = []
        for event_type in self.types():
            contracts = self.versions(event_type)
            for index, newer in enumerate(contracts):
                if newer.schema.get("additionalProperties", True) is False:
                    found.append(f"{event_type} v{newer.version} refuses fields it does not know")
                for older in contracts[: index + 1]:
                    for problem in newer.validator.iter_errors(older.example):
                        found.append(
                            f"{event_type} v{newer.version} refuses the v{older.version} example: {_describe(problem)}"
                        )
                if index:
                    found.extend(_changes(event_type, contracts[index - 1], newer))
        return found


@cache
def registry() -> Registry:
    return Registry()


def _changes(event_type: str, older: Contract, newer: Contract) -> list[str]:
    """What ``newer`` changed of ``older`` rather than added to it."""
    found = []
    for section in ("properties", "$defs"):
        kept = newer.schema.get(section, {})
        for name, schema in older.schema.get(section, {}).items():
            if kept.get(name) != schema:
                found.append(f"{event_type} v{newer.version} changes or drops {section} {name!r} of v{older.version}")
    added = set(newer.schema.get("required", ())) - set(older.schema.get("required", ()))
    found.extend(
        f"{event_type} v{newer.version} requires {name!r}, which v{older.version} did not" for name in sorted(added)
    )
    return found


def _read(path: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(path.read_text())
    return content


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"
