"""Preferences > Account Security > Authorized applications (MCP).

Each user sees the applications they authorized, only theirs, and revokes one
with its button, as the web client's preferences dialog does it.
"""

import pytest
from lxml import etree

from odoo import api
from odoo.exceptions import AccessError

from tests.harness.oauth import client_record, grant_record

PREFERENCES_VIEW = "base.view_users_form_simple_modif"
FIELD = "mcp_oauth_grant_ids"


def _subfields(user):
    """The preferences form as ``user`` gets it; the columns of the grants list."""
    users = user.env["res.users"].with_user(user)
    view = user.env.ref(PREFERENCES_VIEW)
    arch = users.get_views([(view.id, "form")])["views"]["form"]["arch"]
    (field,) = etree.fromstring(arch).xpath(f"//field[@name='{FIELD}']")
    columns = [node.get("name") for node in field.iter("field") if node is not field]
    buttons = [node.get("name") for node in field.iter("button")]
    return columns, buttons


def _read_grants(user, of=None):
    columns, _buttons = _subfields(user)
    spec = {FIELD: {"fields": dict.fromkeys(columns, {})}}
    users = user.env["res.users"].with_user(user)
    return users.browse((of or user).id).web_read(spec)[0][FIELD]


@pytest.fixture
def grants(odoo_env, make_user):
    """A user with one live and one revoked authorization, and somebody else's."""
    user, other = make_user(), make_user()
    live = grant_record(odoo_env, client_record(odoo_env, "Assistant"), user)
    revoked = grant_record(odoo_env, client_record(odoo_env, "Old tool"), user)
    revoked._revoke("user")
    others = grant_record(odoo_env, client_record(odoo_env, "Not yours"), other)
    return user, other, live, others


def test_the_preferences_form_lists_grants_with_a_revoke_button(make_user):
    columns, buttons = _subfields(make_user())
    assert {"client_name", "redirect_host", "create_date", "last_used"} <= set(columns)
    assert buttons == ["action_revoke"]


def test_a_user_reads_only_their_own_live_authorizations(grants):
    user, _other, live, _others = grants
    shown = _read_grants(user)
    assert [row["id"] for row in shown] == live.ids
    assert shown[0]["client_name"] == "Assistant"
    assert shown[0]["state"] == "active"


def test_another_user_s_authorizations_are_not_readable(grants):
    user, other, _live, _others = grants
    assert _read_grants(user, of=other) == []


def test_the_revoke_button_revokes_and_the_row_goes(grants):
    user, _other, live, _others = grants
    grant_model = user.env["mcp.oauth.grant"].with_user(user)
    assert api.call_kw(grant_model, "action_revoke", [live.ids], {}) is True
    assert (live.state, live.revoke_reason) == ("revoked", "user")
    assert _read_grants(user) == []


def test_nobody_revokes_somebody_else_s_authorization(grants):
    user, _other, _live, others = grants
    grant_model = user.env["mcp.oauth.grant"].with_user(user)
    with pytest.raises(AccessError):
        api.call_kw(grant_model, "action_revoke", [others.ids], {})
    assert others.state == "active"
