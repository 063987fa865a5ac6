"""The schema contracts: each subgraph's SDL printed from code, the composed supergraph, and
the breaking-change check against what is committed under ``schema/``."""

import importlib
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graphql import BreakingChange, build_schema, find_breaking_changes

from shopgraph import documents
from shopgraph.registry import SUBGRAPHS, settings_for

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schema"
ROUTER_DIR = ROOT / "router"
SUPERGRAPH = "supergraph.graphql"
# Breaking changes someone meant to make: one line each, as the check prints them.
INTENDED_BREAKING = "intended-breaking-changes.txt"


def sdl_path(name: str, schema_dir: Path = SCHEMA_DIR) -> Path:
    return schema_dir / f"{name}.graphql"


def subgraph_sdl(name: str) -> str:
    """The subgraph's SDL exactly as it serves it at ``_service { sdl }``."""
    build = importlib.import_module(f"subgraphs.{name}.schema").build_schema
    return str(build(settings_for(name)).as_str()).rstrip() + "\n"


def describe(change: BreakingChange) -> str:
    return f"{change.type.name}: {change.description}"


def breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    """What ``new_sdl`` breaks for clients of ``old_sdl``. Federation directives are not
    defined in a subgraph's SDL, so the documents are built without SDL validation."""
    old = build_schema(old_sdl, assume_valid_sdl=True)
    new = build_schema(new_sdl, assume_valid_sdl=True)
    # graphql-core reports a built-in scalar that is no longer referenced as removed; the
    # built-ins exist in every schema, so no client can break on that.
    return sorted(
        describe(change)
        for change in find_breaking_changes(old, new)
        if not change.description.startswith("Standard scalar")
    )


def intended_breaking(schema_dir: Path = SCHEMA_DIR) -> set[str]:
    path = schema_dir / INTENDED_BREAKING
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


@dataclass(frozen=True, slots=True)
class Drift:
    subgraph: str
    breaking: list[str]


def drift(schema_dir: Path = SCHEMA_DIR) -> list[Drift]:
    """Subgraphs whose code no longer matches the committed SDL, with any unintended
    breaking changes among the differences."""
    found = []
    allowed = intended_breaking(schema_dir)
    for name in SUBGRAPHS:
        current = subgraph_sdl(name)
        path = sdl_path(name, schema_dir)
        committed = path.read_text() if path.exists() else ""
        if current != committed:
            breaking = breaking_changes(committed, current) if committed else []
            found.append(Drift(name, [change for change in breaking if change not in allowed]))
    return found


def default_urls() -> dict[str, str]:
    return {name: f"http://127.0.0.1:{settings_for(name).port}/graphql" for name in SUBGRAPHS}


def compose(schema_dir: Path = SCHEMA_DIR) -> str:
    """The committed supergraph: the committed subgraph SDLs at their default addresses."""
    return compose_with_urls(default_urls(), schema_dir)


def compose_with_urls(urls: dict[str, str], schema_dir: Path = SCHEMA_DIR) -> str:
    """Composes the committed subgraph SDLs with the router's own composer."""
    manifest = [{"name": name, "url": urls[name], "sdl_path": str(sdl_path(name, schema_dir))} for name in SUBGRAPHS]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as services:
        json.dump(manifest, services)
        services.flush()
        result = subprocess.run(  # noqa: S603 - our own script, no shell
            ["node", str(ROUTER_DIR / "compose.mjs"), services.name],  # noqa: S607 - node from PATH
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
    if result.returncode != 0:
        raise RuntimeError(f"composition failed:\n{result.stderr}")
    return result.stdout


def export(schema_dir: Path = SCHEMA_DIR, *, allow_breaking: bool = False) -> list[Path]:
    """Writes every subgraph's SDL and the supergraph. Refuses unintended breaking changes
    unless ``allow_breaking``, which records them as intended. Returns what it wrote."""
    schema_dir.mkdir(exist_ok=True)
    changes = drift(schema_dir)
    blocked = [change for d in changes for change in d.breaking]
    if blocked and not allow_breaking:
        raise BreakingChangesError([f"{d.subgraph}: {change}" for d in changes for change in d.breaking])
    sdls = {name: sdl_path(name, schema_dir).read_text() for name in SUBGRAPHS if sdl_path(name, schema_dir).exists()}
    sdls.update({d.subgraph: subgraph_sdl(d.subgraph) for d in changes})
    with tempfile.TemporaryDirectory() as scratch:
        for name, sdl in sdls.items():
            sdl_path(name, Path(scratch)).write_text(sdl)
        supergraph = compose(Path(scratch))
    # The first-party apps' registered operations are clients too, and nothing overrides them:
    # an operation that stops validating would fail in production by its hash.
    broken = documents.problems(supergraph, documents.registered(schema_dir / documents.MANIFESTS.name))
    if broken:
        raise BrokenOperationsError([f"registered operation {problem}" for problem in broken])
    if blocked:
        with (schema_dir / INTENDED_BREAKING).open("a") as intended:
            intended.writelines(f"{change}\n" for change in blocked)
    written = []
    for d in changes:
        sdl_path(d.subgraph, schema_dir).write_text(sdls[d.subgraph])
        written.append(sdl_path(d.subgraph, schema_dir))
    supergraph_path = schema_dir / SUPERGRAPH
    if not supergraph_path.exists() or supergraph_path.read_text() != supergraph:
        supergraph_path.write_text(supergraph)
        written.append(supergraph_path)
    return written


class BreakingChangesError(Exception):
    def __init__(self, changes: list[str]) -> None:
        super().__init__("breaking schema changes:\n  " + "\n  ".join(changes))
        self.changes = changes


class BrokenOperationsError(BreakingChangesError):
    """The change breaks operations a first-party app registered: no flag overrides that."""
