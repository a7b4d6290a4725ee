"""``mcp.server``: where the chain and the tool registry are assembled.

Both are built once per registry (at start-up, in ``_register_hook``, so that a
duplicate tool or step name stops the server loudly) and reused for every
message. Other addons extend the two list-returning hooks.
"""

import logging
from dataclasses import dataclass

from odoo import api, models, tools
from odoo.modules.module import get_manifest

from .. import telemetry
from ..chain import Chain, Context, Step
from ..chain.audit import audit
from ..chain.authentication import authentication
from ..chain.dispatch import dispatch_step
from ..chain.policy import policy
from ..chain.rate_limit import rate_limit, rate_limit_ip
from ..chain.tracing import traced_step, tracing
from ..protocol.transport import TransportSettings, normalize_origins
from ..tools import ToolRegistry
from ..tools import analytics as analytics_tools
from ..tools import export as export_tools
from ..tools import models as model_tools
from ..tools import records as record_tools
from ..tools import writes as write_tools

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "mcp_server_odoo."


@dataclass(frozen=True)
class McpSettings:
    version: str
    tools_page_size: int
    transport: TransportSettings


def _int_param(params, key, default, minimum=1):
    try:
        value = int(params.get_param(PARAM_PREFIX + key, default))
    except (TypeError, ValueError):
        _logger.warning("MCP setting %s is not an integer; using %s", key, default)
        return default
    return max(value, minimum)


class McpServer(models.AbstractModel):
    _name = "mcp.server"
    _description = "MCP server (chain and tool registry)"

    # -- extension points -------------------------------------------------------

    @api.model
    def _mcp_chain_steps(self):
        """Chain steps as :class:`Step` records; extend with ``super() + [...]``.

        Sequences: tracing 10, audit 20, rate limit per address 25,
        authentication 30, rate limit 40,
        policy 50, dispatch 100.
        """
        return [
            Step("tracing", 10, tracing),
            Step("audit", 20, audit),
            Step("rate_limit_ip", 25, rate_limit_ip),
            Step("authentication", 30, authentication),
            Step("rate_limit", 40, rate_limit),
            Step("policy", 50, policy),
            Step("dispatch", 100, dispatch_step),
        ]

    @api.model
    def _mcp_tool_families(self):
        """Lists of :class:`~..tools.Tool`; extend with ``super() + [MY_TOOLS]``."""
        return [
            model_tools.TOOLS,
            record_tools.TOOLS,
            write_tools.TOOLS,
            analytics_tools.TOOLS,
            export_tools.TOOLS,
        ]

    # -- assembly -----------------------------------------------------------------

    def _register_hook(self):
        super()._register_hook()
        telemetry.setup()
        self._mcp_assembled()

    @api.model
    def _mcp_assembled(self):
        cls = type(self)
        if "_mcp_cache" not in cls.__dict__:
            steps = self._mcp_chain_steps()
            wrapped = [
                step
                if step.name == "tracing"
                else Step(step.name, step.sequence, traced_step(step.name, step.func))
                for step in steps
            ]
            cls._mcp_cache = (Chain(wrapped), ToolRegistry(self._mcp_tool_families()))
        return cls._mcp_cache

    @api.model
    @tools.ormcache()
    def _mcp_settings(self):
        """Read once per registry; writing a system parameter clears it."""
        # sudo: the addon's own configuration, not customer data.
        params = self.env["ir.config_parameter"].sudo()
        origins = (params.get_param(PARAM_PREFIX + "allowed_origins") or "").split(",")
        base_url = params.get_param("web.base.url")
        transport = TransportSettings(
            max_body_bytes=_int_param(params, "max_body_bytes", 1_048_576, 1024),
            allowed_origins=normalize_origins([*origins, base_url or ""]),
        )
        return McpSettings(
            version=get_manifest("mcp_server_odoo")["version"],
            tools_page_size=_int_param(params, "tools_page_size", 100),
            transport=transport,
        )

    @api.model
    def _mcp_handle(self, accepted, auth, *, remote_addr=None, settings=None):
        """Run one accepted message through the chain; the result dict or None."""
        chain, tools = self._mcp_assembled()
        ctx = Context(
            message=accepted.message,
            protocol_version=accepted.protocol_version,
            auth=auth,
            cr=self.env.cr,
            remote_addr=remote_addr,
            tools=tools,
            settings=settings or self._mcp_settings(),
        )
        return ctx, chain(ctx)
