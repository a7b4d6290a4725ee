"""Streamable HTTP transport of POST /mcp, over a real socket to a real Odoo."""

import json

import pytest

from tests.harness.client import LEGACY, MODERN


def test_initialize_negotiates_a_supported_legacy_version(mcp_client):
    result = mcp_client.initialize("2025-06-18")
    assert result["protocolVersion"] == "2025-06-18"
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "mcp_server_odoo"


def test_initialize_with_an_unknown_version_answers_the_latest_legacy_one(mcp_client):
    assert mcp_client.initialize("2099-01-01")["protocolVersion"] == LEGACY


def test_ping_answers_an_empty_result(mcp_client):
    mcp_client.initialize()
    assert mcp_client.rpc("ping") == {}


def test_notifications_are_accepted_with_202_and_no_body(mcp_client):
    response = mcp_client.post(
        mcp_client.message("notifications/initialized", notification=True)
    )
    assert response.status_code == 202
    assert response.content == b""


def test_missing_version_header_is_taken_as_2025_03_26_and_refused(mcp_client):
    response = mcp_client.send("tools/list", version=None)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"]["requested"] == "2025-03-26"
    assert LEGACY in error["data"]["supported"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_other_http_methods_answer_405(mcp_client, method):
    response = mcp_client.session.request(method, mcp_client.url, timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_server_discover_lists_every_supported_version(mcp_client):
    result = mcp_client.rpc("server/discover", version=MODERN)
    assert result["supportedVersions"] == [MODERN, "2025-11-25", "2025-06-18"]
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"]


def test_stateless_tools_list_carries_cache_hints_and_result_type(mcp_client):
    result = mcp_client.rpc("tools/list", version=MODERN)
    assert result["resultType"] == "complete"
    assert result["cacheScope"] == "public"
    assert isinstance(result["ttlMs"], int)
    assert {tool["name"] for tool in result["tools"]} >= {
        "search_records",
        "get_record",
    }


@pytest.mark.parametrize("method", ["ping", "initialize", "logging/setLevel"])
def test_stateless_methods_removed_in_2026_are_unknown_with_404(mcp_client, method):
    body = mcp_client.message(method, version=MODERN)
    response = mcp_client.post(
        body, version=MODERN, extra=mcp_client.routing_headers(body, MODERN)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == -32601


def test_stateless_request_without_meta_version_is_invalid_params(mcp_client):
    body = mcp_client.message("server/discover", version=MODERN)
    del body["params"]["_meta"]
    response = mcp_client.post(
        body, version=MODERN, extra={"Mcp-Method": "server/discover"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32602


def test_header_values_are_compared_without_surrounding_whitespace(mcp_client):
    body = mcp_client.message(
        "tools/call", {"name": "list_models", "arguments": {"limit": 1}}, version=MODERN
    )
    response = mcp_client.post(
        body,
        version=MODERN,
        extra={"Mcp-Method": "tools/call", "Mcp-Name": "list_models  "},
    )
    assert response.status_code == 200, response.text


def test_unknown_method_in_legacy_versions_is_a_jsonrpc_error(mcp_client):
    response = mcp_client.send("resources/list")
    assert response.status_code == 200
    payload = response.json()
    assert payload["error"] == {
        "code": -32601,
        "message": "Method not found: resources/list",
    }
    assert payload["id"] is not None


def test_an_unsupported_version_header_is_refused_with_the_supported_list(mcp_client):
    response = mcp_client.send("tools/list", version="2024-11-05")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"] == {
        "supported": [MODERN, "2025-11-25", "2025-06-18"],
        "requested": "2024-11-05",
    }


def test_modern_request_with_mismatched_method_header_is_refused(mcp_client):
    body = mcp_client.message("tools/list", version=MODERN)
    response = mcp_client.post(body, version=MODERN, extra={"Mcp-Method": "tools/call"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32020
    assert "Mcp-Method" in error["message"]


def test_modern_request_without_method_header_is_refused(mcp_client):
    body = mcp_client.message("tools/list", version=MODERN)
    response = mcp_client.post(body, version=MODERN)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020


def test_modern_tool_call_needs_a_matching_mcp_name_header(mcp_client):
    body = mcp_client.message(
        "tools/call", {"name": "list_models", "arguments": {}}, version=MODERN
    )
    wrong = mcp_client.post(
        body,
        version=MODERN,
        extra={"Mcp-Method": "tools/call", "Mcp-Name": "search_records"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == -32020
    missing = mcp_client.post(body, version=MODERN, extra={"Mcp-Method": "tools/call"})
    assert missing.status_code == 400
    assert "Mcp-Name" in missing.json()["error"]["message"]


def test_modern_mcp_name_header_may_be_base64_encoded(mcp_client):
    body = mcp_client.message(
        "tools/call", {"name": "list_models", "arguments": {"limit": 1}}, version=MODERN
    )
    response = mcp_client.post(
        body,
        version=MODERN,
        extra={"Mcp-Method": "tools/call", "Mcp-Name": "=?base64?bGlzdF9tb2RlbHM=?="},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["isError"] is False


def test_header_version_must_match_the_body_meta_version(mcp_client):
    body = mcp_client.message("tools/list", version=MODERN)
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2025-11-25"
    response = mcp_client.post(body, version=MODERN, extra={"Mcp-Method": "tools/list"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020


def test_modern_body_with_a_legacy_header_is_a_mismatch(mcp_client):
    body = mcp_client.message("tools/list", version=MODERN)
    response = mcp_client.post(body, version=LEGACY)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020


def test_modern_request_without_client_capabilities_is_invalid(mcp_client):
    body = mcp_client.message("tools/list", version=MODERN)
    del body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
    response = mcp_client.post(body, version=MODERN, extra={"Mcp-Method": "tools/list"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32602


def test_tools_list_pages_with_an_opaque_cursor(mcp_client, server_env):
    with server_env() as env:
        env["ir.config_parameter"].set_param("mcp_server_odoo.tools_page_size", "2")
    try:
        first = mcp_client.rpc("tools/list")
        assert len(first["tools"]) == 2
        assert first["nextCursor"]
        every = mcp_client.list_tools()
        names = [tool["name"] for tool in every]
        assert len(names) == len(set(names)) >= 5
        assert names[:2] == [tool["name"] for tool in first["tools"]]
        again = mcp_client.rpc("tools/list", {"cursor": first["nextCursor"]})
        assert again["tools"][0]["name"] == names[2]
    finally:
        with server_env() as env:
            env["ir.config_parameter"].set_param(
                "mcp_server_odoo.tools_page_size", "100"
            )


def test_a_forged_cursor_is_invalid_params(mcp_client):
    response = mcp_client.send("tools/list", {"cursor": "not-a-cursor"})
    assert response.json()["error"]["code"] == -32602


def test_tool_definitions_carry_schemas_and_honest_annotations(mcp_client):
    tools = {tool["name"]: tool for tool in mcp_client.list_tools()}
    for tool in tools.values():
        assert tool["inputSchema"]["type"] == "object"
        assert tool["inputSchema"]["$schema"].endswith("2020-12/schema")
        assert tool["outputSchema"]["type"] == "object"
        assert tool["annotations"]["openWorldHint"] is False
        assert tool["title"] and tool["description"]
    # (readOnlyHint, destructiveHint) as the tools really behave.
    expected = {
        "search_records": (True, False),
        "get_record": (True, False),
        "create_record": (False, False),
        "update_record": (False, True),
        "delete_record": (False, True),
        "batch_delete": (False, True),
    }
    for name, (read_only, destructive) in expected.items():
        annotations = tools[name]["annotations"]
        assert annotations["readOnlyHint"] is read_only, name
        assert annotations["destructiveHint"] is destructive, name


def test_tool_results_carry_structured_content_and_the_same_json_as_text(mcp_client):
    result = mcp_client.call_tool("list_models", {"limit": 3})
    assert result["isError"] is False
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]


def test_arguments_that_fail_the_schema_are_a_tool_error_naming_the_argument(
    mcp_client,
):
    result = mcp_client.call_tool("search_records", {"model": 42})
    assert result["isError"] is True
    assert "'model'" in result["content"][0]["text"]
    result = mcp_client.call_tool("search_records", {"model": "res.partner", "nope": 1})
    assert result["isError"] is True
    assert "nope" in result["content"][0]["text"]


def test_unknown_tool_is_invalid_params(mcp_client):
    response = mcp_client.send("tools/call", {"name": "drop_database", "arguments": {}})
    assert response.json()["error"] == {
        "code": -32602,
        "message": "Invalid params: Unknown tool: drop_database",
    }


def test_request_ids_are_echoed_whether_string_or_integer(mcp_client):
    for request_id in ("abc-1", 7):
        body = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
        assert mcp_client.post(body).json()["id"] == request_id
