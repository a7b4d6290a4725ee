"""One search through POST /mcp against the same search through Odoo's own JSON-RPC.

Run from the repository root with the virtualenv of ``make bootstrap``::

    ~/.cache/mcp_server_odoo/venv/bin/python bench/search_vs_call_kw.py

1. build a database with the addon (or reuse ``--db``), load the address book
   of bench/_dataset.py and create the benchmark users;
2. while no server runs, time in this process the hashing of an API key and
   the server-side work of the routes without HTTP (bench/_inprocess.py);
3. start ``odoo-bin`` on a free loopback port and check that every route
   returns the same records;
4. warm up, then time each route once per iteration, rotating which one goes
   first so that drift and ordering effects fall on all of them alike;
5. print a table and one JSON line, write the JSON to bench/results/, and drop
   the database it created unless ``--keep``.

The routes, all asking for the same page of the same search:

- ``mcp``: ``tools/call search_records`` on /mcp, an API key as bearer token;
- ``call_kw``: ``/web/dataset/call_kw`` ``search_read``, with a web session;
- ``jsonrpc``: ``/jsonrpc`` ``execute_kw`` ``search_read``, an API key as
  password (Odoo hashes it on every call, as /mcp does);
- ``web_search_read``: what the web client's list view calls, through call_kw;
  like search_records it also counts the matches and names the many2ones;
- ``mcp_ping``: ``ping`` on /mcp, the fixed cost of an authenticated message;
- ``mcp_oauth``: ``tools/call search_records`` with ``"count": false`` (the
  same work as search_read), an OAuth access token as bearer token. The token
  comes from the authorization code flow, run over HTTP before the timing:
  Odoo's login form, the consent page, then /oauth/token with PKCE.
"""

import argparse
import contextlib
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
os.environ.setdefault("PGHOST", "127.0.0.1")
sys.path.insert(0, str(REPO))

from bench import _dataset  # noqa: E402
from tests.harness import odoo_server  # noqa: E402
from tests.harness.client import McpHttpClient  # noqa: E402
from tests.harness.oauth import REDIRECT_URI, Browser, OAuthApp  # noqa: E402

# Odoo's data directory (filestores, web sessions): a stable one rather than the
# test run's per-process one, so that a database kept with --keep keeps its files.
odoo_server.DATA_DIR = RESULTS / "odoo-data"

WEB_LOGIN = "mcp_bench"
# /jsonrpc tries the password before the API key; a user without a password
# keeps that first check free, so (c) pays for the key alone.
RPC_LOGIN = "mcp_bench_rpc"
ROUTES = ("mcp", "call_kw", "jsonrpc", "web_search_read", "mcp_ping", "mcp_oauth")
OAUTH_CLIENT_NAME = "mcp_bench OAuth client"
# The per-user /mcp limit (600 a minute by default) is below what the loop
# sends; a limit this high keeps the counter's cost in every call but never
# refuses one.
BENCH_RATE_LIMIT = "1000000"
MODEL = "res.partner"
DOMAIN = [
    ["is_company", "=", False],
    ["country_id.code", "in", ["BE", "FR", "DE", "NL"]],
]
FIELDS = ["name", "email", "phone", "city", "country_id", "parent_id", "is_company"]
ORDER = "name, id"
# many2ones as {id, display_name}, the shape search_records returns
SPECIFICATION = {
    name: {"fields": {"display_name": {}}}
    if name in ("country_id", "parent_id")
    else {}
    for name in FIELDS
}


def query(limit):
    return {
        "model": MODEL,
        "domain": DOMAIN,
        "fields": FIELDS,
        "limit": limit,
        "order": ORDER,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="reuse this database, or create it if absent")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--partners", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--hash-samples", type=int, default=200)
    parser.add_argument(
        "--inprocess-iterations",
        type=int,
        default=100,
        help="samples of the HTTP-free comparison (0 to skip it)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600,
        help="stop the timed loop after this long, whatever --iterations says",
    )
    return parser.parse_args(argv)


# -- database ------------------------------------------------------------------


def database_exists(name):
    with (
        contextlib.closing(odoo_server.admin_connection()) as conn,
        conn.cursor() as cr,
    ):
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cr.fetchone() is not None


def update_addon(name, log_path):
    """``-u mcp_server_odoo`` on a reused database, so it matches this checkout."""
    command = [
        sys.executable,
        str(odoo_server.ODOO_SRC / "odoo-bin"),
        *odoo_server.odoo_options(),
        "-d",
        name,
        "-u",
        "mcp_server_odoo",
        "--stop-after-init",
        "--log-level",
        "warn",
        "--logfile",
        str(log_path),
    ]
    done = subprocess.run(command, cwd=REPO, check=False, capture_output=True)
    if done.returncode:
        raise RuntimeError(f"updating the addon in {name} failed; see {log_path}")


def open_registry(name):
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    if not getattr(open_registry, "configured", False):
        config.parse_config([*odoo_server.odoo_options(), "--log-level", "warn"])
        odoo.modules.module.initialize_sys_path()
        open_registry.configured = True
    return odoo.modules.registry.Registry(name)


def close_registry(name):
    import odoo  # noqa: PLC0415

    odoo.modules.registry.Registry.delete(name)
    odoo.sql_db.close_db(name)


def prepare_data(registry, partners):
    """Load the address book and the two users; their credentials."""
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    password = secrets.token_urlsafe(16)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # /mcp refuses Odoo API keys unless the administrator allows them.
        env["ir.config_parameter"].set_param("mcp_server_odoo.accept_api_keys", "True")
        for key in ("rate_limit_calls", "rate_limit_ip_calls"):
            env["ir.config_parameter"].set_param(
                f"mcp_server_odoo.{key}", BENCH_RATE_LIMIT
            )
        started = time.perf_counter()
        created = _dataset.load_partners(env, partners)
        loaded_in = time.perf_counter() - started
        web_user = _dataset.ensure_user(env, WEB_LOGIN, password=password)
        rpc_user = _dataset.ensure_user(env, RPC_LOGIN)
        # Consent needs the MCP User group; it changes nothing the search sees.
        web_user.groups_id = [(4, env.ref("mcp_server_odoo.group_mcp_user").id)]
        credentials = {
            "web_login": WEB_LOGIN,
            "web_password": password,
            "mcp_key": _dataset.fresh_api_key(env, web_user),
            "web_uid": web_user.id,
            "rpc_uid": rpc_user.id,
            "rpc_key": _dataset.fresh_api_key(env, rpc_user),
            "oauth_client_id": oauth_client(env),
        }
        env.flush_all()
    return credentials, {"created": created, "seconds": round(loaded_in, 1)}


def oauth_client(env):
    """The client_id of a public client (PKCE, no secret) for the bench."""
    clients = env["mcp.oauth.client"].with_context(active_test=False)
    client = clients.search([("name", "=", OAUTH_CLIENT_NAME)], limit=1)
    if not client:
        client = clients.create(
            {
                "name": OAUTH_CLIENT_NAME,
                "auth_method": "none",
                "redirect_uris": REDIRECT_URI,
            }
        )
    client.active = True
    return client.client_id


# -- cost of the credential checks, in this process ------------------------------


def _median_ms(func, samples):
    timings = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        func()
        timings.append((time.perf_counter_ns() - started) / 1e6)
    return round(statistics.median(timings), 3)


def hashing_costs(registry, key, samples):
    """Median ms of verifying the key, of the whole API-key check, of a password."""
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    from odoo.addons.base.models.res_users import KEY_CRYPT_CONTEXT  # noqa: PLC0415

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(
            "SELECT k.key FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id"
            " WHERE u.login = %s AND k.name = 'bench'",
            [WEB_LOGIN],
        )
        [stored] = cr.fetchone()
        apikeys = env["res.users.apikeys"]
        password_context = env["res.users"]._crypt_context()
        password_hash = password_context.hash("not-the-benchmark-password")
        return {
            "key_verify_ms": _median_ms(
                lambda: KEY_CRYPT_CONTEXT.verify(key, stored), samples
            ),
            "key_check_credentials_ms": _median_ms(
                lambda: apikeys._check_credentials(scope="mcp", key=key), samples
            ),
            "password_verify_ms": _median_ms(
                lambda: password_context.verify("wrong", password_hash), 3
            ),
        }


# -- the routes ----------------------------------------------------------------


def _rpc_rows(result):
    return [row["id"] for row in result]


def _web_rows(result):
    return [row["id"] for row in result["records"]]


def _mcp_rows(result):
    if result.get("isError"):
        raise RuntimeError(f"mcp: tool error {result['content']}")
    return [row["id"] for row in result["structuredContent"]["records"]]


def _no_rows(result):
    return None


class Route:
    """One way to run the request: a session, a prepared body, and a reader."""

    def __init__(self, name, url, body, headers, session=None, reader=_rpc_rows):
        self.name = name
        self.url = url
        self.body = json.dumps(body).encode()
        self.headers = {"Content-Type": "application/json", **headers}
        self.session = session or requests.Session()
        self.reader = reader
        self.size = None

    def post(self):
        response = self.session.post(
            self.url, data=self.body, headers=self.headers, timeout=60
        )
        self.size = len(response.content)
        return response

    def timed(self):
        """Milliseconds of one round trip, the body read in full; then a check."""
        started = time.perf_counter_ns()
        response = self.post()
        elapsed = (time.perf_counter_ns() - started) / 1e6
        self.ids(response)
        return elapsed

    def ids(self, response):
        payload = response.json()
        if response.status_code != 200 or "error" in payload:
            raise RuntimeError(f"{self.name}: HTTP {response.status_code} {payload}")
        return self.reader(payload["result"])


def mcp_route(url, key, limit):
    client = McpHttpClient(url, key)
    client.initialize()
    body = client.message(
        "tools/call", {"name": "search_records", "arguments": query(limit)}
    )
    headers = {**client.headers(), **client.routing_headers(body)}
    ping = client.message("ping")
    return [
        Route("mcp", client.url, body, headers, client.session, _mcp_rows),
        # The same authenticated round trip without a tool: the fixed cost of /mcp.
        Route("mcp_ping", client.url, ping, client.headers(), client.session, _no_rows),
    ]


def oauth_access_token(url, credentials):
    """An access token of the web user, from the authorization code flow.

    Over HTTP as a person and a client would: Odoo's login form, the consent
    page (Allow), the redirect's code, then /oauth/token with the PKCE verifier.
    """
    browser = Browser(url).login(credentials["web_login"], credentials["web_password"])
    app = OAuthApp(url, credentials["oauth_client_id"])
    tokens = app.tokens_for(browser)
    return tokens["access_token"]


def mcp_oauth_route(url, credentials, limit):
    client = McpHttpClient(url, oauth_access_token(url, credentials))
    client.initialize()
    # Without the count, search_records does what search_read does.
    arguments = {**query(limit), "count": False}
    body = client.message(
        "tools/call", {"name": "search_records", "arguments": arguments}
    )
    headers = {**client.headers(), **client.routing_headers(body)}
    return Route("mcp_oauth", client.url, body, headers, client.session, _mcp_rows)


def web_session(url, database, credentials):
    """A requests session logged in through /web/session/authenticate."""
    session = requests.Session()
    params = {
        "db": database,
        "login": credentials["web_login"],
        "password": credentials["web_password"],
    }
    login = session.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        timeout=60,
    ).json()
    if not (login.get("result") or {}).get("uid"):
        raise RuntimeError(f"web login failed: {login}")
    return session, login["result"]["user_context"]


def _call_kw(name, url, session, method, kwargs, reader):
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 2,
        "params": {"model": MODEL, "method": method, "args": [], "kwargs": kwargs},
    }
    path = f"{url}/web/dataset/call_kw/{MODEL}/{method}"
    return Route(name, path, body, {}, session, reader)


def call_kw_routes(url, database, credentials, limit):
    session, context = web_session(url, database, credentials)
    common = {"domain": DOMAIN, "limit": limit, "order": ORDER, "context": context}
    return [
        _call_kw(
            "call_kw",
            url,
            session,
            "search_read",
            {**common, "fields": FIELDS},
            _rpc_rows,
        ),
        _call_kw(
            "web_search_read",
            url,
            session,
            "web_search_read",
            {**common, "specification": SPECIFICATION},
            _web_rows,
        ),
    ]


def jsonrpc_route(url, database, credentials, limit):
    kwargs = {
        "fields": FIELDS,
        "limit": limit,
        "order": ORDER,
        "context": {"lang": "en_US"},
    }
    args = [
        database,
        credentials["rpc_uid"],
        credentials["rpc_key"],
        MODEL,
        "search_read",
        [DOMAIN],
        kwargs,
    ]
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 3,
        "params": {"service": "object", "method": "execute_kw", "args": args},
    }
    return Route("jsonrpc", f"{url}/jsonrpc", body, {})


def check_same_records(routes):
    found = {route.name: route.ids(route.post()) for route in routes}
    reference = found["call_kw"]
    for name, ids in found.items():
        if ids is not None and ids != reference:
            raise RuntimeError(f"{name} returned other records than call_kw")
    return len(reference)


# -- timing ----------------------------------------------------------------------


def run_interleaved(routes, iterations, max_seconds):
    """Per iteration each route once, the first one rotating; samples by name."""
    samples = {route.name: [] for route in routes}
    deadline = time.monotonic() + max_seconds
    for i in range(iterations):
        if time.monotonic() > deadline:
            break
        shift = i % len(routes)
        for route in routes[shift:] + routes[:shift]:
            samples[route.name].append(route.timed())
    return samples


def summarize(values):
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "min_ms": round(ordered[0], 2),
    }


def ratios(stats, hashing):
    base = stats["call_kw"]["p50_ms"]
    verify = hashing["key_verify_ms"]
    return {
        "mcp_over_call_kw_p50": round(stats["mcp"]["p50_ms"] / base, 2),
        "mcp_over_call_kw_p50_without_key_hashing": round(
            (stats["mcp"]["p50_ms"] - verify) / base, 2
        ),
        "jsonrpc_over_call_kw_p50": round(stats["jsonrpc"]["p50_ms"] / base, 2),
        "mcp_over_jsonrpc_p50": round(
            stats["mcp"]["p50_ms"] / stats["jsonrpc"]["p50_ms"], 2
        ),
        "mcp_over_web_search_read_p50": round(
            stats["mcp"]["p50_ms"] / stats["web_search_read"]["p50_ms"], 2
        ),
        "mcp_ping_over_call_kw_p50": round(stats["mcp_ping"]["p50_ms"] / base, 2),
        "mcp_oauth_over_call_kw_p50": round(stats["mcp_oauth"]["p50_ms"] / base, 2),
        "mcp_oauth_over_mcp_p50": round(
            stats["mcp_oauth"]["p50_ms"] / stats["mcp"]["p50_ms"], 2
        ),
    }


# -- report ----------------------------------------------------------------------


def _git(*args):
    done = subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def machine():
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no"):
        commit += "+changes"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit or None,
    }


def print_table(report):
    stats, hashing = report["routes"], report["hashing"]
    print(
        f"\nsearch of {report['rows']} {MODEL} rows (limit {report['limit']}) "
        f"among {report['partners']} partners; {stats['mcp']['n']} interleaved "
        f"iterations, workers={report['workers']}\n"
    )
    print(f"{'route':<16}{'p50 ms':>9}{'p90 ms':>9}{'mean ms':>9}{'bytes':>9}")
    for name in ROUTES:
        row = stats[name]
        print(
            f"{name:<16}{row['p50_ms']:>9.2f}{row['p90_ms']:>9.2f}"
            f"{row['mean_ms']:>9.2f}{report['response_bytes'][name]:>9}"
        )
    print(
        f"\nAPI key verify (pbkdf2-sha512, 6000 rounds): "
        f"{hashing['key_verify_ms']:.2f} ms; whole _check_credentials: "
        f"{hashing['key_check_credentials_ms']:.2f} ms; a password verify: "
        f"{hashing['password_verify_ms']:.0f} ms"
    )
    for name, value in report["ratios"].items():
        print(f"{name:<45}{value:>6.2f}")
    if report["in_process"]:
        print(f"\nwithout HTTP (p50 ms): {json.dumps(report['in_process'])}")
    load = report["load_average_1_5_15"]
    print(f"load average before/after the loop: {load['before']} / {load['after']}")
    print()


def write_report(report):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"search_vs_call_kw-{report['stamp']}.json"
    path.write_text(json.dumps(report, indent=2))
    return path


# -- main ------------------------------------------------------------------------


def provision(name, created, log_dir):
    if created:
        print(f"building {name} (installing the addon) ...", flush=True)
        odoo_server.build_template(name, log_dir / "install.log")
    else:
        print(f"reusing {name}; updating the addon ...", flush=True)
        update_addon(name, log_dir / "update.log")


def measure(args, name, log_dir, stamp):
    registry = open_registry(name)
    credentials, loading = prepare_data(registry, args.partners)
    print(
        f"data: {loading['created']} partners created in {loading['seconds']} s",
        flush=True,
    )
    hashing = hashing_costs(registry, credentials["mcp_key"], args.hash_samples)
    in_process = None
    if args.inprocess_iterations:
        from bench import _inprocess  # noqa: PLC0415 (needs the addons path)

        in_process = _inprocess.measure(
            registry,
            credentials["web_uid"],
            query(args.limit),
            SPECIFICATION,
            args.inprocess_iterations,
        )
    close_registry(name)

    server = odoo_server.OdooServer(
        name, log_dir / f"server-{stamp}.log", workers=args.workers
    )
    try:
        routes = [
            *mcp_route(server.url, credentials["mcp_key"], args.limit),
            *call_kw_routes(server.url, name, credentials, args.limit),
            jsonrpc_route(server.url, name, credentials, args.limit),
            mcp_oauth_route(server.url, credentials, args.limit),
        ]
        rows = check_same_records(routes)
        run_interleaved(routes, args.warmup, args.max_seconds)
        load_before = [round(value, 2) for value in os.getloadavg()]
        samples = run_interleaved(routes, args.iterations, args.max_seconds)
        load_after = [round(value, 2) for value in os.getloadavg()]
    finally:
        server.stop()
    stats = {route: summarize(values) for route, values in samples.items()}
    return {
        "rows": rows,
        "loading": loading,
        "hashing": hashing,
        "in_process": in_process,
        "load_average_1_5_15": {"before": load_before, "after": load_after},
        "routes": stats,
        "response_bytes": {route.name: route.size for route in routes},
        "ratios": ratios(stats, hashing),
        "samples_ms": samples,
    }


def main(argv=None):
    args = parse_args(argv)
    started = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    name = args.db or f"mcp_bench_{os.getpid()}"
    created = not database_exists(name)
    try:
        provision(name, created, log_dir)
        measured = measure(args, name, log_dir, stamp)
    finally:
        if created and not args.keep:
            odoo_server.drop_database(name)
    report = {
        "benchmark": "search_vs_call_kw",
        "started": started.isoformat(),
        "stamp": stamp,
        "database": name,
        "partners": args.partners,
        "limit": args.limit,
        "workers": args.workers,
        "machine": machine(),
        **measured,
    }
    print_table(report)
    path = write_report(report)
    summary = {key: value for key, value in report.items() if key != "samples_ms"}
    print(json.dumps(summary, separators=(",", ":")))
    print(f"written to {path.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
