"""The benchmark scripts still start against the current test harness.

They are never run by ``make test`` (they take minutes), but they import the
harness, which changes with the tests; a script that no longer starts is found
here rather than on the day someone measures. Each runs in a process of its
own, as a user runs it, so that nothing it patches leaks into this session.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
SCRIPTS = sorted(
    path.name for path in BENCH.glob("*.py") if not path.name.startswith("_")
)


def _run(*args):
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_script_is_checked():
    assert {
        "analytics_vs_sql.py",
        "audit_verify.py",
        "batch_create.py",
        "chain_cost.py",
        "export_memory.py",
        "gen_dataset.py",
        "search_vs_call_kw.py",
    } <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_parses_its_options(script):
    done = _run(str(BENCH / script), "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


def test_analytics_benchmarks_see_their_addon():
    # gen_dataset.py (imported by the analytics and export scripts) puts the
    # bench-only addon on every addons path the harness builds, extra folders
    # included.
    code = (
        "import sys; sys.path.insert(0, 'bench'); import gen_dataset; "
        "from tests.harness import odoo_server; "
        "options = odoo_server.odoo_options(['/extra']); "
        "print(options[options.index('--addons-path') + 1])"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr[-2000:]
    folders = done.stdout.strip().split(",")
    assert str(BENCH / "addons") in folders
    assert "/extra" in folders
    assert str(REPO) in folders
