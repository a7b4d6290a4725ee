"""The administrator's choices for the authorization server, read in one place.

Every value is an ``ir.config_parameter`` shown in the MCP settings page.
"""

import logging
from dataclasses import dataclass

_logger = logging.getLogger(__name__)

PREFIX = "mcp_server_odoo."
SCOPE = "mcp"
# OAuth 2.1 §4.1.2 recommends a short code lifetime; ours is fixed.
CODE_LIFETIME = 60
REGISTRATION_MODES = ("open", "restricted", "closed")

DEFAULTS = {
    "oauth_access_token_lifetime": 3600,
    "oauth_refresh_idle_lifetime": 14 * 86400,
    "oauth_refresh_absolute_lifetime": 90 * 86400,
    "oauth_registrations_per_hour": 20,
}


@dataclass(frozen=True)
class OAuthSettings:
    access_token_lifetime: int
    refresh_idle_lifetime: int
    refresh_absolute_lifetime: int
    registration_mode: str
    registration_hosts: frozenset
    registrations_per_hour: int
    cimd_allow_private: bool
    accept_api_keys: bool
    issuer_url: str | None


def _int(params, key, minimum=1):
    default = DEFAULTS[key]
    try:
        value = int(params.get_param(PREFIX + key, default))
    except (TypeError, ValueError):
        _logger.warning("MCP setting %s is not an integer; using %s", key, default)
        return default
    return max(value, minimum)


def _flag(params, key):
    return (params.get_param(PREFIX + key) or "").strip().lower() in {"1", "true"}


def read(env):
    """The current :class:`OAuthSettings` of ``env``'s database."""
    # sudo: the addon's own configuration, not customer data.
    params = env["ir.config_parameter"].sudo()
    mode = params.get_param(PREFIX + "oauth_registration_mode") or "restricted"
    hosts = params.get_param(PREFIX + "oauth_registration_hosts") or ""
    issuer = (params.get_param(PREFIX + "oauth_issuer_url") or "").strip().rstrip("/")
    return OAuthSettings(
        access_token_lifetime=_int(params, "oauth_access_token_lifetime", 60),
        refresh_idle_lifetime=_int(params, "oauth_refresh_idle_lifetime", 60),
        refresh_absolute_lifetime=_int(params, "oauth_refresh_absolute_lifetime", 60),
        registration_mode=mode if mode in REGISTRATION_MODES else "closed",
        registration_hosts=frozenset(
            host.strip().lower() for host in hosts.split(",") if host.strip()
        ),
        registrations_per_hour=_int(params, "oauth_registrations_per_hour", 0),
        cimd_allow_private=_flag(params, "oauth_cimd_allow_private"),
        accept_api_keys=_flag(params, "accept_api_keys"),
        issuer_url=issuer or None,
    )
