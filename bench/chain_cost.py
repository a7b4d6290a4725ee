"""What the chain costs per call: the full chain against dispatch alone.

In one process, on one database, the same ``tools/call`` (``list_models``,
one result) runs through:

- ``dispatch``: the dispatch step alone, with the user's environment bound
  beforehand (what the authentication step would have produced);
- ``+authentication``, ``+rate_limit``, ``+policy``, ``+audit``: the chain in
  its order with each named step added in turn (steps not in the chain of
  this working tree are skipped);
- ``full``: every step, tracing included, as ``mcp.server`` assembles it.

The credential is what ``ir.http`` hands over for an OAuth access token (the
default; its check has read the user's login already). Tracing is on: an SDK
tracer provider with a batch processor whose exporter
drops the spans. Rate limits are on (PostgreSQL counters, limits too high to
refuse) and so is a casbin policy (the four examples of policies/ together).
Each sample runs in a fresh cursor, rolled back afterwards; the variants are
interleaved so that drift falls on all alike. The figure to read is
``full - dispatch`` at p50.

    ~/.cache/mcp_server_odoo/venv/bin/python bench/chain_cost.py [--db NAME]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness import odoo_server  # noqa: E402
from tests.harness.fixtures import configure_odoo  # noqa: E402

POLICY_FILES = (
    "read_only_analyst.csv",
    "no_hr_payroll.csv",
    "no_exports.csv",
    "office_hours_writes.csv",
)
STAGES = ("authentication", "rate_limit_ip", "rate_limit", "policy", "audit")


def _install_tracing():
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    trace.set_tracer_provider(provider)


def _prepare(registry):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    from odoo.addons.mcp_server_odoo.chain import policy as policy_step  # noqa: PLC0415

    text = "\n".join((REPO / "policies" / name).read_text() for name in POLICY_FILES)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        params = env["ir.config_parameter"]
        for key in ("calls", "ip_calls", "ip_failures"):
            params.set_param(f"mcp_server_odoo.rate_limit_{key}", "1000000000")
        params.set_param(policy_step.ENABLED_PARAM, "True")
        env["mcp.policy"].create(
            {"name": "bench", "policy_text": text}
        ).action_activate()
        user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Chain bench",
                    "login": f"chain-bench-{time.time_ns()}",
                    "groups_id": [(6, 0, [env.ref("base.group_user").id])],
                }
            )
        )
        return user.id, user.login


def _chains(server):
    from odoo.addons.mcp_server_odoo.chain import Chain, Step  # noqa: PLC0415
    from odoo.addons.mcp_server_odoo.chain.dispatch import dispatch_step  # noqa: PLC0415

    full, _tools = server._mcp_assembled()
    by_name = {step.name: step for step in full.steps}

    def bind(ctx, call_next):
        # What authentication leaves behind, done outside the timed chain.
        return call_next(ctx)

    variants = {
        "dispatch": Chain([Step("bind", 1, bind), Step("dispatch", 100, dispatch_step)])
    }
    names = ["dispatch"]
    for stage in STAGES:
        if stage not in by_name:
            continue
        names.append(stage)
        steps = [by_name[name] for name in names if name in by_name]
        variants["+" + stage] = Chain(steps)
    variants["full"] = full
    return variants


def _sample(registry, uid, login, chain, body, bind_env):
    from odoo import api  # noqa: PLC0415

    from odoo.addons.mcp_server_odoo.chain import AuthResult, Context  # noqa: PLC0415
    from odoo.addons.mcp_server_odoo.protocol import transport  # noqa: PLC0415

    with registry.cursor() as cr:
        server = api.Environment(cr, uid, {})["mcp.server"]
        settings = server._mcp_settings()
        accepted = transport.accept(body, {"mcp-protocol-version": "2025-11-25"})
        ctx = Context(
            message=accepted.message,
            protocol_version=accepted.protocol_version,
            # What ir.http's OAuth check hands over (the default credential):
            # the token check has read the login already.
            auth=AuthResult(
                uid=uid,
                login=login,
                kind="oauth",
                client="mcpc_bench",
                token_family="1",
            ),
            cr=cr,
            remote_addr="127.0.0.1",
            tools=server._mcp_assembled()[1],
            settings=settings,
        )
        if bind_env:
            ctx.env = api.Environment(cr, uid, {})
        started = time.perf_counter_ns()
        result = chain(ctx)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        assert result["isError"] is False, result
        cr.rollback()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="reuse this database (created if missing)")
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()

    name = options.db or f"mcp_chainbench_{int(time.time())}"
    log = Path(tempfile.gettempdir()) / f"{name}-install.log"
    odoo_server.build_template(name, log)  # installs or updates the addon
    configure_odoo()
    import odoo  # noqa: PLC0415

    registry = odoo.modules.registry.Registry(name)
    _install_tracing()
    uid, login = _prepare(registry)
    with registry.cursor() as cr:
        variants = _chains(odoo.api.Environment(cr, uid, {})["mcp.server"])
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "list_models", "arguments": {"limit": 1}},
        }
    ).encode()
    samples = {key: [] for key in variants}
    for round_number in range(options.warmup + options.iterations):
        order = list(variants.items())
        shift = round_number % len(order)
        for key, chain in order[shift:] + order[:shift]:
            elapsed = _sample(
                registry, uid, login, chain, body, bind_env=key == "dispatch"
            )
            if round_number >= options.warmup:
                samples[key].append(elapsed)

    p50 = {key: statistics.median(values) for key, values in samples.items()}
    print(f"{'variant':<18}{'p50 ms':>10}{'p90 ms':>10}{'mean ms':>10}")
    for key, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{key:<18}{p50[key]:>10.3f}{p90:>10.3f}{statistics.mean(values):>10.3f}")
    cost = p50["full"] - p50["dispatch"]
    print(f"chain cost at p50 (full - dispatch): {cost:.3f} ms")
    report = {
        "when": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        "iterations": options.iterations,
        "steps": list(variants["full"].names),
        "p50_ms": p50,
        "chain_cost_p50_ms": cost,
    }
    print(json.dumps(report))
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"chain_cost-{report['when']}.json").write_text(
        json.dumps(dict(report, samples=samples))
    )
    registry.delete(name)
    odoo.sql_db.close_db(name)
    if not options.db and not options.keep:
        odoo_server.drop_database(name)


if __name__ == "__main__":
    main()
