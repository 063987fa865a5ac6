"""Every benchmark still runs: each script of bench/ in a tiny smoke mode, all at once (their
figures mean nothing at this size; bench/README.md has the real ones)."""

import subprocess
import sys

import pytest

from shopgraph.contracts import ROOT

pytestmark = pytest.mark.e2e

# Each script, its smallest run, and what its report must show. They pick ports of their own.
SMOKE = {
    "bench.grid": (["--requests", "20", "--concurrency", "2"], ["straight to catalog", "through the router"]),
    "bench.checkout": (["--checkouts", "4", "--concurrency", "2"], ["intents paid:", "mails in the sink:"]),
    "bench.events": (["--events", "30"], ["through relay and consumer:", "commit to handled"]),
    "bench.subscriptions": (
        ["--subscriptions", "8", "--events", "6"],
        ["delivered/expected:", "commit to client", "CPU s per 100 subscriptions"],
    ),
    "bench.guard": (
        ["--requests", "20", "--rounds", "1", "--concurrency", "2"],
        ["catalog, unguarded", "router, unguarded", "guard at the catalog:", "guard at the router:"],
    ),
}


def test_every_benchmark_runs_and_reports() -> None:
    started = {
        module: subprocess.Popen(
            [sys.executable, "-m", module, *arguments],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for module, (arguments, _shown) in SMOKE.items()
    }
    reports = {module: process.communicate(timeout=300) for module, process in started.items()}

    for module, (stdout, stderr) in reports.items():
        assert started[module].returncode == 0, f"{module} failed:\n{stderr[-3000:]}"
        for line in SMOKE[module][1]:
            assert line in stdout, f"{module} printed no {line!r}:\n{stdout}"
