"""The OAuth autovacuums and the last-use bookkeeping of grants.

Rows are back-dated in SQL inside a transaction that is rolled back; each
autovacuum must remove exactly what its docstring names and keep what a
replay or reuse check still needs. ``_touch`` writes a grant's last use at
most once a minute and never waits for a row another transaction holds.
"""

import secrets
import time
import uuid

import pytest

from odoo import SUPERUSER_ID, api

from odoo.addons.mcp_server_odoo.models.oauth_grant import TOUCH_INTERVAL

from tests.harness.oauth import REDIRECT_URI


def _shift(env, table, ids, **intervals):
    """Set each column to now (UTC) minus an interval, e.g. expires_at="2 days"."""
    env.flush_all()
    for column, interval in intervals.items():
        env.cr.execute(
            f"UPDATE {table} SET {column} = now() at time zone 'UTC'"  # noqa: S608
            " - %s::interval WHERE id IN %s",
            [interval, tuple(ids)],
        )
    env.invalidate_all()


def _client(env, **values):
    return env["mcp.oauth.client"].create(
        {"name": f"gc {uuid.uuid4().hex[:6]}", "redirect_uris": REDIRECT_URI, **values}
    )


def _grant(env, client, **shifts):
    grant = env["mcp.oauth.grant"].create(
        {
            "client_id": client.id,
            "user_id": env.ref("base.user_admin").id,
            "resource": "http://127.0.0.1/mcp",
            "expires_at": "2999-01-01 00:00:00",
        }
    )
    if shifts:
        _shift(env, "mcp_oauth_grant", grant.ids, **shifts)
    return grant


def _token(env, grant, kind, expired_for):
    token = env["mcp.oauth.token"].create(
        {
            "grant_id": grant.id,
            "kind": kind,
            "digest": secrets.token_hex(32),
            "expires_at": "2999-01-01 00:00:00",
        }
    )
    _shift(env, "mcp_oauth_token", token.ids, expires_at=expired_for)
    return token


def _code(env, client, expired_for):
    code = env["mcp.oauth.code"].create(
        {
            "digest": secrets.token_hex(32),
            "client_id": client.id,
            "user_id": env.ref("base.user_admin").id,
            "redirect_uri": REDIRECT_URI,
            "resource": "http://127.0.0.1/mcp",
            "expires_at": "2999-01-01 00:00:00",
        }
    )
    _shift(env, "mcp_oauth_code", code.ids, expires_at=expired_for)
    return code


def _alive(records):
    return records.with_context(active_test=False).exists()


def test_expired_access_tokens_go_after_a_day_refresh_tokens_stay(odoo_env):
    grant = _grant(odoo_env, _client(odoo_env))
    old_access = _token(odoo_env, grant, "access", "2 days")
    recent_access = _token(odoo_env, grant, "access", "1 hour")
    old_refresh = _token(odoo_env, grant, "refresh", "2 days")
    odoo_env["mcp.oauth.token"]._gc_expired()
    assert not _alive(old_access)
    assert _alive(recent_access)
    # Rotated or expired refresh tokens live as long as their grant, so that
    # their reuse is still recognised.
    assert _alive(old_refresh)


def test_codes_go_a_day_after_expiry(odoo_env):
    client = _client(odoo_env)
    old, recent = _code(odoo_env, client, "2 days"), _code(odoo_env, client, "1 hour")
    odoo_env["mcp.oauth.code"]._gc_expired()
    assert not _alive(old)
    # A replay of a recently used code is still seen, and still revokes.
    assert _alive(recent)


def test_finished_grants_go_with_their_tokens(odoo_env):
    client = _client(odoo_env)
    ended = _grant(odoo_env, client, expires_at="2 days")
    ended_token = _token(odoo_env, ended, "refresh", "3 days")
    revoked_long_ago = _grant(odoo_env, client, revoked_at="31 days")
    revoked_lately = _grant(odoo_env, client, revoked_at="29 days")
    just_ended = _grant(odoo_env, client, expires_at="1 hour")
    live = _grant(odoo_env, client)
    odoo_env["mcp.oauth.grant"]._gc_finished()
    assert not _alive(ended) and not _alive(ended_token)
    assert not _alive(revoked_long_ago)
    assert _alive(revoked_lately) and _alive(just_ended) and _alive(live)


def test_registrations_nobody_used_within_a_week_go(odoo_env):
    def registered(age, **values):
        client = _client(odoo_env, **{"origin": "registration", **values})
        _shift(odoo_env, "mcp_oauth_client", client.ids, create_date=age)
        return client

    unused = registered("8 days")
    archived = registered("8 days", active=False)
    document = registered("8 days", origin="metadata_document")
    used = registered("8 days", last_used="2020-01-01 00:00:00")
    authorized = registered("8 days")
    _grant(odoo_env, authorized, revoked_at="60 days")
    young = registered("6 days")
    manual = registered("8 days", origin="manual")

    odoo_env["mcp.oauth.client"]._gc_unused_registrations()
    assert not _alive(unused) and not _alive(archived) and not _alive(document)
    assert _alive(used) and _alive(authorized) and _alive(young) and _alive(manual)


def _last_use(env, grant):
    env.cr.execute(
        "SELECT last_used, last_ip FROM mcp_oauth_grant WHERE id = %s", [grant.id]
    )
    return env.cr.fetchone()


def test_touch_writes_at_most_once_a_minute(odoo_env):
    client = _client(odoo_env)
    fresh = _grant(odoo_env, client, last_used="10 seconds")
    stale = _grant(odoo_env, client, last_used=f"{TOUCH_INTERVAL + 5} seconds")
    never = _grant(odoo_env, client)
    before = _last_use(odoo_env, fresh)
    for grant in (fresh, stale, never):
        grant._touch("10.0.0.7")
    assert _last_use(odoo_env, fresh) == before
    for grant in (stale, never):
        last_used, last_ip = _last_use(odoo_env, grant)
        assert last_ip == "10.0.0.7"
        assert last_used > before[0]


@pytest.fixture
def committed_grant(orm_registry):
    """A grant committed to the ORM test database (another cursor must see it)."""
    with orm_registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        client = _client(env)
        grant_id = _grant(env, client).id
        client_id = client.id
    yield grant_id
    with orm_registry.cursor() as cr:
        cr.execute("DELETE FROM mcp_oauth_client WHERE id = %s", [client_id])


def test_touch_never_waits_for_a_grant_another_transaction_holds(
    orm_registry, committed_grant
):
    with orm_registry.cursor() as holder:
        holder.execute(
            "SELECT id FROM mcp_oauth_grant WHERE id = %s FOR UPDATE",
            [committed_grant],
        )
        with orm_registry.cursor() as cr:
            # Were the update to wait, it would wait this long, then fail.
            cr.execute("SET LOCAL lock_timeout = '5s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            started = time.monotonic()
            env["mcp.oauth.grant"].browse(committed_grant)._touch("10.0.0.8")
            elapsed = time.monotonic() - started
            cr.execute(
                "SELECT last_used FROM mcp_oauth_grant WHERE id = %s",
                [committed_grant],
            )
            assert cr.fetchone()[0] is None  # skipped, not blocked
        holder.rollback()
    assert elapsed < 2
