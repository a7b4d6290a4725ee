"""``mcp.policy``: casbin model and rules, managed by MCP Administrators.

Every save is validated by building the enforcer (a broken policy is refused
with casbin's reason, and the stored one stays in force), gets a new version
and leaves a revision behind. At most one policy is in force; its id and
version are published in ``mcp_server_odoo.policy_revision``, which every
worker reads on each request (see chain/policy.py).
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..chain import policy as policy_step

# The same text as policies/model.conf (a test keeps them equal).
DEFAULT_MODEL = """\
[request_definition]
r = sub, com, obj, act, cls

[policy_definition]
p = sub, com, obj, act, cls, eft, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = subject(r.sub, p.sub) && keyMatch(r.com, p.com) && keyMatch(r.obj, p.obj) \
&& keyMatch(r.act, p.act) && keyMatch(r.cls, p.cls) && condition(r.sub, p.cond)
"""

TEXT_FIELDS = ("model_text", "policy_text")


class McpPolicy(models.Model):
    _name = "mcp.policy"
    _description = "MCP policy (casbin)"
    _order = "is_active desc, name"

    name = fields.Char(required=True)
    model_text = fields.Text(
        string="Casbin model", required=True, default=DEFAULT_MODEL
    )
    policy_text = fields.Text(
        string="Rules",
        required=True,
        help="One rule per line, e.g. 'p, *, *, hr.*, *, *, deny, *'; "
        "'g, user:alice, role:analyst' gives a role. Lines starting with # are "
        "comments.",
    )
    version = fields.Integer(readonly=True, default=1, copy=False)
    is_active = fields.Boolean(string="In force", readonly=True, copy=False)
    revision_ids = fields.One2many(
        "mcp.policy.revision", "policy_id", string="Revisions", readonly=True
    )

    @api.constrains(*TEXT_FIELDS)
    def _check_loads(self):
        for policy in self:
            try:
                policy_step.validate(policy.model_text, policy.policy_text)
            except policy_step.PolicyError as exc:
                raise ValidationError(
                    _(
                        "The policy %(name)s does not load: %(reason)s",
                        name=policy.name,
                        reason=exc,
                    )
                ) from exc

    @api.model_create_multi
    def create(self, vals_list):
        policies = super().create(vals_list)
        policies._record_revision()
        return policies

    def write(self, vals):
        if not any(name in vals for name in TEXT_FIELDS):
            return super().write(vals)
        for policy in self:
            super(McpPolicy, policy).write(dict(vals, version=policy.version + 1))
        self._record_revision()
        self.filtered("is_active")._publish()
        return True

    def unlink(self):
        active = any(self.mapped("is_active"))
        result = super().unlink()
        if active:
            self._publish_none()
        return result

    def action_activate(self):
        self.ensure_one()
        self.search([("is_active", "=", True), ("id", "!=", self.id)]).write(
            {"is_active": False}
        )
        self.is_active = True
        self._publish()

    def action_deactivate(self):
        self.write({"is_active": False})
        self._publish_none()

    def _record_revision(self):
        # sudo: revisions are read-only history written by the addon itself.
        self.env["mcp.policy.revision"].sudo().create(
            [
                {
                    "policy_id": policy.id,
                    "version": policy.version,
                    "model_text": policy.model_text,
                    "policy_text": policy.policy_text,
                }
                for policy in self
            ]
        )

    def _publish(self):
        for policy in self:
            # sudo: the addon's own parameter; set_param also tells every
            # worker (registry cache signaling) to read it again.
            self.env["ir.config_parameter"].sudo().set_param(
                policy_step.REVISION_PARAM, f"{policy.id}:{policy.version}"
            )

    def _publish_none(self):
        self.env["ir.config_parameter"].sudo().set_param(policy_step.REVISION_PARAM, "")

    @api.model
    def _mcp_active_policy(self):
        return self.search([("is_active", "=", True)], limit=1) or None


class McpPolicyRevision(models.Model):
    _name = "mcp.policy.revision"
    _description = "MCP policy revision"
    _order = "policy_id, version desc"

    policy_id = fields.Many2one("mcp.policy", required=True, ondelete="cascade")
    version = fields.Integer(required=True)
    model_text = fields.Text(required=True)
    policy_text = fields.Text(required=True)
