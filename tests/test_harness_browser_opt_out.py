"""Without a browser the consent-page proof fails; only the user's word skips it.

Each case runs tests/test_consent_browser.py's first browser test in a pytest
session of its own. The browser fixture decides before any database is built,
so a session takes seconds.
"""

import os
import subprocess
import sys

from tests.harness import odoo_server

BROWSER_TEST = (
    "tests/test_consent_browser.py"
    "::test_a_stranger_logs_in_on_odoos_own_login_page_first"
)


def _session(**variables):
    env = {**os.environ, **variables}
    for name in ("MCP_KEEP_LOGS", *(k for k, v in variables.items() if v is None)):
        env.pop(name, None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-rfEs", BROWSER_TEST],
        cwd=odoo_server.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_missing_chromium_fails_the_browser_test():
    done = _session(MCP_CHROMIUM="/nonexistent/chromium", MCP_SKIP_BROWSER_TESTS=None)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "chromium is not installed" in done.stdout
    assert "MCP_SKIP_BROWSER_TESTS=1 to skip the browser tests explicitly" in (
        done.stdout
    )
    assert "1 error" in done.stdout.strip().splitlines()[-1]


def test_the_browser_test_is_skipped_only_when_the_user_says_so():
    done = _session(MCP_CHROMIUM="/nonexistent/chromium", MCP_SKIP_BROWSER_TESTS="1")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "MCP_SKIP_BROWSER_TESTS=1: the user switched off the browser proof" in (
        done.stdout
    )
    assert "1 skipped" in done.stdout.strip().splitlines()[-1]
