"""Attacks through the write tools, over real HTTP against a real Odoo server.

Each attempt must answer with a tool error that says why, leave the data as it
was (read back through a cursor of its own), and leave one audit event, found
by the trace id of that very call, that records the refusal and claims no
change.
"""

import re
import secrets
import threading
import uuid

import pytest

from tests.harness.fixtures import committed_audit_event

WRITER = ["base.group_user", "base.group_partner_manager"]
OPEN_MODELS = "mcp_server_odoo.write_open_models"


@pytest.fixture(scope="module")
def attacker(new_api_user):
    """An internal user allowed to create contacts: (uid, API key)."""
    return new_api_user(groups=WRITER)


@pytest.fixture(scope="module")
def victim(new_api_user):
    """Another internal user, whose account the attacks aim at: (uid, API key)."""
    return new_api_user(groups=["base.group_user"])


@pytest.fixture(scope="module")
def admin(server_env):
    with server_env() as env:
        return env.ref("base.user_admin").id


# -- calls and their audit events ----------------------------------------------------


def traced(client, name, arguments):
    """Call a tool under a trace id of its own: (CallToolResult, trace id).

    The W3C trace context in ``_meta`` makes the server's span, and so the
    audit event, carry that trace id.
    """
    trace_id = secrets.token_hex(16)
    meta = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    result = client.rpc(
        "tools/call", {"name": name, "arguments": arguments, "_meta": meta}
    )
    return result, trace_id


def denied(client, name, arguments, match):
    """Call, expect a tool error matching ``match``; the call's trace id."""
    result, trace_id = traced(client, name, arguments)
    assert result["isError"] is True, result
    text = result["content"][0]["text"]
    assert re.search(match, text), text
    return trace_id


def assert_audited_unchanged(
    server_env, trace_id, *, uid, tool, model, outcome, rule=None
):
    """The call of ``trace_id`` left its event: who, what, the outcome, no change.

    ``rule`` is what refused it, for refusals audited as denials.
    """
    event = committed_audit_event(server_env.registry, trace_id)
    assert (event["user_ref"], event["tool"], event["target_model"]) == (
        uid,
        tool,
        model,
    )
    assert event["outcome"] == outcome, event
    assert event["changed"] is False
    if rule is not None:
        assert (event["decision"], event["rule"]) == ("deny", rule), event
    return event


def refused_and_audited(
    client,
    server_env,
    tool,
    arguments,
    match,
    *,
    uid,
    model,
    outcome="denied_odoo",
    rule=None,
):
    """A call refused with a message matching ``match``, and its event; the event."""
    trace_id = denied(client, tool, arguments, match)
    return assert_audited_unchanged(
        server_env,
        trace_id,
        uid=uid,
        tool=tool,
        model=model,
        outcome=outcome,
        rule=rule,
    )


@pytest.fixture
def open_models(server_env):
    """``open_models("a,b")`` sets the MCP setting for one test, then clears it."""

    def set_open(value):
        with server_env() as env:
            env["ir.config_parameter"].set_param(OPEN_MODELS, value)

    yield set_open
    set_open(False)


# -- privilege escalation --------------------------------------------------------------


def test_a_user_cannot_write_their_own_groups(client_for, attacker, server_env):
    uid, key = attacker
    client = client_for(key)
    with server_env() as env:
        system = env.ref("base.group_system").id
        groups_before = env["res.users"].browse(uid).groups_id.ids
        env.cr.execute("SELECT password FROM res_users WHERE id = %s", [uid])
        password_before = env.cr.fetchone()[0]

    closed_field = ("denied_odoo", "mcp:closed_field")
    attempts = [
        ("res.users", uid, {"groups_id": [[4, system]]}, "field 'groups_id'"),
        ("res.users", uid, {"password": "owned-now-123"}, "field 'password'"),
        ("res.users", uid, {"company_ids": [[6, 0, []]]}, "field 'company_ids'"),
        ("res.groups", system, {"users": [[4, uid]]}, "Model 'res.groups' is closed"),
        # Odoo 18 has no in_group_* fields in the registry: an unknown field.
        (
            "res.users",
            uid,
            {f"in_group_{system}": True},
            f"no field 'in_group_{system}",
        ),
    ]
    for model, record_id, values, match in attempts:
        trace_id = denied(
            client,
            "update_record",
            {"model": model, "id": record_id, "values": values},
            match,
        )
        outcome, rule = closed_field
        if model == "res.groups":
            rule = "mcp:closed_model"
        elif match.startswith("no field"):
            outcome, rule = "tool_error", None
        assert_audited_unchanged(
            server_env,
            trace_id,
            uid=uid,
            tool="update_record",
            model=model,
            outcome=outcome,
            rule=rule,
        )

    with server_env() as env:
        assert env["res.users"].browse(uid).groups_id.ids == groups_before
        env.cr.execute("SELECT password FROM res_users WHERE id = %s", [uid])
        assert env.cr.fetchone()[0] == password_before


def test_an_admin_token_cannot_create_a_server_action_with_code(
    mcp_client, server_env, admin
):
    with server_env() as env:
        model_id = env.ref("base.model_res_partner").id
        before = env["ir.actions.server"].search_count([])
        crons_before = env["ir.cron"].with_context(active_test=False).search_count([])
    code = "env['ir.config_parameter'].set_param('owned', '1')"

    for model, values in (
        (
            "ir.actions.server",
            {"name": "Injected", "model_id": model_id, "state": "code", "code": code},
        ),
        ("ir.cron", {"name": "Injected cron", "model_id": model_id, "code": code}),
    ):
        refused_and_audited(
            mcp_client,
            server_env,
            "create_record",
            {"model": model, "values": values},
            f"Model '{model}' is closed to writes",
            uid=admin,
            model=model,
            rule="mcp:closed_model",
        )

    with server_env() as env:
        assert env["ir.actions.server"].search_count([]) == before
        crons = env["ir.cron"].with_context(active_test=False)
        assert crons.search_count([]) == crons_before
        assert not env["ir.config_parameter"].get_param("owned")


def test_an_admin_token_cannot_set_a_system_parameter(mcp_client, server_env, admin):
    with server_env() as env:
        param = env["ir.config_parameter"].search([("key", "=", "web.base.url")])
        url = param.value

    calls = [
        (
            "update_record",
            {
                "model": "ir.config_parameter",
                "id": param.id,
                "values": {"value": "https://attacker.example"},
            },
        ),
        (
            "batch_create",
            {
                "model": "ir.config_parameter",
                "records": [{"key": OPEN_MODELS, "value": "ir.cron"}],
            },
        ),
    ]
    for name, arguments in calls:
        refused_and_audited(
            mcp_client,
            server_env,
            name,
            arguments,
            "closed to writes",
            uid=admin,
            model="ir.config_parameter",
            rule="mcp:closed_model",
        )

    with server_env() as env:
        params = env["ir.config_parameter"]
        assert params.get_param("web.base.url") == url
        assert not params.get_param(OPEN_MODELS)


def test_a_linked_user_cannot_be_created_through_a_partner(
    client_for, attacker, server_env
):
    uid, key = attacker
    with server_env() as env:
        users_before = env["res.users"].with_context(active_test=False).search_count([])
    refused_and_audited(
        client_for(key),
        server_env,
        "create_record",
        {
            "model": "res.partner",
            "values": {
                "name": "Trojan",
                "user_ids": [[0, 0, {"login": "trojan", "name": "Trojan"}]],
            },
        },
        "Users cannot be created",
        uid=uid,
        model="res.partner",
        rule="mcp:closed_model",
    )
    with server_env() as env:
        users = env["res.users"].with_context(active_test=False)
        assert users.search_count([]) == users_before
        assert not env["res.partner"].search([("name", "=", "Trojan")])


# -- the way back: relations that write users, groups and companies ----------------


@pytest.fixture(scope="module")
def side_company(server_env, victim):
    """A company of its own, with the victim among its users."""
    with server_env() as env:
        company = env["res.company"].create(
            {"name": f"Esc Side {uuid.uuid4().hex[:8]}"}
        )
        env["res.users"].browse(victim[0]).write({"company_ids": [(4, company.id)]})
        return company.id


def _user_state(env, uid):
    user = env["res.users"].with_context(active_test=False).browse(uid)
    return {
        "companies": sorted(user.company_ids.ids),
        "groups": sorted(user.groups_id.ids),
        "partner": user.partner_id.id,
        "email": user.email,
        "name": user.name,
    }


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("link_attacker", id="link-4"),
        pytest.param("unlink_victim", id="unlink-3"),
        pytest.param("set_empty", id="set-6"),
    ],
)
def test_users_companies_cannot_be_changed_through_the_company(
    mcp_client, server_env, admin, attacker, victim, side_company, command
):
    # Regression: [4, uid] on res.company.user_ids gave a user a company,
    # although the companies of users are closed.
    commands = {
        "link_attacker": [[4, attacker[0]]],
        "unlink_victim": [[3, victim[0]]],
        "set_empty": [[6, 0, []]],
    }[command]
    with server_env() as env:
        before = {uid: _user_state(env, uid) for uid in (attacker[0], victim[0])}

    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {"model": "res.company", "id": side_company, "values": {"user_ids": commands}},
        r"field 'user_ids' of res.company writes field 'company_ids' of res.users, "
        "which is closed to writes through MCP",
        uid=admin,
        model="res.company",
        rule="mcp:closed_field",
    )
    with server_env() as env:
        assert {uid: _user_state(env, uid) for uid in before} == before


def test_a_user_cannot_be_moved_onto_another_partner(
    mcp_client, server_env, admin, victim
):
    # Regression: [4, uid] on res.partner.user_ids moved the user onto that
    # partner, and so changed the user's e-mail to the partner's.
    uid = victim[0]
    with server_env() as env:
        decoy = env["res.partner"].create(
            {"name": "Esc Decoy", "email": "inbox@attacker.example"}
        )
        before = _user_state(env, uid)

    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {"model": "res.partner", "id": decoy.id, "values": {"user_ids": [[4, uid]]}},
        r"field 'user_ids' of res.partner writes field 'partner_id' of res.users",
        uid=admin,
        model="res.partner",
        rule="mcp:closed_field",
    )
    with server_env() as env:
        assert _user_state(env, uid) == before
        assert not env["res.partner"].browse(decoy.id).user_ids


def test_another_user_s_email_cannot_be_changed_even_by_an_admin(
    mcp_client, server_env, admin, victim
):
    # Regression: USER_FIELDS were open on every user, so an admin token could
    # point another user's password resets at any mailbox.
    uid = victim[0]
    with server_env() as env:
        before = _user_state(env, uid)
        partner = before["partner"]
        employer = env["res.partner"].create(
            {"name": "Esc Employer", "is_company": True}
        )
        env["res.partner"].browse(partner).parent_id = employer
    stolen = {"email": "reset@attacker.example"}
    attempts = [
        (
            "update_record",
            {"model": "res.users", "id": uid, "values": stolen},
            "res.users",
            rf"your own user only \(id {admin}\), not user {uid}",
        ),
        (
            "batch_update",
            {"model": "res.users", "records": [{"id": uid, "values": stolen}]},
            "res.users",
            rf"your own user only \(id {admin}\), not user {uid}",
        ),
        (
            "update_record",
            {"model": "res.partner", "id": partner, "values": stolen},
            "res.partner",
            rf"res.partner record {partner} is another user's contact, and its "
            "field 'email'",
        ),
        (
            # [1, id, values] through the partner's users
            "update_record",
            {
                "model": "res.partner",
                "id": partner,
                "values": {"user_ids": [[1, uid, stolen]]},
            },
            "res.partner",
            r"values.user_ids\[0\]: through MCP you may change your own user only",
        ),
        (
            # [1, id, values] on the contact, through its company's contacts
            "update_record",
            {
                "model": "res.partner",
                "id": employer.id,
                "values": {"child_ids": [[1, partner, stolen]]},
            },
            "res.partner",
            rf"values.child_ids\[0\].email: res.partner record {partner} is another "
            "user's contact",
        ),
    ]
    for name, arguments, model, match in attempts:
        refused_and_audited(
            mcp_client,
            server_env,
            name,
            arguments,
            match,
            uid=admin,
            model=model,
            rule="mcp:closed_field",
        )

    with server_env() as env:
        assert _user_state(env, uid) == before


def test_a_user_s_email_cannot_be_reached_through_a_related_field(
    mcp_client, server_env, admin, victim
):
    # res.company.email is related to the company's partner: pointing a company
    # at a user's partner must not make that user's e-mail writable.
    uid = victim[0]
    with server_env() as env:
        company = env["res.company"].create({"name": f"Esc Rel {uuid.uuid4().hex[:8]}"})
        company_partner = company.partner_id.id
        before = _user_state(env, uid)
    victim_partner = before["partner"]

    # In one call: the new partner is where the e-mail would land.
    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {
            "model": "res.company",
            "id": company.id,
            "values": {"partner_id": victim_partner, "email": "x@attacker.example"},
        },
        rf"values.email: res.partner record {victim_partner} is another user's "
        "contact",
        uid=admin,
        model="res.company",
        rule="mcp:closed_field",
    )
    # In two: the first call only repoints the company (Odoo allows it).
    with server_env() as env:
        env["res.company"].browse(company.id).partner_id = victim_partner
    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {
            "model": "res.company",
            "id": company.id,
            "values": {"email": "x@attacker.example"},
        },
        rf"res.partner record {victim_partner} is another user's contact",
        uid=admin,
        model="res.company",
        rule="mcp:closed_field",
    )

    with server_env() as env:
        assert _user_state(env, uid) == before
        env["res.company"].browse(company.id).partner_id = company_partner


def test_a_many2one_cannot_write_the_users_side_of_it(
    mcp_client, server_env, admin, victim
):
    # res.users.settings.user_id is the inverse of res.users.res_users_settings_ids.
    uid = victim[0]
    with server_env() as env:
        settings = env["res.users.settings"].with_context(active_test=False)
        before = settings.search_count([("user_id", "=", uid)])

    refused_and_audited(
        mcp_client,
        server_env,
        "create_record",
        {"model": "res.users.settings", "values": {"user_id": uid}},
        r"values.user_id: writing field 'user_id' of res.users.settings writes "
        "field 'res_users_settings_ids' of res.users",
        uid=admin,
        model="res.users.settings",
        rule="mcp:closed_field",
    )
    with server_env() as env:
        settings = env["res.users.settings"].with_context(active_test=False)
        assert settings.search_count([("user_id", "=", uid)]) == before


def test_groups_cannot_imply_other_groups_through_mcp(mcp_client, server_env, admin):
    with server_env() as env:
        employee = env.ref("base.group_user")
        system = env.ref("base.group_system").id
        implied = sorted(employee.implied_ids.ids)
    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {
            "model": "res.groups",
            "id": employee.id,
            "values": {"implied_ids": [[4, system]]},
        },
        "Model 'res.groups' is closed",
        uid=admin,
        model="res.groups",
        rule="mcp:closed_model",
    )
    with server_env() as env:
        assert sorted(env.ref("base.group_user").implied_ids.ids) == implied


def test_an_opened_model_does_not_open_the_groups_it_links_to(
    mcp_client, server_env, admin, open_models
):
    # An administrator opens menus; their groups stay closed.
    open_models("ir.ui.menu")
    with server_env() as env:
        menu = env.ref("base.menu_administration")
        system = env.ref("base.group_system").id
        employee = env.ref("base.group_user").id
        groups = sorted(menu.groups_id.ids)

    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {
            "model": "ir.ui.menu",
            "id": menu.id,
            "values": {"groups_id": [[6, 0, [employee]]]},
        },
        r"field 'groups_id' of ir.ui.menu links records of res.groups, and model "
        "'res.groups' is closed",
        uid=admin,
        model="ir.ui.menu",
        rule="mcp:closed_model",
    )
    with server_env() as env:
        assert sorted(env.ref("base.menu_administration").groups_id.ids) == groups
        assert system in groups


def test_an_opened_model_does_not_open_the_closed_model_it_inherits(
    mcp_client, server_env, admin, open_models
):
    # ir.cron inherits ir.actions.server: opening crons opens their schedule,
    # not the code of the server action each cron is.
    open_models("ir.cron")
    with server_env() as env:
        cron = env["ir.cron"].create(
            {
                "name": "Esc Cron",
                "model_id": env.ref("base.model_res_partner").id,
                "code": "model.browse()",
                "active": False,
                "interval_number": 1,
            }
        )
        count = env["ir.cron"].with_context(active_test=False).search_count([])
    code = "env['ir.config_parameter'].set_param('owned', '1')"

    refused_and_audited(
        mcp_client,
        server_env,
        "update_record",
        {"model": "ir.cron", "id": cron.id, "values": {"code": code}},
        r"values.code: writing field 'code' of ir.cron writes field 'code' of "
        "ir.actions.server, and model 'ir.actions.server' is closed",
        uid=admin,
        model="ir.cron",
        rule="mcp:closed_model",
    )
    refused_and_audited(
        mcp_client,
        server_env,
        "create_record",
        {"model": "ir.cron", "values": {"name": "Esc Cron 2", "interval_number": 2}},
        r"Each ir.cron record is also a ir.actions.server record",
        uid=admin,
        model="ir.cron",
        rule="mcp:closed_model",
    )
    # Its own fields are open, as the administrator meant.
    mcp_client.call_ok(
        "update_record",
        {"model": "ir.cron", "id": cron.id, "values": {"interval_number": 3}},
    )

    with server_env() as env:
        cron = env["ir.cron"].browse(cron.id)
        assert (cron.code, cron.interval_number) == ("model.browse()", 3)
        assert env["ir.cron"].with_context(active_test=False).search_count([]) == count
        cron.unlink()


def test_attachments_cannot_be_moved_onto_closed_or_foreign_records(
    mcp_client, server_env, admin, victim
):
    with server_env() as env:
        partner = env["res.partner"].create({"name": "Esc Attached"})
        attachment = env["ir.attachment"].create(
            {
                "name": "esc.txt",
                "raw": b"hello",
                "res_model": "res.partner",
                "res_id": partner.id,
            }
        )
        view = env.ref("base.view_partner_form").id
    attempts = [
        (
            {"res_model": "ir.ui.view", "res_id": view},
            "Model 'ir.ui.view' is closed",
            "mcp:closed_model",
        ),
        (
            {"res_model": "res.users", "res_id": victim[0]},
            f"attachments of your own user only, not those of user {victim[0]}",
            "mcp:closed_field",
        ),
    ]
    for values, match, rule in attempts:
        refused_and_audited(
            mcp_client,
            server_env,
            "update_record",
            {"model": "ir.attachment", "id": attachment.id, "values": values},
            match,
            uid=admin,
            model="ir.attachment",
            rule=rule,
        )

    with server_env() as env:
        moved = env["ir.attachment"].browse(attachment.id)
        assert (moved.res_model, moved.res_id) == ("res.partner", partner.id)


# -- record rules and forged ids -------------------------------------------------------


@pytest.fixture(scope="module")
def split_companies(server_env, new_api_user):
    tag = uuid.uuid4().hex[:8]
    with server_env() as env:
        company_a, company_b = env["res.company"].create(
            [{"name": f"Esc A {tag}"}, {"name": f"Esc B {tag}"}]
        )
        hidden = env["res.partner"].create(
            {"name": f"Esc Hidden {tag}", "company_id": company_b.id}
        )
        ids = {"a": company_a.id, "b": company_b.id, "hidden": hidden.id}
    uid, key = new_api_user(groups=WRITER, company_xmlids=None)
    with server_env() as env:
        user = env["res.users"].browse(uid)
        user.write({"company_ids": [(6, 0, [ids["a"]])], "company_id": ids["a"]})
    return {**ids, "uid": uid, "key": key, "tag": tag}


def test_records_outside_the_record_rules_cannot_be_written(
    client_for, split_companies, server_env
):
    client = client_for(split_companies["key"])
    hidden = split_companies["hidden"]
    uid = split_companies["uid"]

    for name, arguments in (
        (
            "update_record",
            {"model": "res.partner", "id": hidden, "values": {"name": "Taken"}},
        ),
        ("delete_record", {"model": "res.partner", "id": hidden}),
        (
            "batch_update",
            {
                "model": "res.partner",
                "records": [{"id": hidden, "values": {"email": "x@attacker.example"}}],
            },
        ),
    ):
        refused_and_audited(
            client,
            server_env,
            name,
            arguments,
            "no res.partner record",
            uid=uid,
            model="res.partner",
            rule="odoo:record_rule",
        )

    with server_env() as env:
        partner = env["res.partner"].browse(hidden)
        assert partner.name.startswith("Esc Hidden") and not partner.email


def test_a_batch_whose_items_all_failed_claims_no_change(
    client_for, split_companies, server_env
):
    client = client_for(split_companies["key"])
    hidden = split_companies["hidden"]
    result, trace_id = traced(
        client,
        "batch_update",
        {
            "model": "res.partner",
            "continue_on_error": True,
            "records": [{"id": hidden, "values": {"email": "x@attacker.example"}}],
        },
    )
    assert result["structuredContent"]["ok"] is False
    event = committed_audit_event(server_env.registry, trace_id)
    assert (event["record_ids"], event["record_count"]) == (None, 0)
    with server_env() as env:
        assert not env["res.partner"].browse(hidden).email
    assert event["changed"] is False


def test_forged_many2one_ids_are_refused(client_for, split_companies, server_env):
    client = client_for(split_companies["key"])
    tag = split_companies["tag"]
    for values, match, outcome, rule in (
        (
            {"parent_id": split_companies["hidden"]},
            "no res.partner record",
            "denied_odoo",
            "odoo:record_rule",
        ),
        (
            {"company_id": split_companies["b"]},
            "no res.company record",
            "denied_odoo",
            "odoo:record_rule",
        ),
        ({"country_id": 2**31 - 1}, "no res.country record", "tool_error", None),
        ({"country_id": True}, "expected a record id", "tool_error", None),
    ):
        trace_id = denied(
            client,
            "create_record",
            {
                "model": "res.partner",
                "values": {"name": f"Esc Forged {tag}", **values},
            },
            match,
        )
        event = assert_audited_unchanged(
            server_env,
            trace_id,
            uid=split_companies["uid"],
            tool="create_record",
            model="res.partner",
            outcome=outcome,
            rule=rule,
        )
        assert event["record_ids"] is None
    with server_env() as env:
        assert not env["res.partner"].search([("name", "=", f"Esc Forged {tag}")])


# -- batches and keys ------------------------------------------------------------------


def test_an_oversized_batch_is_refused_whole(client_for, attacker, server_env):
    uid, key = attacker
    tag = uuid.uuid4().hex[:8]
    records = [{"name": f"Esc Bulk {tag} {n}"} for n in range(501)]
    trace_id = denied(
        client_for(key),
        "batch_create",
        {"model": "res.partner", "records": records},
        "more than the 500 allowed",
    )
    event = assert_audited_unchanged(
        server_env,
        trace_id,
        uid=uid,
        tool="batch_create",
        model="res.partner",
        outcome="tool_error",
    )
    assert event["record_ids"] is None
    with server_env() as env:
        assert not env["res.partner"].search([("name", "like", f"Esc Bulk {tag}")])


def test_a_replayed_key_with_changed_arguments_changes_nothing(
    client_for, attacker, server_env
):
    uid, key = attacker
    client = client_for(key)
    idem = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:8]
    once = {
        "model": "res.partner",
        "values": {"name": f"Esc Once {tag}"},
        "idempotency_key": idem,
    }
    first, _trace = traced(client, "create_record", once)
    again, replay_trace = traced(client, "create_record", once)
    first, again = first["structuredContent"], again["structuredContent"]
    assert again == {**first, "replayed": True}
    # The replay answered from the key store and wrote nothing.
    assert_audited_unchanged(
        server_env,
        replay_trace,
        uid=uid,
        tool="create_record",
        model="res.partner",
        outcome="success",
    )

    for name, arguments in (
        (
            "create_record",
            {**once, "values": {"name": f"Esc Twice {tag}"}},
        ),
        (
            "update_record",
            {
                "model": "res.partner",
                "id": first["id"],
                "values": {"name": "Esc Changed"},
                "idempotency_key": idem,
            },
        ),
    ):
        refused_and_audited(
            client,
            server_env,
            name,
            arguments,
            "already used",
            uid=uid,
            model="res.partner",
            outcome="tool_error",
        )

    with server_env() as env:
        found = env["res.partner"].search([("name", "like", f"Esc % {tag}")])
        assert found.mapped("name") == [f"Esc Once {tag}"]


def test_concurrent_calls_with_one_key_write_once(client_for, attacker, server_env):
    uid, key = attacker
    idem = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:8]
    arguments = {
        "model": "res.partner",
        "values": {"name": f"Esc Race {tag}"},
        "idempotency_key": idem,
    }
    results = []

    def send():
        results.append(traced(client_for(key), "create_record", arguments))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 4
    done = [r["structuredContent"] for r, _trace in results if not r["isError"]]
    waited = [r["content"][0]["text"] for r, _trace in results if r["isError"]]
    assert sum(not result.get("replayed") for result in done) == 1
    assert len({result["id"] for result in done}) == 1
    assert all("ran at the same time" in text for text in waited)
    # One event claims the one write; the others claim nothing.
    events = [
        committed_audit_event(server_env.registry, trace_id)
        for _result, trace_id in results
    ]
    assert sorted(event["changed"] for event in events) == [False, False, False, True]
    for (result, _trace), event in zip(results, events, strict=True):
        assert event["user_ref"] == uid and event["tool"] == "create_record"
        if event["changed"]:
            assert event["record_ids"] == str(result["structuredContent"]["id"])
        else:
            assert event["outcome"] == (
                "tool_error" if result["isError"] else "success"
            )
    # Sending again replays the one result.
    again, trace_id = traced(client_for(key), "create_record", arguments)
    assert again["structuredContent"]["id"] == done[0]["id"]
    assert_audited_unchanged(
        server_env,
        trace_id,
        uid=uid,
        tool="create_record",
        model="res.partner",
        outcome="success",
    )
    with server_env() as env:
        assert env["res.partner"].search_count([("name", "=", f"Esc Race {tag}")]) == 1
