"""Every window action of the addon opens, as the web client opens it.

For each action, a user of the group it is meant for (and of no other MCP
group) loads its views with ``get_views``, then the list's rows with
``web_search_read`` and a record's form with ``web_read``, asking for exactly
the fields the views show (sub-lists included), under the action's context.
"""

import pytest
from lxml import etree

from odoo.tools.safe_eval import safe_eval

from odoo.addons.mcp_server_odoo.chain import audit as audit_step

from tests.harness.oauth import client_record, grant_record

MCP_ADMIN = ("base.group_user", "mcp_server_odoo.group_mcp_admin")
READER = ("mcp_server_odoo.group_mcp_audit_reader",)
SYSTEM = ("base.group_system",)

ACTIONS = {
    "mcp_server_odoo.mcp_oauth_client_action": MCP_ADMIN,
    "mcp_server_odoo.mcp_oauth_grant_action": MCP_ADMIN,
    "mcp_server_odoo.action_mcp_policy": MCP_ADMIN,
    "mcp_server_odoo.action_mcp_audit_event": READER,
    "mcp_server_odoo.action_mcp_audit_checkpoint": READER,
    "mcp_server_odoo.action_mcp_settings": SYSTEM,
}


@pytest.fixture(scope="module")
def an_event(orm_registry):
    """An audit event committed before any test's snapshot."""
    audit_step.append_committed(
        orm_registry.db_name, {"method": "ping", "outcome": "success"}
    )


def _sample_records(env):
    """One record of each model the actions show, created as the superuser."""
    client = client_record(env, "Sample")
    grant_record(env, client, env.ref("base.user_admin"), days=1)
    env["mcp.policy"].create(
        {"name": "Sample", "policy_text": "p, *, *, *, *, *, allow, *"}
    )
    env["mcp.audit.checkpoint"].sudo()._sign_head()


def _spec(model, node):
    """The ``web_read`` specification of the fields under ``node``."""
    spec = {}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag != "field":
            spec.update(_spec(model, child))
            continue
        field = model._fields[child.get("name")]
        if field.type == "many2one":
            spec[field.name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            comodel = model.env[field.comodel_name]
            sub = {}
            for view in child:
                if view.tag == "list":
                    sub.update(_spec(comodel, view))
            spec[field.name] = {"fields": sub} if sub else {}
        else:
            spec[field.name] = {}
    return spec


def test_the_table_names_every_window_action_of_the_addon(odoo_env):
    data = odoo_env["ir.model.data"].search(
        [("module", "=", "mcp_server_odoo"), ("model", "=", "ir.actions.act_window")]
    )
    assert {f"mcp_server_odoo.{entry.name}" for entry in data} == set(ACTIONS)


@pytest.mark.parametrize("xmlid", sorted(ACTIONS))
def test_each_window_action_opens_for_its_group(an_event, odoo_env, make_user, xmlid):
    _sample_records(odoo_env)
    user = make_user(groups=ACTIONS[xmlid])
    action = odoo_env.ref(xmlid)
    context = safe_eval(action.context or "{}")
    model = odoo_env[action.res_model].with_user(user).with_context(**context)
    views = [*action.views, (action.search_view_id.id, "search")]
    loaded = model.get_views(views, {"load_filters": True, "toolbar": True})["views"]
    assert set(loaded) == {mode for _id, mode in views}
    archs = {mode: etree.fromstring(view["arch"]) for mode, view in loaded.items()}
    domain = safe_eval(action.domain or "[]")

    if "list" in archs:
        spec = _spec(model, archs["list"])
        page = model.web_search_read(domain, spec, limit=80)
        assert page["length"] >= 1, xmlid
        assert set(page["records"][0]) >= set(spec)
    if "form" in archs and action.target != "inline":
        record = model.search(domain, limit=1)
        shown = record.web_read(_spec(model, archs["form"]))
        assert shown[0]["id"] == record.id
    if action.target == "inline":
        # A settings page: a new record filled by the defaults (get_values).
        spec = _spec(model, archs["form"])
        opened = model.onchange({}, [], spec)
        assert "mcp_max_limit" in opened["value"]
