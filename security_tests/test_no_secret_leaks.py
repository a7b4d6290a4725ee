"""Secrets planted in arguments, results and error messages never reach an
audit row, a log line or a span.

Over real HTTP against the served database (audit rows, server log), and
in-process through the chain for spans, which the HTTP server does not export.
"""

import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.harness.client import McpHttpClient
from tests.harness.fixtures import configure_odoo

configure_odoo()

from odoo.addons.mcp_server_odoo.chain import AuthResult, tracing  # noqa: E402
from odoo.addons.mcp_server_odoo.protocol import transport  # noqa: E402

JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFrIn0"
    ".Xk3v9QmTt2LrX8pN4sWc7bYa1eDf6gHjPlantedJwt"
)
PLANTED = {
    "jwt": JWT,
    "api_key": "sk-live-Pl4ntedS3cretKey0123456789",
    "token": "mcpat_Pl4ntedAccessToken0123456789abcd",
    "password": "password=Pl4nted-Hunter2!",
    "email": "planted.person@leak-example.com",
    "iban": "BE71096123456769",
    "phone": "+32 475 98 76 54",
}
# The part of each planted value that must never be found.
NEEDLES = [
    "Xk3v9QmTt2LrX8pN4sWc7bYa1eDf6gHjPlantedJwt",
    "Pl4ntedS3cretKey0123456789",
    "Pl4ntedAccessToken0123456789abcd",
    "Pl4nted-Hunter2",
    "planted.person@leak-example.com",
    "BE71096123456769",
    "475 98 76 54",
]


def _calls(client):
    """Messages carrying the planted values in every place a client controls."""
    secrets = list(PLANTED.values())
    return [
        # In arguments, nested and as object keys.
        client.message(
            "tools/call",
            {
                "name": "search_records",
                "arguments": {
                    "model": "res.partner",
                    "domain": [["name", "in", secrets]],
                    "fields": ["name", "email"],
                },
            },
        ),
        client.message(
            "tools/call",
            {"name": "list_models", "arguments": {"query": PLANTED["jwt"]}},
        ),
        # In values that come back in results (a partner holds them).
        client.message(
            "tools/call",
            {
                "name": "search_records",
                "arguments": {
                    "model": "res.partner",
                    "domain": [["ref", "=", "planted-secrets"]],
                    "fields": ["name", "email", "comment", "phone"],
                },
            },
        ),
        # In error messages: an unknown model, an unknown tool, a bad argument.
        client.message(
            "tools/call",
            {"name": "describe_model", "arguments": {"model": PLANTED["api_key"]}},
        ),
        client.message(
            "tools/call",
            {"name": f"tool-{PLANTED['token']}", "arguments": {}},
        ),
        client.message(
            "tools/call",
            {
                "name": "search_records",
                "arguments": {
                    "model": "res.partner",
                    PLANTED["email"]: PLANTED["iban"],
                },
            },
        ),
        client.message(f"method/{PLANTED['password']}\r\nforged", {}),
        # In the JSON-RPC id, which spans and the audit log both record.
        {"jsonrpc": "2.0", "id": PLANTED["api_key"], "method": "ping", "params": {}},
    ]


@pytest.fixture(scope="module")
def planted(server_env, admin_token, odoo_http):
    mcp_client = McpHttpClient(odoo_http.url, admin_token)
    with server_env() as env:
        env["res.partner"].create(
            {
                "name": f"Leak {PLANTED['jwt']}",
                "ref": "planted-secrets",
                "email": PLANTED["email"],
                "phone": PLANTED["phone"],
                "comment": " ".join(PLANTED.values()),
            }
        )
    with server_env() as env:
        env.cr.execute("SELECT coalesce(max(sequence), 0) FROM mcp_audit_event")
        before = env.cr.fetchone()[0]
    statuses = []
    for body in _calls(mcp_client):
        statuses.append(mcp_client.post(body).status_code)
    # A planted value as the bearer token itself.
    statuses.append(
        mcp_client.post(mcp_client.message("ping"), token=PLANTED["token"]).status_code
    )
    return before, statuses


def test_every_planted_call_left_an_event(planted, server_env):
    before, statuses = planted
    assert 500 not in statuses
    with server_env() as env:
        env.cr.execute(
            "SELECT count(*) FROM mcp_audit_event WHERE sequence > %s", [before]
        )
        assert env.cr.fetchone()[0] == len(statuses)


def test_no_audit_row_holds_a_planted_secret(planted, server_env):
    before, _statuses = planted
    with server_env() as env:
        env.cr.execute(
            "SELECT to_jsonb(e)::text FROM mcp_audit_event e WHERE sequence > %s",
            [before],
        )
        rows = [row[0] for row in env.cr.fetchall()]
    text = "\n".join(rows)
    for needle in NEEDLES:
        assert needle not in text, needle
    # CR and LF from the client are stored as visible escapes, never raw.
    for row in rows:
        for value in json.loads(row).values():
            assert not (isinstance(value, str) and ("\r" in value or "\n" in value))


def test_no_log_line_holds_a_planted_secret(planted, odoo_http):
    log = odoo_http.log_text()
    for needle in NEEDLES:
        assert needle not in log, needle


@pytest.fixture
def span_exporter(monkeypatch):
    """Spans of this test only, without touching the global tracer provider."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(
        tracing, "tracer", lambda: provider.get_tracer(tracing.TRACER_NAME)
    )
    return exporter


def test_no_span_holds_a_planted_secret(odoo_env, span_exporter):
    admin = odoo_env.ref("base.user_admin")

    class Client:
        version = "2025-11-25"

        @staticmethod
        def message(method, params):
            return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}

    for body in _calls(Client):
        accepted = transport.accept(
            json.dumps(body).encode(), {"mcp-protocol-version": "2025-11-25"}
        )
        try:
            odoo_env["mcp.server"]._mcp_handle(
                accepted, AuthResult(uid=admin.id, kind="api_key")
            )
        except Exception:  # noqa: BLE001 - protocol errors are part of the test
            odoo_env.cr.rollback()
    spans = span_exporter.get_finished_spans()
    assert spans
    for span in spans:
        flat = json.dumps(
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "events": [
                    {"name": e.name, "attributes": dict(e.attributes or {})}
                    for e in span.events
                ],
                "status": span.status.description,
            },
            default=str,
        )
        for needle in NEEDLES:
            assert needle not in flat, (needle, span.name)
