"""Attacks through the write tools, over real HTTP against a real Odoo server.

Each attempt must leave the data as it was, answer with a tool error that says
why, and (once the audit log is installed) leave an audit event that records
the attempt without claiming a change.
"""

import re
import threading
import uuid

import pytest

WRITER = ["base.group_user", "base.group_partner_manager"]


@pytest.fixture(scope="module")
def attacker(new_api_user):
    """An internal user allowed to create contacts: (uid, API key)."""
    return new_api_user(groups=WRITER)


def denied(client, name, arguments, match):
    result = client.call_tool(name, arguments)
    assert result["isError"] is True, result
    assert re.search(match, result["content"][0]["text"]), result["content"][0]["text"]
    return result


def assert_audited_unchanged(server_env, uid, tool, model):
    """The attempt left an audit event that claims no change (if audit exists)."""
    with server_env() as env:
        if "mcp.audit.event" not in env.registry:
            return
        events = env["mcp.audit.event"].search(
            [("user_ref", "=", uid), ("tool", "=", tool), ("target_model", "=", model)]
        )
        assert events, f"no audit event for {tool} on {model}"
        assert not any(events.mapped("changed"))


# -- privilege escalation --------------------------------------------------------------


def test_a_user_cannot_write_their_own_groups(client_for, attacker, server_env):
    uid, key = attacker
    client = client_for(key)
    with server_env() as env:
        system = env.ref("base.group_system").id
        groups_before = env["res.users"].browse(uid).groups_id.ids

    denied(
        client,
        "update_record",
        {"model": "res.users", "id": uid, "values": {"groups_id": [[4, system]]}},
        "closed to writes|not allowed to modify",
    )
    denied(
        client,
        "update_record",
        {"model": "res.users", "id": uid, "values": {f"in_group_{system}": True}},
        "res.users",
    )
    denied(
        client,
        "update_record",
        {"model": "res.users", "id": uid, "values": {"password": "owned-now-123"}},
        "closed to writes|not allowed to modify",
    )
    denied(
        client,
        "update_record",
        {"model": "res.groups", "id": system, "values": {"users": [[4, uid]]}},
        "closed to writes|not allowed to modify",
    )

    with server_env() as env:
        assert env["res.users"].browse(uid).groups_id.ids == groups_before
    assert_audited_unchanged(server_env, uid, "update_record", "res.users")


def test_an_admin_token_cannot_create_a_server_action_with_code(mcp_client, server_env):
    with server_env() as env:
        model_id = env.ref("base.model_res_partner").id
        before = env["ir.actions.server"].search_count([])
        admin = env.ref("base.user_admin").id
    code = "env['ir.config_parameter'].set_param('owned', '1')"

    denied(
        mcp_client,
        "create_record",
        {
            "model": "ir.actions.server",
            "values": {
                "name": "Injected",
                "model_id": model_id,
                "state": "code",
                "code": code,
            },
        },
        "closed to writes",
    )
    denied(
        mcp_client,
        "create_record",
        {
            "model": "ir.cron",
            "values": {"name": "Injected cron", "model_id": model_id, "code": code},
        },
        "closed to writes",
    )

    with server_env() as env:
        assert env["ir.actions.server"].search_count([]) == before
        assert not env["ir.config_parameter"].get_param("owned")
    assert_audited_unchanged(server_env, admin, "create_record", "ir.actions.server")


def test_an_admin_token_cannot_set_a_system_parameter(mcp_client, server_env):
    with server_env() as env:
        param = env["ir.config_parameter"].search([("key", "=", "web.base.url")])
        url = param.value
        admin = env.ref("base.user_admin").id

    denied(
        mcp_client,
        "update_record",
        {
            "model": "ir.config_parameter",
            "id": param.id,
            "values": {"value": "https://attacker.example"},
        },
        "closed to writes",
    )
    denied(
        mcp_client,
        "batch_create",
        {
            "model": "ir.config_parameter",
            "records": [
                {"key": "mcp_server_odoo.write_open_models", "value": "ir.cron"}
            ],
        },
        "closed to writes",
    )

    with server_env() as env:
        params = env["ir.config_parameter"]
        assert params.get_param("web.base.url") == url
        assert not params.get_param("mcp_server_odoo.write_open_models")
    assert_audited_unchanged(server_env, admin, "update_record", "ir.config_parameter")


def test_a_linked_user_cannot_be_created_through_a_partner(
    client_for, attacker, server_env
):
    uid, key = attacker
    with server_env() as env:
        users_before = env["res.users"].with_context(active_test=False).search_count([])
    denied(
        client_for(key),
        "create_record",
        {
            "model": "res.partner",
            "values": {
                "name": "Trojan",
                "user_ids": [[0, 0, {"login": "trojan", "name": "Trojan"}]],
            },
        },
        "res.users",
    )
    with server_env() as env:
        users = env["res.users"].with_context(active_test=False)
        assert users.search_count([]) == users_before


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

    denied(
        client,
        "update_record",
        {"model": "res.partner", "id": hidden, "values": {"name": "Taken"}},
        "no res.partner",
    )
    denied(
        client,
        "delete_record",
        {"model": "res.partner", "id": hidden},
        "no res.partner",
    )
    result = client.call_ok(
        "batch_update",
        {
            "model": "res.partner",
            "continue_on_error": True,
            "records": [{"id": hidden, "values": {"email": "x@attacker.example"}}],
        },
    )
    assert result["ok"] is False

    with server_env() as env:
        partner = env["res.partner"].browse(hidden)
        assert partner.name.startswith("Esc Hidden") and not partner.email
    assert_audited_unchanged(
        server_env, split_companies["uid"], "update_record", "res.partner"
    )


def test_forged_many2one_ids_are_refused(client_for, split_companies, server_env):
    client = client_for(split_companies["key"])
    tag = split_companies["tag"]
    for values, match in (
        ({"parent_id": split_companies["hidden"]}, "no res.partner record"),
        ({"company_id": split_companies["b"]}, "no res.company record"),
        ({"country_id": 2**31 - 1}, "no res.country record"),
        ({"country_id": True}, "expected a record id"),
    ):
        denied(
            client,
            "create_record",
            {
                "model": "res.partner",
                "values": {"name": f"Esc Forged {tag}", **values},
            },
            match,
        )
    with server_env() as env:
        assert not env["res.partner"].search([("name", "=", f"Esc Forged {tag}")])


# -- batches and keys ------------------------------------------------------------------


def test_an_oversized_batch_is_refused_whole(client_for, attacker, server_env):
    uid, key = attacker
    tag = uuid.uuid4().hex[:8]
    records = [{"name": f"Esc Bulk {tag} {n}"} for n in range(501)]
    denied(
        client_for(key),
        "batch_create",
        {"model": "res.partner", "records": records},
        "more than the 500 allowed",
    )
    with server_env() as env:
        assert not env["res.partner"].search([("name", "like", f"Esc Bulk {tag}")])


def test_a_replayed_key_with_changed_arguments_changes_nothing(
    client_for, attacker, server_env
):
    uid, key = attacker
    client = client_for(key)
    idem = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:8]
    first = client.call_ok(
        "create_record",
        {
            "model": "res.partner",
            "values": {"name": f"Esc Once {tag}"},
            "idempotency_key": idem,
        },
    )
    again = client.call_ok(
        "create_record",
        {
            "model": "res.partner",
            "values": {"name": f"Esc Once {tag}"},
            "idempotency_key": idem,
        },
    )
    denied(
        client,
        "create_record",
        {
            "model": "res.partner",
            "values": {"name": f"Esc Twice {tag}"},
            "idempotency_key": idem,
        },
        "already used",
    )
    denied(
        client,
        "update_record",
        {
            "model": "res.partner",
            "id": first["id"],
            "values": {"name": "Esc Changed"},
            "idempotency_key": idem,
        },
        "already used",
    )

    assert again == {**first, "replayed": True}
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
        results.append(client_for(key).call_tool("create_record", arguments))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 4
    done = [r["structuredContent"] for r in results if not r["isError"]]
    waited = [r["content"][0]["text"] for r in results if r["isError"]]
    assert sum(not result.get("replayed") for result in done) == 1
    assert len({result["id"] for result in done}) == 1
    assert all("ran at the same time" in text for text in waited)
    # Sending again replays the one result.
    again = client_for(key).call_ok("create_record", arguments)
    assert again == {**done[0], "replayed": True} or again["id"] == done[0]["id"]
    with server_env() as env:
        assert env["res.partner"].search_count([("name", "=", f"Esc Race {tag}")]) == 1
