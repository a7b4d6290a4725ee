"""export_dataset, called with a user's environment, checked against SQL.

The download route and its refusals are tested over HTTP in
security_tests/test_analytics_access.py.
"""

import csv
import io
import json
import uuid

import pytest

from tests.harness.fixtures import configure_odoo

configure_odoo()

from odoo.addons.mcp_server_odoo.tools import ToolError, ToolResult, as_result  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.export import export_dataset  # noqa: E402


def call(env, **arguments):
    return export_dataset.handler(env, arguments)


def user_env(odoo_env, user, **context):
    env = odoo_env(user=user.id)
    return env(context={**env.user.context_get(), **context})


@pytest.fixture
def data(odoo_env, make_user):
    tag = f"exp-{uuid.uuid4().hex[:8]}"
    company_a, company_b = odoo_env["res.company"].create(
        [{"name": f"Exp A {tag}"}, {"name": f"Exp B {tag}"}]
    )
    odoo_env["res.partner"].create(
        [
            {
                "name": f'P{i} "quoted", {tag}\nline',
                "ref": tag,
                "company_id": (company_a.id, company_b.id, False)[i % 3],
                "color": i % 7,
                "partner_latitude": i / 8,
                "is_company": bool(i % 2),
                "active": i != 4,
            }
            for i in range(30)
        ]
    )
    odoo_env.flush_all()
    user = make_user(
        f"exp-{tag}", groups=["base.group_user"], company=company_a, companies=company_a
    )
    admin = make_user(
        f"exp-all-{tag}",
        groups=["base.group_user"],
        company=company_a,
        companies=company_a | company_b,
    )
    return {
        "tag": tag,
        "a": company_a,
        "user": user_env(odoo_env, user),
        "admin": user_env(odoo_env, admin),
    }


def sql_rows(odoo_env, tag, company=None):
    condition = "ref = %s AND active"
    params = [tag]
    if company:
        condition += " AND (company_id IS NULL OR company_id = %s)"
        params.append(company.id)
    odoo_env.cr.execute(
        f"SELECT id, name, color, partner_latitude, is_company, create_date "
        f"FROM res_partner WHERE {condition} ORDER BY id",
        params,
    )
    return odoo_env.cr.fetchall()


FIELDS = ["name", "color", "partner_latitude", "is_company", "create_date"]


@pytest.mark.parametrize("restricted", [False, True])
def test_inline_csv_holds_exactly_the_rows_sql_finds(odoo_env, data, restricted):
    env = data["user"] if restricted else data["admin"]
    result = call(
        env, model="res.partner", domain=[["ref", "=", data["tag"]]], fields=FIELDS
    )
    expected = sql_rows(odoo_env, data["tag"], data["a"] if restricted else None)
    assert result["inline"] is True
    assert result["row_count"] == len(expected)
    assert result["fields"] == ["id", *FIELDS]
    parsed = list(csv.reader(io.StringIO(result["data"])))
    assert parsed[0] == ["id", *FIELDS]
    assert [
        (int(r[0]), r[1], int(r[2]), float(r[3]), r[4], r[5]) for r in parsed[1:]
    ] == [
        (
            i,
            name,
            color,
            float(lat),
            "true" if flag else "false",
            created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for i, name, color, lat, flag, created in expected
    ]


def test_inline_jsonl_keeps_numbers_and_text_intact(odoo_env, data):
    result = call(
        data["admin"],
        model="res.partner",
        format="jsonl",
        domain=[["ref", "=", data["tag"]]],
        fields=FIELDS,
        include_archived=True,
    )
    lines = [json.loads(line) for line in result["data"].splitlines()]
    assert len(lines) == result["row_count"] == 30
    first = lines[0]
    assert list(first) == ["id", *FIELDS]
    assert first["name"].endswith("\nline") and '"quoted"' in first["name"]
    assert isinstance(first["color"], int)
    assert first["is_company"] in (True, False)
    assert first["create_date"].endswith("Z")


def test_default_fields_are_readable_stored_columns_only(data):
    result = call(data["user"], model="res.partner", domain=[["ref", "=", data["tag"]]])
    assert result["fields"][0] == "id"
    assert "display_name" not in result["fields"]  # not stored
    assert "image_1920" not in result["fields"]  # binary
    assert "name" in result["fields"]


def test_unexportable_and_unknown_fields_are_refused(data):
    with pytest.raises(ToolError, match="cannot be exported"):
        call(data["admin"], model="res.partner", fields=["display_name"])
    with pytest.raises(ToolError, match="no field 'nope'"):
        call(data["admin"], model="res.partner", fields=["nope"])


def test_the_row_cap_is_enforced(odoo_env, data):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.export_max_rows", "10")
    with pytest.raises(ToolError, match="More than 10 records match"):
        call(data["admin"], model="res.partner", domain=[["ref", "=", data["tag"]]])
    with pytest.raises(ToolError, match="above the export cap"):
        call(data["admin"], model="res.partner", limit=11)
    result = call(data["admin"], model="res.partner", limit=10, fields=["name"])
    assert result["row_count"] == 10


def test_a_large_export_is_a_file_behind_a_bound_link(odoo_env, data):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.export_inline_rows", "5")
    env = data["user"](
        context=dict(
            data["user"].context, mcp_auth_kind="oauth", mcp_token_family="4242"
        )
    )
    result = call(
        env, model="res.partner", domain=[["ref", "=", data["tag"]]], fields=FIELDS
    )
    assert isinstance(result, ToolResult)
    assert result["inline"] is False and "data" not in result
    uri = result["download"]["uri"]
    handle = uri.rsplit("/", 1)[1]
    export = odoo_env["mcp.export"].search([], limit=1)
    # Only a digest of the link's handle is stored, never the handle itself.
    assert handle not in (export.handle_digest, export.file_name)
    assert export.credential == "oauth:4242"
    assert export.user_id == env.user
    expected = sql_rows(odoo_env, data["tag"], data["a"])
    text = export._mcp_path().read_text()
    assert len(list(csv.reader(io.StringIO(text)))) == len(expected) + 1
    assert result["download"]["size_bytes"] == len(text.encode())

    # The CallToolResult carries the link as a resource_link block.
    blocks = as_result(result)["content"]
    assert blocks[1] == {
        "type": "resource_link",
        "uri": uri,
        "name": "res.partner.csv",
        "mimeType": "text/csv",
        "size": len(text.encode()),
        "description": blocks[1]["description"],
    }
    found, expired = export._mcp_lookup(handle, uid=env.uid, credential="oauth:4242")
    assert found == export and not expired
    assert export._mcp_lookup(handle, uid=env.uid, credential="oauth:1")[0] is None
    assert export._mcp_lookup(handle, uid=1, credential="oauth:4242")[0] is None


def test_expired_exports_and_their_files_are_collected(odoo_env, data):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.export_inline_rows", "5")
    env = data["admin"](
        context=dict(data["admin"].context, mcp_auth_kind="oauth", mcp_token_family="7")
    )
    call(env, model="res.partner", domain=[["ref", "=", data["tag"]]])
    export = odoo_env["mcp.export"].search([], limit=1)
    path = export._mcp_path()
    assert path.exists()
    odoo_env.cr.execute(
        "UPDATE mcp_export SET expires_at = now() at time zone 'utc'"
        " - interval '1 second' WHERE id = %s",
        [export.id],
    )
    odoo_env.invalidate_all()
    odoo_env["mcp.export"]._gc_expired_exports()
    assert not export.exists()
    assert not path.exists()


def test_a_large_export_without_a_bindable_credential_is_refused(odoo_env, data):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.export_inline_rows", "5")
    with pytest.raises(ToolError, match="cannot be bound to a download link"):
        call(data["admin"], model="res.partner", domain=[["ref", "=", data["tag"]]])
