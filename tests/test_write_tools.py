"""The write tools, called with a user's environment in a real database."""

import json
import secrets
import uuid

import pytest

from tests.harness.client import McpHttpClient
from tests.harness.fixtures import (
    committed_audit_event,
    configure_odoo,
    run_message,
    tools_call,
)

# The addon is importable only once Odoo knows its addons path.
configure_odoo()

from jsonschema import Draft202012Validator  # noqa: E402

from odoo.exceptions import ValidationError  # noqa: E402

from odoo.addons.mcp_server_odoo.chain import AuthResult  # noqa: E402
from odoo.addons.mcp_server_odoo.tools import ToolError, ToolRegistry  # noqa: E402
from odoo.addons.mcp_server_odoo.tools import writes as writes_family  # noqa: E402
from odoo.addons.mcp_server_odoo.tools._values import is_closed  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.records import get_record  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.writes import (  # noqa: E402
    batch_create,
    batch_delete,
    batch_update,
    create_record,
    delete_record,
    update_record,
)

# Creating contacts needs "Contact Creation" on top of internal user.
INTERNAL = ["base.group_user", "base.group_partner_manager"]
RESTRICTED = ["base.group_user"]
PORTAL = ["base.group_portal"]


def call(tool, env, **arguments):
    return tool.handler(env, arguments)


def refused(tool, env, match, **arguments):
    with pytest.raises(ToolError, match=match):
        call(tool, env, **arguments)


def mcp_env(env, client="client-a"):
    """The environment the authentication step builds for an OAuth client."""
    return env(context=dict(env.context, mcp_client=client, mcp_auth_kind="oauth"))


@pytest.fixture
def internal_env(odoo_env, make_user):
    return mcp_env(odoo_env(user=make_user("writes_internal", groups=INTERNAL).id))


@pytest.fixture
def admin_env(odoo_env):
    return mcp_env(odoo_env(user=odoo_env.ref("base.user_admin").id))


@pytest.fixture
def two_companies(odoo_env):
    return odoo_env["res.company"].create([{"name": "Writes A"}, {"name": "Writes B"}])


@pytest.fixture
def company_a_env(odoo_env, make_user, two_companies):
    company_a = two_companies[0]
    user = make_user(
        "writes_a", groups=INTERNAL, company=company_a, companies=company_a
    )
    return mcp_env(odoo_env(user=user.id))


def partners(env, tag):
    return (
        env["res.partner"]
        .with_context(active_test=False)
        .search([("name", "=like", f"{tag}%")])
    )


# ---------------------------------------------------------------- create


def test_create_record_creates_as_the_user_and_names_the_changed_fields(
    odoo_env, internal_env
):
    belgium = odoo_env.ref("base.be")
    arguments = {
        "model": "res.partner",
        "values": {
            "name": "Writes Create",
            "country_id": belgium.id,
            "is_company": True,
            "type": "contact",
        },
    }

    result = call(create_record, internal_env, **arguments)

    partner = odoo_env["res.partner"].browse(result["id"])
    assert result == {"model": "res.partner", "id": partner.id, "dry_run": False}
    assert partner.name == "Writes Create"
    assert partner.country_id == belgium
    assert partner.create_uid == internal_env.user
    assert create_record.audit_targets(arguments, result) == {
        "model": "res.partner",
        "ids": [partner.id],
        "fields": ["country_id", "is_company", "name", "type"],
    }


def test_values_are_parsed_by_field_type(odoo_env, internal_env):
    result = call(
        create_record,
        internal_env,
        model="res.partner",
        values={
            "name": "Writes Types",
            "partner_latitude": "50.85",
            "color": 3.0,
            "country_id": {"id": odoo_env.ref("base.fr").id, "display_name": "x"},
            "category_id": [],
        },
    )
    partner = odoo_env["res.partner"].browse(result["id"])
    assert partner.partner_latitude == 50.85
    assert partner.color == 3
    assert partner.country_id.code == "FR"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "Wbad", "type": "galaxy"}, r"values.type: 'galaxy' is not a value"),
        ({"name": "Wbad", "color": "blue"}, r"values.color: integer field .* number"),
        ({"name": "Wbad", "color": 2**40}, r"whole number between"),
        ({"name": "Wbad", "partner_latitude": "NaN"}, r"finite number"),
        ({"name": "Wbad", "is_company": "yes"}, r"needs true/false"),
        ({"name": "Wbad", "country_id": 10**9}, r"no res.country record with id"),
        ({"name": "Wbad", "country_id": "Belgium"}, r"expected a record id"),
        ({"name": "Wbad", "child_ids": [[2, 1]]}, r"not an allowed command"),
        ({"name": "Wbad", "category_id": [[5]]}, r"not an allowed command"),
        ({"name": "Wbad", "child_ids": [1, 2]}, r"for one2many 'child_ids'"),
        ({"name": "Wbad", "no_such_field": 1}, r"no field 'no_such_field'"),
        ({"name": "Wbad", "commercial_partner_id": 1}, r"is read-only"),
        ({"name": "Wbad", "display_name": "x"}, r"read-only|computed"),
        ({"name": "Wbad", "write_date": "2024-01-01T00:00:00Z"}, r"is read-only"),
        ({"name": "Wbad\x00"}, r"NUL"),
    ],
)
def test_bad_values_are_refused_by_name_before_the_orm(internal_env, values, message):
    refused(create_record, internal_env, message, model="res.partner", values=values)
    assert not partners(internal_env, "Wbad")


def test_dates_and_required_fields_are_checked(odoo_env, admin_env):
    rate = odoo_env["res.currency.rate"].create(
        {"currency_id": odoo_env.ref("base.USD").id, "rate": 1.1, "name": "2024-01-01"}
    )
    refused(
        update_record,
        admin_env,
        r"values.name: date field .* YYYY-MM-DD",
        model="res.currency.rate",
        id=rate.id,
        values={"name": "01/05/2024"},
    )
    call(
        update_record,
        admin_env,
        model="res.currency.rate",
        id=rate.id,
        values={"name": "2024-05-01", "rate": "1.25"},
    )
    assert (str(rate.name), rate.rate) == ("2024-05-01", 1.25)
    refused(
        update_record,
        admin_env,
        r"values.name: field 'name' is required",
        model="res.country",
        id=odoo_env.ref("base.be").id,
        values={"name": None},
    )


def test_x2many_commands_create_and_link_within_the_safe_subset(odoo_env, admin_env):
    category = odoo_env["res.partner.category"].create({"name": "Writes Tag"})
    result = call(
        create_record,
        admin_env,
        model="res.partner",
        values={
            "name": "Writes Parent",
            "child_ids": [[0, 0, {"name": "Writes Child"}]],
            "category_id": [[4, category.id]],
        },
    )
    parent = odoo_env["res.partner"].browse(result["id"])
    assert parent.child_ids.name == "Writes Child"
    assert parent.category_id == category


def test_nested_creates_in_closed_models_are_refused(admin_env):
    refused(
        create_record,
        admin_env,
        "Model 'res.users' is closed|Users cannot be created",
        model="res.partner",
        values={
            "name": "Writes Nest",
            "user_ids": [[0, 0, {"name": "x", "login": "x"}]],
        },
    )


# ---------------------------------------------------------------- access


def test_a_restricted_user_cannot_write_what_odoo_forbids(odoo_env, make_user):
    restricted = mcp_env(
        odoo_env(user=make_user("writes_restricted", groups=RESTRICTED).id)
    )
    refused(
        create_record,
        restricted,
        "not allowed to create records of model 'res.partner'",
        model="res.partner",
        values={"name": "Writes Restricted"},
    )
    refused(
        create_record,
        restricted,
        "not allowed to create records of model 'res.country'",
        model="res.country",
        values={"name": "Writesland", "code": "WZ"},
    )


def test_a_portal_user_cannot_create_or_change_partners(odoo_env, make_user):
    portal = make_user("writes_portal", groups=PORTAL)
    env = mcp_env(odoo_env(user=portal.id))
    refused(
        create_record,
        env,
        "not allowed to create",
        model="res.partner",
        values={"name": "Writes Portal"},
    )
    refused(
        update_record,
        env,
        "not allowed to modify",
        model="res.partner",
        id=portal.partner_id.id,
        values={"name": "Renamed"},
    )


def test_record_rules_hide_records_of_other_companies(
    odoo_env, company_a_env, two_companies
):
    company_a, company_b = two_companies
    hidden = odoo_env["res.partner"].create(
        {"name": "Writes Hidden", "company_id": company_b.id}
    )

    refused(
        update_record,
        company_a_env,
        "no res.partner record with id",
        model="res.partner",
        id=hidden.id,
        values={"name": "Mine now"},
    )
    refused(
        delete_record,
        company_a_env,
        "no res.partner record with id",
        model="res.partner",
        id=hidden.id,
    )
    # A many2one to a company the user is not in is a record they cannot see.
    refused(
        create_record,
        company_a_env,
        "no res.company record with id",
        model="res.partner",
        values={"name": "Writes Other Co", "company_id": company_b.id},
    )
    created = call(
        create_record,
        company_a_env,
        model="res.partner",
        values={"name": "Writes Own Co", "company_id": company_a.id},
    )
    assert odoo_env["res.partner"].browse(created["id"]).company_id == company_a
    assert hidden.name == "Writes Hidden"


# ---------------------------------------------------------------- closed models


@pytest.mark.parametrize(
    ("model", "values"),
    [
        ("ir.config_parameter", {"key": "writes.key", "value": "1"}),
        ("res.groups", {"name": "Writes Group"}),
        ("ir.rule", {"name": "r", "model_id": 1}),
        ("ir.model.access", {"name": "a", "model_id": 1}),
        ("ir.actions.server", {"name": "s", "model_id": 1, "state": "code"}),
        ("ir.cron", {"name": "c"}),
        ("ir.ui.view", {"name": "v", "arch": "<t/>"}),
        ("ir.module.module", {"name": "m"}),
        ("ir.actions.report", {"name": "r", "model": "res.partner"}),
        ("res.users.apikeys", {"name": "k"}),
    ],
)
def test_models_that_grant_privileges_or_run_code_are_closed_even_to_admin(
    admin_env, model, values
):
    refused(
        create_record,
        admin_env,
        "closed to writes through MCP",
        model=model,
        values=values,
    )


@pytest.mark.parametrize(
    "model",
    [
        # Models of modules this database does not install, closed by name.
        "theme.ir.ui.view",
        "theme.ir.asset",
        "base.automation",
        "ir.actions.server",
        "res.users.deletion",
        "ir.sequence.date_range",
        "mail.template",
    ],
)
def test_closed_model_names_cover_modules_not_installed_here(model):
    assert is_closed(model)
    assert not is_closed(model, frozenset({model}))


def test_an_administrator_can_open_a_closed_model_in_the_settings(odoo_env, admin_env):
    odoo_env["ir.config_parameter"].set_param(
        "mcp_server_odoo.write_open_models", "ir.config_parameter"
    )
    call(
        create_record,
        admin_env,
        model="ir.config_parameter",
        values={"key": "writes.opened", "value": "1"},
    )
    assert odoo_env["ir.config_parameter"].get_param("writes.opened") == "1"


def test_users_security_fields_are_closed_but_preferences_are_not(
    odoo_env, admin_env, make_user
):
    user = make_user("writes_target", groups=INTERNAL)
    system = odoo_env.ref("base.group_system")
    for values in (
        {"groups_id": [[4, system.id]]},
        {"password": "hunter22"},
        {"login": "someone-else"},
        {"company_ids": [[6, 0, []]]},
        {f"in_group_{system.id}": True},
    ):
        refused(
            update_record,
            admin_env,
            "closed to writes|no field",
            model="res.users",
            id=user.id,
            values=values,
        )
    # Preferences: the caller's own only, even for an administrator.
    refused(
        update_record,
        admin_env,
        rf"your own user only \(id {admin_env.uid}\), not user {user.id}:",
        model="res.users",
        id=user.id,
        values={"name": "Writes Renamed", "tz": "Europe/Brussels"},
    )
    own = mcp_env(odoo_env(user=user.id))
    call(
        update_record,
        own,
        model="res.users",
        id=user.id,
        values={"name": "Writes Renamed", "tz": "Europe/Brussels"},
    )
    user.invalidate_recordset()
    assert (user.name, user.tz) == ("Writes Renamed", "Europe/Brussels")
    assert system not in user.groups_id
    refused(
        create_record,
        admin_env,
        "Users cannot be created",
        model="res.users",
        values={"name": "x"},
    )


def test_attachments_must_point_at_records_the_user_may_write(
    odoo_env, internal_env, two_companies
):
    own = odoo_env["res.partner"].create({"name": "Writes Attached"})
    data = "aGVsbG8="
    made = call(
        create_record,
        internal_env,
        model="ir.attachment",
        values={
            "name": "a.txt",
            "datas": data,
            "res_model": "res.partner",
            "res_id": own.id,
        },
    )
    assert odoo_env["ir.attachment"].browse(made["id"]).res_id == own.id
    refused(
        create_record,
        internal_env,
        "must be attached to a record",
        model="ir.attachment",
        values={"name": "b.txt", "datas": data},
    )
    refused(
        create_record,
        internal_env,
        "closed to writes",
        model="ir.attachment",
        values={
            "name": "c.txt",
            "datas": data,
            "res_model": "ir.ui.view",
            "res_id": odoo_env.ref("base.view_partner_form").id,
        },
    )
    country = odoo_env.ref("base.be")
    refused(
        create_record,
        internal_env,
        "may not modify res.country",
        model="ir.attachment",
        values={
            "name": "d.txt",
            "datas": data,
            "res_model": "res.country",
            "res_id": country.id,
        },
    )


# ---------------------------------------------------------------- dry run


def test_dry_run_create_reports_the_values_and_commits_nothing(internal_env):
    result = call(
        create_record,
        internal_env,
        model="res.partner",
        dry_run=True,
        values={"name": "Writes Dry", "email": "dry@example.com"},
    )

    assert result["dry_run"] is True
    assert result["id"] is None
    assert result["changes"] == [
        {
            "action": "create",
            "id": None,
            "display_name": "Writes Dry",
            "fields": {
                "name": {"before": None, "after": "Writes Dry"},
                "email": {"before": None, "after": "dry@example.com"},
            },
        }
    ]
    assert not partners(internal_env, "Writes Dry")


def test_dry_run_update_shows_each_field_before_and_after(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create({"name": "Writes Before", "city": "Ghent"})
    stamp = partner.write_date

    result = call(
        update_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        dry_run=True,
        values={"name": "Writes After", "city": None},
    )

    assert result["write_date"] is None
    assert result["changes"][0]["fields"] == {
        "name": {"before": "Writes Before", "after": "Writes After"},
        "city": {"before": "Ghent", "after": None},
    }
    partner.invalidate_recordset()
    assert (partner.name, partner.city, partner.write_date) == (
        "Writes Before",
        "Ghent",
        stamp,
    )


def test_dry_run_delete_and_batches_change_nothing(odoo_env, internal_env):
    a, b = odoo_env["res.partner"].create(
        [{"name": "Writes D1"}, {"name": "Writes D2"}]
    )

    deleted = call(
        delete_record, internal_env, model="res.partner", id=a.id, dry_run=True
    )
    batch = call(
        batch_delete, internal_env, model="res.partner", ids=[a.id, b.id], dry_run=True
    )
    created = call(
        batch_create,
        internal_env,
        model="res.partner",
        dry_run=True,
        records=[{"name": "Writes D3"}, {"name": "Writes D4"}],
    )
    updated = call(
        batch_update,
        internal_env,
        model="res.partner",
        dry_run=True,
        records=[{"id": b.id, "values": {"name": "Writes D5"}}],
    )

    assert deleted["changes"] == [
        {"action": "delete", "id": a.id, "display_name": "Writes D1", "fields": {}}
    ]
    assert [c["id"] for c in batch["changes"]] == [a.id, b.id]
    assert [c["fields"]["name"]["after"] for c in created["changes"]] == [
        "Writes D3",
        "Writes D4",
    ]
    assert updated["changes"][0]["fields"]["name"] == {
        "before": "Writes D2",
        "after": "Writes D5",
    }
    assert sorted(partners(odoo_env, "Writes D").mapped("name")) == [
        "Writes D1",
        "Writes D2",
    ]


def test_a_dry_run_still_runs_odoo_checks(internal_env):
    refused(
        create_record,
        internal_env,
        "not allowed",
        model="res.country",
        dry_run=True,
        values={"name": "x", "code": "XQ"},
    )


# ---------------------------------------------------------------- idempotency


def test_the_same_key_and_arguments_return_the_first_result_once(internal_env):
    key = str(uuid.uuid4())
    arguments = {
        "model": "res.partner",
        "values": {"name": "Writes Idem"},
        "idempotency_key": key,
    }

    first = call(create_record, internal_env, **arguments)
    second = call(create_record, internal_env, **arguments)

    assert second == {**first, "replayed": True}
    assert len(partners(internal_env, "Writes Idem")) == 1


def test_the_same_key_with_other_arguments_is_an_error(internal_env):
    key = str(uuid.uuid4())
    call(
        create_record,
        internal_env,
        model="res.partner",
        values={"name": "Writes K1"},
        idempotency_key=key,
    )
    refused(
        create_record,
        internal_env,
        "already used .* other arguments",
        model="res.partner",
        values={"name": "Writes K2"},
        idempotency_key=key,
    )
    refused(
        batch_create,
        internal_env,
        "already used",
        model="res.partner",
        records=[{"name": "Writes K1"}],
        idempotency_key=key,
    )
    assert partners(internal_env, "Writes K").mapped("name") == ["Writes K1"]


def test_keys_are_scoped_to_the_user_and_the_client(odoo_env, make_user, internal_env):
    other = mcp_env(odoo_env(user=make_user("writes_other", groups=INTERNAL).id))
    key = str(uuid.uuid4())
    arguments = {
        "model": "res.partner",
        "values": {"name": "Writes Scope"},
        "idempotency_key": key,
    }

    results = [
        call(create_record, internal_env, **arguments),
        call(create_record, other, **arguments),
        call(create_record, mcp_env(internal_env, client="client-b"), **arguments),
    ]

    assert len({result["id"] for result in results}) == 3
    assert not any(result.get("replayed") for result in results)


def test_a_failed_write_does_not_consume_its_key(odoo_env, internal_env):
    key = str(uuid.uuid4())
    partner = odoo_env["res.partner"].create({"name": "Writes Fail"})
    with pytest.raises(ToolError):
        with internal_env.cr.savepoint():  # what dispatch does around each call
            call(
                update_record,
                internal_env,
                model="res.partner",
                id=partner.id,
                values={"type": "nope"},
                idempotency_key=key,
            )
    done = call(
        update_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        values={"type": "contact"},
        idempotency_key=key,
    )
    assert done.get("replayed") is None


def test_keys_expire_after_24_hours_and_are_collected(odoo_env, internal_env):
    key = str(uuid.uuid4())
    arguments = {
        "model": "res.partner",
        "values": {"name": "Writes Old"},
        "idempotency_key": key,
    }
    first = call(create_record, internal_env, **arguments)
    store = odoo_env["mcp.idempotency.key"]
    odoo_env.cr.execute(
        "UPDATE mcp_idempotency_key SET created = created - interval '25 hours'"
    )

    again = call(create_record, internal_env, **arguments)

    assert again["id"] != first["id"] and "replayed" not in again
    odoo_env.cr.execute(
        "UPDATE mcp_idempotency_key SET created = created - interval '25 hours'"
    )
    store._gc_expired_keys()
    odoo_env.cr.execute("SELECT count(*) FROM mcp_idempotency_key")
    assert odoo_env.cr.fetchone()[0] == 0


def test_keys_and_arguments_are_stored_only_as_digests(odoo_env, internal_env):
    key = f"secret-key-{uuid.uuid4()}"
    call(
        create_record,
        internal_env,
        model="res.partner",
        values={"name": "Writes Digest"},
        idempotency_key=key,
    )
    odoo_env.cr.execute(
        "SELECT scope, key_digest, arguments_digest FROM mcp_idempotency_key"
    )
    stored = json.dumps(odoo_env.cr.fetchall())
    assert key not in stored
    assert "Writes Digest" not in stored


def test_dry_runs_do_not_use_the_key(internal_env):
    key = str(uuid.uuid4())
    call(
        create_record,
        internal_env,
        model="res.partner",
        dry_run=True,
        values={"name": "Writes DK"},
        idempotency_key=key,
    )
    result = call(
        create_record,
        internal_env,
        model="res.partner",
        values={"name": "Writes DK"},
        idempotency_key=key,
    )
    assert result["id"] and "replayed" not in result


# ---------------------------------------------------------------- concurrency


def test_update_with_the_write_date_read_succeeds_and_returns_the_new_one(
    odoo_env, internal_env
):
    partner = odoo_env["res.partner"].create({"name": "Writes Fresh"})
    odoo_env.flush_all()
    read = call(
        get_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        fields=["write_date"],
    )["records"][0]

    odoo_env.cr.execute(
        "UPDATE res_partner SET write_date = write_date - interval '1 second' "
        "WHERE id = %s RETURNING write_date",
        [partner.id],
    )
    odoo_env.invalidate_all()
    stale = read["write_date"]
    read = call(
        get_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        fields=["write_date"],
    )["records"][0]
    assert read["write_date"] != stale

    result = call(
        update_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        values={"name": "Writes Fresh 2"},
        write_date=read["write_date"],
    )

    assert result["write_date"] and result["write_date"] != read["write_date"]
    assert partner.name == "Writes Fresh 2"


def test_update_refuses_a_record_changed_since_it_was_read(odoo_env, internal_env):
    partner = odoo_env["res.partner"].create({"name": "Writes Stale"})
    odoo_env.flush_all()
    read = call(
        get_record,
        internal_env,
        model="res.partner",
        id=partner.id,
        fields=["write_date"],
    )["records"][0]["write_date"]
    # Another session changes it a microsecond later.
    odoo_env.cr.execute(
        "UPDATE res_partner SET name = 'Writes Other', "
        "write_date = write_date + interval '1 microsecond' WHERE id = %s",
        [partner.id],
    )
    odoo_env.invalidate_all()

    refused(
        update_record,
        internal_env,
        "was changed at .* nothing was written",
        model="res.partner",
        id=partner.id,
        values={"name": "Writes Mine"},
        write_date=read,
    )
    result = call(
        batch_update,
        internal_env,
        model="res.partner",
        continue_on_error=True,
        records=[
            {"id": partner.id, "values": {"name": "Writes Mine"}, "write_date": read}
        ],
    )
    assert result["ok"] is False
    assert "was changed at" in result["results"][0]["error"]
    partner.invalidate_recordset()
    assert partner.name == "Writes Other"


# ---------------------------------------------------------------- batches


def test_batch_create_is_all_or_nothing_by_default(internal_env):
    refused(
        batch_create,
        internal_env,
        r"records\[1\].type",
        model="res.partner",
        records=[{"name": "Writes B1"}, {"name": "Writes B2", "type": "x"}],
    )
    assert not partners(internal_env, "Writes B")

    result = call(
        batch_create,
        internal_env,
        model="res.partner",
        records=[{"name": "Writes B3"}, {"name": "Writes B4"}],
    )
    assert result["ok"] is True
    assert partners(internal_env, "Writes B").ids == sorted(result["ids"])


def test_batch_create_with_continue_on_error_reports_each_item(internal_env):
    arguments = {
        "model": "res.partner",
        "continue_on_error": True,
        "records": [
            {"name": "Writes C1"},
            {"name": "Writes C2", "type": "x"},
            {"name": "Writes C3"},
        ],
    }
    result = call(batch_create, internal_env, **arguments)

    assert result["ok"] is False
    assert [item["ok"] for item in result["results"]] == [True, False, True]
    assert "records[1].type" in result["results"][1]["error"]
    assert sorted(partners(internal_env, "Writes C").mapped("name")) == [
        "Writes C1",
        "Writes C3",
    ]
    assert batch_create.audit_targets(arguments, result)["ids"] == sorted(result["ids"])


def test_batch_update_and_delete_roll_back_everything_on_one_failure(
    odoo_env, company_a_env, two_companies
):
    company_a, company_b = two_companies
    mine = odoo_env["res.partner"].create(
        {"name": "Writes U1", "company_id": company_a.id}
    )
    theirs = odoo_env["res.partner"].create(
        {"name": "Writes U2", "company_id": company_b.id}
    )

    refused(
        batch_update,
        company_a_env,
        "no res.partner record",
        model="res.partner",
        records=[
            {"id": mine.id, "values": {"name": "Writes U1x"}},
            {"id": theirs.id, "values": {"name": "Writes U2x"}},
        ],
    )
    refused(
        batch_delete,
        company_a_env,
        "no res.partner record",
        model="res.partner",
        ids=[mine.id, theirs.id],
    )
    mine.invalidate_recordset()
    assert mine.exists() and mine.name == "Writes U1"

    result = call(
        batch_delete,
        company_a_env,
        model="res.partner",
        ids=[mine.id, theirs.id],
        continue_on_error=True,
    )
    assert [item["ok"] for item in result["results"]] == [True, False]
    assert result["ids"] == [mine.id]
    assert not mine.exists() and theirs.exists()


def test_batch_size_is_capped_by_the_setting(odoo_env, internal_env):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.max_batch_size", "3")
    refused(
        batch_create,
        internal_env,
        "more than the 3 allowed",
        model="res.partner",
        records=[{"name": f"Writes Cap {n}"} for n in range(4)],
    )
    refused(
        batch_delete,
        internal_env,
        "more than the 3 allowed",
        model="res.partner",
        ids=[1, 2, 3, 4],
    )
    assert not partners(internal_env, "Writes Cap")


def test_odoo_errors_in_an_all_or_nothing_batch_name_the_item(odoo_env, internal_env):
    a, b = odoo_env["res.partner"].create(
        [{"name": "Writes E1"}, {"name": "Writes E2"}]
    )
    with pytest.raises(ValidationError, match=r"^item 1: "):
        call(
            batch_update,
            internal_env,
            model="res.partner",
            records=[
                {"id": a.id, "values": {"name": "Writes E1x"}},
                {"id": b.id, "values": {"parent_id": b.id}},  # its own parent
            ],
        )


# ---------------------------------------------------------------- audit and schemas


def through_the_chain(env, uid, name, arguments):
    """(ctx, result) of a tools/call through the whole chain, as user ``uid``."""
    auth = AuthResult(uid=uid, kind="api_key")
    return run_message(env, tools_call(name, arguments), auth)


def test_a_write_through_the_chain_reports_targets_and_change(odoo_env, make_user):
    user = make_user("writes_chain", groups=INTERNAL)

    def handle(arguments):
        return through_the_chain(odoo_env, user.id, "create_record", arguments)

    ctx, result = handle(
        {"model": "res.partner", "values": {"name": "Writes Chain", "email": "c@x.org"}}
    )
    assert result["isError"] is False
    new_id = result["structuredContent"]["id"]
    assert ctx.targets == {
        "model": "res.partner",
        "ids": [new_id],
        "fields": ["email", "name"],
    }
    assert ctx.changed is True

    ctx, result = handle(
        {
            "model": "res.partner",
            "dry_run": True,
            "values": {"name": "Writes Chain Dry"},
        }
    )
    assert result["isError"] is False
    assert ctx.changed is False
    assert ctx.targets["ids"] == []

    ctx, result = handle(
        {"model": "ir.config_parameter", "values": {"key": "k", "value": "v"}}
    )
    assert result["isError"] is True
    assert ctx.changed is False
    assert ctx.targets["model"] == "ir.config_parameter"


def test_the_write_tools_register_with_honest_annotations_and_valid_outputs(
    odoo_env, internal_env
):
    registry = ToolRegistry([writes_family.TOOLS])
    hints = {
        item.name: item.definition()["annotations"] for item in writes_family.TOOLS
    }
    assert all(h["readOnlyHint"] is False for h in hints.values())
    assert {n for n, h in hints.items() if h["destructiveHint"]} == {
        "update_record",
        "delete_record",
        "batch_update",
        "batch_delete",
    }
    assert {n for n, h in hints.items() if h["idempotentHint"]} == {
        "update_record",
        "delete_record",
        "batch_update",
        "batch_delete",
    }
    a, b = odoo_env["res.partner"].create(
        [{"name": "Writes S1"}, {"name": "Writes S2"}]
    )
    cases = [
        ("create_record", {"model": "res.partner", "values": {"name": "Writes S3"}}),
        (
            "create_record",
            {"model": "res.partner", "values": {"name": "Writes S3"}, "dry_run": True},
        ),
        (
            "update_record",
            {"model": "res.partner", "id": a.id, "values": {"name": "Writes S4"}},
        ),
        (
            "update_record",
            {
                "model": "res.partner",
                "id": a.id,
                "dry_run": True,
                "values": {"name": "Writes S5"},
            },
        ),
        (
            "batch_create",
            {
                "model": "res.partner",
                "records": [{"name": "Writes S6"}],
                "continue_on_error": True,
            },
        ),
        (
            "batch_update",
            {
                "model": "res.partner",
                "records": [{"id": a.id, "values": {"name": "S7"}}],
            },
        ),
        ("batch_delete", {"model": "res.partner", "ids": [b.id], "dry_run": True}),
        ("delete_record", {"model": "res.partner", "id": b.id}),
    ]
    for name, arguments in cases:
        assert registry.validation_error(name, arguments) is None, name
        structured = registry.get(name).handler(internal_env, arguments)
        Draft202012Validator(registry.get(name).output_schema).validate(structured)
    assert registry.validation_error(
        "create_record", {"model": "res.partner", "values": {}}
    )


# ---------------------------------------------------------------- refusals in the audit


def _denial_case(case, odoo_env, make_user, two_companies):
    """(user, tool, arguments, message) of one kind of refusal."""
    company_a, company_b = two_companies
    admin = odoo_env.ref("base.user_admin")
    if case == "acl":
        user = make_user("writes_deny_acl", groups=RESTRICTED)
        return (
            user,
            "create_record",
            {"model": "res.partner", "values": {"name": "x"}},
            ("not allowed to create records of model 'res.partner'"),
        )
    if case in ("record_rule", "record_rule_many2one"):
        user = make_user(
            f"writes_deny_{case}",
            groups=INTERNAL,
            company=company_a,
            companies=company_a,
        )
        hidden = odoo_env["res.partner"].create(
            {"name": "Writes Deny Hidden", "company_id": company_b.id}
        )
        if case == "record_rule":
            arguments = {
                "model": "res.partner",
                "id": hidden.id,
                "values": {"ref": "x"},
            }
            return user, "update_record", arguments, "no res.partner record with id"
        values = {"name": "Writes Deny Co", "company_id": company_b.id}
        arguments = {"model": "res.partner", "values": values}
        return user, "create_record", arguments, "no res.company record with id"
    if case == "field_groups":
        user = make_user("writes_deny_groups", groups=INTERNAL)
        arguments = {
            "model": "res.users",
            "id": user.id,
            "values": {"totp_secret": "x"},
        }
        return user, "update_record", arguments, "has no field 'totp_secret'"
    if case == "closed_model":
        arguments = {
            "model": "ir.config_parameter",
            "values": {"key": "writes.deny", "value": "1"},
        }
        return admin, "create_record", arguments, "closed to writes through MCP"
    if case == "closed_field":
        user = make_user("writes_deny_field", groups=INTERNAL)
        arguments = {"model": "res.users", "id": user.id, "values": {"login": "x"}}
        return user, "update_record", arguments, "field 'login' of res.users is closed"
    user = make_user(f"writes_deny_{case}", groups=INTERNAL)
    return user, *{
        "unknown_model": (
            "create_record",
            {"model": "no.such.model", "values": {"name": "x"}},
            "Unknown model 'no.such.model'",
        ),
        "unknown_field": (
            "create_record",
            {"model": "res.partner", "values": {"no_such_field": 1}},
            "has no field 'no_such_field'",
        ),
        "unknown_id": (
            "update_record",
            {"model": "res.partner", "id": 2**31 - 1, "values": {"ref": "x"}},
            "no res.partner record with id",
        ),
    }[case]


@pytest.mark.parametrize(
    ("case", "outcome", "rule"),
    [
        ("acl", "denied_odoo", "odoo:acl"),
        ("record_rule", "denied_odoo", "odoo:record_rule"),
        ("record_rule_many2one", "denied_odoo", "odoo:record_rule"),
        ("field_groups", "denied_odoo", "odoo:field_groups"),
        ("closed_model", "denied_odoo", "mcp:closed_model"),
        ("closed_field", "denied_odoo", "mcp:closed_field"),
        ("unknown_model", "tool_error", None),
        ("unknown_field", "tool_error", None),
        ("unknown_id", "tool_error", None),
    ],
)
def test_refusals_are_audited_with_the_rule_that_refused(
    odoo_env, make_user, two_companies, case, outcome, rule
):
    user, name, arguments, message = _denial_case(
        case, odoo_env, make_user, two_companies
    )

    ctx, result = through_the_chain(odoo_env, user.id, name, arguments)

    assert result["isError"] is True
    assert message in result["content"][0]["text"]
    event = committed_audit_event(odoo_env.registry, ctx.trace_id)
    assert (event["outcome"], event["rule"]) == (outcome, rule)
    assert event["decision"] == ("deny" if rule else None)
    assert event["changed"] is False
    assert event["error_type"] == ("access_denied" if rule else "tool_error")


def test_a_hidden_id_and_a_missing_id_get_the_same_words(
    odoo_env, company_a_env, two_companies
):
    hidden = odoo_env["res.partner"].create(
        {"name": "Writes Same Words", "company_id": two_companies[1].id}
    )
    missing = odoo_env["res.partner"].create({"name": "Writes Gone"})
    missing_id = missing.id
    missing.unlink()
    messages = []
    for record_id in (hidden.id, missing_id):
        with pytest.raises(ToolError) as refused_call:
            call(
                update_record,
                company_a_env,
                model="res.partner",
                id=record_id,
                values={"ref": "x"},
            )
        messages.append(str(refused_call.value).replace(str(record_id), "N"))
    assert messages[0] == messages[1]


# ------------------------------------------------ committed writes in the audit


def _traced_call(client, name, arguments):
    """A tools/call under a trace id of its own: (CallToolResult, trace id)."""
    trace_id = secrets.token_hex(16)
    meta = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    result = client.rpc(
        "tools/call", {"name": name, "arguments": arguments, "_meta": meta}
    )
    return result, trace_id


def test_a_committed_update_is_audited_with_model_ids_and_field_names_only(
    odoo_http, server_env, new_api_user
):
    uid, key = new_api_user(groups=INTERNAL)
    tag = uuid.uuid4().hex[:8]
    with server_env() as env:
        a, b = env["res.partner"].create(
            [{"name": f"Writes Audited A {tag}"}, {"name": f"Writes Audited B {tag}"}]
        )
    client = McpHttpClient(odoo_http.url, key)
    secret_city = f"City-{tag}"
    secret_mail = f"audited-{tag}@example.org"

    single, single_trace = _traced_call(
        client,
        "update_record",
        {
            "model": "res.partner",
            "id": a.id,
            "values": {"city": secret_city, "email": secret_mail},
        },
    )
    batch, batch_trace = _traced_call(
        client,
        "batch_update",
        {
            "model": "res.partner",
            "records": [
                {"id": a.id, "values": {"zip": f"Z{tag}"}},
                {"id": b.id, "values": {"street": f"Street {tag}"}},
            ],
        },
    )
    assert not single["isError"] and not batch["isError"], (single, batch)

    event = committed_audit_event(server_env.registry, single_trace)
    assert (event["outcome"], event["changed"], event["user_ref"]) == (
        "success",
        True,
        uid,
    )
    assert (event["tool"], event["target_model"]) == ("update_record", "res.partner")
    assert (event["record_ids"], event["record_count"]) == (str(a.id), 1)
    assert event["field_names"] == "city,email"
    event = committed_audit_event(server_env.registry, batch_trace)
    assert event["changed"] is True
    assert event["record_ids"] == ",".join(str(i) for i in sorted([a.id, b.id]))
    assert (event["record_count"], event["field_names"]) == (2, "street,zip")
    # Names only: none of the values written is in either event.
    for trace_id in (single_trace, batch_trace):
        stored = json.dumps(committed_audit_event(server_env.registry, trace_id))
        assert tag not in stored, stored
    with server_env() as env:
        partner = env["res.partner"].browse(a.id)
        assert (partner.city, partner.email, partner.zip) == (
            secret_city,
            secret_mail,
            f"Z{tag}",
        )
