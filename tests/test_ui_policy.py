"""The policy form as an MCP Administrator (not a system administrator) uses it.

A save that does not load is refused with casbin's reason; the policy in
force stays the last good one, for the form and for the chain.
"""

import pytest
from lxml import etree

from odoo import api
from odoo.exceptions import ValidationError

from odoo.addons.mcp_server_odoo.chain import policy as policy_step

MCP_ADMIN = ("base.group_user", "mcp_server_odoo.group_mcp_admin")
GOOD = "p, *, *, *, *, *, allow, *\np, *, *, hr.*, *, *, deny, *"


@pytest.fixture
def form(make_user):
    """The policy model as an MCP-only administrator, and the form's fields."""
    admin = make_user(groups=MCP_ADMIN)
    policies = admin.env["mcp.policy"].with_user(admin)
    arch = policies.get_views([(False, "form")])["views"]["form"]["arch"]
    # The form's own fields, not those of the revisions' sub-views.
    names = {
        node.get("name")
        for node in etree.fromstring(arch).iter("field")
        if not any(parent.tag == "field" for parent in node.iterancestors())
    }
    policy_step.clear_engines()
    yield policies, dict.fromkeys(names, {})
    policy_step.clear_engines()


def _in_force(policies, good):
    saved = policies.web_save({"name": "No HR", "policy_text": good}, {})
    policy = policies.browse(saved[0]["id"])
    api.call_kw(policies, "action_activate", [policy.ids], {})
    return policy


def _decides(env):
    """What the engine in force says about hr.employee and res.partner reads."""
    revision = env["ir.config_parameter"].sudo().get_param(policy_step.REVISION_PARAM)
    engine = policy_step._engine(env, revision)
    who = policy_step.Subject(("user:someone",))
    return [
        engine._enforce(who, "1", model, "search_records", "read")[0]
        for model in ("hr.employee", "res.partner")
    ]


@pytest.mark.parametrize(
    "field, broken, reason",
    [
        ("policy_text", "p, *, *", "line 1: p rules have 7 fields, this one has 2"),
        ("policy_text", GOOD + "\nq, a, b", "line 3: unknown rule type 'q'"),
        ("model_text", "[request_definition]\nr = sub\n", "the model lacks"),
    ],
)
def test_a_broken_save_is_refused_and_the_last_good_policy_stays(
    form, field, broken, reason
):
    policies, spec = form
    policy = _in_force(policies, GOOD)
    revision = f"{policy.id}:1"
    params = policies.env["ir.config_parameter"].sudo()
    assert params.get_param(policy_step.REVISION_PARAM) == revision
    assert _decides(policies.env) == [False, True]

    with pytest.raises(ValidationError, match="does not load") as refused:
        with policies.env.cr.savepoint():
            policy.web_save({field: broken}, spec)
    assert reason in str(refused.value)

    policy.invalidate_recordset()
    shown = policy.web_read(spec)[0]
    assert (shown["policy_text"], shown["version"], shown["is_active"]) == (
        GOOD,
        1,
        True,
    )
    assert params.get_param(policy_step.REVISION_PARAM) == revision
    policy_step.clear_engines()
    assert _decides(policies.env) == [False, True]
