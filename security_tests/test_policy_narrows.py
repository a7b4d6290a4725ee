"""A casbin policy narrows what Odoo allows and never widens it, over HTTP.

The final decision on every tool call is Odoo's access rights and record
rules AND the policy: an explicit casbin allow for a model Odoo hides from the
user changes nothing, while a casbin deny on a model Odoo allows stops it.
"""

import contextlib

import pytest

from tests.harness.fixtures import configure_odoo

configure_odoo()

from odoo.addons.mcp_server_odoo.chain import policy as policy_step  # noqa: E402

HIDDEN = "ir.config_parameter"  # internal users may not read it
VISIBLE = "res.country"


@contextlib.contextmanager
def policy_in_force(server_env, text):
    with server_env() as env:
        policy = env["mcp.policy"].create({"name": "attack", "policy_text": text})
        policy.action_activate()
        env["ir.config_parameter"].set_param(policy_step.ENABLED_PARAM, "True")
        policy_id = policy.id
    try:
        yield
    finally:
        with server_env() as env:
            env["ir.config_parameter"].set_param(policy_step.ENABLED_PARAM, "False")
            env["mcp.policy"].browse(policy_id).unlink()


@pytest.fixture
def internal_user(new_api_user, client_for):
    _uid, token = new_api_user(groups=("base.group_user",))
    return client_for(token)


def _search(client, model):
    return client.call_tool("search_records", {"model": model, "limit": 1})


def test_a_casbin_allow_on_a_model_odoo_hides_changes_nothing(
    internal_user, server_env
):
    before = _search(internal_user, HIDDEN)
    assert before["isError"] is True
    text = "\n".join(
        [
            "p, *, *, *, *, *, allow, *",
            f"p, *, *, {HIDDEN}, *, *, allow, *",
            f"p, *, *, {HIDDEN}, search_records, read, allow, *",
        ]
    )
    with policy_in_force(server_env, text):
        during = _search(internal_user, HIDDEN)
    assert during["isError"] is True
    assert during["content"][0]["text"] == before["content"][0]["text"]
    assert "structuredContent" not in during or not during["structuredContent"]


def test_a_casbin_deny_stops_what_odoo_allows(internal_user, server_env):
    assert _search(internal_user, VISIBLE)["isError"] is False
    rule = f"p, *, *, {VISIBLE}, *, *, deny, *"
    with policy_in_force(server_env, "p, *, *, *, *, *, allow, *\n" + rule):
        denied = _search(internal_user, VISIBLE)
    assert denied["isError"] is True
    assert denied["content"][0]["text"] == f"Denied by policy rule {rule}"
    assert _search(internal_user, VISIBLE)["isError"] is False


def test_a_broken_policy_can_not_be_saved_over_the_one_in_force(
    internal_user, server_env
):
    rule = f"p, *, *, {VISIBLE}, *, *, deny, *"
    with policy_in_force(server_env, "p, *, *, *, *, *, allow, *\n" + rule):
        with pytest.raises(Exception, match="does not load"):
            with server_env() as env:
                env["mcp.policy"].search([("is_active", "=", True)]).write(
                    {"policy_text": "p, *, *, *, *, *, allow"}
                )
        # The rule in force still holds.
        assert _search(internal_user, VISIBLE)["isError"] is True


def test_a_model_denied_by_policy_cannot_be_read_through_batch_search(
    internal_user, server_env
):
    # Regression: batch_search names its models inside "searches", and the
    # policy step used to decide on no model at all for it.
    searches = {"searches": [{"model": "res.partner"}, {"model": VISIBLE}]}
    assert internal_user.call_tool("batch_search", searches)["isError"] is False
    rule = f"p, *, *, {VISIBLE}, *, *, deny, *"
    with policy_in_force(server_env, "p, *, *, *, *, *, allow, *\n" + rule):
        denied = internal_user.call_tool("batch_search", searches)
        alone = internal_user.call_tool(
            "batch_search", {"searches": [{"model": "res.partner", "limit": 1}]}
        )
    assert denied["isError"] is True
    assert denied["content"][0]["text"] == f"Denied by policy rule {rule}"
    assert alone["isError"] is False
