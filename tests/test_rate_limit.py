"""Rate limits: the shared counters, the two chain steps, the 429 on the wire."""

import contextlib
import secrets
import threading

import pytest
import redis

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

from odoo.addons.mcp_server_odoo.chain import AuthResult
from odoo.addons.mcp_server_odoo.models import mcp_rate_limit
from odoo.addons.mcp_server_odoo.protocol import errors
from odoo.addons.mcp_server_odoo.protocol.errors import McpError

from tests.harness.fixtures import run_message

REDIS_URL = "redis://127.0.0.1:6379/15"


def _bucket():
    return f"test:{secrets.token_hex(6)}"


def _address():
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def _count(registry, bucket):
    with registry.cursor() as cr:
        cr.execute("SELECT sum(hits) FROM mcp_rate_limit WHERE bucket = %s", [bucket])
        return cr.fetchone()[0] or 0


@pytest.fixture
def limits(odoo_env):
    """``limits(calls=.., ip_calls=.., ...)`` sets the limits for this test."""

    def apply(**values):
        params = odoo_env["ir.config_parameter"]
        for key, value in values.items():
            params.set_param(f"mcp_server_odoo.rate_limit_{key}", str(value))

    apply(calls=0, ip_calls=0, ip_failures=0, oauth_calls=0)
    return apply


@pytest.fixture
def handle(odoo_env):
    def run(uid=None, address="127.0.0.1", client=None, error=None):
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        kind = ("oauth" if client else "api_key") if uid else None
        auth = AuthResult(uid=uid, kind=kind, client=client, error=error)
        return run_message(odoo_env, body, auth, remote_addr=address)

    return run


def test_hits_over_the_limit_are_refused_with_the_seconds_to_wait(odoo_env):
    limiter, bucket = odoo_env["mcp.rate.limit"], _bucket()
    answers = [limiter._hit(bucket, 3, 60) for _ in range(5)]
    assert [allowed for allowed, _wait in answers] == [True, True, True, False, False]
    assert all(wait == 0 for _allowed, wait in answers[:3])
    assert all(1 <= wait <= 60 for _allowed, wait in answers[3:])


def test_a_hit_counts_even_when_the_request_rolls_back(odoo_env, orm_registry):
    bucket = _bucket()
    odoo_env["mcp.rate.limit"]._hit(bucket, 10, 60)
    odoo_env.cr.rollback()
    assert _count(orm_registry, bucket) == 1


def test_concurrent_hits_are_counted_exactly(odoo_env, orm_registry):
    bucket, allowed, lock = _bucket(), [], threading.Lock()

    def burst():
        with orm_registry.cursor() as cr:
            limiter = api.Environment(cr, SUPERUSER_ID, {})["mcp.rate.limit"]
            for _ in range(25):
                ok, _wait = limiter._hit(bucket, 100, 3600)
                with lock:
                    allowed.append(ok)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100
    assert _count(orm_registry, bucket) == 200


def test_the_user_limit_answers_429_with_retry_after(handle, limits, make_user):
    limits(calls=2)
    user = make_user()
    handle(uid=user.id)
    handle(uid=user.id)
    with pytest.raises(McpError) as refused:
        handle(uid=user.id)
    error = refused.value
    assert (error.status, error.code) == (429, errors.RATE_LIMITED)
    assert 1 <= int(error.headers["Retry-After"]) <= 60
    assert error.data == {"retryAfter": int(error.headers["Retry-After"])}
    # Another user is counted apart, and so is another client of the same user.
    handle(uid=make_user().id)
    handle(uid=user.id, client="other-client")


def test_failed_authentication_is_limited_per_address(handle, limits, make_user):
    limits(ip_failures=2)
    address = _address()
    for _ in range(2):
        with pytest.raises(McpError) as unauthenticated:
            handle(address=address, error="the access token is invalid or expired")
        assert unauthenticated.value.status == 401
    with pytest.raises(McpError) as refused:
        handle(address=address)
    assert refused.value.status == 429
    # A valid credential from the same address still gets through, and the
    # failures of one address cost nothing to another.
    handle(uid=make_user().id, address=address)
    with pytest.raises(McpError) as elsewhere:
        handle(address=_address())
    assert elsewhere.value.status == 401


def test_every_message_of_an_address_counts_before_authentication(
    handle, limits, make_user
):
    limits(ip_calls=3)
    address, user = _address(), make_user()
    handle(uid=user.id, address=address)
    handle(uid=make_user().id, address=address)
    with pytest.raises(McpError):
        handle(address=address)  # 401, and counted
    with pytest.raises(McpError) as refused:
        handle(uid=user.id, address=address)
    assert refused.value.status == 429


def test_the_oauth_endpoints_throttle_per_address_and_endpoint(odoo_env, limits):
    limits(oauth_calls=2)
    clients, address = odoo_env["mcp.oauth.client"], _address()
    assert [clients._oauth_throttle("token", address) for _ in range(2)] == [0, 0]
    assert clients._oauth_throttle("token", address) > 0
    assert clients._oauth_throttle("revocation", address) == 0


def test_limits_at_zero_count_nothing(odoo_env, handle, limits, make_user):
    user = make_user()
    for _ in range(5):
        handle(uid=user.id)
    assert odoo_env["mcp.rate.limit"]._hit_many([("x", 0, 60)]) == (True, 0)


def test_ended_windows_are_vacuumed(orm_registry):
    bucket = _bucket()
    with orm_registry.cursor() as cr:
        cr.execute("INSERT INTO mcp_rate_limit VALUES (%s, 0, 60, 5)", [bucket])
    with orm_registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})["mcp.rate.limit"]._gc_rate_windows()
    assert _count(orm_registry, bucket) == 0


@contextlib.contextmanager
def _redis_storage():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    config[mcp_rate_limit.REDIS_OPTION] = REDIS_URL
    try:
        yield
    finally:
        config.options.pop(mcp_rate_limit.REDIS_OPTION, None)


def test_redis_storage_counts_the_same_way(odoo_env, orm_registry):
    bucket, allowed, lock = _bucket(), [], threading.Lock()
    limiter = odoo_env["mcp.rate.limit"]

    def burst():
        for _ in range(25):
            ok, _wait = limiter._hit(bucket, 60, 3600)
            with lock:
                allowed.append(ok)

    with _redis_storage():
        threads = [threading.Thread(target=burst) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refused, wait = limiter._hit(bucket, 60, 3600)
    assert allowed.count(True) == 60
    assert (refused, 1 <= wait <= 3600) == (False, True)
    assert _count(orm_registry, bucket) == 0  # nothing went to PostgreSQL


# -- on the wire ---------------------------------------------------------------------


@contextlib.contextmanager
def _server_limits(server_env, **values):
    with server_env() as env:
        for key, value in values.items():
            env["ir.config_parameter"].set_param(
                f"mcp_server_odoo.rate_limit_{key}", str(value)
            )
    try:
        yield
    finally:
        with server_env() as env:
            for key in values:
                env["ir.config_parameter"].set_param(
                    f"mcp_server_odoo.rate_limit_{key}", "0"
                )


def test_a_refused_request_gets_429_retry_after_and_a_jsonrpc_error(
    client_for, server_env
):
    client = client_for("not-a-valid-token")
    # Failures of earlier tests from 127.0.0.1 may already be in this window.
    with _server_limits(server_env, ip_failures=1):
        answers = [client.send("tools/list") for _ in range(3)]
    refused = answers[-1]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["jsonrpc"] == "2.0"
    assert body["error"]["code"] == errors.RATE_LIMITED
    assert body["error"]["message"].startswith("Rate limit exceeded")
    assert body["id"] is not None


def test_an_unreachable_redis_falls_back_to_postgresql(odoo_env, orm_registry):
    bucket = _bucket()
    config[mcp_rate_limit.REDIS_OPTION] = "redis://127.0.0.1:1/0"
    try:
        assert odoo_env["mcp.rate.limit"]._hit(bucket, 5, 60) == (True, 0)
    finally:
        config.options.pop(mcp_rate_limit.REDIS_OPTION, None)
    assert _count(orm_registry, bucket) == 1


def test_a_refused_message_leaves_its_own_rate_limited_event(
    handle, limits, make_user, odoo_env
):
    limits(calls=1)
    user = make_user()
    handle(uid=user.id, client="mcpc_audited")
    with pytest.raises(McpError) as refused:
        handle(uid=user.id, client="mcpc_audited")
    assert refused.value.status == 429
    # The event commits on its own connection: read it through another cursor.
    with Registry(odoo_env.cr.dbname).cursor() as cr:
        cr.execute(
            "SELECT outcome, error_type, user_ref, oauth_client, method"
            "  FROM mcp_audit_event WHERE user_ref = %s ORDER BY sequence",
            [user.id],
        )
        rows = cr.fetchall()
    assert rows[-1] == (
        "rate_limited",
        str(errors.RATE_LIMITED),
        user.id,
        "mcpc_audited",
        "ping",
    )
    assert [row[0] for row in rows] == ["success", "rate_limited"]
