"""Autocommit connections for the addon's own one-statement bookkeeping.

The rate-limit counters and the audit log each write one statement that must
commit whatever happens to the request afterwards. A cursor of Odoo's pool
costs a reset, a ``BEGIN``, the statement and a ``COMMIT``: four round trips
where one is enough. So each kind of bookkeeping keeps a few psycopg2
connections of its own, in autocommit and READ COMMITTED, per database and
per process:

- a connection is used by one request at a time, and given back after;
- a connection that failed in any way is closed, never reused;
- a forked worker never uses a connection its parent opened;
- at most ``max_idle`` connections per database stay open between requests;
- the statements a caller runs on every request are prepared once per
  connection (``PREPARE``), so that each run skips parsing and planning:
  about a tenth of a millisecond per statement here.

Nothing here touches customer data: callers run their own fixed SQL.
"""

import contextlib
import os
import threading

import psycopg2

from odoo import sql_db

# SQLSTATE 26000: the prepared statement is gone (a pooler reset the session).
INVALID_STATEMENT_NAME = "26000"


class AutocommitConnections:
    """A small pool of autocommit connections.

    ``session_sql`` runs on connect; ``prepared`` maps a statement name to its
    ``PREPARE`` text (the part after ``AS``, with ``$n`` parameters), run with
    :meth:`execute_prepared`.
    """

    def __init__(self, name, *, session_sql=(), prepared=None, max_idle=4):
        self.name = name
        self._session_sql = tuple(session_sql)
        self._prepared = dict(prepared or {})
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle = {}

    def _take(self, dbname):
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._idle = os.getpid(), {}
            idle = self._idle.setdefault(dbname, [])
            return idle.pop() if idle else None

    def _give_back(self, dbname, cnx):
        with self._lock:
            idle = self._idle.setdefault(dbname, [])
            if self._pid == os.getpid() and len(idle) < self._max_idle:
                idle.append(cnx)
                return
        cnx.close()

    def _connect(self, dbname):
        _name, info = sql_db.connection_info_for(dbname)
        cnx = psycopg2.connect(**info)
        # Each statement is its own READ COMMITTED transaction: concurrent
        # writers wait for each other's row locks and then see the newest rows.
        cnx.autocommit = True
        try:
            with cnx.cursor() as cr:
                for statement in self._session_sql:
                    cr.execute(statement)
                self._prepare(cr)
        except Exception:
            cnx.close()
            raise
        return cnx

    def _prepare(self, cr):
        for statement, text in self._prepared.items():
            cr.execute(f"PREPARE {statement} AS {text}")

    @contextlib.contextmanager
    def connection(self, dbname):
        cnx = self._take(dbname)
        if cnx is not None and cnx.closed:
            cnx = None
        if cnx is None:
            cnx = self._connect(dbname)
        try:
            yield cnx
        except Exception:
            cnx.close()
            raise
        self._give_back(dbname, cnx)

    def execute(self, dbname, query, params=None):
        """Run one statement in its own transaction; all rows it returns."""
        with self.connection(dbname) as cnx, cnx.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else []

    def execute_prepared(self, dbname, statement, params):
        """Run the prepared ``statement`` with ``params``; all rows it returns."""
        placeholders = ", ".join(["%s"] * len(params))
        query = f"EXECUTE {statement} ({placeholders})"
        with self.connection(dbname) as cnx, cnx.cursor() as cr:
            try:
                cr.execute(query, params)
            except psycopg2.Error as exc:
                if exc.pgcode != INVALID_STATEMENT_NAME:
                    raise
                # Nothing ran: prepare again on this connection and run once more.
                self._prepare(cr)
                cr.execute(query, params)
            return cr.fetchall() if cr.description else []
