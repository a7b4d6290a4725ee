"""A chain step and a tool family, added through mcp.server's hooks only."""

from odoo import api, models

from odoo.addons.mcp_server_odoo.chain import Step
from odoo.addons.mcp_server_odoo.tools import tool

# What the step leaves where a client can see it: a key of every answer's
# _meta, and a key of the environment context the tools run with.
META_KEY = "mcp_test_extension/step"
CONTEXT_KEY = "mcp_test_extension_step"


def stamp(ctx, call_next):
    """After authentication and the rate limit, before policy and dispatch."""
    ctx.env = ctx.env(context=dict(ctx.env.context, **{CONTEXT_KEY: ctx.method}))
    result = call_next(ctx)
    if isinstance(result, dict):
        result.setdefault("_meta", {})[META_KEY] = {
            "method": ctx.method,
            "uid": ctx.env.uid,
        }
    return result


@tool(
    "test_extension_echo",
    title="Echo (test extension)",
    description="Returns its text, the caller's login and the step's mark.",
    input_schema={
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "text": {"type": "string"},
            "login": {"type": "string"},
            "step": {"type": ["string", "null"]},
        },
    },
)
def echo(env, arguments):
    return {
        "text": arguments["text"],
        "login": env.user.login,
        "step": env.context.get(CONTEXT_KEY),
    }


class McpServer(models.AbstractModel):
    _inherit = "mcp.server"

    @api.model
    def _mcp_chain_steps(self):
        return [*super()._mcp_chain_steps(), Step("test_extension", 45, stamp)]

    @api.model
    def _mcp_tool_families(self):
        return [*super()._mcp_tool_families(), [echo]]
