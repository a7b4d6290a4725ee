"""Interoperability with the official ``mcp`` Python SDK (2.x) as the client.

The SDK lives in its own virtualenv (it needs idna 3, Odoo pins idna 2), so each
test runs tests/sdk_client/run_client.py there as a separate process and reads
the JSON report it prints. The SDK checks every result against the schema of
its protocol revision and every structuredContent against the tool's
outputSchema; a rejection shows up as the call's ``exception``.
"""

import json
import os
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.harness.client import LEGACY, MODERN
from tests.harness.fixtures import client_venv_python

pytestmark = pytest.mark.client

SCRIPT = Path(__file__).parent / "sdk_client" / "run_client.py"
READ_TOOLS = {
    "list_models",
    "describe_model",
    "search_records",
    "get_record",
    "batch_search",
}


def start_sdk(url, token, calls=(), *, mode="legacy"):
    """Start the SDK client against ``url``; finish it with :func:`sdk_report`."""
    command = [client_venv_python(), str(SCRIPT), url, "--mode", mode]
    for name, arguments in calls:
        command += ["--call", name, json.dumps(arguments)]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "MCP_BEARER_TOKEN")
    }
    if token:
        env["MCP_BEARER_TOKEN"] = token
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def sdk_report(process):
    """The client's report, whatever its exit status (kept in ``exit_status``)."""
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    try:
        report = json.loads(stdout)
    except ValueError:
        raise AssertionError(
            f"the SDK client printed no report (exit {process.returncode}):\n"
            f"{stdout[-2000:]}\n{stderr[-4000:]}"
        ) from None
    report["exit_status"] = process.returncode
    report["stderr"] = stderr
    return report


def run_sdk(url, token, calls=(), *, mode="legacy"):
    return sdk_report(start_sdk(url, token, calls, mode=mode))


def assert_clean(report):
    """The session opened and the SDK accepted every answer."""
    problems = [report["failure"]] if report["failure"] else []
    problems += [
        f"{call['name']}: {call['exception']}"
        for call in report["calls"]
        if call["exception"]
    ]
    assert not problems, "\n".join(problems) + "\n" + report["stderr"][-3000:]
    assert report["exit_status"] == 0


def structured(report, index):
    call = report["calls"][index]
    assert call["exception"] is None, call
    assert call["isError"] is False, call["content"]
    return call["structuredContent"]


# -- data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partners(server_env):
    """A company with two contacts and one archived contact, under a unique tag."""
    tag = f"sdk{uuid.uuid4().hex[:8]}"
    with server_env() as env:
        Partner = env["res.partner"]
        company = Partner.create({"name": f"Acme {tag}", "is_company": True})
        alice = Partner.create(
            {
                "name": f"Alice {tag}",
                "parent_id": company.id,
                "email": f"alice.{tag}@example.com",
            }
        )
        bob = Partner.create(
            {
                "name": f"Bob {tag}",
                "parent_id": company.id,
                "email": f"bob.{tag}@example.com",
            }
        )
        carol = Partner.create({"name": f"Carol {tag}", "active": False})
        ids = {
            "company": company.id,
            "alice": alice.id,
            "bob": bob.id,
            "carol": carol.id,
        }
    return {"tag": tag, **ids}


@pytest.fixture(scope="module")
def admin_run(odoo_http, admin_token, partners):
    """One legacy SDK session as admin that calls each read tool once."""
    tag = partners["tag"]
    calls = [
        ("list_models", {"query": "partner"}),
        (
            "describe_model",
            {
                "model": "res.partner",
                "fields": ["name", "email", "parent_id", "is_company"],
            },
        ),
        (
            "search_records",
            {
                "model": "res.partner",
                "domain": [["name", "ilike", tag], ["is_company", "=", False]],
                "fields": ["name", "email", "parent_id"],
                "order": "name",
            },
        ),
        (
            "get_record",
            {
                "model": "res.partner",
                "ids": [partners["carol"]],
                "fields": ["name", "active"],
            },
        ),
        (
            "batch_search",
            {
                "searches": [
                    {
                        "model": "res.partner",
                        "domain": [["id", "=", partners["company"]]],
                        "fields": ["name", "child_ids"],
                    },
                    {
                        "model": "res.partner",
                        "domain": [["name", "ilike", tag]],
                        "include_archived": True,
                        "fields": ["name"],
                        "limit": 1,
                    },
                    {"model": "no.such.model"},
                ]
            },
        ),
        (
            "search_records",
            {"model": "res.partner", "domain": [["no_such_field", "=", 1]]},
        ),
    ]
    return run_sdk(f"{odoo_http.url}/mcp", admin_token, calls)


# -- session and tools/list ------------------------------------------------------------


def test_sdk_initializes_and_accepts_every_answer(admin_run):
    assert_clean(admin_run)
    assert admin_run["protocolVersion"] == LEGACY
    assert admin_run["serverInfo"]["name"] == "mcp_server_odoo"


def test_sdk_lists_the_read_tools_with_schemas_and_annotations(admin_run):
    tools = {tool["name"]: tool for tool in admin_run["tools"]}
    assert READ_TOOLS <= set(tools)
    for name in READ_TOOLS:
        tool = tools[name]
        assert tool["inputSchema"]["type"] == "object"
        assert tool["outputSchema"]["type"] == "object"
        assert tool["description"]
        annotations = tool["annotations"]
        assert annotations["readOnlyHint"] is True
        assert annotations["destructiveHint"] is False
        assert annotations["openWorldHint"] is False
    assert tools["search_records"]["inputSchema"]["required"] == ["model"]


# -- each read tool, checked against the partners made above ---------------------------


def test_list_models_finds_res_partner(admin_run):
    result = structured(admin_run, 0)
    names = [item["model"] for item in result["models"]]
    assert "res.partner" in names
    assert result["count"] == len(names)
    assert all(
        "partner" in name or "partner" in item["description"].lower()
        for name, item in zip(names, result["models"], strict=True)
    )


def test_describe_model_gives_the_requested_partner_fields(admin_run):
    result = structured(admin_run, 1)
    assert result["model"] == "res.partner"
    fields = {field["name"]: field for field in result["fields"]}
    assert set(fields) == {"name", "email", "parent_id", "is_company"}
    assert fields["parent_id"]["type"] == "many2one"
    assert fields["parent_id"]["relation"] == "res.partner"
    assert fields["is_company"]["type"] == "boolean"
    assert fields["email"]["searchable"] is True


def test_search_records_applies_the_domain_and_order(admin_run, partners):
    result = structured(admin_run, 2)
    tag = partners["tag"]
    assert result["count"] == 2
    assert result["next_offset"] is None
    assert [row["name"] for row in result["records"]] == [f"Alice {tag}", f"Bob {tag}"]
    alice = result["records"][0]
    assert alice["id"] == partners["alice"]
    assert alice["email"] == f"alice.{tag}@example.com"
    assert alice["parent_id"] == {
        "id": partners["company"],
        "display_name": f"Acme {tag}",
    }


def test_get_record_reads_an_archived_partner(admin_run, partners):
    result = structured(admin_run, 3)
    assert result["records"] == [
        {"id": partners["carol"], "name": f"Carol {partners['tag']}", "active": False}
    ]


def test_batch_search_answers_each_search_in_order(admin_run, partners):
    first, second, third = structured(admin_run, 4)["results"]
    assert first["ok"] is True
    assert first["records"][0]["name"] == f"Acme {partners['tag']}"
    assert sorted(first["records"][0]["child_ids"]) == sorted(
        [partners["alice"], partners["bob"]]
    )
    # Acme, Alice, Bob and the archived Carol; one per page.
    assert second["ok"] is True
    assert (second["count"], second["limit"], second["next_offset"]) == (4, 1, 1)
    assert third == {"ok": False, "error": "Unknown model 'no.such.model'."}


def test_a_bad_field_is_a_tool_error_the_sdk_accepts(admin_run):
    call = admin_run["calls"][5]
    assert call["exception"] is None
    assert call["isError"] is True
    assert "no_such_field" in call["content"][0]["text"]


# -- a user with fewer rights ----------------------------------------------------------


def test_a_restricted_user_sees_less_than_admin(
    odoo_http, admin_token, new_api_user, partners
):
    _uid, key = new_api_user(groups=["base.group_user"])
    calls = [
        ("list_models", {"query": "ir.config"}),
        ("search_records", {"model": "ir.config_parameter", "fields": ["key"]}),
        (
            "search_records",
            {"model": "res.partner", "domain": [["name", "ilike", partners["tag"]]]},
        ),
    ]
    url = f"{odoo_http.url}/mcp"
    # Both sessions at once: each client process spends seconds importing the SDK.
    started = start_sdk(url, key, calls), start_sdk(url, admin_token, calls)
    user, admin = (sdk_report(process) for process in started)
    assert_clean(user)
    assert_clean(admin)

    def models(report):
        return {item["model"] for item in structured(report, 0)["models"]}

    assert "ir.config_parameter" in models(admin)
    assert "ir.config_parameter" not in models(user)
    assert structured(admin, 1)["count"] > 0
    denied = user["calls"][1]
    assert denied["isError"] is True
    assert "not allowed to read" in denied["content"][0]["text"]
    # What both may read, both see the same way.
    assert structured(user, 2)["count"] == structured(admin, 2)["count"] == 3


def test_a_wrong_key_fails_the_sdk_session(odoo_http):
    report = run_sdk(f"{odoo_http.url}/mcp", "not-a-valid-key")
    assert report["exit_status"] == 1
    assert report["protocolVersion"] is None
    assert report["failure"].startswith("MCPError -32001: Unauthorized")


# -- the stateless revision ------------------------------------------------------------


def test_sdk_speaks_2026_07_28_through_server_discover(
    odoo_http, admin_token, partners
):
    calls = [
        (
            "search_records",
            {
                "model": "res.partner",
                "domain": [["id", "=", partners["alice"]]],
                "fields": ["name"],
            },
        )
    ]
    report = run_sdk(f"{odoo_http.url}/mcp", admin_token, calls, mode="modern")
    assert_clean(report)
    assert report["protocolVersion"] == MODERN
    assert report["serverInfo"]["name"] == "mcp_server_odoo"
    assert READ_TOOLS <= {tool["name"] for tool in report["tools"]}
    assert structured(report, 0)["records"] == [
        {"id": partners["alice"], "name": f"Alice {partners['tag']}"}
    ]


# -- the harness itself: an outputSchema mismatch must fail ----------------------------


class _SchemaBreakingServer(BaseHTTPRequestHandler):
    """A loopback MCP endpoint whose one tool breaks its own outputSchema."""

    TOOL = {
        "name": "broken",
        "inputSchema": {"type": "object"},
        "outputSchema": {
            "type": "object",
            "required": ["answer"],
            "properties": {"answer": {"type": "integer"}},
        },
    }

    def do_POST(self):
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "id" not in message:
            self.send_response(202)
            self.end_headers()
            return
        result = {
            "initialize": {
                "protocolVersion": LEGACY,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "stub", "version": "1"},
            },
            "tools/list": {"tools": [self.TOOL]},
            "tools/call": {
                "content": [],
                "isError": False,
                "structuredContent": {"answer": "forty-two"},
            },
        }[message["method"]]
        body = json.dumps(
            {"jsonrpc": "2.0", "id": message["id"], "result": result}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def test_the_sdk_client_reports_an_output_schema_violation_as_a_failure():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SchemaBreakingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/mcp"
        report = run_sdk(url, None, [("broken", {})])
    finally:
        server.shutdown()
        server.server_close()
    assert report["exit_status"] == 1
    assert "Invalid structured content" in report["calls"][0]["exception"]
