"""The session's log guard (tests/harness/logcheck.py), seen from outside.

A pytest session of its own runs with the harness plugin, as `make test` does,
on four small tests that write Odoo-formatted logs into the run directory: a
traceback, a 500 answer, an error expected by its trace id, and an expectation
that nothing matches. The outer tests read what that session printed and left
behind.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.harness import odoo_server

TRACE_ID = "4f1c2a9be07d4e55a3c8f0d2b6e19a77"
STALE = "an error this session never logs"

INNER = f'''
import os
from pathlib import Path

STAMP = "2026-01-02 03:04:05,678 4242 "


def test_a_server_logs_a_traceback(run_dir):
    Path(os.environ["INNER_PID_FILE"]).write_text(str(os.getpid()))
    (run_dir / "server.log").write_text(
        STAMP + "INFO db odoo.modules.loading: loading 1 modules...\\n"
        + STAMP + "ERROR db odoo.http: Exception during request handling.\\n"
        "Traceback (most recent call last):\\n"
        '  File "odoo/http.py", line 1, in dispatch\\n'
        "ValueError: unexpected boom\\n"
        + STAMP + "INFO db odoo.service.server: stopping\\n"
    )


def test_a_worker_answers_500(run_dir):
    (run_dir / "workers").mkdir()
    (run_dir / "workers" / "prefork.log").write_text(
        STAMP + "INFO db werkzeug: 127.0.0.1 - - [02/Jan/2026 03:04:05] "
        '"POST /mcp HTTP/1.1" 500 - 3 0.001 0.004\\n'
        + STAMP + "INFO db werkzeug: 127.0.0.1 - - [02/Jan/2026 03:04:05] "
        '"POST /mcp?n=500 HTTP/1.1" 200 - 3 0.001 0.004\\n'
    )


def test_an_internal_error_expected_by_its_trace_id(run_dir, expect_server_error):
    expect_server_error("{TRACE_ID}", reason="provoked on purpose")
    (run_dir / "expected.log").write_text(
        STAMP + "ERROR db odoo.addons.mcp_server_odoo.chain.dispatch: MCP tool "
        "boom FAIL internal error (trace {TRACE_ID})\\n"
        "Traceback (most recent call last):\\n"
        "RuntimeError: provoked on purpose\\n"
    )


def test_an_expectation_that_nothing_matches(expect_server_error):
    expect_server_error("{STALE}", reason="written for an error since fixed")
'''


@pytest.fixture(scope="module")
def inner_session(tmp_path_factory):
    where = tmp_path_factory.mktemp("inner")
    (where / "test_inner_guard.py").write_text(INNER)
    pid_file = where / "pid"
    env = {**os.environ, "INNER_PID_FILE": str(pid_file)}
    env.pop("MCP_KEEP_LOGS", None)
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(odoo_server.REPO / "pyproject.toml"),
            "--rootdir",
            str(odoo_server.REPO),
            str(where / "test_inner_guard.py"),
        ],
        cwd=odoo_server.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done, int(pid_file.read_text())


def test_a_dirty_log_fails_the_session_with_pytests_own_summary(inner_session):
    done, _pid = inner_session
    assert done.returncode == 1, done.stdout[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=+ 4 passed, 1 error in [\d.]+s.* =+", last), last
    assert "ERROR at teardown of" in done.stdout


def test_the_failure_shows_the_traceback_with_its_log_record(inner_session):
    out = inner_session[0].stdout
    assert "2 log record(s) hold a traceback or an HTTP 5xx answer" in out
    assert "--- server.log" in out
    assert "odoo.http: Exception during request handling." in out
    assert "ValueError: unexpected boom" in out
    # Only the offending record, not its neighbours.
    assert "loading 1 modules" not in out and "stopping" not in out


def test_a_500_answer_in_a_nested_log_fails_and_a_500_in_a_url_does_not(
    inner_session,
):
    out = inner_session[0].stdout
    assert "--- workers/prefork.log" in out
    assert '"POST /mcp HTTP/1.1" 500 - 3' in out
    assert "n=500" not in out


def test_an_error_expected_by_trace_id_is_accepted(inner_session):
    out = inner_session[0].stdout
    assert TRACE_ID not in out
    assert "RuntimeError: provoked on purpose" not in out


def test_an_expectation_that_matched_nothing_is_reported_as_stale(inner_session):
    out = inner_session[0].stdout
    assert "expected server error never logged (stale allow-list entry of " in out
    assert repr(STALE) in out
    assert "test_an_expectation_that_nothing_matches" in out


def test_the_runs_key_file_goes_even_without_a_template_database(inner_session):
    # The inner session built no database: its keys went at pytest_unconfigure.
    _done, pid = inner_session
    assert not (Path(tempfile.gettempdir()) / f"mcp_test_{pid}.conf").exists()


def test_stale_key_files_are_swept_with_stale_databases():
    # A pid that no longer runs: a child that has exited and been reaped.
    child = subprocess.Popen(["true"])  # noqa: S607
    child.wait()
    stale = Path(tempfile.gettempdir()) / f"mcp_test_{child.pid}.conf"
    stale.write_text("[options]\n")
    mine = odoo_server.config_file()
    odoo_server.drop_stale_databases()
    assert not stale.exists()
    assert mine.exists()
