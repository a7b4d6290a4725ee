"""The official ``mcp`` SDK calls every analytics tool and export_dataset.

The SDK checks each structuredContent against the tool's outputSchema and
parses the resource_link block of a large export.
"""

import uuid

import pytest

from tests.test_sdk_client import assert_clean, run_sdk, structured

pytestmark = pytest.mark.client

TOOLS = [
    "aggregate_records",
    "pivot",
    "timeseries",
    "cohort",
    "topn",
    "funnel",
    "export_dataset",
]


@pytest.fixture(scope="module")
def contacts(server_env):
    tag = f"sdkana{uuid.uuid4().hex[:8]}"
    with server_env() as env:
        parents = env["res.partner"].create(
            [{"name": f"Firm {i} {tag}", "is_company": True} for i in range(3)]
        )
        env["res.partner"].create(
            [
                {
                    "name": f"C{i} {tag}",
                    "ref": tag,
                    "parent_id": parents[i % 3].id,
                    "color": i % 4,
                    "type": ("contact", "invoice")[i % 2],
                }
                for i in range(12)
            ]
        )
        params = env["ir.config_parameter"]
        before = params.get_param("mcp_server_odoo.export_inline_rows")
        params.set_param("mcp_server_odoo.export_inline_rows", "5")
    yield tag
    with server_env() as env:
        env["ir.config_parameter"].set_param(
            "mcp_server_odoo.export_inline_rows", before or "100"
        )


def test_the_sdk_calls_every_analytics_tool(odoo_http, admin_token, contacts):
    domain = [["ref", "=", contacts]]
    base = {"model": "res.partner", "domain": domain}
    calls = [
        (
            "aggregate_records",
            {
                **base,
                "groupby": ["type"],
                "measures": ["count", "color:sum", "color:avg"],
            },
        ),
        (
            "pivot",
            {**base, "rows": ["parent_id"], "columns": ["type"], "measures": ["count"]},
        ),
        (
            "timeseries",
            {
                **base,
                "date_field": "create_date",
                "granularity": "day",
                "cumulative": True,
                "compare_previous": True,
            },
        ),
        ("cohort", {**base, "entity_field": "parent_id", "date_field": "create_date"}),
        ("topn", {**base, "groupby": "parent_id", "n": 2}),
        ("funnel", {**base, "stage_field": "type"}),
        ("export_dataset", {**base, "fields": ["name", "color"], "format": "jsonl"}),
        ("aggregate_records", {**base, "measures": ["name:sum"]}),
    ]
    report = run_sdk(f"{odoo_http.url}/mcp", admin_token, calls)
    assert_clean(report)
    listed = {tool["name"]: tool for tool in report["tools"]}
    for name in TOOLS:
        assert listed[name]["annotations"]["readOnlyHint"] is True
        assert listed[name]["outputSchema"]["type"] == "object"

    aggregate = structured(report, 0)
    assert aggregate["totals"]["count"] == 12
    assert {
        g["key"]["type"]["value"]: g["values"]["count"] for g in aggregate["groups"]
    } == {"contact": 6, "invoice": 6}
    assert structured(report, 1)["grand_total"]["count"] == 12
    assert structured(report, 2)["totals"]["count"] == 12
    assert structured(report, 3)["cohorts"][0]["size"] == 3
    top = structured(report, 4)
    assert [t["value"] for t in top["top"]] == [4, 4]
    assert top["others"]["value"] == 4
    assert [s["reached"] for s in structured(report, 5)["stages"]] == [12, 6, 0, 0]
    export = structured(report, 6)
    assert export["inline"] is False and export["row_count"] == 12
    link = report["calls"][6]["content"][1]
    assert link["type"] == "resource_link"
    assert link["uri"] == export["download"]["uri"]
    assert link["mimeType"] == "application/x-ndjson"
    failed = report["calls"][7]
    assert failed["isError"] is True
    assert "only integer, float and monetary" in failed["content"][0]["text"]
