"""The MCP settings page: every field saves and reads back, and 0 stays 0.

Odoo stores an integer setting of 0 as no system parameter at all; for the
rate limits, the registration limit and the audit retention 0 is a choice
(off, keep everything), and the readers would take a missing parameter for
the default: a saved retention of 0 would prune after 365 days.
"""

import pytest

from odoo.addons.mcp_server_odoo.chain import audit as audit_step
from odoo.addons.mcp_server_odoo.models import mcp_audit
from odoo.addons.mcp_server_odoo.models.res_config_settings import ZERO_MEANS_OFF
from odoo.addons.mcp_server_odoo.oauth import settings as oauth_settings

from tests.harness.fixtures import rolled_back

CHECKPOINT_CRON = "mcp_server_odoo.cron_mcp_audit_checkpoint"
PRUNE_CRON = "mcp_server_odoo.cron_mcp_audit_prune"
RATE_FIELDS = (
    "mcp_rate_limit_calls",
    "mcp_rate_limit_ip_calls",
    "mcp_rate_limit_ip_failures",
    "mcp_rate_limit_oauth_calls",
)


def _mcp_fields(env):
    settings = env["res.config.settings"]
    return {
        name: field
        for name, field in settings._fields.items()
        if name.startswith("mcp_") and field.config_parameter
    }


def _save(env, **values):
    """Open the settings page as the administrator, change ``values``, save."""
    admin = env.ref("base.user_admin")
    settings = env["res.config.settings"].with_user(admin)
    settings.create(values).execute()
    return settings.create({})


def _param(env, field_name):
    key = env["res.config.settings"]._fields[field_name].config_parameter
    return env["ir.config_parameter"].sudo().get_param(key)


def _other_value(field, index):
    """A valid value for ``field`` that is not its default."""
    if field.type == "integer":
        return 7000 + index
    if field.type == "boolean":
        return True
    if field.type == "selection":
        return "closed"
    return f"value-{index}.example.com"


# -- every field -------------------------------------------------------------------


def test_the_page_covers_every_mcp_field(odoo_env):
    arch = odoo_env["res.config.settings"].get_views([(False, "form")])["views"]
    form = arch["form"]["arch"]
    missing = [name for name in _mcp_fields(odoo_env) if f'name="{name}"' not in form]
    assert missing == []


def test_every_mcp_field_saves_and_reads_back(odoo_env):
    fields_ = _mcp_fields(odoo_env)
    values = {
        name: _other_value(field, index)
        for index, (name, field) in enumerate(sorted(fields_.items()))
    }
    for name, field in fields_.items():
        assert values[name] != (field.default(None) if field.default else False), name
    reopened = _save(odoo_env, **values)
    assert {name: reopened[name] for name in fields_} == values
    stored = {name: _param(odoo_env, name) for name in fields_}
    assert stored == {name: str(value) for name, value in values.items()}


# -- 0 stays 0 ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ZERO_MEANS_OFF)
def test_a_zero_is_stored_as_zero_not_as_the_default(odoo_env, name):
    _save(odoo_env, **{name: 5})
    reopened = _save(odoo_env, **{name: 0})
    assert _param(odoo_env, name) == "0"
    assert reopened[name] == 0


def test_rate_limits_saved_at_zero_are_off(odoo_env):
    _save(
        odoo_env, **dict.fromkeys((*RATE_FIELDS, "mcp_oauth_registrations_per_hour"), 0)
    )
    limits = odoo_env["mcp.rate.limit"]._rate_settings()
    off = (limits.calls, limits.ip_calls, limits.ip_failures, limits.oauth_calls)
    assert off == (0, 0, 0, 0)
    assert oauth_settings.read(odoo_env).registrations_per_hour == 0


def test_saving_another_setting_leaves_limits_that_are_off_off(odoo_env):
    # The test database starts with every rate limit parameter at "0".
    assert {_param(odoo_env, name) for name in RATE_FIELDS} == {"0"}
    _save(odoo_env, mcp_max_limit=250)
    assert {_param(odoo_env, name) for name in RATE_FIELDS} == {"0"}
    assert odoo_env["mcp.rate.limit"]._rate_settings().calls == 0


# -- the retention, through the crons ------------------------------------------------


def _old_events_up_to_a_checkpoint(env, days):
    """Sign a checkpoint (the cron), then age every event it covers by ``days``.

    Time cannot pass in a test, so the events' times are moved back in SQL,
    with the append-only triggers off for the statement (as a database
    superuser could); the transaction is rolled back afterwards.
    """
    env.ref(CHECKPOINT_CRON).method_direct_trigger()
    through = env["mcp.audit.checkpoint"].search([], order="sequence desc", limit=1)
    cr = env.cr
    cr.execute("SET LOCAL session_replication_role = replica")
    cr.execute(
        "UPDATE mcp_audit_event SET event_time = event_time - make_interval(days => %s)"
        " WHERE sequence <= %s",
        [days, through.sequence],
    )
    cr.execute("SET LOCAL session_replication_role = origin")
    return through.sequence


def _count_through(cr, sequence):
    cr.execute("SELECT count(*) FROM mcp_audit_event WHERE sequence <= %s", [sequence])
    return cr.fetchone()[0]


def _some_events(registry, count=3):
    for index in range(count):
        audit_step.append_committed(
            registry.db_name,
            {
                "method": "ping",
                "outcome": "success",
                "request_id": f"retention-{index}",
            },
        )


def test_retention_saved_at_zero_keeps_events_older_than_a_year(orm_registry):
    _some_events(orm_registry)
    with rolled_back(orm_registry) as env:
        through = _old_events_up_to_a_checkpoint(env, 800)
        before = _count_through(env.cr, through)
        _save(env, mcp_audit_retention_days=0)
        env.ref(PRUNE_CRON).method_direct_trigger()
        assert _count_through(env.cr, through) == before > 0
        assert _param(env, "mcp_audit_retention_days") == "0"
        env.cr.execute("SELECT count(*) FROM mcp_audit_pending")
        assert env.cr.fetchone()[0] == 0


def test_a_retention_of_a_year_prunes_older_events_up_to_the_checkpoint(orm_registry):
    _some_events(orm_registry)
    with rolled_back(orm_registry) as env:
        through = _old_events_up_to_a_checkpoint(env, 800)
        _save(env, mcp_audit_retention_days=365)
        env.ref(PRUNE_CRON).method_direct_trigger()
        assert _count_through(env.cr, through) == 0
        env.cr.execute("SELECT payload FROM mcp_audit_pending")
        assert f"pruned through {through}" in env.cr.fetchone()[0]
        report = mcp_audit.verify_chain(env)
        assert report["ok"], report
