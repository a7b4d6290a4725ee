"""The audit log as an Audit Reader uses it: views, export, Verify chain, crons.

The reader here is only an Audit Reader (the group makes them an internal user
with Odoo's export); in-process, against the ORM test database.
"""

import json
import uuid

import pytest
from lxml import etree

from odoo.exceptions import AccessError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mcp_server_odoo.chain import audit as audit_step
from odoo.addons.mcp_server_odoo.models import mcp_audit

from tests.harness.fixtures import rolled_back

READER = ("mcp_server_odoo.group_mcp_audit_reader",)
CHECKPOINT_CRON = "mcp_server_odoo.cron_mcp_audit_checkpoint"
PRUNE_CRON = "mcp_server_odoo.cron_mcp_audit_prune"
VERIFY_ACTION = "mcp_server_odoo.action_mcp_audit_verify"


@pytest.fixture(scope="module")
def committed_events(orm_registry):
    """Events committed before any test's snapshot, so that every test sees them."""
    for outcome in ("success", "denied_odoo", "tool_error"):
        audit_step.append_committed(
            orm_registry.db_name,
            {
                "method": "tools/call",
                "tool": "search_records",
                "target_model": "res.partner",
                "outcome": outcome,
                "user_login": "ui-tests",
                "latency_us": 1200,
                "changed": False,
            },
        )
    return True


@pytest.fixture
def reader(committed_events, make_user):
    return make_user(groups=READER)


def _events(user):
    return user.env["mcp.audit.event"].with_user(user)


def _view(user, view_type):
    views = _events(user).get_views([(False, view_type)])["views"]
    return etree.fromstring(views[view_type]["arch"])


# -- the Audit Reader group -----------------------------------------------------------


def test_an_audit_reader_alone_is_an_internal_user_who_may_export(reader):
    assert reader.has_group("base.group_user")
    assert reader.has_group("base.group_allow_export")
    assert not reader.share


def test_an_audit_reader_exports_the_list_as_csv_rows(reader):
    events = _events(reader).search([], limit=3)
    assert len(events) == 3
    columns = ["sequence", "event_time", "user_login", "outcome", "hash"]
    rows = events.export_data(columns)["datas"]
    assert [row[0] for row in rows] == events.mapped("sequence")
    labels = dict(events._fields["outcome"].selection)
    assert [row[3] for row in rows] == [labels[o] for o in events.mapped("outcome")]
    assert all(len(row[4]) == 64 for row in rows)


def test_an_audit_reader_cannot_create_change_or_delete_events(reader):
    events = _events(reader).search([], limit=1)
    with pytest.raises(AccessError):
        events.write({"outcome": "success"})
    with pytest.raises(AccessError):
        events.unlink()
    with pytest.raises(AccessError):
        _events(reader).create({"method": "forged"})
    checkpoints = reader.env["mcp.audit.checkpoint"].with_user(reader)
    with pytest.raises(AccessError):
        checkpoints.create(
            {"sequence": 1, "hash": "0", "signature": "", "public_key": ""}
        )


# -- the views render -----------------------------------------------------------------


def test_the_list_and_form_show_events_to_the_reader(reader):
    list_fields = [node.get("name") for node in _view(reader, "list").iter("field")]
    page = _events(reader).web_search_read([], dict.fromkeys(list_fields, {}), limit=5)
    assert [r["id"] for r in page["records"]] == _events(reader).search([], limit=5).ids
    assert set(page["records"][0]) == {"id", *list_fields}
    form_fields = {node.get("name") for node in _view(reader, "form").iter("field")}
    event = _events(reader).browse(page["records"][0]["id"])
    shown = event.web_read(dict.fromkeys(form_fields, {}))[0]
    assert shown["hash"] and shown["prev_hash"]


def test_the_pivot_groups_by_tool_and_outcome(reader):
    arch = _view(reader, "pivot")
    rows = [n.get("name") for n in arch.iter("field") if n.get("type") == "row"]
    cols = [n.get("name") for n in arch.iter("field") if n.get("type") == "col"]
    measures = [n.get("name") for n in arch.iter("field") if n.get("type") == "measure"]
    groups = _events(reader).read_group(
        [], [f"{m}:avg" for m in measures], rows + cols, lazy=False
    )
    cell = next(
        g for g in groups if g["tool"] == "search_records" and g["outcome"] == "success"
    )
    assert cell["__count"] >= 1
    assert cell["latency_us"] > 0


def test_the_graph_counts_events_per_day_and_outcome(reader):
    arch = _view(reader, "graph")
    groupby = [
        f"{n.get('name')}:{n.get('interval')}" if n.get("interval") else n.get("name")
        for n in arch.iter("field")
    ]
    groups = _events(reader).read_group([], ["__count"], groupby, lazy=False)
    assert sum(g["__count"] for g in groups) == _events(reader).search_count([])


def test_every_filter_and_grouping_of_the_search_view_runs(reader):
    arch = _view(reader, "search")
    events = _events(reader)
    filters = list(arch.iter("filter"))
    assert filters
    for node in filters:
        if node.get("domain"):
            events.search_count(safe_eval(node.get("domain")))
        elif node.get("context"):
            groupby = safe_eval(node.get("context"))["group_by"]
            assert events.read_group([], ["__count"], [groupby], lazy=True)
        else:
            assert node.get("date")


# -- Verify chain ---------------------------------------------------------------------


def test_verify_chain_opens_its_verdict_for_the_reader(reader):
    action = reader.env.ref(VERIFY_ACTION).with_user(reader)
    result = action.with_context(active_model="mcp.audit.event").run()
    assert (result["res_model"], result["target"]) == ("mcp.audit.verify", "new")
    wizards = reader.env["mcp.audit.verify"].with_user(reader)
    arch = wizards.get_views([(False, "form")])["views"]["form"]["arch"]
    names = {node.get("name") for node in etree.fromstring(arch).iter("field")}
    verdict = wizards.browse(result["res_id"]).web_read(dict.fromkeys(names, {}))[0]
    assert verdict["ok"], verdict["message"]
    assert verdict["checked"] >= 3
    assert verdict["message"].startswith("The chain is intact")


# -- the crons, run through their ir.cron records ------------------------------------


def _leave_pending(registry, request_id):
    """A change's event committed to mcp_audit_pending without its post-commit
    hook, as when chaining it failed."""
    payload = {"method": "tools/call", "outcome": "success", "changed": True}
    with registry.cursor() as cr:
        cr.execute(
            "INSERT INTO mcp_audit_pending (payload) VALUES (%s)",
            [json.dumps(dict(payload, request_id=request_id))],
        )


def _chained_sequence(registry, request_id):
    """The event's sequence and the pending count, read on a new snapshot."""
    with registry.cursor() as cr:
        cr.execute(
            "SELECT sequence FROM mcp_audit_event WHERE request_id = %s", [request_id]
        )
        sequences = [row[0] for row in cr.fetchall()]
        cr.execute("SELECT count(*) FROM mcp_audit_pending")
        return sequences, cr.fetchone()[0]


def test_the_checkpoint_cron_chains_events_left_pending(committed_events, orm_registry):
    request_id = f"left-{uuid.uuid4().hex[:8]}"
    _leave_pending(orm_registry, request_id)
    with rolled_back(orm_registry) as env:
        env.ref(CHECKPOINT_CRON).method_direct_trigger()
    sequences, pending = _chained_sequence(orm_registry, request_id)
    assert len(sequences) == 1
    assert pending == 0
    with rolled_back(orm_registry) as env:
        assert mcp_audit.verify_chain(env)["ok"]


def test_the_checkpoint_cron_signs_the_newest_event(committed_events, orm_registry):
    with rolled_back(orm_registry) as env:
        env.cr.execute("SELECT max(sequence) FROM mcp_audit_event")
        newest = env.cr.fetchone()[0]
        env.ref(CHECKPOINT_CRON).method_direct_trigger()
        checkpoint = env["mcp.audit.checkpoint"].search([], limit=1)
        assert checkpoint.sequence == newest
        report = mcp_audit.verify_chain(env)
        assert report["ok"], report
        assert report["checkpoints"] >= 1
        # A second run has nothing new to sign.
        env.ref(CHECKPOINT_CRON).method_direct_trigger()
        assert env["mcp.audit.checkpoint"].search([], limit=1) == checkpoint


def test_the_checkpoint_cron_signs_what_it_just_chained(committed_events, orm_registry):
    request_id = f"left-{uuid.uuid4().hex[:8]}"
    _leave_pending(orm_registry, request_id)
    with rolled_back(orm_registry) as env:
        env.ref(CHECKPOINT_CRON).method_direct_trigger()
    (chained,), _pending = _chained_sequence(orm_registry, request_id)
    # The checkpoint commits in a transaction of its own, begun after the sweep.
    with orm_registry.cursor() as cr:
        cr.execute("SELECT max(sequence) FROM mcp_audit_checkpoint")
        assert cr.fetchone()[0] >= chained


def test_the_prune_cron_keeps_recent_events(committed_events, orm_registry):
    with rolled_back(orm_registry) as env:
        env.ref(CHECKPOINT_CRON).method_direct_trigger()
        env.cr.execute("SELECT count(*) FROM mcp_audit_event")
        before = env.cr.fetchone()[0]
        env["ir.config_parameter"].set_param(mcp_audit.RETENTION_PARAM, "1")
        env.ref(PRUNE_CRON).method_direct_trigger()
        env.cr.execute("SELECT count(*) FROM mcp_audit_event")
        assert env.cr.fetchone()[0] == before
        env.cr.execute("SELECT count(*) FROM mcp_audit_pending")
        assert env.cr.fetchone()[0] == 0
