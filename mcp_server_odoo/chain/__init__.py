"""The chain every MCP message passes through, outermost step first.

A step is a callable ``step(ctx, call_next)`` that may act before and after
``call_next(ctx)``, or answer without calling it. The order is DESIGN.md's:
tracing, audit, authentication, rate limit, policy, dispatch. Steps are
collected from ``mcp.server._mcp_chain_steps()``, so another addon can add its
own without editing this one.
"""

import time
from dataclasses import dataclass, field

from .context import AuthResult, Context

__all__ = ["AuthResult", "Chain", "Context", "Step"]


@dataclass(frozen=True)
class Step:
    """A named chain step; ``sequence`` orders steps, lower runs first."""

    name: str
    sequence: int
    func: object = field(compare=False)


class Chain:
    """The assembled chain; built once per registry and reused for every message."""

    def __init__(self, steps):
        names = [step.name for step in steps]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"duplicate MCP chain steps: {sorted(duplicates)}")
        self.steps = tuple(sorted(steps, key=lambda step: step.sequence))

    @property
    def names(self):
        return [step.name for step in self.steps]

    def __call__(self, ctx):
        ctx.started = time.perf_counter()
        return self._call_at(0, ctx)

    def _call_at(self, index, ctx):
        if index == len(self.steps):
            raise RuntimeError("the MCP chain ended without a dispatch step")
        step = self.steps[index]
        return step.func(ctx, lambda next_ctx: self._call_at(index + 1, next_ctx))
