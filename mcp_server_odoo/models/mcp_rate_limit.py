"""``mcp.rate.limit``: fixed-window counters shared by every worker and server.

The counters live in PostgreSQL by default, in an UNLOGGED table outside the
ORM: they are bookkeeping, worthless after a crash, and an UNLOGGED write
commits without waiting for the WAL. Each hit is one ``INSERT ... ON CONFLICT
DO UPDATE ... RETURNING`` on a cursor of its own, committed at once, so that a
request that is refused or fails afterwards still counts. That cursor is an
autocommit connection of the addon (``autocommit.py``), outside Odoo's pool,
so that a hit costs one round trip. With
``mcp_rate_limit_redis_url`` in the Odoo configuration file the same windows
are kept in Redis through the ``limits`` library instead.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from odoo import api, models, tools
from odoo.tools import config

from ..autocommit import AutocommitConnections

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "mcp_server_odoo."
REDIS_OPTION = "mcp_rate_limit_redis_url"
# One statement counts every bucket of a message. The database clock decides
# the window, so that every server counts the same windows; rows go in bucket
# order, so that concurrent messages never deadlock on each other's rows.
# $1 buckets, $2 limits, $3 windows (seconds), one row each; prepared once per
# connection of COUNTER_CONNECTIONS.
HIT_QUERY = """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp()) AS t),
    wanted AS (
        SELECT v.bucket, v.win, floor(now.t / v.win)::bigint * v.win AS start
          FROM unnest($1::varchar[], $2::int[], $3::int[]) AS v(bucket, lim, win),
               now
    )
    INSERT INTO mcp_rate_limit AS c (bucket, window_start, expires, hits)
    SELECT bucket, start, start + win, 1 FROM wanted ORDER BY bucket
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = c.hits + 1
    RETURNING c.bucket, c.hits, c.expires - (SELECT t FROM now)
"""

# (parameter, default): 0 switches a limit off.
DEFAULTS = {
    "rate_limit_window": 60,
    "rate_limit_calls": 600,
    "rate_limit_ip_calls": 1200,
    "rate_limit_ip_failures": 30,
    "rate_limit_oauth_calls": 60,
}


@dataclass(frozen=True)
class RateSettings:
    """The limits in force; every count is per ``window`` seconds."""

    window: int
    calls: int
    ip_calls: int
    ip_failures: int
    oauth_calls: int


def _redis_url():
    return (config.get(REDIS_OPTION) or "").strip()


class RedisCounters:
    """The same fixed windows in Redis, through ``limits`` (one per URL)."""

    _instances = {}
    _lock = threading.Lock()

    def __init__(self, url):
        # Imported here: Redis is optional and so is its client.
        from limits import RateLimitItemPerSecond, storage, strategies  # noqa: PLC0415

        self._item = RateLimitItemPerSecond
        self._limiter = strategies.FixedWindowRateLimiter(
            storage.storage_from_string(url)
        )

    @classmethod
    def get(cls, url):
        with cls._lock:
            if url not in cls._instances:
                cls._instances[url] = cls(url)
            return cls._instances[url]

    def hit(self, hits):
        """Count each ``(bucket, limit, window)``; (allowed, retry after)."""
        allowed, retry_after = True, 0
        for bucket, limit, window in hits:
            item = self._item(limit, window)
            if not self._limiter.hit(item, "mcp", bucket):
                stats = self._limiter.get_window_stats(item, "mcp", bucket)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                allowed, retry_after = False, max(retry_after, wait)
        return allowed, retry_after


COUNTER_CONNECTIONS = AutocommitConnections(
    "rate-limit", prepared={"mcp_rate_hit": HIT_QUERY}
)


class McpRateLimit(models.AbstractModel):
    _name = "mcp.rate.limit"
    _description = "MCP rate limit counters"

    def init(self):
        # Counters are bookkeeping: no WAL, no ORM, no access rights to grant.
        self.env.cr.execute(
            """
            CREATE UNLOGGED TABLE IF NOT EXISTS mcp_rate_limit (
                bucket varchar NOT NULL,
                window_start bigint NOT NULL,
                expires bigint NOT NULL,
                hits integer NOT NULL,
                PRIMARY KEY (bucket, window_start)
            )
            """
        )

    # -- settings -------------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _rate_settings(self):
        """Read once per registry; cleared with the parameters they come from."""
        # sudo: the addon's own configuration, not customer data.
        params = self.env["ir.config_parameter"].sudo()
        values = {}
        for key, default in DEFAULTS.items():
            try:
                values[key] = max(int(params.get_param(PARAM_PREFIX + key, default)), 0)
            except (TypeError, ValueError):
                _logger.warning(
                    "MCP setting %s is not an integer; using %s", key, default
                )
                values[key] = default
        return RateSettings(
            window=max(values["rate_limit_window"], 1),
            calls=values["rate_limit_calls"],
            ip_calls=values["rate_limit_ip_calls"],
            ip_failures=values["rate_limit_ip_failures"],
            oauth_calls=values["rate_limit_oauth_calls"],
        )

    # -- counting -------------------------------------------------------------------

    @api.model
    def _hit(self, bucket, limit, window):
        """Count one hit of ``bucket``; ``(allowed, seconds to wait)``.

        The public entry point for other endpoints (the OAuth token and
        registration endpoints): ``limit`` hits per ``window`` seconds, the
        hit counted even when it is refused.
        """
        return self._hit_many([(bucket, limit, window)])

    @api.model
    def _hit_many(self, hits):
        """Count several buckets in one round trip; refused if any is over."""
        unique = {str(b): (str(b), int(n), int(w)) for b, n, w in hits if n > 0}
        hits = sorted(unique.values())
        if not hits:
            return True, 0
        url = _redis_url()
        if url:
            try:
                return RedisCounters.get(url).hit(hits)
            except Exception as exc:  # noqa: BLE001 - any failure of the storage
                # Counting goes on in PostgreSQL rather than failing every call.
                _logger.error(
                    "MCP rate limit FAIL Redis storage (%s); counting in PostgreSQL",
                    type(exc).__name__,
                )
        return self._hit_postgresql(hits)

    def _hit_postgresql(self, hits):
        buckets, limits, windows = (list(column) for column in zip(*hits, strict=True))
        rows = COUNTER_CONNECTIONS.execute_prepared(
            self.env.cr.dbname, "mcp_rate_hit", [buckets, limits, windows]
        )
        counted = {bucket: (count, left) for bucket, count, left in rows}
        allowed, retry_after = True, 0
        for bucket, limit, _window in hits:
            count, left = counted[bucket]
            if count > limit:
                allowed = False
                retry_after = max(retry_after, 1, math.ceil(left))
        return allowed, retry_after

    @api.autovacuum
    def _gc_rate_windows(self):
        """Windows that have ended count for nothing."""
        self.env.cr.execute(
            "DELETE FROM mcp_rate_limit WHERE expires < extract(epoch FROM now())"
        )
