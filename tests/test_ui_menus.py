"""The MCP Server app: which menus each role sees, and what it can open and click.

Three roles, each alone on an internal user: an MCP Administrator who is not a
system administrator, an Audit Reader and nothing else, a system
administrator who is neither. A plain internal user sees none of the app.
"""

import pytest

from odoo import api
from odoo.exceptions import AccessError

from odoo.addons.mcp_server_odoo.chain import policy as policy_step

from tests.harness.oauth import client_record, grant_record

MCP_ADMIN = ("base.group_user", "mcp_server_odoo.group_mcp_admin")
READER = ("mcp_server_odoo.group_mcp_audit_reader",)
SYSTEM = ("base.group_system",)
PLAIN = ("base.group_user",)
RESOURCE = "http://127.0.0.1/mcp"

ROOT = "mcp_server_odoo.menu_mcp_root"
ADMIN_MENUS = {
    ROOT,
    "mcp_server_odoo.menu_mcp_oauth",
    "mcp_server_odoo.menu_mcp_oauth_clients",
    "mcp_server_odoo.menu_mcp_oauth_grants",
    "mcp_server_odoo.menu_mcp_policy",
}
READER_MENUS = {
    ROOT,
    "mcp_server_odoo.menu_mcp_audit_root",
    "mcp_server_odoo.menu_mcp_audit_events",
    "mcp_server_odoo.menu_mcp_audit_checkpoints",
    "mcp_server_odoo.menu_mcp_audit_verify",
}
SYSTEM_MENUS = {ROOT, "mcp_server_odoo.menu_mcp_settings"}


def _web_menus(user):
    """The menus the web client gets for ``user`` (``/web/webclient/load_menus``)."""
    menus = user.env["ir.ui.menu"].with_user(user).load_web_menus(False)
    return {menu["xmlid"]: menu for menu in menus.values() if menu["xmlid"]}


def _ours(menus):
    return {xmlid for xmlid in menus if xmlid.startswith("mcp_server_odoo.")}


def _button(records, method):
    """Click an object button as the web client does (call_kw on the ids)."""
    return api.call_kw(records.browse(), method, [records.ids], {})


# -- who sees what --------------------------------------------------------------------


@pytest.mark.parametrize(
    "groups, expected",
    [
        (MCP_ADMIN, ADMIN_MENUS),
        (READER, READER_MENUS),
        (SYSTEM, SYSTEM_MENUS),
        (PLAIN, set()),
        (MCP_ADMIN + READER + SYSTEM, ADMIN_MENUS | READER_MENUS | SYSTEM_MENUS),
    ],
    ids=["mcp-admin", "audit-reader", "system-admin", "plain-user", "all-three"],
)
def test_each_role_sees_its_own_part_of_the_app(make_user, groups, expected):
    assert _ours(_web_menus(make_user(groups=groups))) == expected


def test_the_app_is_a_top_level_menu_not_a_settings_submenu(odoo_env):
    root = odoo_env.ref(ROOT)
    assert not root.parent_id
    assert root.name == "MCP Server"


@pytest.mark.parametrize(
    "groups, first_action",
    [
        (MCP_ADMIN, "mcp_server_odoo.mcp_oauth_client_action"),
        (READER, "mcp_server_odoo.action_mcp_audit_event"),
        (SYSTEM, "mcp_server_odoo.action_mcp_settings"),
    ],
    ids=["mcp-admin", "audit-reader", "system-admin"],
)
def test_the_app_icon_opens_a_page_the_role_may_use(
    make_user, odoo_env, groups, first_action
):
    app = _web_menus(make_user(groups=groups))[ROOT]
    assert app["actionID"] == odoo_env.ref(first_action).id


def test_menus_reach_the_web_client_over_http(odoo_http, browser_for):
    browser, _uid = browser_for(groups=MCP_ADMIN)
    response = browser.session.get(
        f"{odoo_http.url}/web/webclient/load_menus/test", timeout=30
    )
    assert response.status_code == 200
    xmlids = {menu["xmlid"] for menu in response.json().values()}
    assert _ours(xmlids) == ADMIN_MENUS


# -- an MCP Administrator who is not a system administrator ------------------------


def test_an_mcp_admin_lists_clients_and_every_user_s_grants(make_user, odoo_env):
    admin = make_user(groups=MCP_ADMIN)
    assert not admin.has_group("base.group_system")
    client = client_record(odoo_env)
    someone, other = make_user(), make_user()
    grants = grant_record(odoo_env, client, someone, resource=RESOURCE) | grant_record(
        odoo_env, client, other, resource=RESOURCE
    )
    clients = odoo_env["mcp.oauth.client"].with_user(admin)
    listed = clients.web_search_read(
        [("id", "=", client.id)], {"name": {}, "grant_count": {}, "has_secret": {}}
    )
    assert listed["records"] == [
        {"id": client.id, "name": "Assistant", "grant_count": 2, "has_secret": False}
    ]
    seen = odoo_env["mcp.oauth.grant"].with_user(admin).search([])
    assert grants <= seen


def test_an_mcp_admin_revokes_another_user_s_grant(make_user, odoo_env):
    admin = make_user(groups=MCP_ADMIN)
    grant = grant_record(
        odoo_env, client_record(odoo_env), make_user(), resource=RESOURCE
    )
    assert _button(grant.with_user(admin), "action_revoke") is True
    assert (grant.state, grant.revoke_reason) == ("revoked", "admin")


def test_an_mcp_admin_revokes_a_client_and_all_its_grants(make_user, odoo_env):
    admin = make_user(groups=MCP_ADMIN)
    client = client_record(odoo_env)
    grant = grant_record(odoo_env, client, make_user(), resource=RESOURCE)
    assert _button(client.with_user(admin), "action_revoke") is True
    assert not client.active
    assert grant.state == "revoked"


def test_an_mcp_admin_creates_puts_in_force_edits_and_deletes_a_policy(
    make_user, odoo_env
):
    admin = make_user(groups=MCP_ADMIN)
    policies = odoo_env["mcp.policy"].with_user(admin)
    saved = policies.web_save(
        {"name": "analysts", "policy_text": "p, *, *, *, *, *, allow, *"},
        {"version": {}, "is_active": {}},
    )
    policy = policies.browse(saved[0]["id"])
    _button(policy, "action_activate")
    params = odoo_env["ir.config_parameter"]
    assert params.get_param(policy_step.REVISION_PARAM) == f"{policy.id}:1"
    policy.web_save({"policy_text": "p, *, *, hr.*, *, *, deny, *"}, {})
    assert params.get_param(policy_step.REVISION_PARAM) == f"{policy.id}:2"
    assert sorted(policy.revision_ids.mapped("version")) == [1, 2]
    policy.unlink()
    assert not params.get_param(policy_step.REVISION_PARAM)


def test_an_mcp_admin_cannot_open_the_settings_page(make_user):
    admin = make_user(groups=MCP_ADMIN)
    with pytest.raises(AccessError):
        admin.env["res.config.settings"].with_user(admin).create({})


# -- everybody else -----------------------------------------------------------------


@pytest.mark.parametrize("groups", [PLAIN, READER], ids=["plain-user", "audit-reader"])
def test_only_mcp_admins_manage_clients_and_policies(make_user, odoo_env, groups):
    user = make_user(groups=groups)
    client = client_record(odoo_env)
    for model in ("mcp.oauth.client", "mcp.policy"):
        with pytest.raises(AccessError):
            odoo_env[model].with_user(user).search([])
    with pytest.raises(AccessError):
        _button(client.with_user(user), "action_revoke")


def test_a_plain_user_sees_only_their_own_grants_and_no_audit(make_user, odoo_env):
    user = make_user(groups=PLAIN)
    client = client_record(odoo_env)
    own = grant_record(odoo_env, client, user, resource=RESOURCE)
    others = grant_record(odoo_env, client, make_user(), resource=RESOURCE)
    assert odoo_env["mcp.oauth.grant"].with_user(user).search([]) == own
    with pytest.raises(AccessError):
        _button(others.with_user(user), "action_revoke")
    assert others.state == "active"
    for model in ("mcp.audit.event", "mcp.audit.checkpoint"):
        with pytest.raises(AccessError):
            odoo_env[model].with_user(user).search([])
    verify = odoo_env.ref("mcp_server_odoo.action_mcp_audit_verify")
    with pytest.raises(AccessError):
        verify.with_user(user).with_context(active_model="mcp.audit.event").run()
