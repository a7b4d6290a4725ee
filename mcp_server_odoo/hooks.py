"""Uninstalling removes what the addon created outside Odoo's models.

Odoo drops the tables of the addon's models (the audit log with them: export
it first). What it does not know of is dropped here: the SQL functions behind
the audit chain and the token check, and the rate-limit counters' table.
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS mcp_audit_append() CASCADE;
DROP FUNCTION IF EXISTS mcp_audit_guard() CASCADE;
DROP FUNCTION IF EXISTS mcp_audit_prune_guard() CASCADE;
DROP FUNCTION IF EXISTS mcp_audit_head_guard() CASCADE;
DROP FUNCTION IF EXISTS mcp_audit_canonical(mcp_audit_event);
DROP FUNCTION IF EXISTS mcp_audit_copy_text(text);
DROP FUNCTION IF EXISTS mcp_oauth_access_check(varchar, integer);
DROP TABLE IF EXISTS mcp_rate_limit;
"""


def uninstall_hook(env):
    env.cr.execute(DROP_SQL)
