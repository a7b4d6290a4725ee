"""The analytics tools, checked against SQL the test computes on its own.

Data is created by each test in a rolled-back transaction: contacts spread over
two years, two companies and three countries, and currency rates by day. A
user of company A sees, through the record rules, only company A's rows and
those without a company; every figure is compared with a GROUP BY written here,
with that restriction spelt out in SQL.
"""

import datetime
import random
import uuid
from collections import defaultdict

import pytest

from tests.harness.fixtures import configure_odoo

configure_odoo()

from jsonschema import Draft202012Validator  # noqa: E402

from odoo.addons.mcp_server_odoo.tools import ToolError, analytics  # noqa: E402

TYPES = ["contact", "invoice", "delivery", "other"]


def call(tool, env, **arguments):
    result = tool.handler(env, arguments)
    # Every answer must match the tool's own outputSchema.
    Draft202012Validator(tool.output_schema).validate(dict(result))
    return result


def user_env(odoo_env, user):
    """The environment dispatch gives a call: the user and their context."""
    env = odoo_env(user=user.id)
    return env(context=dict(env.user.context_get()))


def close(a, b):
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


@pytest.fixture
def data(odoo_env, make_user):
    env = odoo_env
    tag = f"ana-{uuid.uuid4().hex[:8]}"
    company_a, company_b = env["res.company"].create(
        [{"name": f"Ana A {tag}"}, {"name": f"Ana B {tag}"}]
    )
    countries = [env.ref("base.be"), env.ref("base.fr"), env.ref("base.de")]
    rng = random.Random(11)
    companies = [company_a.id, company_b.id, False]
    partners = env["res.partner"].create(
        [
            {
                "name": f"P{i} {tag}",
                "ref": tag,
                "company_id": companies[i % 3],
                "country_id": countries[rng.randrange(3)].id if i % 10 else False,
                "color": rng.randrange(0, 12),
                "partner_latitude": round(rng.uniform(-50, 50), 4),
                "type": TYPES[rng.randrange(4)],
            }
            for i in range(150)
        ]
    )
    env.flush_all()
    start = datetime.datetime(2023, 1, 1)
    moments = [
        start + datetime.timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        for _ in partners
    ]
    # Near month ends in UTC: another month in Tokyo (UTC+9).
    moments[:6] = [datetime.datetime(2024, 3, 31, 20, 0)] * 3 + [
        datetime.datetime(2024, 4, 30, 16, 30)
    ] * 3
    for partner, moment in zip(partners, moments, strict=True):
        env.cr.execute(
            "UPDATE res_partner SET create_date = %s WHERE id = %s",
            [moment, partner.id],
        )
    env.invalidate_all()
    admin = make_user(
        f"ana-admin-{tag}",
        groups=["base.group_user", "base.group_multi_company"],
        company=company_a,
        companies=company_a | company_b,
        tz="UTC",
    )
    user_a = make_user(
        f"ana-a-{tag}",
        groups=["base.group_user"],
        company=company_a,
        companies=company_a,
        tz="Asia/Tokyo",
    )
    return {
        "tag": tag,
        "a": company_a,
        "b": company_b,
        "admin": user_env(env, admin),
        "user_a": user_env(env, user_a),
        "countries": countries,
    }


def rows(env, query, params):
    env.cr.execute(query, params)
    return env.cr.fetchall()


def where(data, restricted):
    """The SQL condition of the test data, and of what user A may see."""
    if restricted:
        return (
            "ref = %s AND active AND (company_id IS NULL OR company_id = %s)",
            [data["tag"], data["a"].id],
        )
    return "ref = %s AND active", [data["tag"]]


# -- aggregate_records


@pytest.mark.parametrize("restricted", [False, True])
def test_aggregate_matches_a_group_by_in_sql(odoo_env, data, restricted):
    env = data["user_a"] if restricted else data["admin"]
    result = call(
        analytics.aggregate_records,
        env,
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        groupby=["country_id", "type"],
        measures=[
            "count",
            "color:sum",
            "partner_latitude:avg",
            "partner_latitude:max",
            "color:count_distinct",
        ],
    )
    condition, params = where(data, restricted)
    expected = rows(
        odoo_env,
        f"""SELECT country_id, type, count(*), sum(color), avg(partner_latitude),
                   max(partner_latitude), count(DISTINCT color)
              FROM res_partner WHERE {condition}
             GROUP BY country_id, type""",
        params,
    )
    got = {
        (g["key"]["country_id"]["value"], g["key"]["type"]["value"]): g["values"]
        for g in result["groups"]
    }
    assert len(got) == len(expected)
    for country, kind, count, total, avg, high, distinct in expected:
        values = got[country, kind]
        assert values["count"] == count
        assert values["color:sum"] == total
        assert isinstance(values["color:sum"], int)
        assert close(values["partner_latitude:avg"], float(avg))
        assert close(values["partner_latitude:max"], float(high))
        assert values["color:count_distinct"] == distinct

    ((count, total, avg, distinct),) = rows(
        odoo_env,
        f"SELECT count(*), sum(color), avg(partner_latitude), count(DISTINCT color) "
        f"FROM res_partner WHERE {condition}",
        params,
    )
    totals = result["totals"]
    assert (totals["count"], totals["color:sum"]) == (count, total)
    assert close(totals["partner_latitude:avg"], float(avg))
    assert totals["color:count_distinct"] == distinct
    # Groups are labelled: country names, selection labels.
    be = data["countries"][0]
    labels = {
        g["key"]["country_id"]["value"]: g["key"]["country_id"]["label"]
        for g in result["groups"]
    }
    assert labels.get(be.id) == be.display_name
    kinds = {
        g["key"]["type"]["value"]: g["key"]["type"]["label"] for g in result["groups"]
    }
    assert kinds.get("invoice") == "Invoice Address"


def test_restricted_user_totals_cover_only_their_rows(odoo_env, data):
    everything = call(
        analytics.aggregate_records,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        measures=["count"],
    )
    mine = call(
        analytics.aggregate_records,
        data["user_a"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        measures=["count"],
    )
    assert everything["totals"]["count"] == 150
    assert mine["totals"]["count"] == 100  # company A and no company: 2 in 3


def test_aggregate_order_and_limit_on_groups(odoo_env, data):
    result = call(
        analytics.aggregate_records,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        groupby=["color"],
        measures=["count", "partner_latitude:sum"],
        order="partner_latitude:sum desc",
        limit=3,
    )
    expected = rows(
        odoo_env,
        "SELECT color, sum(partner_latitude) FROM res_partner WHERE ref = %s "
        "GROUP BY color ORDER BY 2 DESC NULLS LAST LIMIT 3",
        [data["tag"]],
    )
    assert [
        (g["key"]["color"]["value"], g["values"]["partner_latitude:sum"])
        for g in result["groups"]
    ] == [(color, pytest.approx(float(total))) for color, total in expected]
    # The totals still cover every group, not just the three shown.
    assert result["totals"]["count"] == 150


def test_date_groupby_in_the_users_time_zone(odoo_env, data):
    # User A's time zone is Asia/Tokyo: 2024-03-31 20:00 UTC is in April there.
    result = call(
        analytics.aggregate_records,
        data["user_a"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        groupby=["create_date:month"],
    )
    condition, params = where(data, True)
    expected = dict(
        rows(
            odoo_env,
            f"""SELECT date_trunc('month', create_date AT TIME ZONE 'UTC'
                                       AT TIME ZONE 'Asia/Tokyo')::date, count(*)
              FROM res_partner WHERE {condition} GROUP BY 1""",
            params,
        )
    )
    got = {
        g["key"]["create_date:month"]["value"]: g["values"]["count"]
        for g in result["groups"]
    }
    assert got == {day.isoformat(): count for day, count in expected.items()}
    assert "2024-04-01" in got


# -- errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"measures": ["name:sum"]}, "only integer, float and monetary"),
        ({"measures": ["country_id:avg"]}, "cannot avg"),
        ({"measures": ["name:max"]}, "use a number or date field"),
        ({"measures": ["color:median"]}, "'median' is not an aggregate"),
        ({"groupby": ["no_such_field"]}, "no field 'no_such_field'"),
        ({"groupby": ["create_date:hour"]}, "'hour' is not a granularity"),
        ({"groupby": ["country_id:month"]}, "a granularity applies only"),
        ({"groupby": ["display_name"]}, "not stored"),
        ({"groupby": ["color"], "order": "name desc"}, "Cannot order by 'name'"),
        ({"groupby": ["color"], "order": "color sideways"}, "Invalid order term"),
    ],
)
def test_bad_specs_are_clear_tool_errors(data, arguments, message):
    with pytest.raises(ToolError, match=message):
        call(
            analytics.aggregate_records,
            data["admin"],
            model="res.partner",
            domain=[["ref", "=", data["tag"]]],
            **arguments,
        )


def test_too_many_groups_is_refused(odoo_env, data):
    odoo_env["ir.config_parameter"].set_param("mcp_server_odoo.max_groups", "5")
    with pytest.raises(ToolError, match="More than 5 groups"):
        call(
            analytics.aggregate_records,
            data["admin"],
            model="res.partner",
            domain=[["ref", "=", data["tag"]]],
            groupby=["color"],
        )
    with pytest.raises(ToolError, match="more than the cap of 5"):
        call(
            analytics.timeseries,
            data["admin"],
            model="res.partner",
            domain=[["ref", "=", data["tag"]]],
            date_field="create_date",
            granularity="day",
            date_from="2024-01-01",
            date_to="2024-01-31",
        )
    # With a limit within the cap, the biggest groups come back.
    result = call(
        analytics.aggregate_records,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        groupby=["color"],
        order="count desc",
        limit=3,
    )
    assert len(result["groups"]) == 3


# -- pivot


@pytest.mark.parametrize("restricted", [False, True])
def test_pivot_cells_and_totals_match_sql(odoo_env, data, restricted):
    env = data["user_a"] if restricted else data["admin"]
    measures = ["count", "color:sum", "partner_latitude:avg", "color:count_distinct"]
    result = call(
        analytics.pivot,
        env,
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        rows=["country_id"],
        columns=["type"],
        measures=measures,
    )
    condition, params = where(data, restricted)

    def sql(group):
        select = f"{group}, " if group else ""
        tail = f" GROUP BY {group}" if group else ""
        found = rows(
            odoo_env,
            f"SELECT {select}count(*), sum(color), avg(partner_latitude), "
            f"count(DISTINCT color) FROM res_partner WHERE {condition}{tail}",
            params,
        )
        return {tuple(r[:-4]): r[-4:] for r in found}

    def same(values, expected):
        count, total, avg, distinct = expected
        assert values["count"] == count
        assert values["color:sum"] == total
        assert close(values["partner_latitude:avg"], float(avg))
        assert values["color:count_distinct"] == distinct

    cells = sql("country_id, type")
    columns = [c["key"]["type"]["value"] for c in result["columns"]]
    seen = 0
    for row in result["rows"]:
        country = row["key"]["country_id"]["value"]
        for kind, cell in zip(columns, row["cells"], strict=True):
            if (country, kind) in cells:
                same(cell, cells[country, kind])
                seen += 1
            else:
                assert cell is None
    assert seen == len(cells)
    by_country = sql("country_id")
    for row in result["rows"]:
        same(row["total"], by_country[(row["key"]["country_id"]["value"],)])
    by_type = sql("type")
    for column in result["columns"]:
        same(column["total"], by_type[(column["key"]["type"]["value"],)])
    same(result["grand_total"], sql("")[()])


# -- timeseries


def test_timeseries_fills_buckets_in_the_users_time_zone(odoo_env, data):
    result = call(
        analytics.timeseries,
        data["user_a"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        date_field="create_date",
        granularity="month",
        measures=["count", "color:sum"],
        date_from="2023-01-15",
        date_to="2024-12-31",
        cumulative=True,
    )
    assert result["timezone"] == "Asia/Tokyo"
    condition, params = where(data, True)
    expected = {
        day: (count, total)
        for day, count, total in rows(
            odoo_env,
            f"""SELECT date_trunc('month', create_date AT TIME ZONE 'UTC'
                                           AT TIME ZONE 'Asia/Tokyo')::date,
                       count(*), sum(color)
                  FROM res_partner WHERE {condition} GROUP BY 1""",
            params,
        )
    }
    points = result["points"]
    # Every month of 2023 and 2024, the empty ones at zero.
    assert [p["period"] for p in points] == [
        datetime.date(2023 + m // 12, m % 12 + 1, 1).isoformat() for m in range(24)
    ]
    running = 0
    for point in points:
        day = datetime.date.fromisoformat(point["period"])
        count, total = expected.get(day, (0, None))
        assert point["values"]["count"] == count
        assert point["values"]["color:sum"] == (total if count else None)
        running += count
        assert point["cumulative"]["count"] == running
    assert result["totals"]["count"] == sum(c for c, _t in expected.values())


def test_timeseries_compares_with_the_previous_period(odoo_env, data):
    result = call(
        analytics.timeseries,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        date_field="create_date",
        granularity="quarter",
        date_from="2024-01-01",
        date_to="2024-06-30",
        compare_previous=True,
    )
    quarters = dict(
        rows(
            odoo_env,
            "SELECT date_trunc('quarter', create_date)::date, count(*) "
            "FROM res_partner "
            "WHERE ref = %s GROUP BY 1",
            [data["tag"]],
        )
    )
    q = datetime.date
    assert [(p["period"], p["previous_period"]) for p in result["points"]] == [
        ("2024-01-01", "2023-07-01"),
        ("2024-04-01", "2023-10-01"),
    ]
    for point in result["points"]:
        now = quarters.get(q.fromisoformat(point["period"]), 0)
        before = quarters.get(q.fromisoformat(point["previous_period"]), 0)
        assert point["values"]["count"] == now
        assert point["previous"]["count"] == before
        assert close(point["change"]["count"], (now - before) / before)
    assert result["previous_totals"]["count"] == sum(
        quarters.get(q(2023, m, 1), 0) for m in (7, 10)
    )


@pytest.fixture
def rates(odoo_env, data):
    """Daily rates of a currency for companies A and B over 90 days."""
    currency = odoo_env.ref("base.JPY")
    rng = random.Random(5)
    values = []
    for company in (data["a"], data["b"]):
        for day in range(90):
            values.append(
                {
                    "name": datetime.date(2024, 1, 1) + datetime.timedelta(day),
                    "rate": round(rng.uniform(100, 200), 3),
                    "currency_id": currency.id,
                    "company_id": company.id,
                }
            )
    odoo_env["res.currency.rate"].create(values)
    odoo_env.flush_all()
    return currency


def test_timeseries_on_a_date_field_by_week_for_a_restricted_user(
    odoo_env, data, rates
):
    env = data["user_a"]
    result = call(
        analytics.timeseries,
        env,
        model="res.currency.rate",
        domain=[["currency_id", "=", rates.id]],
        date_field="name",
        granularity="week",
        measures=["rate:sum", "count", "rate:min"],
    )
    # Weeks start on the day the user's language says (Odoo's week_start).
    env_lang = env["res.lang"]._lang_get(env.lang or "en_US")
    first_day = int(env_lang.week_start) - 1
    weeks = defaultdict(list)
    for day, rate in rows(
        odoo_env,
        "SELECT name, rate FROM res_currency_rate WHERE currency_id = %s "
        "AND company_id = %s",
        [rates.id, data["a"].id],
    ):
        start = day - datetime.timedelta(days=(day.weekday() - first_day) % 7)
        weeks[start].append(rate)
    assert [p["period"] for p in result["points"]] == [
        d.isoformat() for d in sorted(weeks)
    ]
    for point in result["points"]:
        values = weeks[datetime.date.fromisoformat(point["period"])]
        assert point["values"]["count"] == len(values)
        assert close(point["values"]["rate:sum"], sum(values))
        assert close(point["values"]["rate:min"], min(values))


def test_timeseries_refuses_a_field_that_is_not_a_date(data):
    with pytest.raises(ToolError, match="not a date or datetime field"):
        call(
            analytics.timeseries, data["admin"], model="res.partner", date_field="color"
        )


# -- cohort


def test_cohort_counts_and_retention_match_sql(odoo_env, data):
    env = odoo_env
    tag = data["tag"] + "-co"
    rng = random.Random(3)
    parents = env["res.partner"].create(
        [{"name": f"Co {i} {tag}", "is_company": True} for i in range(12)]
    )
    children = env["res.partner"].create(
        [
            {
                "name": f"Ch {i} {tag}",
                "ref": tag,
                "parent_id": parents[i % 12].id,
                "color": rng.randrange(10),
            }
            for i in range(160)
        ]
    )
    env.flush_all()
    for child in children:
        moment = datetime.datetime(2024, 1, 1) + datetime.timedelta(
            days=rng.randrange(0, 200), hours=rng.randrange(24)
        )
        env.cr.execute(
            "UPDATE res_partner SET create_date = %s WHERE id = %s", [moment, child.id]
        )
    env.invalidate_all()

    result = call(
        analytics.cohort,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", tag]],
        entity_field="parent_id",
        date_field="create_date",
        granularity="month",
        periods=6,
        measures=["color:sum"],
    )
    expected = rows(
        env,
        """WITH acts AS (
               SELECT parent_id, date_trunc('month', create_date)::date AS period,
                      sum(color) AS colors
                 FROM res_partner WHERE ref = %s GROUP BY 1, 2),
           firsts AS (SELECT parent_id, min(period) AS cohort FROM acts GROUP BY 1)
           SELECT f.cohort,
                  (extract(year FROM age(a.period, f.cohort)) * 12
                   + extract(month FROM age(a.period, f.cohort)))::int AS offset_,
                  count(*), sum(a.colors)
             FROM acts a JOIN firsts f USING (parent_id) GROUP BY 1, 2""",
        [tag],
    )
    sizes = {cohort: n for cohort, offset, n, _c in expected if offset == 0}
    table = {(cohort, offset): (n, colors) for cohort, offset, n, colors in expected}
    assert [c["cohort"] for c in result["cohorts"]] == [
        d.isoformat() for d in sorted(sizes)
    ]
    for item in result["cohorts"]:
        cohort = datetime.date.fromisoformat(item["cohort"])
        assert item["size"] == sizes[cohort]
        for cell in item["periods"]:
            n, colors = table.get((cohort, cell["offset"]), (0, None))
            assert cell["active"] == n
            assert close(cell["retention"], n / sizes[cohort])
            assert cell["values"]["color:sum"] == colors
        assert len(item["periods"]) <= 6


# -- topn


def test_topn_with_others_and_shares(odoo_env, data):
    result = call(
        analytics.topn,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        groupby="color",
        measure="color:sum",
        n=3,
    )
    expected = rows(
        odoo_env,
        "SELECT color, sum(color) FROM res_partner WHERE ref = %s "
        "GROUP BY color ORDER BY 2 DESC NULLS LAST, color LIMIT 3",
        [data["tag"]],
    )
    ((total,),) = rows(
        odoo_env, "SELECT sum(color) FROM res_partner WHERE ref = %s", [data["tag"]]
    )
    assert [(t["key"]["value"], t["value"]) for t in result["top"]] == expected
    assert result["total"] == total
    assert result["others"]["value"] == total - sum(v for _k, v in expected)
    assert close(sum(t["share"] for t in result["top"]) + result["others"]["share"], 1)


def test_topn_refuses_an_average(data):
    with pytest.raises(ToolError, match="count or a sum"):
        call(
            analytics.topn,
            data["admin"],
            model="res.partner",
            groupby="type",
            measure="color:avg",
        )


# -- funnel


def test_funnel_by_selection_stages(odoo_env, data):
    env = data["user_a"]
    result = call(
        analytics.funnel,
        env,
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        stage_field="type",
        stages=["contact", "invoice", "delivery"],
    )
    condition, params = where(data, True)
    counts = dict(
        rows(
            odoo_env,
            f"SELECT type, count(*) FROM res_partner WHERE {condition} GROUP BY type",
            params,
        )
    )
    got = [(s["key"]["value"], s["count"], s["reached"]) for s in result["stages"]]
    assert got == [
        (
            "contact",
            counts.get("contact", 0),
            sum(counts.get(k, 0) for k in ("contact", "invoice", "delivery")),
        ),
        (
            "invoice",
            counts.get("invoice", 0),
            counts.get("invoice", 0) + counts.get("delivery", 0),
        ),
        ("delivery", counts.get("delivery", 0), counts.get("delivery", 0)),
    ]
    assert result["outside_stages"] == counts.get("other", 0)
    first, second, third = result["stages"]
    assert first["conversion"] is None
    assert close(second["conversion"], second["reached"] / first["reached"])
    assert close(result["overall_conversion"], third["reached"] / first["reached"])


def test_funnel_by_steps(odoo_env, data):
    result = call(
        analytics.funnel,
        data["admin"],
        model="res.partner",
        domain=[["ref", "=", data["tag"]]],
        steps=[
            {"name": "all", "domain": []},
            {"name": "with a country", "domain": [["country_id", "!=", False]]},
            {"name": "colourful", "domain": [["color", ">", 5]]},
        ],
    )
    ((a, b, c),) = rows(
        odoo_env,
        "SELECT count(*), count(*) FILTER (WHERE country_id IS NOT NULL), "
        "count(*) FILTER (WHERE country_id IS NOT NULL AND color > 5) "
        "FROM res_partner WHERE ref = %s",
        [data["tag"]],
    )
    assert [s["reached"] for s in result["stages"]] == [a, b, c]
    assert close(result["overall_conversion"], c / a)
