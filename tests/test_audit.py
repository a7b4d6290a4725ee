"""The audit step and the audit log, in-process against a real database."""

import json

import psycopg2
import pytest

from odoo.exceptions import AccessError
from odoo.modules.registry import Registry
from odoo.tools import config

from odoo.addons.mcp_server_odoo.chain import (
    AuthResult,
    Chain,
    Context,
    Step,
    redaction,
)
from odoo.addons.mcp_server_odoo.chain import audit as audit_step
from odoo.addons.mcp_server_odoo.models import mcp_audit
from odoo.addons.mcp_server_odoo.protocol.errors import McpError

from tests.harness.fixtures import (
    accepted,
    committed_audit_event,
    run_message,
    tools_call,
)

SECRET = "sk-live-0123456789abcdefSECRET"


@pytest.fixture
def mcp(odoo_env):
    """``mcp(body, uid=None)`` -> (ctx, result) through the whole chain."""

    def handle(body, uid=None, error=None):
        auth = AuthResult(uid=uid, kind="api_key" if uid else None, error=error)
        return run_message(odoo_env, body, auth, remote_addr="127.0.0.9")

    return handle


def test_the_audit_step_sits_between_tracing_and_authentication(odoo_env):
    chain, _tools = odoo_env["mcp.server"]._mcp_assembled()
    names = chain.names
    assert names.index("tracing") < names.index("audit") < names.index("authentication")
    assert names.index("audit") == 1


def test_a_successful_read_leaves_one_event_with_names_and_no_values(mcp, odoo_env):
    admin = odoo_env.ref("base.user_admin")
    ctx, result = mcp(
        tools_call(
            "search_records",
            {"model": "res.partner", "domain": [["name", "=", SECRET]]},
        ),
        uid=admin.id,
    )
    assert result["isError"] is False
    event = committed_audit_event(odoo_env.registry, ctx.trace_id)
    assert event["outcome"] == "success"
    assert event["user_ref"] == admin.id and event["user_login"] == admin.login
    assert event["method"] == "tools/call" and event["tool"] == "search_records"
    assert event["target_model"] == "res.partner"
    assert event["remote_addr"] == "127.0.0.9"
    assert event["protocol_version"] == "2025-11-25"
    assert event["changed"] is False
    assert event["latency_us"] > 0
    assert len(event["hash"]) == 64 and len(event["prev_hash"]) == 64
    arguments = json.loads(event["arguments"])
    assert set(arguments["keys"]) == {"model", "domain"}
    assert SECRET not in json.dumps(event)
    assert "res.partner" not in event["arguments"]


def test_the_actor_s_login_is_kept_even_when_it_is_an_email(mcp, odoo_env):
    # Regression: logins went through the value masking and every e-mail login
    # was stored as "[REDACTED:email]", hiding who acted from Audit Readers.
    user = odoo_env["res.users"].create(
        {"name": "Audited", "login": "audited.person@example.com"}
    )
    ctx, result = mcp(tools_call("list_models", {}), uid=user.id)
    assert result["isError"] is False
    event = committed_audit_event(odoo_env.registry, ctx.trace_id)
    assert event["user_login"] == "audited.person@example.com"


def test_the_login_the_oauth_check_read_is_used_as_it_was_read(odoo_env):
    # The token check joins res_users already; its login is used, not re-read.
    admin = odoo_env.ref("base.user_admin")
    auth = AuthResult(uid=admin.id, kind="oauth", login="login\nforged line")
    ctx, _result = odoo_env["mcp.server"]._mcp_handle(
        accepted(tools_call("list_models", {})), auth, remote_addr="127.0.0.9"
    )
    assert (
        committed_audit_event(odoo_env.registry, ctx.trace_id)["user_login"]
        == "login\\nforged line"
    )


def test_an_unauthenticated_message_is_recorded_without_a_user(mcp, odoo_env):
    with pytest.raises(McpError) as refused:
        mcp({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}, error="bad token")
    assert refused.value.status == 401
    with Registry(odoo_env.cr.dbname).cursor() as cr:
        cr.execute(
            "SELECT outcome, user_ref, error_type FROM mcp_audit_event"
            " ORDER BY sequence DESC LIMIT 1"
        )
        assert cr.fetchone() == ("unauthenticated", None, "-32001")


@pytest.mark.parametrize(
    ("body", "outcome", "error_type"),
    [
        (
            tools_call("search_records", {"model": 5}),
            "invalid_arguments",
            "invalid_arguments",
        ),
        (
            tools_call("describe_model", {"model": "no.such"}),
            "tool_error",
            "tool_error",
        ),
        (tools_call("no_such_tool", {}), "protocol_error", "-32602"),
    ],
)
def test_every_failure_is_recorded_with_its_class(
    mcp, odoo_env, body, outcome, error_type
):
    admin = odoo_env.ref("base.user_admin")
    try:
        ctx, _result = mcp(body, uid=admin.id)
        trace_id = ctx.trace_id
    except McpError:
        trace_id = None
    if trace_id is None:
        with Registry(odoo_env.cr.dbname).cursor() as cr:
            cr.execute(
                "SELECT to_jsonb(e) FROM mcp_audit_event e"
                " ORDER BY sequence DESC LIMIT 1"
            )
            event = cr.fetchone()[0]
    else:
        event = committed_audit_event(odoo_env.registry, trace_id)
    assert (event["outcome"], event["error_type"]) == (outcome, error_type)


def test_odoo_denials_are_recorded_as_such(mcp, make_user):
    user = make_user(groups=("base.group_user",))
    ctx, result = mcp(
        tools_call("search_records", {"model": "ir.config_parameter"}), uid=user.id
    )
    assert result["isError"] is True
    event = committed_audit_event(user.env.registry, ctx.trace_id)
    assert event["outcome"] == "denied_odoo"
    assert (event["decision"], event["rule"]) == ("deny", "odoo:acl")
    assert event["user_ref"] == user.id


def test_a_field_outside_the_user_s_groups_is_an_odoo_denial(mcp, make_user, odoo_env):
    # ir.mail_server.smtp_pass belongs to base.group_system; the user may read
    # the model itself through a group of its own.
    group = odoo_env["res.groups"].create({"name": "Audit: mail server readers"})
    odoo_env["ir.model.access"].create(
        {
            "name": "audit mail server readers",
            "model_id": odoo_env.ref("base.model_ir_mail_server").id,
            "group_id": group.id,
            "perm_read": True,
        }
    )
    user = make_user(groups=("base.group_user",))
    user.groups_id = [(4, group.id)]
    ctx, result = mcp(
        tools_call(
            "search_records", {"model": "ir.mail_server", "fields": ["smtp_pass"]}
        ),
        uid=user.id,
    )
    assert result["isError"] is True
    event = committed_audit_event(user.env.registry, ctx.trace_id)
    assert (event["outcome"], event["rule"]) == ("denied_odoo", "odoo:field_groups")


def test_an_unknown_model_is_a_tool_error_not_a_denial(mcp, make_user):
    user = make_user(groups=("base.group_user",))
    ctx, result = mcp(
        tools_call("get_record", {"model": "no.such", "id": 1}), uid=user.id
    )
    assert result["isError"] is True
    event = committed_audit_event(user.env.registry, ctx.trace_id)
    assert (event["outcome"], event["decision"]) == ("tool_error", None)


# -- calls that change data ---------------------------------------------------------


def _changing_chain(work):
    def change(ctx, call_next):
        work(ctx)
        ctx.changed = True
        ctx.targets = {"model": "res.partner", "ids": [1], "fields": ["name"]}
        return {"ok": True}

    return Chain([Step("audit", 20, audit_step.audit), Step("change", 100, change)])


def _context(env, body, uid):
    return Context(
        message=accepted(body).message,
        protocol_version="2025-11-25",
        auth=AuthResult(uid=uid, kind="api_key"),
        cr=env.cr,
        remote_addr="127.0.0.9",
        trace_id="c" * 32,
    )


def test_a_change_and_its_event_commit_or_roll_back_together(odoo_env):
    chain = _changing_chain(lambda ctx: None)
    admin = odoo_env.ref("base.user_admin")
    ctx = _context(odoo_env, tools_call("write_records", {"ids": [1]}), admin.id)
    ctx.trace_id = "d" * 32
    chain(ctx)
    # Written in the request's own transaction: visible here ...
    odoo_env.cr.execute(
        "SELECT payload::jsonb FROM mcp_audit_pending"
        " WHERE payload::jsonb->>'trace_id' = %s",
        [ctx.trace_id],
    )
    staged = odoo_env.cr.fetchone()[0]
    assert (staged["changed"], staged["outcome"], staged["record_ids"]) == (
        True,
        "success",
        "1",
    )
    odoo_env.cr.rollback()
    # ... and gone with the rollback: no event claims a change that did not commit.
    with Registry(odoo_env.cr.dbname).cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM mcp_audit_event WHERE trace_id = %s", ["d" * 32]
        )
        assert cr.fetchone()[0] == 0
        cr.execute("SELECT count(*) FROM mcp_audit_pending")
        assert cr.fetchone()[0] == 0


def test_a_committed_change_is_chained_right_after_its_commit(orm_registry):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    trace_id = "e" * 32

    def work(ctx):
        ctx.cr.execute("UPDATE res_partner SET comment = 'audited' WHERE id = 1")

    with orm_registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        ctx = _context(env, tools_call("write_records", {"ids": [1]}), 2)
        ctx.trace_id = trace_id
        _changing_chain(work)(ctx)
    # The cursor committed: the post-commit hook has chained the event.
    with orm_registry.cursor() as cr:
        cr.execute(
            "SELECT changed, outcome FROM mcp_audit_event WHERE trace_id = %s",
            [trace_id],
        )
        assert cr.fetchall() == [(True, "success")]
        cr.execute("SELECT count(*) FROM mcp_audit_pending")
        assert cr.fetchone()[0] == 0
        report = mcp_audit.verify_chain(api.Environment(cr, SUPERUSER_ID, {}))
        assert report["ok"], report


def test_concurrent_appends_wait_for_the_head_instead_of_failing(orm_registry):
    import threading  # noqa: PLC0415

    errors = []

    def ping(n):
        try:
            for i in range(10):
                audit_step.append_committed(
                    orm_registry.db_name,
                    {"method": "ping", "outcome": "success", "request_id": f"{n}-{i}"},
                )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=ping, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_call_whose_event_cannot_be_written_fails_closed(odoo_env, monkeypatch):
    monkeypatch.setitem(config.options, audit_step.CONFIG_KEY, "")
    chain = _changing_chain(lambda ctx: None)
    admin = odoo_env.ref("base.user_admin")
    ctx = _context(odoo_env, tools_call("write_records", {}), admin.id)
    with pytest.raises(audit_step.AuditWriteFailed) as failed:
        chain(ctx)
    assert failed.value.code == -32603
    assert ctx.trace_id in failed.value.message


# -- append-only ------------------------------------------------------------------


def test_nobody_changes_or_deletes_events_through_the_orm(mcp, odoo_env):
    admin = odoo_env.ref("base.user_admin")
    mcp({"jsonrpc": "2.0", "id": 1, "method": "ping"}, uid=admin.id)
    events = odoo_env["mcp.audit.event"].sudo().search([], limit=1)
    assert events
    with pytest.raises(AccessError):
        events.write({"outcome": "success"})
    with pytest.raises(AccessError):
        events.unlink()
    with pytest.raises(AccessError):
        odoo_env["mcp.audit.event"].sudo().create({"method": "forged"})


def test_the_database_refuses_update_delete_and_truncate(odoo_env, mcp):
    admin = odoo_env.ref("base.user_admin")
    mcp({"jsonrpc": "2.0", "id": 1, "method": "ping"}, uid=admin.id)
    cr = odoo_env.cr
    for statement in (
        "UPDATE mcp_audit_event SET outcome = 'success'",
        "DELETE FROM mcp_audit_event",
        "TRUNCATE mcp_audit_event",
        "UPDATE mcp_audit_checkpoint SET hash = 'x'",
    ):
        with (
            pytest.raises(psycopg2.Error, match="append-only|cannot be deleted"),
            cr.savepoint(),
        ):
            cr.execute(statement)


def test_verify_sign_and_prune_keep_the_chain_provable(odoo_env, mcp):
    admin = odoo_env.ref("base.user_admin")
    for request_id in range(3):
        mcp({"jsonrpc": "2.0", "id": request_id, "method": "ping"}, uid=admin.id)
    env = odoo_env
    checkpoint = env["mcp.audit.checkpoint"].sudo()._sign_head()
    assert checkpoint.signature and checkpoint.public_key
    report = mcp_audit.verify_chain(env)
    assert report["ok"], report
    assert report["checkpoints"] >= 1

    # Prune in this (rolled back) transaction everything up to the checkpoint.
    through = mcp_audit.prune(env, "2999-01-01 00:00:00")
    assert through == checkpoint.sequence
    env.cr.execute("SELECT min(sequence) FROM mcp_audit_event")
    assert env.cr.fetchone()[0] in (None, through + 1)
    env.cr.execute(
        "SELECT detail, record_count FROM mcp_audit_event WHERE method = 'audit/prune'"
    )
    assert env.cr.fetchone() is None  # staged until the commit
    env.cr.execute("SELECT payload FROM mcp_audit_pending")
    assert f"pruned through {through}" in env.cr.fetchone()[0]
    assert mcp_audit.verify_chain(env)["ok"]


def test_verify_reports_the_first_broken_link(odoo_env, mcp):
    admin = odoo_env.ref("base.user_admin")
    for request_id in range(3):
        mcp({"jsonrpc": "2.0", "id": request_id, "method": "ping"}, uid=admin.id)
    cr = odoo_env.cr
    cr.execute("SELECT max(sequence) FROM mcp_audit_event")
    last = cr.fetchone()[0]
    # What a database superuser can do: switch the triggers off for a session.
    cr.execute("SET LOCAL session_replication_role = replica")
    cr.execute(
        "UPDATE mcp_audit_event SET user_login = 'someone-else' WHERE sequence = %s",
        [last - 1],
    )
    report = mcp_audit.verify_chain(odoo_env)
    assert not report["ok"]
    assert report["broken_sequence"] == last - 1
    assert "altered" in report["message"]


HOSTILE_TEXTS = [
    "tab\there",
    "new\nline and carriage\rreturn",
    "back\\slash and \\N and \\t literally",
    "\\N",
    "bell\x07 backspace\x08 formfeed\x0c vtab\x0b escape\x1b",
    "",
    "ünïcödé ✓ \u2028 \U0001f600",
    "quotes \" and ' and , ( ) { }",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_any_stored_text_verifies_and_is_hashed_as_copy_writes_it(odoo_env, text):
    # The trigger builds the canonical line in SQL; the verifier reads it from
    # COPY. They must agree for every character a column can hold.
    values = dict.fromkeys(audit_step.COLUMNS)
    values.update(
        user_login=text,
        method="tools/call",
        tool=text,
        arguments=text,
        result=None,
        detail=text + text,
        outcome="success",
        changed=bool(len(text) % 2),
        record_count=len(text),
    )
    cr = odoo_env.cr
    cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    sequence, _hash = audit_step.append(cr, values)
    cr.execute(
        "SELECT mcp_audit_canonical(e) FROM mcp_audit_event e WHERE sequence = %s",
        [sequence],
    )
    canonical = cr.fetchone()[0]

    class Lines:
        def __init__(self):
            self.lines = []

        def write(self, line):
            self.lines.append(line)

    lines = Lines()
    raw = cr._cnx.cursor()
    raw.copy_expert(raw.mogrify(mcp_audit.VERIFY_COPY, [sequence]).decode(), lines)
    (line,) = lines.lines
    assert line[:-1].split(b"\t", 3)[3] == canonical.encode()
    report = mcp_audit.verify_chain(odoo_env)
    assert report["ok"], report


def test_the_result_shape_is_that_of_what_the_client_received(mcp, odoo_env):
    # Dispatch shapes the result while serialising it once for the wire; the
    # stored shape must be the one computed from the structured value itself.
    admin = odoo_env.ref("base.user_admin")
    ctx, result = mcp(
        tools_call("search_records", {"model": "res.partner", "limit": 3}), uid=admin.id
    )
    assert result["isError"] is False
    structured = result["structuredContent"]
    assert json.loads(result["content"][0]["text"]) == structured
    expected = redaction.shape_json(
        structured, key=audit_step.audit_key("argument-digests")
    )
    assert committed_audit_event(odoo_env.registry, ctx.trace_id)["result"] == expected


def test_verify_reports_a_deleted_signing_key_and_makes_no_new_one(odoo_env):
    odoo_env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    audit_step.append(odoo_env.cr, {"method": "ping", "outcome": "success"})
    odoo_env["mcp.audit.checkpoint"].sudo()._sign_head()
    params = odoo_env["ir.config_parameter"].sudo()
    params.search([("key", "=", mcp_audit.KEY_PARAM)]).unlink()
    report = mcp_audit.verify_chain(odoo_env)
    assert not report["ok"]
    assert "signing key is missing" in report["message"]
    assert not params.get_param(mcp_audit.KEY_PARAM)


def test_verify_without_the_audit_key_says_what_to_configure(odoo_env, monkeypatch):
    # An event and a checkpoint this transaction sees (its snapshot may predate
    # events committed by other connections).
    odoo_env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    audit_step.append(odoo_env.cr, {"method": "ping", "outcome": "success"})
    reader = odoo_env["res.users"].create(
        {
            "name": "Reader",
            "login": "verify-reader",
            "groups_id": [(6, 0, [odoo_env.ref(mcp_audit.READER_GROUP).id])],
        }
    )
    odoo_env["mcp.audit.checkpoint"].sudo()._sign_head()
    monkeypatch.setitem(config.options, audit_step.CONFIG_KEY, "")
    action = odoo_env["mcp.audit.event"].with_user(reader).action_verify_chain()
    result = odoo_env["mcp.audit.verify"].browse(action["res_id"])
    assert not result.ok
    assert "mcp_audit_key" in result.message
