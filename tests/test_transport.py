"""Streamable HTTP transport of POST /mcp, over a real socket to a real Odoo."""

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
