"""Refuse messages without a valid credential; bind the rest to their user.

The credential itself is checked by ``ir.http._auth_method_mcp`` in Odoo's own
request pipeline (hash lookup, expiry, active user); this step turns its verdict
into a 401 or into an environment of that user and nothing more.
"""

from odoo import api

from ..protocol import errors


class Unauthenticated(errors.McpError):
    """401; ``oauth_error`` is "invalid_token" when a credential was sent."""

    def __init__(self, message, *, oauth_error=None):
        super().__init__(errors.UNAUTHENTICATED, message, status=401)
        self.oauth_error = oauth_error


def authentication(ctx, call_next):
    auth = ctx.auth
    if auth.uid is None:
        if auth.error:
            raise Unauthenticated(
                f"Unauthorized: {auth.error}", oauth_error="invalid_token"
            )
        raise Unauthenticated(
            "Unauthorized: send an access token in the Authorization header "
            "(Authorization: Bearer <token>)"
        )
    env = api.Environment(ctx.cr, auth.uid, {})
    user = env.user
    # context_get() is cached per user: lang and tz for labels and dates. The
    # mcp_* keys let tools bind handles (exports, idempotency keys) to the
    # client and grant that created them; they identify, they are not secrets.
    context = dict(
        ctx.base_context,
        **user.context_get(),
        mcp_auth_kind=auth.kind,
        mcp_client=auth.client,
        mcp_token_family=auth.token_family,
    )
    ctx.env = env(context=context)
    return call_next(ctx)
