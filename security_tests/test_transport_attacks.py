"""Hostile input at the transport: every failure is a clear JSON-RPC error with
the status the specification names, nothing is executed, nothing leaks."""

import json

import pytest
import requests


def test_cross_site_origin_is_refused_with_403(mcp_client):
    response = mcp_client.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        extra={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "Origin" in response.json()["error"]["message"]


def test_dns_rebinding_origin_with_our_port_but_another_host_is_refused(
    mcp_client, odoo_http
):
    response = mcp_client.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        extra={"Origin": f"http://attacker.test:{odoo_http.port}"},
    )
    assert response.status_code == 403


def test_origin_in_the_allow_list_is_accepted(mcp_client, server_env):
    with server_env() as env:
        env["ir.config_parameter"].set_param(
            "mcp_server_odoo.allowed_origins", "https://app.example.com"
        )
    try:
        response = mcp_client.post(
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            extra={"Origin": "https://app.example.com:443"},
        )
        assert response.status_code == 200, response.text
    finally:
        with server_env() as env:
            env["ir.config_parameter"].set_param("mcp_server_odoo.allowed_origins", "")


@pytest.mark.parametrize("origin", ["null", "file://", "javascript:alert(1)", "*"])
def test_malformed_origins_are_refused(mcp_client, origin):
    response = mcp_client.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}, extra={"Origin": origin}
    )
    assert response.status_code == 403


def test_oversized_body_is_refused_with_413_before_parsing(mcp_client):
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "ping",
            "params": {"pad": "x" * 1_100_000},
        }
    )
    response = mcp_client.post(body)
    assert response.status_code == 413
    assert "exceeds" in response.json()["error"]["message"]


def test_oversized_chunked_body_without_length_is_refused_with_413(mcp_client):
    def chunks():
        yield b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "'
        for _ in range(120):
            yield b"x" * 10_000
        yield b'"}}'

    response = requests.post(
        mcp_client.url, data=chunks(), headers=mcp_client.headers(), timeout=30
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", ""]
)
def test_wrong_content_type_is_refused_with_415(mcp_client, content_type):
    headers = mcp_client.headers(extra={"Content-Type": content_type})
    response = mcp_client.post(
        '{"jsonrpc": "2.0", "id": 1, "method": "ping"}', headers=headers
    )
    assert response.status_code == 415


def test_client_that_accepts_neither_json_nor_anything_gets_406(mcp_client):
    headers = mcp_client.headers(extra={"Accept": "text/html"})
    response = mcp_client.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
    )
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b"", -32700),
        (b"\xff\xfe\x00", -32700),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "x": NaN}', -32700),
        (b"[" * 100_000 + b"]" * 100_000, -32700),
        (b'"just a string"', -32600),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600),
        (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "result": {}}', -32600),
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', -32600),
    ],
)
def test_malformed_messages_get_the_jsonrpc_error_that_names_them(
    mcp_client, body, code
):
    response = mcp_client.post(body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["jsonrpc"] == "2.0"
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"name": 5, "arguments": {}},
        {"name": "list_models", "arguments": [1, 2]},
        {"name": "list_models", "arguments": "{}"},
    ],
)
def test_malformed_tool_call_params_are_invalid_params(mcp_client, params):
    response = mcp_client.send("tools/call", params)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32602


def test_initialize_without_a_version_string_is_invalid_params(mcp_client):
    response = mcp_client.send("initialize", {"protocolVersion": 2025}, version=None)
    assert response.json()["error"]["code"] == -32602


def test_no_hostile_input_produced_a_traceback_or_a_500(mcp_client, odoo_http):
    # Runs after the attacks above in this module (pytest keeps file order).
    for body in (b"{", b"[]", b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}'):
        assert mcp_client.post(body).status_code < 500
    log = odoo_http.log_text()
    where = log.find("Traceback")
    assert where == -1, log[max(0, where - 600) : where + 2500]
    assert '" 500 -' not in log
