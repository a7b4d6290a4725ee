"""The audit list's two exports over real HTTP, with an Audit Reader's session.

The reader is only an Audit Reader. The list's "Export JSONL" button is
clicked as the web client clicks it (``/web/dataset/call_button``) and its URL
followed with the same session; Odoo's own CSV export is posted as the
export dialog posts it.
"""

import csv
import io
import json
import re

from tests.harness.client import McpHttpClient

READER = ("mcp_server_odoo.group_mcp_audit_reader",)


def _rpc(browser, path, params):
    response = browser.session.post(
        f"{browser.base_url}{path}",
        json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert "error" not in body, body["error"]
    return body["result"]


def _newest_events(browser, count):
    """The ids and sequences of the first rows of the list, as the reader sees them."""
    page = _rpc(
        browser,
        "/web/dataset/call_kw/mcp.audit.event/web_search_read",
        {
            "model": "mcp.audit.event",
            "method": "web_search_read",
            "args": [],
            "kwargs": {"domain": [], "specification": {"sequence": {}}, "limit": count},
        },
    )
    return page["records"]


def _calls(odoo_http, admin_token, count=3):
    client = McpHttpClient(odoo_http.url, admin_token)
    for _ in range(count):
        assert client.post(client.message("ping")).status_code == 200


def test_the_export_jsonl_button_downloads_the_selected_span(
    odoo_http, admin_token, browser_for
):
    _calls(odoo_http, admin_token)
    browser, _uid = browser_for(groups=READER)
    rows = _newest_events(browser, 3)
    action = _rpc(
        browser,
        "/web/dataset/call_button/mcp.audit.event/action_export_jsonl",
        {
            "model": "mcp.audit.event",
            "method": "action_export_jsonl",
            "args": [[row["id"] for row in rows]],
            "kwargs": {},
        },
    )
    assert action["type"] == "ir.actions.act_url"
    response = browser.session.get(f"{odoo_http.url}{action['url']}", timeout=30)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    sequences = sorted(row["sequence"] for row in rows)
    assert [line["sequence"] for line in lines] == list(
        range(sequences[0], sequences[-1] + 1)
    )
    assert all(len(line["hash"]) == 64 and line["canonical"] for line in lines)


def _csrf_token(browser):
    page = browser.session.get(f"{browser.base_url}/odoo", timeout=60)
    assert page.status_code == 200
    return re.search(r'csrf_token: "([^"]+)"', page.text).group(1)


def test_odoo_s_csv_export_of_the_list_works_for_the_reader(
    odoo_http, admin_token, browser_for
):
    _calls(odoo_http, admin_token)
    browser, _uid = browser_for(groups=READER)
    rows = _newest_events(browser, 3)
    data = {
        "model": "mcp.audit.event",
        "fields": [
            {"name": "sequence", "label": "Sequence"},
            {"name": "outcome", "label": "Outcome"},
            {"name": "hash", "label": "Hash"},
        ],
        "ids": [row["id"] for row in rows],
        "domain": [],
        "import_compat": False,
    }
    response = browser.session.post(
        f"{odoo_http.url}/web/export/csv",
        data={"data": json.dumps(data), "csrf_token": _csrf_token(browser)},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["Sequence", "Outcome", "Hash"]
    assert sorted(int(line[0]) for line in table[1:]) == sorted(
        row["sequence"] for row in rows
    )
    assert {line[1] for line in table[1:]} == {"Success"}
