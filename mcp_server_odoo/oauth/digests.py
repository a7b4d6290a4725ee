"""Keyed digests: the only form in which tokens, codes and secrets are stored.

Every credential the authorization server hands out is a random string with a
short prefix naming its kind (``mcpat_`` access token, ``mcprt_`` refresh
token, ``mcpac_`` authorization code, ``mcpcs_`` client secret). The database
keeps HMAC-SHA256 digests of them under a key that lives in Odoo's server
configuration (``mcp_oauth_hmac_key`` in the ``[options]`` section), never in
the database, so a copy of the database yields nothing that can be replayed
(RFC 9700 §4.14, RFC 6819 §5.1.4.1.3).

One sub-key per purpose is derived from the configured key with HKDF
(RFC 5869), so that a digest of one kind can never be confused with another.
This module keeps no key material of its own anywhere but in memory.
"""

import hmac
import secrets
from hashlib import sha256

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CONFIG_KEY = "mcp_oauth_hmac_key"
MIN_KEY_LENGTH = 32

# Names of purposes, not secrets.
ACCESS_TOKEN = "access_token"  # noqa: S105
REFRESH_TOKEN = "refresh_token"  # noqa: S105
CODE = "code"
CLIENT_SECRET = "client_secret"  # noqa: S105
PASSWORD_STAMP = "password_stamp"  # noqa: S105

PREFIXES = {
    ACCESS_TOKEN: "mcpat_",
    REFRESH_TOKEN: "mcprt_",
    CODE: "mcpac_",
    CLIENT_SECRET: "mcpcs_",
}
_SALT = b"mcp_server_odoo/oauth/v1"


class KeyMissing(RuntimeError):
    """The server configuration has no usable ``mcp_oauth_hmac_key``."""


class Digester:
    """Issues secrets and computes their digests under one configured key."""

    def __init__(self, master_key):
        if not master_key or len(master_key) < MIN_KEY_LENGTH:
            raise KeyMissing(
                f"set {CONFIG_KEY} (at least {MIN_KEY_LENGTH} random characters) "
                "in the [options] section of the Odoo configuration file"
            )
        master = master_key.encode()
        self._keys = {
            purpose: _derive(master, purpose) for purpose in (*PREFIXES, PASSWORD_STAMP)
        }

    def digest(self, purpose, value):
        """Hex HMAC-SHA256 of ``value`` under the sub-key of ``purpose``."""
        return hmac.new(self._keys[purpose], value.encode(), sha256).hexdigest()

    def issue(self, purpose):
        """A fresh secret of ``purpose`` and its digest: ``(secret, digest)``."""
        value = PREFIXES[purpose] + secrets.token_urlsafe(32)
        return value, self.digest(purpose, value)

    def password_stamp(self, user_id, password_hash):
        """A short digest of a user's stored password hash.

        Taken when a grant is made and compared on every use, so that a
        password change invalidates every token of that user at once.
        """
        return self.digest(PASSWORD_STAMP, f"{user_id}:{password_hash or ''}")[:32]


def purpose_of(value):
    """The purpose whose prefix ``value`` carries, or None."""
    for purpose, prefix in PREFIXES.items():
        if value.startswith(prefix):
            return purpose
    return None


def _derive(master, purpose):
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=purpose.encode(),
        backend=default_backend(),
    )
    return hkdf.derive(master)


_cache = {}


def digester():
    """The :class:`Digester` of the running server's configuration.

    Raises :class:`KeyMissing` when the key is absent or too short: the
    authorization server then fails closed.
    """
    from odoo.tools import config  # noqa: PLC0415

    key = config.get(CONFIG_KEY) or ""
    if key not in _cache:
        _cache.clear()
        _cache[key] = Digester(key)
    return _cache[key]
