"""Trusted documents: the operations first-party apps may run in production, registered
ahead of time.

Each first-party client keeps its operations as ``.graphql`` files (one operation per
file, fragments in files of their own); ``shopgraph documents`` turns them into the client's
manifest, ``schema/trusted-documents/<client>.json``, which maps each document's id (the
lowercase hex SHA-256 of its text) to the text: the operation printed with the fragments it
uses. The router loads every manifest; a client sends an id (Apollo's
``extensions.persistedQuery.sha256Hash``) instead of the text, and in production a
first-party client can send nothing else. A registered operation that no longer validates
against the supergraph is a breaking change: the suite fails, and so does ``shopgraph
compose``.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "schema" / "trusted-documents"
# Each first-party client and where its operations live.
CLIENTS: Mapping[str, Path] = {"storefront": ROOT / "storefront" / "operations"}


@dataclass(frozen=True, slots=True)
class Problem:
    client: str
    operation: str
    message: str

    def __str__(self) -> str:
        return f"{self.client}: {self.operation}: {self.message}"


def document_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest_path(client: str, manifests: Path = MANIFESTS) -> Path:
    return manifests / f"{client}.json"


def build(folder: Path) -> dict[str, str]:
    """A client's manifest from its ``.graphql`` files: id to document, one per operation."""
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in sorted(folder.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                raise ValueError(f"{path.name}: only operations and fragments belong here")
            if definition.name is None:
                raise ValueError(f"{path.name}: a registered operation needs a name")
            name = definition.name.value
            if name in operations or name in fragments:
                raise ValueError(f"{path.name}: {name} is defined twice")
            if isinstance(definition, OperationDefinitionNode):
                operations[name] = definition
            else:
                fragments[name] = definition
    documents = [_with_fragments(operation, fragments) for operation in operations.values()]
    return {document_id(text): text for text in sorted(documents)}


def _with_fragments(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]) -> str:
    """The operation and every fragment it spreads, directly or through another, printed."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending = _spreads(operation)
    while pending:
        name = pending.pop()
        if name in used:
            continue
        if name not in fragments:
            raise ValueError(f"{operation.name.value if operation.name else '?'} spreads an unknown fragment {name}")
        used[name] = fragments[name]
        pending.extend(_spreads(fragments[name]))
    document = DocumentNode(definitions=(operation, *(used[name] for name in sorted(used))))
    return print_ast(document)


def _spreads(definition: OperationDefinitionNode | FragmentDefinitionNode) -> list[str]:
    names: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
            names.append(node.name.value)

    visit(definition, Spreads())
    return names


def write(manifests: Path = MANIFESTS, clients: Mapping[str, Path] = CLIENTS) -> list[Path]:
    """Writes each client's manifest from its operations; returns the ones that changed."""
    manifests.mkdir(exist_ok=True)
    written = []
    for client, folder in clients.items():
        path = manifest_path(client, manifests)
        text = serialised(build(folder))
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale(manifests: Path = MANIFESTS, clients: Mapping[str, Path] = CLIENTS) -> list[str]:
    """The clients whose committed manifest differs from their operations."""
    return [
        client
        for client, folder in clients.items()
        if not manifest_path(client, manifests).exists()
        or manifest_path(client, manifests).read_text() != serialised(build(folder))
    ]


def registered(manifests: Path = MANIFESTS) -> dict[str, dict[str, str]]:
    """Every committed manifest, by client."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(manifests.glob("*.json"))}


def problems(supergraph: str, documents: Mapping[str, Mapping[str, str]]) -> list[Problem]:
    """What would break: each registered document that does not validate against
    ``supergraph``, or whose id is not its text's."""
    schema = build_schema(supergraph, assume_valid_sdl=True)
    found = []
    for client, manifest in documents.items():
        for key, text in manifest.items():
            document = parse(text)
            name = _operation_name(document)
            if document_id(text) != key:
                found.append(Problem(client, name, "its id is not the SHA-256 of its text"))
            found.extend(Problem(client, name, error.message) for error in validate(schema, document))
    return found


def _operation_name(document: DocumentNode) -> str:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return "(anonymous)"


def serialised(manifest: Mapping[str, str]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"
