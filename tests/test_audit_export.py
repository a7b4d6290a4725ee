"""The JSON Lines export of the audit log, over HTTP, as an Audit Reader."""

import hashlib
import json

from tests.harness.client import McpHttpClient

READER = ("base.group_user", "mcp_server_odoo.group_mcp_audit_reader")
EXPORT = "/mcp/audit/export.jsonl"


def _range(server_env, admin_token, odoo_http):
    client = McpHttpClient(odoo_http.url, admin_token)
    for _ in range(4):
        assert client.post(client.message("ping")).status_code == 200
    with server_env() as env:
        env.cr.execute("SELECT max(sequence) FROM mcp_audit_event")
        last = env.cr.fetchone()[0]
    return last - 3, last


def test_an_audit_reader_downloads_a_range_that_verifies_on_its_own(
    server_env, admin_token, odoo_http, browser_for
):
    first, last = _range(server_env, admin_token, odoo_http)
    browser, _uid = browser_for(groups=READER)
    response = browser.session.get(
        f"{odoo_http.url}{EXPORT}", params={"from": first, "to": last}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    assert int(response.headers["Content-Length"]) == len(response.content)
    events = [json.loads(line) for line in response.text.splitlines()]
    assert [e["sequence"] for e in events] == list(range(first, last + 1))
    previous = events[0]["prev_hash"]
    for event in events:
        # What a third party checks without this server.
        assert event["prev_hash"] == previous
        text = (event["prev_hash"] + event["canonical"]).encode()
        assert hashlib.sha256(text).hexdigest() == event["hash"]
        previous = event["hash"]
    assert all(event["method"] == "ping" for event in events)


def test_users_outside_the_audit_reader_group_get_nothing(
    server_env, admin_token, odoo_http, browser_for
):
    first, last = _range(server_env, admin_token, odoo_http)
    browser, _uid = browser_for(groups=("base.group_user",))
    response = browser.session.get(
        f"{odoo_http.url}{EXPORT}", params={"from": first, "to": last}, timeout=30
    )
    assert response.status_code == 404
    assert "canonical" not in response.text


def test_a_range_that_is_not_one_is_refused_with_a_reason(odoo_http, browser_for):
    browser, _uid = browser_for(groups=READER)
    for params in ({"from": 5, "to": 2}, {"from": "x", "to": 3}, {}):
        response = browser.session.get(
            f"{odoo_http.url}{EXPORT}", params=params, timeout=30
        )
        assert response.status_code == 400
        assert "sequence numbers" in response.text


def test_a_range_beyond_one_export_is_refused_not_cut(odoo_http, browser_for):
    browser, _uid = browser_for(groups=READER)
    response = browser.session.get(
        f"{odoo_http.url}{EXPORT}", params={"from": 1, "to": 2_000_000}, timeout=30
    )
    assert response.status_code == 400
    assert "split the range" in response.text
