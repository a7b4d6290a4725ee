from . import audit_export, export, mcp, oauth, well_known
