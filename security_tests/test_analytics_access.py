"""Attacks on the analytics and export tools.

Forbidden fields: Odoo's read_group once leaked fields reserved to other groups
through its ``orderby`` and ``groupby`` arguments. Here a field the user may
not read is refused by name wherever a client can put it: group-by, measure,
order, domain, date field, entity, stage, export columns; and a default export
leaves it out. Export links: bound to the user and credential (API key or
OAuth grant) that made them, refused after expiry, and limited per address as
/mcp is.
"""

from urllib.parse import urlsplit

import pytest
import requests

from tests.harness.fixtures import api_key_for, configure_odoo

configure_odoo()

from odoo.addons.mcp_server_odoo.tools import ToolError, analytics  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.export import export_dataset  # noqa: E402

SECRET = "s3cret-analytics"
MODEL = "ir.mail_server"


def call(tool, env, **arguments):
    return tool.handler(env, arguments)


@pytest.fixture
def reader(odoo_env, make_user):
    """A user who may read mail servers but not smtp_user/smtp_pass
    (base.group_system only)."""
    group = odoo_env["res.groups"].create({"name": "Analytics: mail readers"})
    odoo_env["ir.model.access"].create(
        {
            "name": "analytics mail readers",
            "model_id": odoo_env.ref("base.model_ir_mail_server").id,
            "group_id": group.id,
            "perm_read": True,
        }
    )
    odoo_env["ir.mail_server"].create(
        [
            {
                "name": f"Relay {i}",
                "smtp_host": "relay.example.com",
                "smtp_user": f"user{i % 2}",
                "smtp_pass": SECRET,
                "smtp_port": 25 + i,
            }
            for i in range(4)
        ]
    )
    user = make_user("analytics_attacker", groups=["base.group_user"])
    user.groups_id = [(4, group.id)]
    return odoo_env(user=user.id)


FORBIDDEN_CALLS = [
    (analytics.aggregate_records, {"groupby": ["smtp_pass"]}),
    (analytics.aggregate_records, {"groupby": ["smtp_user"], "measures": ["count"]}),
    (analytics.aggregate_records, {"measures": ["smtp_pass:count_distinct"]}),
    (analytics.aggregate_records, {"measures": ["smtp_user:max"]}),
    (analytics.aggregate_records, {"groupby": ["smtp_port"], "order": "smtp_pass"}),
    (
        analytics.aggregate_records,
        {"groupby": ["smtp_port"], "order": "smtp_pass:max desc"},
    ),
    (analytics.aggregate_records, {"domain": [["smtp_pass", "like", "s3"]]}),
    (
        analytics.aggregate_records,
        {"domain": [["smtp_port", ">", 0], ["smtp_user", "=", "user1"]]},
    ),
    (analytics.pivot, {"rows": ["smtp_port"], "columns": ["smtp_user"]}),
    (analytics.pivot, {"rows": ["smtp_pass"]}),
    (analytics.topn, {"groupby": "smtp_user"}),
    (analytics.topn, {"groupby": "smtp_port", "measure": "smtp_pass:count"}),
    (analytics.funnel, {"stage_field": "smtp_user"}),
    (
        analytics.funnel,
        {"steps": [{"name": "x", "domain": [["smtp_pass", "!=", False]]}]},
    ),
    (
        analytics.timeseries,
        {"date_field": "create_date", "domain": [["smtp_pass", "=", SECRET]]},
    ),
    (analytics.cohort, {"entity_field": "smtp_user", "date_field": "create_date"}),
    (export_dataset, {"fields": ["name", "smtp_pass"]}),
    (export_dataset, {"domain": [["smtp_pass", "ilike", "s"]]}),
]


@pytest.mark.parametrize(("tool", "arguments"), FORBIDDEN_CALLS)
def test_a_field_reserved_to_other_groups_is_refused_everywhere(
    reader, tool, arguments
):
    with pytest.raises(ToolError) as caught:
        call(tool, reader, model=MODEL, **arguments)
    message = str(caught.value)
    assert "smtp_pass" in message or "smtp_user" in message
    assert SECRET not in message and "user1" not in message


def test_what_the_user_may_read_still_works(reader):
    result = call(
        analytics.aggregate_records,
        reader,
        model=MODEL,
        groupby=["smtp_port"],
        order="smtp_port desc",
        limit=2,
    )
    assert [g["key"]["smtp_port"]["value"] for g in result["groups"]] == [28, 27]


def test_a_default_export_leaves_forbidden_fields_out(reader):
    result = call(export_dataset, reader, model=MODEL)
    assert "smtp_pass" not in result["fields"]
    assert "smtp_user" not in result["fields"]
    assert SECRET not in result["data"]


def test_a_user_without_access_to_the_model_gets_nothing(odoo_env, make_user):
    env = odoo_env(user=make_user("analytics_no_model", groups=["base.group_user"]).id)
    with pytest.raises(ToolError, match="not allowed to read"):
        call(analytics.aggregate_records, env, model=MODEL)
    with pytest.raises(ToolError, match="not allowed to read"):
        call(export_dataset, env, model=MODEL)


# -- export links over HTTP


@pytest.fixture(scope="module")
def big_export_setup(server_env):
    """Exports of more than 3 rows become files, for the tests of this module."""
    with server_env() as env:
        params = env["ir.config_parameter"]
        before = params.get_param("mcp_server_odoo.export_inline_rows")
        params.set_param("mcp_server_odoo.export_inline_rows", "3")
        env["res.partner"].create(
            [{"name": f"Link {i}", "ref": "sec-export-link"} for i in range(8)]
        )
    yield
    with server_env() as env:
        env["ir.config_parameter"].set_param(
            "mcp_server_odoo.export_inline_rows", before or "100"
        )


def _export(client):
    result = client.call_tool(
        "export_dataset",
        {
            "model": "res.partner",
            "domain": [["ref", "=", "sec-export-link"]],
            "fields": ["name"],
        },
    )
    assert result["isError"] is False, result["content"]
    link = result["content"][1]
    assert link["type"] == "resource_link"
    return urlsplit(link["uri"]).path


def _get(odoo_http, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{odoo_http.url}{path}", headers=headers, timeout=30)


def test_the_link_works_for_its_owner_and_credential_only(
    big_export_setup, odoo_http, server_env, new_api_user, client_for
):
    uid, key = new_api_user(groups=["base.group_user"])
    with server_env() as env:
        other_key_same_user = api_key_for(env, env["res.users"].browse(uid))
    _other_uid, other_key = new_api_user(groups=["base.group_user"])
    path = _export(client_for(key))

    ok = _get(odoo_http, path, key)
    assert ok.status_code == 200, ok.text
    assert ok.headers["Content-Type"].startswith("text/csv")
    assert ok.text.splitlines()[0] == "id,name"
    assert len(ok.text.splitlines()) == 9

    for token in (other_key, other_key_same_user):
        refused = _get(odoo_http, path, token)
        assert refused.status_code == 404
        assert "Link" not in refused.text
    assert _get(odoo_http, path, None).status_code == 401
    assert _get(odoo_http, path, "not-a-key").status_code == 401
    # A made-up handle looks exactly like another user's.
    fake = _get(odoo_http, path.rsplit("/", 1)[0] + "/" + "A" * 43, key)
    assert (fake.status_code, fake.text) == (404, refused.text)


def test_an_expired_link_is_refused(
    big_export_setup, odoo_http, server_env, new_api_user, client_for
):
    uid, key = new_api_user(groups=["base.group_user"])
    path = _export(client_for(key))
    with server_env() as env:
        env.cr.execute(
            "UPDATE mcp_export SET expires_at = now() at time zone 'utc' "
            "- interval '1 second' WHERE user_id = %s",
            [uid],
        )
    response = _get(odoo_http, path, key)
    assert response.status_code == 410
    assert "Link" not in response.text


def test_the_link_follows_its_oauth_grant(
    big_export_setup, odoo_http, oauth_app, browser_for, oauth_token_for, client_for
):
    app = oauth_app()
    browser, _uid = browser_for()
    tokens = app.tokens_for(browser)
    path = _export(client_for(tokens["access_token"]))
    assert _get(odoo_http, path, tokens["access_token"]).status_code == 200

    # A refresh keeps the grant, and the link with it.
    refreshed = app.refresh(tokens["refresh_token"]).json()
    ok = _get(odoo_http, path, refreshed["access_token"])
    assert ok.status_code == 200
    assert len(ok.text.splitlines()) == 9

    # Another user's token, and another authorization of the same user, see
    # nothing (the same 404 as an unknown handle).
    stranger, _app, _other = oauth_token_for()
    assert _get(odoo_http, path, stranger["access_token"]).status_code == 404
    second = oauth_app().tokens_for(browser)
    assert _get(odoo_http, path, second["access_token"]).status_code == 404

    # Revoking the grant (RFC 7009, its refresh token) ends the link too.
    assert app.revoke(refreshed["refresh_token"]).status_code == 200
    gone = _get(odoo_http, path, refreshed["access_token"])
    assert gone.status_code == 401
    assert 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
    assert "Link" not in gone.text


def _limited(statuses, allowed, refused_status=429):
    """Some answers within the limit (earlier hits of this window may have used
    part of it), then only refusals."""
    assert statuses[-1] == refused_status, statuses
    assert statuses == sorted(statuses, key=lambda status: status == 429), statuses
    assert len(statuses) - statuses.count(429) <= allowed, statuses


def test_failed_downloads_are_limited_per_address(
    big_export_setup, odoo_http, oauth_setting
):
    oauth_setting("rate_limit_window", "3600")  # one window for the burst
    oauth_setting("rate_limit_ip_failures", "2")
    path = "/mcp/exports/" + "A" * 43
    answers = [_get(odoo_http, path, "mcpat_" + "B" * 43) for _ in range(4)]
    _limited([answer.status_code for answer in answers], allowed=2)
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.json()["error"].startswith("too many requests")
    assert "MCP export download DENY rate limit from 127.0.0.1" in (
        odoo_http.log_text()
    )


def test_all_downloads_are_limited_per_address(
    big_export_setup, odoo_http, new_api_user, client_for, oauth_setting
):
    _uid, key = new_api_user(groups=["base.group_user"])
    path = _export(client_for(key))
    oauth_setting("rate_limit_window", "3600")
    oauth_setting("rate_limit_ip_calls", "2")
    answers = [_get(odoo_http, path, key) for _ in range(4)]
    _limited([answer.status_code for answer in answers], allowed=2)
    assert "Retry-After" in answers[-1].headers
