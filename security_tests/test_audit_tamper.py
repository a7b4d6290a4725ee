"""Tampering with the audit log: every rewrite is refused or detected.

The attacks run against the served database: calls over real HTTP leave
events, then a direct PostgreSQL session (as a database superuser would, with
the triggers switched off) edits or deletes rows, and Verify chain must name
the first broken link. Each attack runs in a transaction that is rolled back,
so the log is intact again for the tests that follow.
"""

import contextlib

import psycopg2
import pytest

from tests.harness.client import McpHttpClient
from tests.harness.fixtures import configure_odoo

configure_odoo()

from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.exceptions import AccessError  # noqa: E402

from odoo.addons.mcp_server_odoo.models import mcp_audit  # noqa: E402

READER = "mcp_server_odoo.group_mcp_audit_reader"


@pytest.fixture(scope="module")
def audited(odoo_http, admin_token):
    """Five events over HTTP, one of them a refusal."""
    mcp_client = McpHttpClient(odoo_http.url, admin_token)
    for _ in range(3):
        assert mcp_client.post(mcp_client.message("ping")).status_code == 200
    refused = mcp_client.post(mcp_client.message("tools/list"), token=None)
    assert refused.status_code == 401
    assert mcp_client.post(mcp_client.message("ping")).status_code == 200
    return True


@contextlib.contextmanager
def attacker_env(server_registry):
    """A superuser environment whose transaction is always rolled back."""
    cr = server_registry.cursor()
    try:
        yield api.Environment(cr, SUPERUSER_ID, {})
    finally:
        cr.rollback()
        cr.close()


def _last(cr):
    cr.execute("SELECT max(sequence) FROM mcp_audit_event")
    return cr.fetchone()[0]


def test_the_untouched_log_verifies(audited, server_registry):
    with attacker_env(server_registry) as env:
        report = mcp_audit.verify_chain(env)
    assert report["ok"], report


def test_an_edited_row_is_detected(audited, server_registry):
    with attacker_env(server_registry) as env:
        target = _last(env.cr) - 2
        env.cr.execute("SET LOCAL session_replication_role = replica")
        env.cr.execute(
            "UPDATE mcp_audit_event SET user_login = 'someone-else'"
            " WHERE sequence = %s",
            [target],
        )
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert report["broken_sequence"] == target


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(
    audited, server_registry
):
    with attacker_env(server_registry) as env:
        target = _last(env.cr) - 2
        env.cr.execute("SET LOCAL session_replication_role = replica")
        env.cr.execute(
            "UPDATE mcp_audit_event SET user_login = 'someone-else'"
            " WHERE sequence = %s",
            [target],
        )
        # The attacker recomputes the row's own hash from its new content.
        env.cr.execute(
            "UPDATE mcp_audit_event e SET hash = encode(sha256(convert_to("
            "e.prev_hash || mcp_audit_canonical(e), 'UTF8')), 'hex')"
            " WHERE sequence = %s",
            [target],
        )
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert report["broken_sequence"] == target + 1
    assert "does not link" in report["message"]


def test_a_deleted_row_is_detected(audited, server_registry):
    with attacker_env(server_registry) as env:
        target = _last(env.cr) - 1
        env.cr.execute("SET LOCAL session_replication_role = replica")
        env.cr.execute("DELETE FROM mcp_audit_event WHERE sequence = %s", [target])
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert report["broken_sequence"] == target
    assert "missing" in report["message"]


def test_the_retention_switch_cannot_delete_events_no_checkpoint_covers(
    audited, server_registry
):
    # Regression: any session of Odoo's database role could set the retention
    # job's switch and delete the newest events, then rewind the head.
    with attacker_env(server_registry) as env:
        last = _last(env.cr)
        env.cr.execute("SET LOCAL mcp.audit_prune = 'on'")
        for sequence in (last, 1):
            with (
                pytest.raises(psycopg2.Error, match="not covered by a signed"),
                env.cr.savepoint(),
            ):
                env.cr.execute(
                    "DELETE FROM mcp_audit_event WHERE sequence >= %s", [sequence]
                )
        assert _last(env.cr) == last


def test_deleting_covered_rows_without_the_retention_job_is_detected(
    audited, server_registry
):
    with attacker_env(server_registry) as env:
        env["mcp.audit.checkpoint"].sudo()._sign_head()
        # The switch lets covered rows go, but no prune record says so.
        env.cr.execute("SET LOCAL mcp.audit_prune = 'on'")
        env.cr.execute("DELETE FROM mcp_audit_event WHERE sequence <= 2")
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert report["broken_sequence"] == 3


def test_the_chain_head_moves_only_with_an_append(audited, server_registry):
    with attacker_env(server_registry) as env:
        for statement in (
            "UPDATE mcp_audit_head SET last_sequence = last_sequence - 1",
            "DELETE FROM mcp_audit_head",
            "TRUNCATE mcp_audit_head",
        ):
            with (
                pytest.raises(psycopg2.Error, match="head moves only|append-only"),
                env.cr.savepoint(),
            ):
                env.cr.execute(statement)
        head = env["mcp.audit.head"].sudo().search([])
        with pytest.raises(AccessError):
            head.write({"last_sequence": 0})
        with pytest.raises(AccessError):
            head.unlink()
        assert mcp_audit.verify_chain(env)["ok"]


def test_nobody_forges_pending_events_or_checkpoints_through_the_orm(
    audited, server_registry
):
    with attacker_env(server_registry) as env:
        with pytest.raises(AccessError):
            env["mcp.audit.pending"].sudo().create({"payload": '{"method": "x"}'})
        with pytest.raises(AccessError):
            env["mcp.audit.checkpoint"].sudo().create(
                {"sequence": 1, "hash": "0" * 64, "signature": "x", "public_key": "x"}
            )
        with pytest.raises(AccessError):
            env["mcp.audit.head"].sudo().create({"last_sequence": 0})


def test_deleting_the_newest_rows_is_detected_by_the_head_and_checkpoints(
    audited, server_registry
):
    with attacker_env(server_registry) as env:
        env["mcp.audit.checkpoint"].sudo()._sign_head()
        last = _last(env.cr)
        env.cr.execute("SET LOCAL session_replication_role = replica")
        env.cr.execute("DELETE FROM mcp_audit_event WHERE sequence = %s", [last])
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert report["broken_sequence"] == last


def test_a_forged_checkpoint_is_detected(audited, server_registry):
    with attacker_env(server_registry) as env:
        checkpoint = env["mcp.audit.checkpoint"].sudo()._sign_head()
        if not checkpoint:
            checkpoint = env["mcp.audit.checkpoint"].sudo().search([], limit=1)
        env.cr.execute("SET LOCAL session_replication_role = replica")
        env.cr.execute(
            "UPDATE mcp_audit_checkpoint SET signature = %s WHERE id = %s",
            ["A" * 88, checkpoint.id],
        )
        env.invalidate_all()
        report = mcp_audit.verify_chain(env)
    assert not report["ok"]
    assert "invalid signature" in report["message"]


def test_the_database_refuses_edits_without_superuser_tricks(audited, server_registry):
    with attacker_env(server_registry) as env:
        for statement in (
            "UPDATE mcp_audit_event SET outcome = 'success'",
            "DELETE FROM mcp_audit_event",
            "TRUNCATE mcp_audit_event",
            "DELETE FROM mcp_audit_checkpoint",
        ):
            with (
                pytest.raises(psycopg2.Error, match="append-only|cannot be deleted"),
                env.cr.savepoint(),
            ):
                env.cr.execute(statement)


def test_audit_readers_and_administrators_cannot_change_or_delete_events(
    audited, server_registry
):
    with attacker_env(server_registry) as env:
        reader = env["res.users"].create(
            {
                "name": "Compliance",
                "login": "compliance-officer",
                "groups_id": [
                    (6, 0, [env.ref("base.group_user").id, env.ref(READER).id])
                ],
            }
        )
        admin = env.ref("base.user_admin")
        admin.groups_id = [(4, env.ref(READER).id)]
        for user in (reader, admin):
            events = env["mcp.audit.event"].with_user(user).search([], limit=2)
            assert events, user.login
            with pytest.raises(AccessError):
                events.write({"outcome": "success"})
            with pytest.raises(AccessError):
                events.unlink()
            with pytest.raises(AccessError):
                env["mcp.audit.event"].with_user(user).create({"method": "forged"})
        events = env["mcp.audit.event"].sudo().search([], limit=1)
        with pytest.raises(AccessError):
            events.write({"outcome": "success"})
        with pytest.raises(AccessError):
            events.unlink()
        # The reader's Verify chain action reports on the same chain.
        action = env["mcp.audit.event"].with_user(reader).action_verify_chain()
        result = env["mcp.audit.verify"].browse(action["res_id"])
        assert result.ok, result.message


def test_users_outside_the_audit_reader_group_see_no_events(audited, server_registry):
    with attacker_env(server_registry) as env:
        user = env["res.users"].create(
            {
                "name": "Nosy",
                "login": "nosy-employee",
                "groups_id": [(6, 0, [env.ref("base.group_user").id])],
            }
        )
        with pytest.raises(AccessError):
            env["mcp.audit.event"].with_user(user).search([])
        with pytest.raises(AccessError):
            env["mcp.audit.event"].with_user(user).action_verify_chain()


def test_denied_calls_are_audited(audited, server_registry):
    with attacker_env(server_registry) as env:
        env.cr.execute(
            "SELECT count(*) FROM mcp_audit_event WHERE outcome = 'unauthenticated'"
        )
        assert env.cr.fetchone()[0] >= 1
