"""Rate limits: per address before authentication, per user and client after.

Two steps share one round trip to the counters (``mcp.rate.limit``):

- ``rate_limit_ip`` (25, before authentication) counts every message per
  remote address and, when the credential was missing or refused, a failure
  per address. A message without a valid credential is answered here when
  either count is over its limit; one with a valid credential carries its
  address count on to the next step.
- ``rate_limit`` (40, after authentication) counts the message for its user
  and client (OAuth client id, or "api_key"), together with the address count.

A refused message gets ``429`` with ``Retry-After`` and a JSON-RPC error.
"""

import logging

from odoo import SUPERUSER_ID, api

from ..protocol import errors

_logger = logging.getLogger(__name__)

PENDING = "rate_limit_pending"


class RateLimited(errors.McpError):
    def __init__(self, retry_after):
        super().__init__(
            errors.RATE_LIMITED,
            f"Rate limit exceeded: retry after {retry_after} seconds",
            status=429,
            data={"retryAfter": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def _limiter(ctx):
    # SUPERUSER_ID: counters and settings are the addon's own bookkeeping; no
    # customer record is read through this environment.
    return api.Environment(ctx.cr, SUPERUSER_ID, {})["mcp.rate.limit"]


def _refuse(ctx, who, retry_after):
    ctx.error_type = "rate_limited"
    _logger.info(
        "MCP rate limit DENY %s from %s (retry after %ss)",
        who,
        ctx.remote_addr,
        retry_after,
    )
    raise RateLimited(retry_after)


def rate_limit_ip(ctx, call_next):
    limiter = _limiter(ctx)
    settings = limiter._rate_settings()
    address = ctx.remote_addr or "unknown"
    hits = []
    if settings.ip_calls:
        hits.append((f"ip:{address}", settings.ip_calls, settings.window))
    if ctx.auth.uid is not None:
        ctx.extra[PENDING] = hits
        return call_next(ctx)
    if settings.ip_failures:
        hits.append((f"fail:{address}", settings.ip_failures, settings.window))
    allowed, retry_after = limiter._hit_many(hits)
    if not allowed:
        _refuse(ctx, "unauthenticated", retry_after)
    return call_next(ctx)


def rate_limit(ctx, call_next):
    limiter = _limiter(ctx)
    settings = limiter._rate_settings()
    hits = list(ctx.extra.pop(PENDING, ()))
    who = f"uid {ctx.auth.uid} client {ctx.auth.client or ctx.auth.kind}"
    if settings.calls:
        hits.append(
            (
                f"user:{ctx.auth.uid}:{ctx.auth.client or ctx.auth.kind}",
                settings.calls,
                settings.window,
            )
        )
    allowed, retry_after = limiter._hit_many(hits)
    if not allowed:
        _refuse(ctx, who, retry_after)
    return call_next(ctx)
