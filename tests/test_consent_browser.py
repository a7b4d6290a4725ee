"""The consent page in a real headless Chromium, driven by Playwright.

tests/browser/consent.mjs (Node 22 and playwright-core from .ci/bootstrap-node,
the Debian ``chromium`` from .ci/bootstrap) opens an authorization URL that this
test computes for a registered client with PKCE, logs in on Odoo's own login
page (its JavaScript included), reads the consent page and clicks Allow in one
browser context and Deny in another. The test then redeems the code at
/oauth/token and calls /mcp with the access token.

The browser is part of the proof: when Chromium (``chromium`` on PATH, or
``MCP_CHROMIUM``) or playwright-core is missing, these tests fail.
``MCP_SKIP_BROWSER_TESTS=1`` skips them, on the user's explicit word only, and
the skip message says so.

Set ``MCP_SCREENSHOT_DIR`` to keep the screenshot of the consent page; it is
written to the run's temporary directory otherwise.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.harness.client import McpHttpClient
from tests.harness.oauth import Browser

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).parent / "browser" / "consent.mjs"
CHROMIUM = (
    os.environ.get("MCP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
APP_NAME = "Browser Consent App"
SKIP_VARIABLE = "MCP_SKIP_BROWSER_TESTS"


def _node_dir():
    cache = os.environ.get("MCP_CACHE_DIR", str(Path.home() / ".cache/mcp_server_odoo"))
    return Path(cache) / "node"


# Session-scoped, so that it is set up before the session's servers and
# databases: without a browser the tests stop at once.
@pytest.fixture(scope="session")
def node_command():
    """``[node, consent.mjs, node dir]``; fails when part of the browser is missing."""
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(
            f"{SKIP_VARIABLE}=1: the user switched off the browser proof of the "
            "consent page (Chromium and playwright-core are not checked)"
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "chromium is not installed: run .ci/bootstrap as root (it runs "
            "apt-get install chromium), or set "
            f"{SKIP_VARIABLE}=1 to skip the browser tests explicitly",
            pytrace=False,
        )
    done = subprocess.run(
        ["bash", str(REPO / ".ci" / "bootstrap-node")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f".ci/bootstrap-node failed:\n{done.stderr[-4000:]}"
    node_dir = _node_dir()
    if not (node_dir / "node_modules" / "playwright-core" / "package.json").exists():
        pytest.fail(
            f"playwright-core is not installed in {node_dir} (.ci/bootstrap-node "
            f"installs it); set {SKIP_VARIABLE}=1 to skip the browser tests "
            "explicitly",
            pytrace=False,
        )
    node = node_dir / "node_modules" / "node" / "bin" / "node"
    return [str(node), str(SCRIPT), str(node_dir)]


@pytest.fixture(scope="module")
def browser_run(node_command, oauth_app, oauth_user, run_dir, odoo_http):
    app = oauth_app(name=APP_NAME)
    uid, login, password = oauth_user()
    allow = app.authorize_params()
    verifier = app.verifier
    deny = app.authorize_params()
    shots = Path(os.environ.get("MCP_SCREENSHOT_DIR") or run_dir)
    shots.mkdir(parents=True, exist_ok=True)

    def url(params):
        return f"{odoo_http.url}/oauth/authorize?{urlencode(params)}"

    job = {
        "chromium": CHROMIUM,
        "login": login,
        "password": password,
        "redirectUri": app.redirect_uri,
        "runs": [
            {
                "name": "allow",
                "authorizeUrl": url(allow),
                "decision": "allow",
                "screenshot": str(shots / "consent-page.png"),
            },
            {
                "name": "deny",
                "authorizeUrl": url(deny),
                "decision": "deny",
                "screenshot": None,
            },
        ],
    }
    done = subprocess.run(  # noqa: S603
        node_command,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"consent.mjs failed:\n{done.stderr[-4000:]}"
    report = json.loads(done.stdout)
    runs = {run["name"]: run for run in report["runs"]}
    return {
        "app": app,
        "uid": uid,
        "login": login,
        "verifier": verifier,
        "params": {"allow": allow, "deny": deny},
        "runs": runs,
        "screenshot": shots / "consent-page.png",
    }


def test_a_stranger_logs_in_on_odoos_own_login_page_first(browser_run):
    for run in browser_run["runs"].values():
        assert run["consent"]["loginPath"] == "/web/login"
        assert run["consent"]["status"] == 200


def test_the_consent_page_names_client_redirect_host_user_and_scope(browser_run):
    consent = browser_run["runs"]["allow"]["consent"]
    assert consent["clientName"] == APP_NAME
    assert APP_NAME in consent["heading"]
    assert consent["redirectHost"] == "127.0.0.1"
    assert browser_run["login"] in consent["user"]
    assert consent["scope"] == "mcp"
    assert consent["buttons"] == ["allow", "deny"]
    assert browser_run["screenshot"].stat().st_size > 10_000


def test_the_consent_page_can_not_be_framed_or_cached(browser_run):
    headers = browser_run["runs"]["allow"]["consent"]["headers"]
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_allow_in_a_browser_gives_a_code_that_opens_mcp(browser_run, odoo_http):
    app, redirect = browser_run["app"], browser_run["runs"]["allow"]["redirect"]
    assert redirect["status"] == 303
    assert redirect["browserArrived"] is True
    assert redirect["location"].startswith(app.redirect_uri + "?")
    query = redirect["query"]
    assert query["state"] == browser_run["params"]["allow"]["state"]
    assert query["iss"] == odoo_http.url

    tokens = app.exchange(query["code"], verifier=browser_run["verifier"])
    assert tokens.status_code == 200, tokens.text
    client = McpHttpClient(odoo_http.url, tokens.json()["access_token"])
    client.initialize()
    found = client.call_ok(
        "search_records",
        {
            "model": "res.users",
            "domain": [["id", "=", browser_run["uid"]]],
            "fields": ["login"],
        },
    )
    assert [row["login"] for row in found["records"]] == [browser_run["login"]]


def test_deny_in_a_browser_redirects_with_access_denied_state_and_iss(
    browser_run, odoo_http
):
    redirect = browser_run["runs"]["deny"]["redirect"]
    assert redirect["status"] == 303
    query = redirect["query"]
    assert query["error"] == "access_denied"
    assert query["state"] == browser_run["params"]["deny"]["state"]
    assert query["iss"] == odoo_http.url
    assert "code" not in query


# -- forged decisions, over plain HTTP ---------------------------------------------


def test_a_decision_without_the_pages_csrf_token_is_refused(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    page = browser.open_authorize(app.authorize_params())
    assert page.status_code == 200
    forged = browser.decide(page, "allow", csrf_token="")
    assert forged.status_code == 400
    assert "Location" not in forged.headers
    assert "mcpac_" not in forged.text


def test_a_user_outside_the_mcp_user_group_gets_no_consent_page(
    oauth_app, oauth_user, odoo_http
):
    app = oauth_app()
    _uid, login, password = oauth_user(groups=("base.group_user",))
    browser = Browser(odoo_http.url).login(login, password)
    page = browser.open_authorize(app.authorize_params())
    assert page.status_code == 403
    assert "o_mcp_oauth_consent" not in page.text
    assert "Location" not in page.headers
