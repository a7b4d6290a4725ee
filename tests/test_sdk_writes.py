"""The write tools driven by the official ``mcp`` SDK, dry runs included.

One SDK session (tests/sdk_client/run_client.py, in its own virtualenv) calls
each write tool; the SDK checks every structuredContent against the tool's
outputSchema, and the test then checks the database.
"""

import uuid

import pytest

from tests.test_sdk_client import assert_clean, run_sdk, structured

pytestmark = pytest.mark.client

WRITE_TOOLS = {
    "create_record",
    "update_record",
    "delete_record",
    "batch_create",
    "batch_update",
    "batch_delete",
}


@pytest.fixture(scope="module")
def writer(new_api_user):
    return new_api_user(groups=["base.group_user", "base.group_partner_manager"])


@pytest.fixture(scope="module")
def targets(server_env):
    tag = f"sdkw{uuid.uuid4().hex[:8]}"
    with server_env() as env:
        a, b, c, d = env["res.partner"].create(
            [{"name": f"{tag} {letter}"} for letter in "ABCD"]
        )
        return {"tag": tag, "a": a.id, "b": b.id, "c": c.id, "d": d.id}


@pytest.fixture(scope="module")
def session(odoo_http, writer, targets):
    _uid, key = writer
    tag, key_id = targets["tag"], str(uuid.uuid4())
    partner = "res.partner"
    calls = [
        (
            "create_record",
            {"model": partner, "values": {"name": f"{tag} dry"}, "dry_run": True},
        ),
        (
            "create_record",
            {
                "model": partner,
                "values": {"name": f"{tag} new"},
                "idempotency_key": key_id,
            },
        ),
        (
            "create_record",
            {
                "model": partner,
                "values": {"name": f"{tag} new"},
                "idempotency_key": key_id,
            },
        ),
        (
            "update_record",
            {
                "model": partner,
                "id": targets["a"],
                "values": {"city": "Ghent"},
                "dry_run": True,
            },
        ),
        (
            "update_record",
            {"model": partner, "id": targets["a"], "values": {"city": "Ghent"}},
        ),
        ("delete_record", {"model": partner, "id": targets["b"], "dry_run": True}),
        ("delete_record", {"model": partner, "id": targets["b"]}),
        (
            "batch_create",
            {
                "model": partner,
                "records": [{"name": f"{tag} b1"}, {"name": f"{tag} b2"}],
            },
        ),
        (
            "batch_create",
            {"model": partner, "dry_run": True, "records": [{"name": f"{tag} b3"}]},
        ),
        (
            "batch_update",
            {
                "model": partner,
                "continue_on_error": True,
                "records": [
                    {"id": targets["c"], "values": {"email": "c@example.com"}},
                    {"id": targets["c"], "values": {"type": "nope"}},
                ],
            },
        ),
        ("batch_delete", {"model": partner, "ids": [targets["c"]], "dry_run": True}),
        ("batch_delete", {"model": partner, "ids": [targets["c"]]}),
        (
            "create_record",
            {"model": "ir.config_parameter", "values": {"key": "k", "value": "v"}},
        ),
        (
            "batch_update",
            {
                "model": partner,
                "dry_run": True,
                "records": [
                    {"id": targets["a"], "values": {"city": "Bruges"}},
                    {"id": targets["d"], "values": {"email": "d@example.com"}},
                ],
            },
        ),
    ]
    return run_sdk(f"{odoo_http.url}/mcp", key, calls)


def test_sdk_lists_the_write_tools_with_honest_annotations(session):
    assert_clean(session)
    tools = {tool["name"]: tool for tool in session["tools"]}
    assert WRITE_TOOLS <= set(tools)
    for name in WRITE_TOOLS:
        annotations = tools[name]["annotations"]
        assert annotations["readOnlyHint"] is False
        assert annotations["destructiveHint"] is (
            name.startswith(("update", "delete", "batch_update", "batch_delete"))
        )
        assert "dry_run" in tools[name]["inputSchema"]["properties"]
        assert "idempotency_key" in tools[name]["inputSchema"]["properties"]


def test_sdk_write_calls_do_what_they_say(session, server_env, targets):
    tag = targets["tag"]
    dry = structured(session, 0)
    assert dry["dry_run"] is True and dry["changes"][0]["action"] == "create"
    first, replay = structured(session, 1), structured(session, 2)
    assert replay == {**first, "replayed": True}
    preview = structured(session, 3)["changes"][0]["fields"]["city"]
    assert preview == {"before": None, "after": "Ghent"}
    assert structured(session, 4)["write_date"]
    assert structured(session, 5)["changes"][0]["id"] == targets["b"]
    assert structured(session, 7)["ok"] is True
    assert (
        structured(session, 8)["changes"][0]["fields"]["name"]["after"] == f"{tag} b3"
    )
    partial = structured(session, 9)
    assert [item["ok"] for item in partial["results"]] == [True, False]
    assert structured(session, 11)["ids"] == [targets["c"]]
    closed = session["calls"][12]
    assert closed["isError"] is True
    assert "closed to writes" in closed["content"][0]["text"]

    with server_env() as env:
        Partner = env["res.partner"].with_context(active_test=False)
        names = sorted(Partner.search([("name", "like", tag)]).mapped("name"))
        assert names == [f"{tag} A", f"{tag} D", f"{tag} b1", f"{tag} b2", f"{tag} new"]
        assert Partner.browse(targets["a"]).city == "Ghent"


def test_sdk_batch_update_dry_run_previews_each_record_and_saves_nothing(
    session, server_env, targets
):
    preview = structured(session, 13)
    assert (preview["dry_run"], preview["ok"]) == (True, True)
    assert [item["ok"] for item in preview["results"]] == [True, True]
    assert [item["id"] for item in preview["results"]] == [targets["a"], targets["d"]]
    assert [change["id"] for change in preview["changes"]] == [
        targets["a"],
        targets["d"],
    ]
    assert [change["action"] for change in preview["changes"]] == ["update"] * 2
    assert preview["changes"][0]["fields"] == {
        "city": {"before": "Ghent", "after": "Bruges"}
    }
    assert preview["changes"][1]["fields"] == {
        "email": {"before": None, "after": "d@example.com"}
    }
    with server_env() as env:
        a, d = env["res.partner"].browse([targets["a"], targets["d"]])
        assert (a.city, d.email) == ("Ghent", False)
