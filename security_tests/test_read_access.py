"""Attacks on the read tools: reaching fields, records and models Odoo hides.

The handlers are called with the attacker's own environment, as the dispatcher
calls them; each test checks that the refusal holds and leaks nothing.
"""

import pytest

from tests.harness.fixtures import configure_odoo

# The addon is importable only once Odoo knows its addons path.
configure_odoo()

from odoo.addons.mcp_server_odoo.tools import ToolError  # noqa: E402
from odoo.addons.mcp_server_odoo.tools.models import (  # noqa: E402
    describe_model,
    list_models,
)
from odoo.addons.mcp_server_odoo.tools.records import (  # noqa: E402
    batch_search,
    get_record,
    search_records,
)

SECRET = "s3cret-relay"


def call(tool, env, **arguments):
    return tool.handler(env, arguments)


@pytest.fixture
def mail_reader(odoo_env, make_user):
    """A non-administrator allowed to read ir.mail_server, whose smtp_pass is
    reserved to base.group_system; returns (their env, a server with a password)."""
    group = odoo_env["res.groups"].create({"name": "Attack: mail server readers"})
    odoo_env["ir.model.access"].create(
        {
            "name": "attack mail server readers",
            "model_id": odoo_env.ref("base.model_ir_mail_server").id,
            "group_id": group.id,
            "perm_read": True,
        }
    )
    server = odoo_env["ir.mail_server"].create(
        {
            "name": "Attack relay",
            "smtp_host": "relay.example.com",
            "smtp_pass": SECRET,
        }
    )
    user = make_user("attack_mail", groups=["base.group_user"])
    user.groups_id = [(4, group.id)]
    return odoo_env(user=user.id), server


@pytest.fixture
def split_companies(odoo_env, make_user):
    """A user of company A, and partners of company B they must not see."""
    company_a, company_b = odoo_env["res.company"].create(
        [{"name": "Attack A"}, {"name": "Attack B"}]
    )
    shared = odoo_env["res.partner"].create({"name": "Attack Shared Parent"})
    hidden = odoo_env["res.partner"].create(
        {
            "name": "Attack Hidden Child",
            "company_id": company_b.id,
            "parent_id": shared.id,
            "email": "hidden@example.com",
        }
    )
    user = make_user(
        "attack_company_a",
        groups=["base.group_user"],
        company=company_a,
        companies=company_a,
    )
    return odoo_env(user=user.id), shared, hidden


# ------------------------------------------------------- fields of other groups


def test_a_domain_on_a_field_reserved_to_administrators_is_refused(mail_reader):
    env, server = mail_reader

    with pytest.raises(ToolError, match="no field 'smtp_pass' that you can read"):
        call(
            search_records,
            env,
            model="ir.mail_server",
            domain=[["id", "=", server.id], ["smtp_pass", "=like", "s3%"]],
        )


def test_ordering_by_a_field_reserved_to_administrators_is_refused(mail_reader):
    env, _server = mail_reader

    with pytest.raises(ToolError, match="no field 'smtp_pass' that you can read"):
        call(search_records, env, model="ir.mail_server", order="smtp_pass desc")


def test_asking_for_a_field_reserved_to_administrators_is_refused(mail_reader):
    env, server = mail_reader

    with pytest.raises(ToolError, match="'smtp_pass'"):
        call(
            get_record,
            env,
            model="ir.mail_server",
            id=server.id,
            fields=["smtp_host", "smtp_pass"],
        )


def test_a_reserved_field_and_an_unknown_field_get_the_same_refusal(mail_reader):
    env, _server = mail_reader

    with pytest.raises(ToolError) as reserved:
        call(search_records, env, model="ir.mail_server", order="smtp_pass")
    with pytest.raises(ToolError) as unknown:
        call(search_records, env, model="ir.mail_server", order="smtp_passx")

    assert str(unknown.value) == str(reserved.value).replace("smtp_pass", "smtp_passx")


def test_the_default_fields_never_carry_a_reserved_value(mail_reader):
    env, server = mail_reader

    result = call(
        batch_search,
        env,
        searches=[
            {"model": "ir.mail_server", "domain": [["id", "=", server.id]]},
        ],
    )

    assert result["results"][0]["ok"] is True
    assert SECRET not in repr(result)


def test_a_dotted_path_through_a_model_the_user_cannot_read_is_refused(
    odoo_env, make_user
):
    portal = make_user("attack_portal", groups=["base.group_portal"])
    env = odoo_env(user=portal.id)

    with pytest.raises(
        ToolError, match="not allowed to read records of model 'res.partner.bank'"
    ):
        call(
            search_records,
            env,
            model="res.partner",
            domain=[["bank_ids.acc_number", "=like", "BE%"]],
        )


def test_an_any_sub_domain_on_a_model_the_user_cannot_read_is_refused(
    odoo_env, make_user
):
    user = make_user("attack_any", groups=["base.group_user"])
    env = odoo_env(user=user.id)

    with pytest.raises(ToolError, match="'res.users.log'"):
        call(
            search_records,
            env,
            model="res.users",
            domain=[["log_ids", "any", [["id", "!=", 0]]]],
        )


# ----------------------------------------------------------- record rules


def test_a_hidden_record_cannot_be_read_by_id(split_companies):
    env, _shared, hidden = split_companies

    with pytest.raises(ToolError, match="or you may not see it"):
        call(get_record, env, model="res.partner", id=hidden.id)


def test_a_hidden_record_cannot_be_found_by_its_id_or_values(split_companies):
    env, _shared, hidden = split_companies

    result = call(
        batch_search,
        env,
        searches=[
            {
                "model": "res.partner",
                "domain": [["id", "=", hidden.id]],
                "include_archived": True,
            },
            {"model": "res.partner", "domain": [["email", "=", "hidden@example.com"]]},
            {
                "model": "res.partner",
                "domain": ["|", ["id", "=", hidden.id], ["id", "child_of", hidden.id]],
            },
        ],
    )

    assert [item["count"] for item in result["results"]] == [0, 0, 0]


def test_a_hidden_record_cannot_be_probed_through_a_visible_one(split_companies):
    env, shared, _hidden = split_companies

    probe = call(
        search_records,
        env,
        model="res.partner",
        domain=[["child_ids.email", "=", "hidden@example.com"]],
    )
    visible_children = call(
        get_record, env, model="res.partner", id=shared.id, fields=["child_ids"]
    )

    assert probe["count"] == 0
    assert visible_children["records"][0]["child_ids"] == []


# ---------------------------------------------------------- unreadable models


def test_a_model_the_user_cannot_read_is_neither_listed_described_nor_searched(
    odoo_env, make_user
):
    user = make_user("attack_models", groups=["base.group_user"])
    env = odoo_env(user=user.id)

    listed = call(list_models, env, query="mail_server")
    with pytest.raises(ToolError, match="not allowed to read records"):
        call(describe_model, env, model="ir.mail_server")
    with pytest.raises(ToolError, match="not allowed to read records"):
        call(search_records, env, model="ir.mail_server")
    with pytest.raises(ToolError, match="not allowed to read records"):
        call(get_record, env, model="ir.mail_server", id=1)

    assert listed["models"] == []


def test_an_abstract_model_cannot_be_searched(odoo_env, make_user):
    user = make_user("attack_abstract", groups=["base.group_user"])

    with pytest.raises(ToolError, match="abstract"):
        call(search_records, odoo_env(user=user.id), model="format.address.mixin")


def test_a_domain_given_as_python_text_is_never_evaluated(odoo_env, make_user):
    user = make_user("attack_eval", groups=["base.group_user"])
    env = odoo_env(user=user.id)

    with pytest.raises(ToolError, match="never evaluated"):
        call(
            search_records,
            env,
            model="res.partner",
            domain="[('id', '=', __import__('os').getpid())]",
        )
