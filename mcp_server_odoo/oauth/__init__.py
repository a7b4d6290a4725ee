"""The OAuth 2.1 authorization server of /mcp, built on authlib.

One module per concern: ``digests`` (keyed digests of every secret we hand
out), ``redirects`` (redirect URI rules), ``adapters`` (authlib's model
interfaces over Odoo records), ``grants`` (authorization code with PKCE S256,
rotating refresh tokens), ``endpoints`` (revocation, introspection,
registration), ``metadata`` (RFC 8414 and RFC 9728 documents), ``cimd``
(Client ID Metadata Documents) and ``server`` (the authlib server with Odoo's
request and response).
"""
