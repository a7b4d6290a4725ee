"""The addon's own autocommit connections (autocommit.py), on a real database."""

import psycopg2
import pytest

from tests.harness.fixtures import configure_odoo

configure_odoo()

from odoo.addons.mcp_server_odoo.autocommit import AutocommitConnections  # noqa: E402


@pytest.fixture
def pool():
    return AutocommitConnections(
        "test", prepared={"mcp_test_add": "SELECT $1::int + $2::int"}, max_idle=1
    )


def test_a_prepared_statement_runs_with_its_parameters(pool, orm_db):
    assert pool.execute_prepared(orm_db, "mcp_test_add", [2, 3]) == [(5,)]


def test_a_statement_a_pooler_dropped_is_prepared_again(pool, orm_db):
    pool.execute_prepared(orm_db, "mcp_test_add", [1, 1])
    # What a connection pooler's session reset does behind our back.
    pool.execute(orm_db, "DEALLOCATE mcp_test_add")
    assert pool.execute_prepared(orm_db, "mcp_test_add", [20, 22]) == [(42,)]


def test_a_failed_statement_closes_its_connection_and_the_next_call_reconnects(
    pool, orm_db
):
    with pool.connection(orm_db) as first:
        pass
    with pytest.raises(psycopg2.Error):
        pool.execute_prepared(orm_db, "mcp_test_add", ["not a number", 1])
    assert first.closed
    assert pool.execute_prepared(orm_db, "mcp_test_add", [1, 2]) == [(3,)]


def test_connections_are_autocommit_in_read_committed(pool, orm_db):
    with pool.connection(orm_db) as cnx:
        assert cnx.autocommit
        with cnx.cursor() as cr:
            cr.execute("SELECT current_setting('transaction_isolation')")
            assert cr.fetchone()[0] == "read committed"
