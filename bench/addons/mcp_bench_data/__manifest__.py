{  # noqa: B018
    "name": "MCP benchmark data",
    "summary": "Sale-order-like rows for bench/analytics_vs_sql.py; never install it "
    "in a real database",
    "version": "18.0.1.0.0",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv", "security/bench_security.xml"],
    "installable": True,
}
