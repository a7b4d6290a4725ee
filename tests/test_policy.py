"""Casbin policies: the examples, validation and versions, the chain step."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from odoo.exceptions import ValidationError
from odoo.modules.registry import Registry

from odoo.addons.mcp_server_odoo.chain import AuthResult
from odoo.addons.mcp_server_odoo.chain import policy as policy_step
from odoo.addons.mcp_server_odoo.models.mcp_policy import DEFAULT_MODEL

from tests.harness.fixtures import run_message, tools_call

POLICIES = Path(__file__).resolve().parents[1] / "policies"
MODEL = (POLICIES / "model.conf").read_text()
ALLOW_ALL = "p, *, *, *, *, *, allow, *"
PARTNER = "res.partner"


def example(name):
    return (POLICIES / name).read_text()


def subject(*names, tz="UTC"):
    return policy_step.Subject(tuple(names), tz)


def decide(policy_text, sub, obj, act, cls, company="1"):
    engine = policy_step.Engine(MODEL, policy_text)
    return engine._enforce(sub, company, obj, act, cls)[0]


@pytest.fixture
def call(odoo_env):
    """``call(user, tool, arguments)`` -> (ctx, CallToolResult) through the chain."""
    policy_step.clear_engines()

    def run(user, name, arguments):
        auth = AuthResult(uid=user.id, kind="api_key")
        return run_message(
            odoo_env, tools_call(name, arguments), auth, remote_addr="::1"
        )

    yield run
    policy_step.clear_engines()


@pytest.fixture
def enforce(odoo_env):
    """``enforce(policy_text)`` puts a policy in force and switches policies on."""

    def apply(policy_text, name="test"):
        policy = odoo_env["mcp.policy"].create(
            {"name": name, "policy_text": policy_text}
        )
        policy.action_activate()
        odoo_env["ir.config_parameter"].set_param(policy_step.ENABLED_PARAM, "True")
        return policy

    return apply


# -- the files in policies/ -----------------------------------------------------------


def test_the_shipped_model_is_the_default_of_new_policies():
    assert MODEL == DEFAULT_MODEL


@pytest.mark.parametrize("name", sorted(path.name for path in POLICIES.glob("*.csv")))
def test_every_example_policy_loads(name):
    policy_step.validate(MODEL, example(name))


def test_read_only_analyst_reads_but_never_writes_exports_or_administers():
    text = example("read_only_analyst.csv")
    analyst = subject("user:analyst@example.com", "group:base.group_user")
    by_group = subject("user:carol", "group:account.group_account_readonly")
    other = subject("user:bob", "group:base.group_user")
    for who in (analyst, by_group):
        assert decide(text, who, PARTNER, "search_records", "read")
        for cls in ("write", "export", "admin"):
            assert not decide(text, who, PARTNER, "some_tool", cls)
    assert decide(text, other, PARTNER, "create_records", "write")


def test_no_hr_payroll_hides_every_hr_model_from_everyone():
    text = example("no_hr_payroll.csv")
    admin = subject("user:admin", "group:base.group_system")
    for model in ("hr.employee", "hr.payslip", "hr.contract", "hr_timesheet.sheet"):
        assert not decide(text, admin, model, "search_records", "read")
    assert decide(text, admin, PARTNER, "search_records", "read")
    assert decide(text, admin, "", "list_models", "read")


def test_no_exports_refuses_the_export_class_only():
    text = example("no_exports.csv")
    who = subject("user:bob")
    assert not decide(text, who, PARTNER, "export_records", "export")
    assert decide(text, who, PARTNER, "search_records", "read")


@pytest.mark.parametrize(
    "when, tz, inside",
    [
        ("2026-12-02T09:30:00+00:00", "UTC", True),  # Wednesday morning
        ("2026-12-02T18:00:00+00:00", "UTC", False),  # closing time
        ("2026-12-05T10:00:00+00:00", "UTC", False),  # Saturday
        # 07:30 UTC is 08:30 in Brussels (winter) but 02:30 in New York.
        ("2026-12-02T07:30:00+00:00", "Europe/Brussels", True),
        ("2026-12-02T07:30:00+00:00", "America/New_York", False),
        ("2026-12-02T09:30:00+00:00", "Not/AZone", True),  # unknown: UTC
    ],
)
def test_office_hours_are_read_in_the_users_time_zone(when, tz, inside):
    now = datetime.fromisoformat(when).astimezone(timezone.utc)
    check = policy_step.TIME_CONDITIONS
    assert check["office_hours"](subject("user:x", tz=tz), now) is inside
    assert check["outside_office_hours"](subject("user:x", tz=tz), now) is not inside


def test_office_hours_writes_denies_writes_outside_office_hours():
    text = example("office_hours_writes.csv")
    engine = policy_step.Engine(MODEL, text)
    assert engine.time_dependent
    who = subject("user:bob", tz="UTC")
    inside = policy_step._in_office_hours("UTC")
    assert engine._enforce(who, "1", PARTNER, "update_records", "write")[0] is inside
    assert engine._enforce(who, "1", PARTNER, "search_records", "read")[0]


@pytest.mark.parametrize(
    "model_text, policy_text, reason",
    [
        (MODEL, "p, *, *, *", "p rules have 7 fields, this one has 3"),
        (MODEL, "q, a, b", "unknown rule type 'q'"),
        (MODEL, "p, *, *, *, *, *, allow, at_lunch", "unknown condition 'at_lunch'"),
        ("[request_definition]\nr = sub\n", ALLOW_ALL, "the model lacks"),
        (MODEL.replace("keyMatch(r.obj", "nope(r.obj"), ALLOW_ALL, "nope"),
        ("not a model", ALLOW_ALL, "RuntimeError"),
    ],
)
def test_a_broken_policy_is_refused_with_the_reason(model_text, policy_text, reason):
    with pytest.raises(policy_step.PolicyError, match=reason):
        policy_step.validate(model_text, policy_text)


# -- the stored policies ------------------------------------------------------------


def test_saving_bumps_the_version_keeps_a_revision_and_publishes_it(odoo_env, enforce):
    policy = enforce(ALLOW_ALL)
    params = odoo_env["ir.config_parameter"]
    assert params.get_param(policy_step.REVISION_PARAM) == f"{policy.id}:1"
    policy.policy_text = ALLOW_ALL + "\np, *, *, hr.*, *, *, deny, *"
    assert policy.version == 2
    assert params.get_param(policy_step.REVISION_PARAM) == f"{policy.id}:2"
    revisions = {rev.version: rev.policy_text for rev in policy.revision_ids}
    assert sorted(revisions) == [1, 2]
    assert revisions[1] == ALLOW_ALL


def test_a_broken_save_is_refused_and_the_last_good_one_stays(odoo_env, enforce):
    policy = enforce(ALLOW_ALL)
    with pytest.raises(ValidationError, match="line 1: p rules have 7 fields"):
        with odoo_env.cr.savepoint():
            policy.write({"policy_text": "p, *, *"})
    policy.invalidate_recordset()
    assert (policy.policy_text, policy.version) == (ALLOW_ALL, 1)
    assert odoo_env["mcp.policy"]._mcp_active_policy() == policy


def test_only_one_policy_is_in_force(odoo_env, enforce):
    first = enforce(ALLOW_ALL, name="first")
    second = enforce(ALLOW_ALL, name="second")
    assert (first.is_active, second.is_active) == (False, True)
    second.action_deactivate()
    assert odoo_env["ir.config_parameter"].get_param(policy_step.REVISION_PARAM) in (
        "",
        False,
    )


# -- the chain step -----------------------------------------------------------------


def test_policies_are_off_by_default(odoo_env, call, make_user):
    odoo_env["mcp.policy"].create(
        {"name": "deny all", "policy_text": "p, *, *, *, *, *, deny, *"}
    ).action_activate()
    ctx, result = call(make_user(), "list_models", {"limit": 1})
    assert result["isError"] is False
    assert ctx.decision is None


def test_a_denied_call_names_the_rule_and_marks_the_context(call, enforce, make_user):
    enforce(ALLOW_ALL + "\np, *, *, res.partner, *, *, deny, *")
    ctx, result = call(make_user(), "search_records", {"model": PARTNER})
    assert result["isError"] is True
    rule = "p, *, *, res.partner, *, *, deny, *"
    assert result["content"][0]["text"] == f"Denied by policy rule {rule}"
    assert (ctx.decision, ctx.rule, ctx.error_type) == ("deny", rule, "policy_denied")
    # The stored event says the same: the deny, the rule, the model.
    with Registry(ctx.cr.dbname).cursor() as cr:
        cr.execute(
            "SELECT outcome, decision, rule, target_model FROM mcp_audit_event"
            " WHERE trace_id = %s",
            [ctx.trace_id],
        )
        assert cr.fetchall() == [("denied_policy", "deny", rule, PARTNER)]
    ctx, result = call(make_user(), "search_records", {"model": "res.country"})
    assert result["isError"] is False
    assert (ctx.decision, ctx.rule) == ("allow", "p, " + ALLOW_ALL[3:])


def test_switched_on_without_a_policy_in_force_everything_is_refused(
    odoo_env, call, make_user
):
    odoo_env["ir.config_parameter"].set_param(policy_step.ENABLED_PARAM, "True")
    ctx, result = call(make_user(), "list_models", {"limit": 1})
    assert result["isError"] is True
    assert ctx.rule == "no policy is in force"


def test_a_new_version_applies_on_the_next_call_without_a_restart(
    call, enforce, make_user
):
    user = make_user()
    policy = enforce(ALLOW_ALL)
    assert call(user, "list_models", {"limit": 1})[1]["isError"] is False
    policy.policy_text = ALLOW_ALL + "\np, *, *, *, list_models, *, deny, *"
    assert call(user, "list_models", {"limit": 1})[1]["isError"] is True
    policy.policy_text = ALLOW_ALL
    assert call(user, "list_models", {"limit": 1})[1]["isError"] is False


def test_decisions_are_cached_per_version(call, enforce, make_user, monkeypatch):
    seen = []
    original = policy_step.Engine._enforce

    def counting(self, *args):
        seen.append(args[1:])
        return original(self, *args)

    monkeypatch.setattr(policy_step.Engine, "_enforce", counting)
    user = make_user()
    policy = enforce(ALLOW_ALL)
    for _ in range(3):
        call(user, "list_models", {"limit": 1})
    assert len(seen) == 1
    policy.policy_text = ALLOW_ALL + "\n# version 2"
    call(user, "list_models", {"limit": 1})
    assert len(seen) == 2


def test_a_casbin_allow_never_widens_what_odoo_denies(call, enforce, make_user):
    """An explicit allow for this user on a model Odoo hides changes nothing."""
    user = make_user(groups=("base.group_user",))
    enforce(
        ALLOW_ALL + f"\np, user:{user.login}, *, ir.config_parameter, *, *, allow, *"
    )
    ctx, result = call(user, "search_records", {"model": "ir.config_parameter"})
    # The policy allowed; Odoo's refusal is the final decision, and says so.
    assert ctx.error_type == "access_denied"
    assert (ctx.decision, ctx.rule) == ("deny", "odoo:acl")
    assert result["isError"] is True
    assert "not allowed to read" in result["content"][0]["text"]


def test_the_request_names_the_user_groups_company_model_and_tool_class(
    odoo_env, make_user
):
    user = make_user(groups=("base.group_user",), tz="Europe/Brussels")
    sub = policy_step._subject_of(odoo_env(user=user))
    assert sub.names[0] == f"user:{user.login}"
    assert "group:base.group_user" in sub.names
    assert sub.tz == "Europe/Brussels"
    tools = odoo_env["mcp.server"]._mcp_assembled()[1]
    assert policy_step.tool_class(tools.get("search_records")) == "read"


def test_the_company_is_sent_only_when_a_rule_names_one():
    assert not policy_step.Engine(MODEL, ALLOW_ALL).uses_company
    named = ALLOW_ALL + "\np, *, 2, *, *, write, deny, *"
    engine = policy_step.Engine(MODEL, named)
    assert engine.uses_company
    who = subject("user:bob")
    assert not engine._enforce(who, "2", PARTNER, "update_records", "write")[0]
    assert engine._enforce(who, "1", PARTNER, "update_records", "write")[0]
