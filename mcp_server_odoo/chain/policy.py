"""Optional casbin policies: a narrowing layer beneath Odoo's own checks.

The step only ever stops a ``tools/call``; a call it lets through still meets
Odoo's access rights, record rules and companies in dispatch, so the final
decision is Odoo's AND the policy's. policies/README.md describes the request
each decision is about and the functions a model may call.

Enforcers are built once per (database, policy id, version) and kept in this
process; the version in force is an ``ir.config_parameter`` bumped on every
save, which Odoo's cache signaling brings to every worker on its next request.
A new enforcer is built completely before it is published, so no request ever
sees half of a policy.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import casbin
from casbin.persist.adapter import Adapter, _extract_tokens

from odoo import SUPERUSER_ID, api

from ..tools import error_result

_logger = logging.getLogger(__name__)
# casbin prints every model and rule it loads at INFO; policies are not log lines.
for _name in ("casbin.policy", "casbin.role", "casbin.enforcer"):
    logging.getLogger(_name).setLevel(logging.WARNING)

ENABLED_PARAM = "mcp_server_odoo.policy_enabled"
REVISION_PARAM = "mcp_server_odoo.policy_revision"
ADMIN_GROUP = "mcp_server_odoo.group_mcp_admin"
# Office hours of the example policies: Monday to Friday, 08:00 to 18:00 in
# the user's time zone.
OFFICE_DAYS = range(0, 5)
OFFICE_START, OFFICE_END = 8, 18
DECISION_CACHE_SIZE = 10_000
SECTIONS = {
    "r": "[request_definition]",
    "p": "[policy_definition]",
    "e": "[policy_effect]",
    "m": "[matchers]",
}


class PolicyError(ValueError):
    """The model or the policy text does not load; the message says why."""


@dataclass(frozen=True)
class Subject:
    """Who asks: ``user:<login>`` and ``group:<xml id>`` names, and a time zone."""

    names: tuple
    tz: str = "UTC"


# -- the functions a model may call -------------------------------------------------


def _in_office_hours(tz, now=None):
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or datetime.now(timezone.utc)).astimezone(zone)
    return local.weekday() in OFFICE_DAYS and OFFICE_START <= local.hour < OFFICE_END


TIME_CONDITIONS = {
    "office_hours": lambda sub, now=None: _in_office_hours(sub.tz, now),
    "outside_office_hours": lambda sub, now=None: not _in_office_hours(sub.tz, now),
}


def _condition(sub, name):
    if name in ("", "*"):
        return True
    check = TIME_CONDITIONS.get(name)
    # An unknown condition never matches; validation refuses it on save.
    return bool(check and check(sub))


class _TextAdapter(Adapter):
    """Policy lines from text, refusing what casbin would silently skip."""

    def __init__(self, text):
        self.text = text

    def load_policy(self, model):
        for number, line in enumerate(self.text.splitlines(), start=1):
            tokens = _extract_tokens(line.strip())
            if not tokens or tokens == [""]:
                continue
            key, values = tokens[0], tokens[1:]
            section = model.model.get(key[:1], {})
            if key not in section:
                raise PolicyError(f"line {number}: unknown rule type {key!r}")
            expected = len(section[key].tokens)
            if key.startswith("p") and len(values) != expected:
                raise PolicyError(
                    f"line {number}: {key} rules have {expected} fields, "
                    f"this one has {len(values)}"
                )
            section[key].policy.append(values)


class Engine:
    """One policy version: its enforcer and the decisions it has made."""

    def __init__(self, model_text, policy_text, *, key=None):
        self.key = key
        try:
            model = casbin.Enforcer.new_model(text=model_text)
            missing = [name for name in SECTIONS if name not in model.model]
            if missing:
                raise PolicyError(
                    "the model lacks " + ", ".join(SECTIONS[n] for n in missing)
                )
            self.enforcer = casbin.Enforcer(model, _TextAdapter(policy_text))
        except PolicyError:
            raise
        except Exception as exc:  # noqa: BLE001 - casbin raises many kinds
            raise PolicyError(f"{type(exc).__name__}: {exc}") from exc
        self.enforcer.add_function("subject", self._subject)
        self.enforcer.add_function("condition", _condition)
        self.time_dependent = self._uses_conditions()
        self.uses_company = self._uses_field("p_com")
        self._decisions = {}
        self._lock = threading.Lock()
        self._probe()

    def _uses_conditions(self):
        rules = self.enforcer.get_policy()
        tokens = self.enforcer.model.model["p"]["p"].tokens
        if "p_cond" not in tokens:
            return False
        index = tokens.index("p_cond")
        for rule in rules:
            if rule[index] not in ("", "*") and rule[index] not in TIME_CONDITIONS:
                raise PolicyError(f"unknown condition {rule[index]!r} in {rule}")
        return any(rule[index] not in ("", "*") for rule in rules)

    def _uses_field(self, token):
        """Whether any rule names a value other than * in that field."""
        tokens = self.enforcer.model.model["p"]["p"].tokens
        if token not in tokens:
            return True  # a model of its own: always send the real value
        index = tokens.index(token)
        return any(rule[index] != "*" for rule in self.enforcer.get_policy())

    def _subject(self, sub, pattern):
        """``subject(r.sub, p.sub)``: a name of the subject, a role of one, or *."""
        if pattern == "*":
            return True
        names = sub.names if isinstance(sub, Subject) else (sub,)
        if pattern in names:
            return True
        links = self.enforcer.rm_map.get("g")
        return bool(links) and any(links.has_link(name, pattern) for name in names)

    def _probe(self):
        """Evaluate the matcher once, so that a broken one fails on save."""
        try:
            self.enforcer.enforce_ex(Subject(("user:__probe__",)), "1", "", "", "read")
        except Exception as exc:  # noqa: BLE001 - casbin raises many kinds
            raise PolicyError(f"the matcher does not evaluate: {exc}") from exc

    def decide(self, subject_key, subject, *request):
        """(allowed, rule): the rule that decided, as text."""
        minute = int(datetime.now(timezone.utc).timestamp() // 60)
        key = (subject_key, *request, minute if self.time_dependent else None)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._enforce(subject(), *request)
            with self._lock:
                if len(self._decisions) >= DECISION_CACHE_SIZE:
                    self._decisions.clear()
                self._decisions[key] = decision
        return decision

    def _enforce(self, subject, company, model, tool, tool_class):
        allowed, explain = self.enforcer.enforce_ex(
            subject, company, model, tool, tool_class
        )
        if explain:
            rule = "p, " + ", ".join(explain)
        else:
            rule = "no rule allows it" if not allowed else "no rule"
        return bool(allowed), rule


def validate(model_text, policy_text):
    """Raise :class:`PolicyError` with the reason when the texts do not load."""
    Engine(model_text or "", policy_text or "")


# -- the engines of this process -----------------------------------------------------

_engines = {}
_engines_lock = threading.Lock()


def _engine(env, revision):
    key = (env.cr.dbname, revision)
    engine = _engines.get(key)
    if engine is not None:
        return engine
    # sudo: policies are the addon's own configuration, read for the check.
    policy = env["mcp.policy"].sudo()._mcp_active_policy()
    if policy is None:
        return None
    engine = Engine(policy.model_text, policy.policy_text, key=key)
    with _engines_lock:
        for old in [k for k in _engines if k[0] == key[0]]:
            del _engines[old]
        _engines[key] = engine
    return engine


def clear_engines():
    with _engines_lock:
        _engines.clear()


# -- the request ----------------------------------------------------------------------


def tool_class(item):
    """read, write, export or admin: the class a policy can name."""
    declared = getattr(item, "policy_class", None)
    if declared:
        return declared
    if ADMIN_GROUP in item.groups:
        return "admin"
    if "export" in item.name:
        return "export"
    return "read" if item.read_only else "write"


def _subject_of(env):
    user = env.user
    groups = user.groups_id.get_external_id()
    names = (f"user:{user.login}", *sorted(f"group:{x}" for x in groups.values() if x))
    return Subject(names, env.context.get("tz") or user.tz or "UTC")


def _target_models(item, arguments):
    """The models a call is about: one, several (batch_search), or "" if none."""
    try:
        targets = item.audit_targets(arguments)
    except Exception:  # noqa: BLE001 - a tool's helper must not break the check
        targets = {}
    models = targets.get("models")
    if not isinstance(models, list) or not models:
        models = [targets.get("model")]
    return [model if isinstance(model, str) else "" for model in models]


def _deny(ctx, rule):
    ctx.decision, ctx.rule, ctx.error_type = "deny", rule, "policy_denied"
    _logger.info(
        "MCP policy DENY uid %s tool %s rule %s", ctx.env.uid, ctx.target, rule
    )
    return error_result(f"Denied by policy rule {rule}")


def _asked_about(ctx, params):
    """The tool of a well-formed tools/call when policies are on, else None."""
    if ctx.method != "tools/call" or ctx.message.is_notification:
        return None
    if params.get_param(ENABLED_PARAM) not in ("True", "1", "true"):
        return None
    item = ctx.tools.get(ctx.target) if ctx.target else None
    arguments = ctx.message.params.get("arguments")
    # Anything else is a malformed call: dispatch answers what is wrong with it.
    return item if isinstance(arguments, (dict, type(None))) else None


def policy(ctx, call_next):
    # sudo: reading the addon's own settings.
    params = api.Environment(ctx.cr, SUPERUSER_ID, {})["ir.config_parameter"]
    item = _asked_about(ctx, params)
    if item is None:
        return call_next(ctx)
    arguments = ctx.message.params.get("arguments")
    try:
        engine = _engine(params.env, params.get_param(REVISION_PARAM) or "")
    except PolicyError as exc:
        _logger.error("MCP policy FAIL the policy in force does not load: %s", exc)
        return _deny(ctx, "the policy in force does not load")
    if engine is None:
        return _deny(ctx, "no policy is in force")
    env = ctx.env
    who = (env.uid, tuple(env.user._get_group_ids()))
    # Reading the current company costs a query; only asked when a rule names one.
    company = str(env.company.id) if engine.uses_company else "*"
    rules = []
    # A call about several models is allowed only if each of them is.
    for model in _target_models(item, arguments or {}):
        allowed, rule = engine.decide(
            who, lambda: _subject_of(env), company, model, item.name, tool_class(item)
        )
        if not allowed:
            return _deny(ctx, rule)
        rules.append(rule)
    ctx.decision, ctx.rule = "allow", ",".join(dict.fromkeys(rules))
    return call_next(ctx)
