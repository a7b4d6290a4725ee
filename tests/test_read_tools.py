"""The read tools, called directly with a user's environment in a real database."""

import base64
import re

import pytest

from tests.harness.fixtures import configure_odoo, run_message, tools_call

# The addon is importable only once Odoo knows its addons path.
configure_odoo()

from jsonschema import Draft202012Validator  # noqa: E402

from odoo.addons.mcp_server_odoo.chain import AuthResult  # noqa: E402
from odoo.addons.mcp_server_odoo.tools import ToolError, ToolRegistry  # noqa: E402
from odoo.addons.mcp_server_odoo.tools import models as models_family  # noqa: E402
from odoo.addons.mcp_server_odoo.tools import records as records_family  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.models import (  # noqa: E402
    describe_model,
    list_models,
)
from odoo.addons.mcp_server_odoo.tools.records import (  # noqa: E402
    batch_search,
    get_record,
    search_records,
)

INTERNAL = ["base.group_user"]
PORTAL = ["base.group_portal"]


def call(tool, env, **arguments):
    return tool.handler(env, arguments)


def as_user(odoo_env, user):
    return odoo_env(user=user.id)


@pytest.fixture
def internal_env(odoo_env, make_user):
    return as_user(odoo_env, make_user("reads_internal", groups=INTERNAL))


@pytest.fixture
def two_companies(odoo_env):
    companies = odoo_env["res.company"].create(
        [{"name": "Reads A"}, {"name": "Reads B"}]
    )
    return companies[0], companies[1]


@pytest.fixture
def mail_server_reader(odoo_env, make_user):
    """An internal user who may read mail servers, without being an administrator.

    ir.mail_server's smtp_pass is reserved to base.group_system.
    """
    group = odoo_env["res.groups"].create({"name": "Reads: mail server readers"})
    odoo_env["ir.model.access"].create(
        {
            "name": "reads mail server readers",
            "model_id": odoo_env.ref("base.model_ir_mail_server").id,
            "group_id": group.id,
            "perm_read": True,
        }
    )
    server = odoo_env["ir.mail_server"].create(
        {
            "name": "Reads relay",
            "smtp_host": "relay.example.com",
            "smtp_user": "relay-user",
            "smtp_pass": "s3cret-relay",
        }
    )
    user = make_user("reads_mail", groups=INTERNAL)
    user.groups_id = [(4, group.id)]
    return as_user(odoo_env, user), server


def listed(result):
    return {item["model"] for item in result["models"]}


# ---------------------------------------------------------------- list_models


def test_list_models_shows_readable_models_and_hides_the_others(internal_env):
    names = listed(call(list_models, internal_env, limit=500))

    assert "res.partner" in names
    assert "res.country" in names
    assert "ir.mail_server" not in names  # administrators only
    assert "format.address.mixin" not in names  # abstract
    assert "res.users.identitycheck" not in names  # transient, not asked for


def test_list_models_includes_transient_models_only_when_asked(internal_env):
    result = call(
        list_models, internal_env, query="identitycheck", include_transient=True
    )

    assert result["models"] == [
        {
            "model": "res.users.identitycheck",
            "description": "Password Check Wizard",
            "transient": True,
        }
    ]


def test_list_models_for_a_portal_user_leaves_out_internal_models(
    odoo_env, make_user, internal_env
):
    portal_env = as_user(odoo_env, make_user("reads_portal", groups=PORTAL))

    portal = listed(call(list_models, portal_env, limit=500))
    internal = listed(call(list_models, internal_env, limit=500))

    assert "ir.attachment" in internal
    assert "ir.attachment" not in portal
    assert portal < internal


def test_list_models_filters_by_query_and_pages(internal_env):
    first = call(list_models, internal_env, query="RES.PARTNER", limit=2)
    second = call(list_models, internal_env, query="res.partner", limit=2, offset=2)

    assert first["count"] >= 3
    assert first["next_offset"] == 2
    assert all("res.partner" in item["model"] for item in first["models"])
    assert listed(first).isdisjoint(listed(second))


def test_list_models_matches_the_query_against_the_description(internal_env):
    result = call(list_models, internal_env, query="partner tags")

    assert "res.partner.category" in listed(result)


# ------------------------------------------------------------- describe_model


def test_describe_model_gives_field_metadata(internal_env):
    result = call(describe_model, internal_env, model="res.partner")
    fields = {item["name"]: item for item in result["fields"]}

    assert result["description"] == "Contact"
    assert fields["name"]["type"] == "char"
    assert fields["name"]["sortable"] is True
    assert fields["country_id"]["relation"] == "res.country"
    assert ["contact", "Contact"] in fields["type"]["selection"]
    assert fields["display_name"]["store"] is False
    assert fields["display_name"]["sortable"] is False
    assert fields["display_name"]["searchable"] is True


def test_describe_model_can_be_limited_to_some_fields(internal_env):
    result = call(describe_model, internal_env, model="res.country", fields=["code"])

    assert [item["name"] for item in result["fields"]] == ["code"]
    assert result["fields"][0]["required"] is True


def test_describe_model_leaves_out_fields_reserved_to_other_groups(
    odoo_env, mail_server_reader
):
    reader_env, _server = mail_server_reader

    mine = {
        f["name"]
        for f in call(describe_model, reader_env, model="ir.mail_server")["fields"]
    }
    admin = {
        f["name"]
        for f in call(describe_model, odoo_env, model="ir.mail_server")["fields"]
    }

    assert "smtp_host" in mine
    assert "smtp_pass" not in mine
    assert "smtp_user" not in mine
    assert "smtp_pass" in admin


def test_describe_model_names_an_unknown_model(internal_env):
    with pytest.raises(ToolError, match="Unknown model 'res.partnerz'"):
        call(describe_model, internal_env, model="res.partnerz")


def test_describe_model_refuses_a_model_the_user_cannot_read(internal_env):
    with pytest.raises(
        ToolError, match="not allowed to read records of model 'ir.mail_server'"
    ):
        call(describe_model, internal_env, model="ir.mail_server")


def test_describe_model_names_a_field_the_user_cannot_read(mail_server_reader):
    reader_env, _server = mail_server_reader

    with pytest.raises(ToolError, match="'smtp_pass'"):
        call(describe_model, reader_env, model="ir.mail_server", fields=["smtp_pass"])


# ------------------------------------------------------------- search_records


def test_search_records_returns_values_in_json_shapes(odoo_env, internal_env):
    belgium = odoo_env.ref("base.be")
    tag = odoo_env["res.partner.category"].create({"name": "Reads tag"})
    parent = odoo_env["res.partner"].create(
        {"name": "Reads Parent", "is_company": True}
    )
    child = odoo_env["res.partner"].create(
        {
            "name": "Reads Child",
            "parent_id": parent.id,
            "country_id": belgium.id,
            "category_id": [(6, 0, [tag.id])],
            "partner_latitude": 50.5,
        }
    )

    result = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=[["id", "=", child.id]],
        fields=[
            "name",
            "country_id",
            "category_id",
            "create_date",
            "email",
            "active",
            "partner_latitude",
            "type",
            "parent_id",
        ],
    )
    [record] = result["records"]

    assert record["id"] == child.id
    assert record["country_id"] == {"id": belgium.id, "display_name": "Belgium"}
    assert record["category_id"] == [tag.id]
    assert record["parent_id"] == {"id": parent.id, "display_name": "Reads Parent"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["create_date"])
    assert record["email"] is None
    assert record["active"] is True
    assert record["partner_latitude"] == 50.5
    assert record["type"] == "contact"


def test_search_records_returns_dates_as_iso_days(odoo_env, internal_env):
    rate = odoo_env["res.currency.rate"].create(
        {
            "name": "2024-05-01",
            "rate": 1.25,
            "currency_id": odoo_env.ref("base.EUR").id,
        }
    )

    result = call(
        search_records,
        internal_env,
        model="res.currency.rate",
        domain=[["id", "=", rate.id]],
        fields=["name", "rate", "currency_id"],
    )

    assert result["records"] == [
        {
            "id": rate.id,
            "name": "2024-05-01",
            "rate": 1.25,
            "currency_id": {"id": odoo_env.ref("base.EUR").id, "display_name": "EUR"},
        }
    ]


def test_search_records_default_fields_leave_out_binary_fields(internal_env):
    result = call(search_records, internal_env, model="res.partner", limit=1)
    [record] = result["records"]

    assert {"id", "display_name", "name"} <= set(record)
    assert "image_1920" not in record
    assert "image_128" not in record


def test_search_records_follows_dotted_paths(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create(
        {
            "name": "Reads Dotted",
            "country_id": odoo_env.ref("base.be").id,
        }
    )

    result = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=["&", ["country_id.code", "=", "BE"], ["name", "like", "Reads Dotted"]],
        fields=["name"],
    )

    assert [record["id"] for record in result["records"]] == [partner.id]


def test_search_records_reads_iso_datetimes_as_utc(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create({"name": "Reads Dated"})
    odoo_env.cr.execute(
        "UPDATE res_partner SET create_date = '2024-01-02 10:00:00' WHERE id = %s",
        [partner.id],
    )
    odoo_env.invalidate_all()

    def found(value):
        domain = [["id", "=", partner.id], ["create_date", "=", value]]
        return call(search_records, internal_env, model="res.partner", domain=domain)[
            "count"
        ]

    assert found("2024-01-02T10:00:00Z") == 1
    assert found("2024-01-02T12:00:00+02:00") == 1
    assert found("2024-01-02 10:00:00") == 1
    assert found("2024-01-02T11:00:00Z") == 0


def test_search_records_pages_with_count_and_next_offset(odoo_env, internal_env):
    odoo_env["res.partner"].create([{"name": f"Reads Page {n}"} for n in range(5)])
    domain = [["name", "=like", "Reads Page %"]]

    first = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=domain,
        order="name",
        limit=2,
    )
    last = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=domain,
        order="name",
        limit=2,
        offset=4,
    )

    assert first["count"] == 5
    assert first["next_offset"] == 2
    assert [r["name"] for r in first["records"]] == ["Reads Page 0", "Reads Page 1"]
    assert [r["name"] for r in last["records"]] == ["Reads Page 4"]
    assert last["next_offset"] is None


def test_search_records_without_count_still_says_whether_more_follow(
    odoo_env, internal_env
):
    odoo_env["res.partner"].create([{"name": f"Reads Nocount {n}"} for n in range(5)])
    domain = [["name", "=like", "Reads Nocount %"]]

    def page(offset):
        return call(
            search_records,
            internal_env,
            model="res.partner",
            domain=domain,
            order="name",
            limit=2,
            offset=offset,
            count=False,
        )

    first, middle, last, beyond = page(0), page(2), page(4), page(9)
    assert (first["count"], first["next_offset"]) == (None, 2)
    assert (middle["count"], middle["next_offset"]) == (None, 4)
    # The last page shows where the result ends, so its count is known.
    assert (last["count"], last["next_offset"]) == (5, None)
    assert [r["name"] for r in last["records"]] == ["Reads Nocount 4"]
    assert (beyond["count"], beyond["records"]) == (None, [])


def test_search_records_sorts_by_stored_fields_in_both_directions(
    odoo_env, internal_env
):
    odoo_env["res.partner"].create([{"name": f"Reads Sort {n}"} for n in "BAC"])
    domain = [["name", "=like", "Reads Sort %"]]

    result = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=domain,
        order="name DESC, id",
        fields=["name"],
    )

    assert [r["name"] for r in result["records"]] == [
        "Reads Sort C",
        "Reads Sort B",
        "Reads Sort A",
    ]


def test_search_records_limit_defaults_to_80_and_is_capped_by_the_setting(
    odoo_env, internal_env
):
    odoo_env["res.partner"].create([{"name": f"Reads Cap {n}"} for n in range(90)])
    domain = [["name", "=like", "Reads Cap %"]]

    default = call(search_records, internal_env, model="res.partner", domain=domain)
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.max_limit", "7")
    capped = call(
        search_records, internal_env, model="res.partner", domain=domain, limit=50
    )

    assert default["limit"] == 80
    assert len(default["records"]) == 80
    assert default["next_offset"] == 80
    assert capped["limit"] == 7
    assert len(capped["records"]) == 7
    assert capped["count"] == 90


def test_search_records_excludes_archived_records_unless_asked(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create(
        {"name": "Reads Archived", "active": False}
    )
    domain = [["id", "=", partner.id]]

    default = call(search_records, internal_env, model="res.partner", domain=domain)
    archived = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=domain,
        include_archived=True,
    )

    assert default["count"] == 0
    assert archived["count"] == 1


def test_search_records_applies_the_multi_company_record_rule(
    odoo_env, make_user, two_companies
):
    company_a, company_b = two_companies
    visible = odoo_env["res.partner"].create(
        {"name": "Reads MC A", "company_id": company_a.id}
    )
    hidden = odoo_env["res.partner"].create(
        {"name": "Reads MC B", "company_id": company_b.id}
    )
    user_a = make_user(
        "reads_mc_a", groups=INTERNAL, company=company_a, companies=company_a
    )
    user_ab = make_user(
        "reads_mc_ab",
        groups=INTERNAL,
        company=company_a,
        companies=company_a | company_b,
    )
    domain = [["name", "=like", "Reads MC %"]]

    only_a = call(
        search_records,
        as_user(odoo_env, user_a),
        model="res.partner",
        domain=domain,
        fields=["name"],
    )
    both = call(
        search_records,
        as_user(odoo_env, user_ab),
        model="res.partner",
        domain=domain,
        fields=["name"],
    )

    assert [r["id"] for r in only_a["records"]] == [visible.id]
    assert only_a["count"] == 1
    assert {r["id"] for r in both["records"]} == {visible.id, hidden.id}


def test_search_records_does_not_return_fields_reserved_to_other_groups(
    mail_server_reader,
):
    reader_env, server = mail_server_reader

    result = call(
        search_records,
        reader_env,
        model="ir.mail_server",
        domain=[["id", "=", server.id]],
    )
    [record] = result["records"]

    assert record["smtp_host"] == "relay.example.com"
    assert "smtp_pass" not in record
    assert "smtp_user" not in record


def test_binary_fields_are_returned_only_when_named_and_within_the_cap(
    odoo_env, internal_env
):
    payload = bytes(range(256)) * 8  # 2048 bytes
    attachment = internal_env["ir.attachment"].create(
        {
            "name": "reads.bin",
            "datas": base64.b64encode(payload),
        }
    )
    domain = [["id", "=", attachment.id]]

    default = call(search_records, internal_env, model="ir.attachment", domain=domain)
    named = call(
        search_records,
        internal_env,
        model="ir.attachment",
        domain=domain,
        fields=["datas"],
    )
    odoo_env["ir.config_parameter"].set_param(
        "mcp_server_odoo.max_binary_bytes", "1000"
    )
    capped = call(
        search_records,
        internal_env,
        model="ir.attachment",
        domain=domain,
        fields=["datas"],
    )

    assert "datas" not in default["records"][0]
    assert base64.b64decode(named["records"][0]["datas"]) == payload
    assert capped["records"][0]["datas"] == {"omitted": True, "size": 2048}


# ---------------------------------------------------------- domain validation


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([["no_such_field", "=", 1]], r"domain\[0\].*no field 'no_such_field'"),
        (
            [["country_id.nope", "=", 1]],
            r"domain\[0\]: Model 'res.country' has no field 'nope'",
        ),
        ([["name.foo", "=", "x"]], r"goes through 'name', which is not a relational"),
        ([["name", "=~", "x"]], r"domain\[0\]: unknown operator '=~'"),
        ([["name", "="]], r"domain\[0\]: expected '&', '\|', '!' or a term"),
        (["|", ["name", "=", "a"]], r"domain\[0\]: operator '\|' lacks 1 term"),
        (["&", "!", ["name", "=", "a"]], r"domain\[0\]: operator '&' lacks 1 term"),
        (["__import__('os').system('id')"], r"domain\[0\]: expected"),
        ([["name", "=", {"__eval": "1"}]], r"values must be strings, numbers"),
        ([["name", "in", "abc"]], r"operator 'in' needs a list"),
        ([["name", "in", [["nested"]]]], r"values must be strings, numbers"),
        ([["id", "=", "1 OR 1=1"]], r"not a valid value for integer field 'id'"),
        ([["create_date", ">", "soon"]], r"not an ISO 8601 date-time"),
        ([["id) OR (1=1", "=", 1]], r"is not a field name"),
        ([[1, "=", 1]], r"the field must be a field name"),
        ("[('id', '=', 1)]", r"must be a JSON array"),
    ],
)
def test_search_records_refuses_a_malformed_domain_and_says_where(
    internal_env, domain, message
):
    with pytest.raises(ToolError, match=message):
        call(search_records, internal_env, model="res.partner", domain=domain)


def test_a_well_formed_domain_with_nested_prefix_operators_is_accepted(
    odoo_env, internal_env
):
    partner = odoo_env["res.partner"].create({"name": "Reads Nested", "city": "Gent"})
    domain = [
        "&",
        ["name", "=", "Reads Nested"],
        "|",
        "!",
        ["city", "=", "Brugge"],
        ["id", "=", 0],
    ]

    result = call(search_records, internal_env, model="res.partner", domain=domain)

    assert [r["id"] for r in result["records"]] == [partner.id]


def test_any_sub_domains_are_validated_on_the_related_model(odoo_env, internal_env):
    parent = odoo_env["res.partner"].create({"name": "Reads Any Parent"})
    odoo_env["res.partner"].create({"name": "Reads Any Child", "parent_id": parent.id})

    found = call(
        search_records,
        internal_env,
        model="res.partner",
        domain=[["child_ids", "any", [["name", "=", "Reads Any Child"]]]],
    )
    with pytest.raises(ToolError, match=r"domain\[0\]\[2\]\[0\].*no field 'nope'"):
        call(
            search_records,
            internal_env,
            model="res.partner",
            domain=[["child_ids", "any", [["nope", "=", 1]]]],
        )

    assert [r["id"] for r in found["records"]] == [parent.id]


def test_search_records_refuses_a_date_that_is_not_a_date(internal_env):
    with pytest.raises(ToolError, match=r"not a valid value for date field 'name'"):
        call(
            search_records,
            internal_env,
            model="res.currency.rate",
            domain=[["name", ">=", "yesterday"]],
        )


def test_a_value_the_database_rejects_becomes_a_clear_error(odoo_env):
    # An id beyond PostgreSQL's integer range passes the type check but not SQL.
    # Through dispatch, as a client's call runs: read tools have no savepoint,
    # dispatch rolls back the aborted transaction instead.
    auth = AuthResult(uid=odoo_env.ref("base.user_admin").id, kind="api_key")

    def run(arguments):
        body = tools_call("search_records", arguments)
        return run_message(odoo_env, body, auth, remote_addr="127.0.0.1")[1]

    refused = run({"model": "res.partner", "domain": [["id", "=", 10**20]]})
    assert refused["isError"] is True
    assert "database refused a value" in refused["content"][0]["text"]

    # The transaction is still usable afterwards.
    answered = run({"model": "res.country", "limit": 1})
    assert answered["isError"] is False
    assert answered["structuredContent"]["count"] > 0


# --------------------------------------------------------------------- order


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("name; DROP TABLE res_partner", r"Invalid order term"),
        ("name desc nulls first", r"Invalid order term 'name desc nulls first'"),
        ("lower(name)", r"Invalid order term 'lower\(name\)'"),
        ("name desc limit 1", r"Invalid order term"),
        ("country_id.code", r"Invalid order term 'country_id.code'"),
        ("display_name", r"'display_name' .* is not stored"),
        ("nope desc", r"no field 'nope'"),
        ("name,", r"Invalid order term ''"),
    ],
)
def test_search_records_refuses_an_order_that_is_not_plain_stored_fields(
    internal_env, order, message
):
    with pytest.raises(ToolError, match=message):
        call(search_records, internal_env, model="res.partner", order=order)


# -------------------------------------------------------------------- fields


def test_search_records_names_unknown_fields(internal_env):
    with pytest.raises(ToolError, match=r"'nope', 'nada'"):
        call(
            search_records,
            internal_env,
            model="res.partner",
            fields=["name", "nope", "nada"],
        )


# ---------------------------------------------------------------- get_record


def test_get_record_returns_records_in_the_order_asked(odoo_env, internal_env):
    first, second = odoo_env["res.partner"].create(
        [
            {"name": "Reads Get 1"},
            {"name": "Reads Get 2", "active": False},
        ]
    )

    single = call(
        get_record, internal_env, model="res.partner", id=first.id, fields=["name"]
    )
    several = call(
        get_record,
        internal_env,
        model="res.partner",
        ids=[second.id, first.id],
        fields=["name", "active"],
    )

    assert single["records"] == [{"id": first.id, "name": "Reads Get 1"}]
    assert [(r["id"], r["active"]) for r in several["records"]] == [
        (second.id, False),
        (first.id, True),
    ]


def test_get_record_says_the_same_for_missing_and_hidden_records(
    odoo_env, make_user, two_companies
):
    company_a, company_b = two_companies
    hidden = odoo_env["res.partner"].create(
        {"name": "Reads Hidden", "company_id": company_b.id}
    )
    missing_id = hidden.id + 100000
    user_env = as_user(
        odoo_env,
        make_user(
            "reads_get_a", groups=INTERNAL, company=company_a, companies=company_a
        ),
    )

    with pytest.raises(ToolError) as hidden_error:
        call(get_record, user_env, model="res.partner", id=hidden.id)
    with pytest.raises(ToolError) as missing_error:
        call(get_record, user_env, model="res.partner", id=missing_id)

    assert str(hidden_error.value) == (
        f"No res.partner record with id {hidden.id} (or you may not see it)."
    )
    assert str(missing_error.value) == str(hidden_error.value).replace(
        str(hidden.id), str(missing_id)
    )


# -------------------------------------------------------------- batch_search


def test_batch_search_keeps_each_result_apart_and_in_order(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create({"name": "Reads Batch"})

    result = call(
        batch_search,
        internal_env,
        searches=[
            {"model": "res.partner", "domain": [["nope", "=", 1]]},
            {"model": "res.partner", "domain": [["id", "=", 10**20]]},
            {"model": "ir.mail_server"},
            {
                "model": "res.partner",
                "domain": [["id", "=", partner.id]],
                "fields": ["name"],
            },
            {"model": "no.such.model"},
        ],
    )
    results = result["results"]

    assert [item["ok"] for item in results] == [False, False, False, True, False]
    assert "no field 'nope'" in results[0]["error"]
    assert "database refused a value" in results[1]["error"]
    assert (
        "not allowed to read records of model 'ir.mail_server'" in results[2]["error"]
    )
    assert results[3]["records"] == [{"id": partner.id, "name": "Reads Batch"}]
    assert results[4]["error"] == "Unknown model 'no.such.model'."


# ------------------------------------------------------------------- schemas


def test_the_read_tools_register_and_their_results_match_their_output_schemas(
    odoo_env, internal_env
):
    registry = ToolRegistry([models_family.TOOLS, records_family.TOOLS])
    partner = odoo_env["res.partner"].create({"name": "Reads Schema"})
    cases = {
        "list_models": {"limit": 5},
        "describe_model": {"model": "res.partner"},
        "search_records": {"model": "res.partner", "limit": 3},
        "get_record": {"model": "res.partner", "ids": [partner.id]},
        "batch_search": {
            "searches": [{"model": "res.country", "limit": 2}, {"model": "nope"}]
        },
    }

    for name, arguments in cases.items():
        item = registry.get(name)
        assert registry.validation_error(name, arguments) is None
        result = item.handler(internal_env, arguments)
        Draft202012Validator(item.output_schema).validate(result)

    assert sorted(registry.names()) == sorted(cases)


def test_get_record_arguments_take_either_id_or_ids_but_not_both():
    registry = ToolRegistry([records_family.TOOLS])

    both = registry.validation_error(
        "get_record", {"model": "res.partner", "id": 1, "ids": [1]}
    )
    neither = registry.validation_error("get_record", {"model": "res.partner"})

    assert both is not None
    assert neither is not None
