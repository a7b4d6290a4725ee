"""Analytics tools: aggregates computed by PostgreSQL through ``_read_group``.

Every figure comes from the ORM's read-group machinery in the user's
environment, so access rights, record rules and the user's companies decide
which rows count; no handler reads raw rows. Totals are merged from the groups
already fetched when the aggregate allows it (sum, count, min, max, and avg kept
as sum and count), so most tools cost one scan of the table.
"""

from odoo.osv import expression

from . import ToolError, tool
from ._domain import readable_model, validate_domain
from ._groups import (
    DATE_TYPES,
    GROUPBY_NOTE,
    MEASURE_NOTE,
    STEP,
    GroupBy,
    KeyLabeller,
    align,
    as_day,
    bucket_label,
    buckets,
    capped_groups,
    date_bounds,
    display_names,
    local_day,
    max_groups,
    measure_value,
    measure_values,
    merge,
    number,
    odoo_aggregates,
    parse_groupby,
    parse_measure,
    parse_measures,
    periods_between,
    read_groups,
    tz_of,
)
from .records import DOMAIN_NOTE, SEARCH_PROPERTIES

TOPN_MAX = 100
FUNNEL_MAX_STEPS = 20
COHORT_MAX_PERIODS = 60
# The cohort tool reads one group per entity and active period; it may hold
# this many times the group cap before it refuses.
COHORT_ROWS_FACTOR = 100

# -- shared schema pieces --

MODEL = SEARCH_PROPERTIES["model"]
DOMAIN = SEARCH_PROPERTIES["domain"]
ARCHIVED = {
    "type": "boolean",
    "default": False,
    "description": "Count archived records too.",
}
SPEC = {"type": "string", "minLength": 1, "maxLength": 200}
MEASURES = {
    "type": "array",
    "items": SPEC,
    "minItems": 1,
    "maxItems": 20,
    "default": ["count"],
    "description": MEASURE_NOTE,
}
GROUPBYS = {"type": "array", "items": SPEC, "maxItems": 5, "description": GROUPBY_NOTE}
DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
GRANULARITY = {
    "type": "string",
    "enum": ["day", "week", "month", "quarter", "year"],
    "default": "month",
}
TIMEZONE = {
    "type": "string",
    "maxLength": 64,
    "description": "IANA time zone for datetime buckets; the user's when absent.",
}
VALUES = {
    "type": "object",
    "additionalProperties": {"type": ["number", "string", "null"]},
    "description": "Measure name to value.",
}
NULLABLE_VALUES = {"anyOf": [VALUES, {"type": "null"}]}
KEY = {
    "type": "object",
    "properties": {
        "value": {"type": ["string", "number", "boolean", "null"]},
        "label": {"type": ["string", "null"]},
    },
    "required": ["value", "label"],
    "additionalProperties": False,
}
KEYS = {"type": "object", "additionalProperties": KEY}
CURRENCY = {
    "type": ["object", "null"],
    "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
}
MEASURE_INFO = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "aggregate": {"type": "string"},
        "type": {"type": "string"},
        "currency": CURRENCY,
        "mixed_currencies": {"type": "boolean"},
    },
    "required": ["name", "field", "aggregate", "type"],
}
MEASURE_INFOS = {"type": "array", "items": MEASURE_INFO}
NUMBERS_NOTE = (
    "Numbers are JSON numbers; a monetary measure names its currency in "
    "`measures` (or says the currencies are mixed: group by the currency field). "
    "Group keys are {value, label}: ids with display names for relations, keys "
    "with labels for selections, the first day of the bucket for dates."
)


def _source(env, arguments):
    model = readable_model(env, arguments["model"])
    domain = validate_domain(model, arguments.get("domain"))
    if arguments.get("include_archived"):
        model = model.with_context(active_test=False)
    return model, domain


def _groupbys(model, specs, at):
    groupbys = [
        parse_groupby(model, spec, f"{at}[{i}]") for i, spec in enumerate(specs)
    ]
    fields = [groupby.field.name for groupby in groupbys]
    if len(set(fields)) != len(fields):
        raise ToolError(f"{at}: each field may be grouped by only once.")
    return groupbys


def _measure_infos(model, measures, totals):
    return [_measure_info(model, measure, totals) for measure in measures]


def _measure_info(model, measure, totals):
    """What a measure is; for a monetary one, the currency of all its rows,
    read from the lowest and highest currency id among them."""
    field = measure.field
    info = {
        "name": measure.name,
        "field": field.name if field else None,
        "aggregate": measure.aggregate,
        "type": "integer" if field is None else field.type,
    }
    if measure.currency:
        low = totals.get(f"{measure.currency}:min")
        high = totals.get(f"{measure.currency}:max")
        info["mixed_currencies"] = bool(low and high and low != high)
        info["currency"] = None
        if low and low == high:
            currency_field = model._fields[measure.currency]
            names = display_names(model.env, currency_field, {low})
            info["currency"] = {"id": low, "name": names.get(low)}
    return info


def _totals(model, domain, measures, raws):
    """Raw totals over all rows: merged from the groups when every measure
    allows it, else read with one more query."""
    aggregates = odoo_aggregates(measures)
    if raws is not None and all(measure.mergeable for measure in measures):
        return merge(raws, aggregates)
    ((_key, raw),) = read_groups(model, domain, [], aggregates)
    return raw


def _group_order(order, groupbys, measures):
    """``order`` in the terms of this call's keys and measures, for _read_group."""
    if not order:
        return None
    known = {groupby.name: groupby.odoo for groupby in groupbys}
    known.update(
        {
            measure.name: measure.name if measure.field else "__count"
            for measure in measures
        }
    )
    terms = []
    for part in order.split(","):
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if not words or len(words) > 2 or direction not in ("asc", "desc"):
            raise ToolError(
                f"Invalid order term {part.strip()!r}: use 'name' or 'name desc'."
            )
        if words[0] not in known:
            raise ToolError(
                f"Cannot order by {words[0]!r}: order by one of the group-by keys "
                f"or measures of this call ({', '.join(known)})."
            )
        nulls = " nulls last" if direction == "desc" else ""
        terms.append(f"{known[words[0]]} {direction}{nulls}")
    return ", ".join(terms)


# -- aggregate_records --


@tool(
    "aggregate_records",
    title="Aggregate records",
    description=(
        "Group the records of a model that match a domain and compute measures "
        "per group, in the database and with your access rights. "
        f"{GROUPBY_NOTE} {MEASURE_NOTE} `order` names group-by keys or measures "
        "of the call, e.g. 'amount_total:sum desc'. Without a limit, more groups "
        f"than the server's cap is an error. {DOMAIN_NOTE} {NUMBERS_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "groupby": GROUPBYS,
            "measures": MEASURES,
            "order": {"type": "string", "maxLength": 500},
            "limit": {"type": "integer", "minimum": 1},
            "include_archived": ARCHIVED,
        },
        "required": ["model"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "groupby": {"type": "array", "items": {"type": "string"}},
            "measures": MEASURE_INFOS,
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"key": KEYS, "values": VALUES},
                    "required": ["key", "values"],
                    "additionalProperties": False,
                },
            },
            "totals": VALUES,
        },
        "required": ["model", "groupby", "measures", "groups", "totals"],
        "additionalProperties": False,
    },
)
def aggregate_records(env, arguments):
    # 1. what to compute, every field checked as readable
    model, domain = _source(env, arguments)
    groupbys = _groupbys(model, arguments.get("groupby") or [], "groupby")
    measures = parse_measures(model, arguments.get("measures") or ["count"])
    order = _group_order(arguments.get("order"), groupbys, measures)
    aggregates = odoo_aggregates(measures)
    limit = arguments.get("limit")
    cap = max_groups(env)

    # 2. the groups, then the totals (merged when all groups are at hand)
    if limit and limit <= cap:
        rows = read_groups(
            model, domain, groupbys, aggregates, order=order, limit=limit
        )
        complete = False
    else:
        rows = capped_groups(model, domain, groupbys, aggregates, order=order, cap=cap)
        complete = True
    raws = [raw for _key, raw in rows] if complete else None
    totals = _totals(model, domain, measures, raws)

    labeller = KeyLabeller(model, groupbys, [key for key, _raw in rows])
    return {
        "model": model._name,
        "groupby": [groupby.name for groupby in groupbys],
        "measures": _measure_infos(model, measures, totals),
        "groups": [
            {"key": labeller.keys(key), "values": measure_values(measures, raw)}
            for key, raw in rows
        ]
        if groupbys
        else [],
        "totals": measure_values(measures, totals),
    }


# -- pivot --


def _sort_value(value):
    if hasattr(value, "_name"):  # a record
        return (value.id == 0 if not value else 0, value.id if value else 0)
    if value is None or value is False:
        return (1, 0)
    return (0, value)


@tool(
    "pivot",
    title="Pivot table",
    description=(
        "Cross-tabulate the records of a model: `rows` and `columns` are lists "
        "of group-by keys, and each cell holds the measures of the records in "
        "that row and column, with row totals, column totals and the grand total. "
        f"{GROUPBY_NOTE} {MEASURE_NOTE} Empty cells are null. More cells than the "
        f"server's group cap is an error. {DOMAIN_NOTE} {NUMBERS_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "rows": GROUPBYS,
            "columns": GROUPBYS,
            "measures": MEASURES,
            "include_archived": ARCHIVED,
        },
        "required": ["model"],
        "anyOf": [
            {"required": ["rows"], "properties": {"rows": {"minItems": 1}}},
            {"required": ["columns"], "properties": {"columns": {"minItems": 1}}},
        ],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "measures": MEASURE_INFOS,
            "row_groupby": {"type": "array", "items": {"type": "string"}},
            "column_groupby": {"type": "array", "items": {"type": "string"}},
            "columns": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"key": KEYS, "total": VALUES},
                    "required": ["key", "total"],
                    "additionalProperties": False,
                },
            },
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": KEYS,
                        "cells": {"type": "array", "items": NULLABLE_VALUES},
                        "total": VALUES,
                    },
                    "required": ["key", "cells", "total"],
                    "additionalProperties": False,
                },
            },
            "grand_total": VALUES,
        },
        "required": [
            "model",
            "measures",
            "row_groupby",
            "column_groupby",
            "columns",
            "rows",
            "grand_total",
        ],
        "additionalProperties": False,
    },
)
def pivot(env, arguments):
    # 1. the groupings and measures
    model, domain = _source(env, arguments)
    row_by = _groupbys(model, arguments.get("rows") or [], "rows")
    col_by = _groupbys(model, arguments.get("columns") or [], "columns")
    both = _groupbys(
        model, [g.name for g in row_by] + [g.name for g in col_by], "rows+columns"
    )
    measures = parse_measures(model, arguments.get("measures") or ["count"])
    aggregates = odoo_aggregates(measures)

    # 2. one scan for the cells; totals merged from them when possible
    cells = capped_groups(model, domain, both, aggregates)
    width = len(row_by)
    matrix, row_keys, col_keys = {}, {}, {}
    for key, raw in cells:
        row_key, col_key = key[:width], key[width:]
        row_keys.setdefault(_hashable(row_key), row_key)
        col_keys.setdefault(_hashable(col_key), col_key)
        matrix[_hashable(row_key), _hashable(col_key)] = raw
    rows = sorted(row_keys, key=lambda k: [_sort_value(v) for v in row_keys[k]])
    cols = sorted(col_keys, key=lambda k: [_sort_value(v) for v in col_keys[k]])
    row_totals = _margin(
        model, domain, row_by, measures, keys=rows, side=0, matrix=matrix
    )
    col_totals = _margin(
        model, domain, col_by, measures, keys=cols, side=1, matrix=matrix
    )
    grand = _totals(model, domain, measures, [raw for _k, raw in cells])

    # 3. the matrix with labels
    row_labels = KeyLabeller(model, row_by, list(row_keys.values()))
    col_labels = KeyLabeller(model, col_by, list(col_keys.values()))
    return {
        "model": model._name,
        "measures": _measure_infos(model, measures, grand),
        "row_groupby": [g.name for g in row_by],
        "column_groupby": [g.name for g in col_by],
        "columns": [
            {"key": col_labels.keys(col_keys[c]), "total": col_totals[c]} for c in cols
        ],
        "rows": [
            {
                "key": row_labels.keys(row_keys[r]),
                "cells": [
                    measure_values(measures, matrix[r, c]) if (r, c) in matrix else None
                    for c in cols
                ],
                "total": row_totals[r],
            }
            for r in rows
        ],
        "grand_total": measure_values(measures, grand),
    }


def _hashable(key):
    return tuple(
        ("record", value.id) if hasattr(value, "_name") else value for value in key
    )


def _margin(model, domain, groupbys, measures, *, keys, side, matrix):
    """Totals per row (side 0) or column (side 1): merged from the cells, or, for
    count_distinct, read with their own group-by."""
    aggregates = odoo_aggregates(measures)
    if all(measure.mergeable for measure in measures) or not groupbys:
        parts = {key: [] for key in keys}
        for pair, raw in matrix.items():
            parts[pair[side]].append(raw)
        return {
            key: measure_values(measures, merge(raws, aggregates))
            for key, raws in parts.items()
        }
    rows = capped_groups(model, domain, groupbys, aggregates)
    return {_hashable(key): measure_values(measures, raw) for key, raw in rows}


# -- timeseries --


def _date_field(model, name, at="date_field"):
    groupby = parse_groupby(model, name, at, default_granularity="day")
    if groupby.field.type not in DATE_TYPES:
        raise ToolError(f"{at}: {name!r} is not a date or datetime field.")
    return groupby.field


def _change(current, previous):
    changes = {}
    for name, value in current.items():
        before = previous.get(name)
        if (
            isinstance(value, (int, float))
            and isinstance(before, (int, float))
            and before
        ):
            changes[name] = (value - before) / abs(before)
        else:
            changes[name] = None
    return changes


def _series_rows(model, domain, field, *, granularity, tz_name, window, aggregates):
    """({bucket start day: raw}, the domain used) of ``field`` bucketed over the
    window [first, end) of local days, or over all dates when it is open."""
    groupby = GroupBy(f"{field.name}:{granularity}", field, granularity)
    first, end = window
    bounded = expression.AND(
        [
            domain,
            [(field.name, "!=", False)],
            date_bounds(field, tz_name, first, end),
        ]
    )
    rows = capped_groups(model, bounded, [groupby], aggregates)
    return {as_day(key[0]): raw for key, raw in rows}, bounded


def _totals_of(model, domain, measures, data):
    return _totals(model, domain, measures, list(data.values()))


@tool(
    "timeseries",
    title="Time series",
    description=(
        "Measures of the records of a model over time: one point per day, week, "
        "month, quarter or year of a date or datetime field, empty buckets "
        "included (0 for counts and sums). Datetimes are bucketed in the user's "
        "time zone, or in `timezone`. `date_from`/`date_to` (inclusive days) are "
        "widened to whole buckets. `cumulative` adds running totals of counts and "
        "sums; `compare_previous` adds the same measures over the same number of "
        "buckets just before, and the relative change. "
        f"{MEASURE_NOTE} {DOMAIN_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "date_field": {"type": "string", "minLength": 1, "maxLength": 128},
            "granularity": GRANULARITY,
            "measures": MEASURES,
            "date_from": DAY,
            "date_to": DAY,
            "timezone": TIMEZONE,
            "cumulative": {"type": "boolean", "default": False},
            "compare_previous": {"type": "boolean", "default": False},
            "include_archived": ARCHIVED,
        },
        "required": ["model", "date_field"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "date_field": {"type": "string"},
            "granularity": {"type": "string"},
            "timezone": {"type": "string"},
            "measures": MEASURE_INFOS,
            "points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "period": {"type": "string"},
                        "label": {"type": "string"},
                        "values": VALUES,
                        "cumulative": VALUES,
                        "previous_period": {"type": "string"},
                        "previous": VALUES,
                        "change": VALUES,
                    },
                    "required": ["period", "label", "values"],
                    "additionalProperties": False,
                },
            },
            "totals": VALUES,
            "previous_totals": VALUES,
        },
        "required": [
            "model",
            "date_field",
            "granularity",
            "timezone",
            "measures",
            "points",
            "totals",
        ],
        "additionalProperties": False,
    },
)
def timeseries(env, arguments):
    # 1. the field, the buckets' time zone and the window
    model, domain = _source(env, arguments)
    field = _date_field(model, arguments["date_field"])
    granularity = arguments.get("granularity", "month")
    tz_name = tz_of(env, arguments.get("timezone"))
    model = model.with_context(tz=tz_name)
    measures = parse_measures(model, arguments.get("measures") or ["count"])
    if arguments.get("cumulative") and not all(m.additive for m in measures):
        raise ToolError("cumulative values apply to count and sum measures only.")
    aggregates = odoo_aggregates(measures)
    first, last = _window(env, arguments, granularity)
    if first and last:
        _check_buckets(env, buckets(first, last, granularity))

    # 2. the buckets with data, then every bucket of the window
    end = last + STEP[granularity] if last else None
    data, bounded = _series_rows(
        model,
        domain,
        field,
        granularity=granularity,
        tz_name=tz_name,
        window=(first, end),
        aggregates=aggregates,
    )
    if not data and not (first and last):
        points = []
    else:
        first = first or min(data)
        last = last or max(data)
        points = buckets(first, last, granularity)
    _check_buckets(env, points)
    empty = merge([], aggregates)
    result_points = [
        {
            "period": day.isoformat(),
            "label": bucket_label(env, granularity, day),
            "values": measure_values(measures, data.get(day, empty)),
        }
        for day in points
    ]
    totals = _totals_of(model, bounded, measures, data)
    result = {
        "model": model._name,
        "date_field": field.name,
        "granularity": granularity,
        "timezone": tz_name,
        "measures": _measure_infos(model, measures, totals),
        "points": result_points,
        "totals": measure_values(measures, totals),
    }

    # 3. running totals and the previous window
    if arguments.get("cumulative"):
        _accumulate(result_points, measures)
    if arguments.get("compare_previous") and points:
        _compare(
            model,
            domain,
            field,
            granularity=granularity,
            tz_name=tz_name,
            points=points,
            measures=measures,
            result=result,
        )
    return result


def _check_buckets(env, points):
    if len(points) > max_groups(env):
        raise ToolError(
            f"The window holds {len(points)} buckets, more than the cap of "
            f"{max_groups(env)}: use a coarser granularity or a shorter window."
        )


def _window(env, arguments, granularity):
    from datetime import date  # noqa: PLC0415

    first = last = None
    if arguments.get("date_from"):
        first = align(
            env, granularity, _parse_day(date, arguments["date_from"], "date_from")
        )
    if arguments.get("date_to"):
        last = align(
            env, granularity, _parse_day(date, arguments["date_to"], "date_to")
        )
    if first and last and last < first:
        raise ToolError("date_to is before date_from.")
    return first, last


def _parse_day(date_cls, text, name):
    try:
        return date_cls.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{name}: {text!r} is not a date (YYYY-MM-DD).") from None


def _accumulate(points, measures):
    running = {measure.name: 0 for measure in measures}
    for point in points:
        for name, value in point["values"].items():
            running[name] += value or 0
        point["cumulative"] = dict(running)


def _compare(model, domain, field, *, granularity, tz_name, points, measures, result):
    step = STEP[granularity]
    count = len(points)
    previous_first = points[0] - step * count
    aggregates = odoo_aggregates(measures)
    previous, bounded = _series_rows(
        model,
        domain,
        field,
        granularity=granularity,
        tz_name=tz_name,
        window=(previous_first, points[0]),
        aggregates=aggregates,
    )
    empty = merge([], aggregates)
    for index, point in enumerate(result["points"]):
        day = previous_first + step * index
        point["previous_period"] = day.isoformat()
        point["previous"] = measure_values(measures, previous.get(day, empty))
        point["change"] = _change(point["values"], point["previous"])
    result["previous_totals"] = measure_values(
        measures, _totals_of(model, bounded, measures, previous)
    )


# -- cohort --


@tool(
    "cohort",
    title="Cohort analysis",
    description=(
        "Cohorts of entities (e.g. customers: `entity_field` 'partner_id' on "
        "orders) by the period of their first record's `date_field`, then, for "
        "each following period, how many of them had records again (`active`), "
        "as a count and as a retention rate of the cohort's size, with optional "
        "count and sum measures of those records. Offset 0 is the cohort's own "
        "period; periods after the last one with data are left out. "
        f"{MEASURE_NOTE} {DOMAIN_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "entity_field": {"type": "string", "minLength": 1, "maxLength": 128},
            "date_field": {"type": "string", "minLength": 1, "maxLength": 128},
            "granularity": GRANULARITY,
            "periods": {
                "type": "integer",
                "minimum": 1,
                "maximum": COHORT_MAX_PERIODS,
                "default": 12,
            },
            "measures": {**MEASURES, "default": []},
            "timezone": TIMEZONE,
            "include_archived": ARCHIVED,
        },
        "required": ["model", "entity_field", "date_field"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "entity_field": {"type": "string"},
            "date_field": {"type": "string"},
            "granularity": {"type": "string"},
            "timezone": {"type": "string"},
            "measures": MEASURE_INFOS,
            "cohorts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "cohort": {"type": "string"},
                        "label": {"type": "string"},
                        "size": {"type": "integer"},
                        "periods": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "offset": {"type": "integer"},
                                    "period": {"type": "string"},
                                    "active": {"type": "integer"},
                                    "retention": {"type": ["number", "null"]},
                                    "values": VALUES,
                                },
                                "required": [
                                    "offset",
                                    "period",
                                    "active",
                                    "retention",
                                    "values",
                                ],
                                "additionalProperties": False,
                            },
                        },
                    },
                    "required": ["cohort", "label", "size", "periods"],
                    "additionalProperties": False,
                },
            },
        },
        "required": [
            "model",
            "entity_field",
            "date_field",
            "granularity",
            "timezone",
            "measures",
            "cohorts",
        ],
        "additionalProperties": False,
    },
)
def cohort(env, arguments):
    # 1. the entity, the date and what to add up
    model, domain = _source(env, arguments)
    entity = parse_groupby(model, arguments["entity_field"], "entity_field")
    if entity.granularity:
        raise ToolError(
            "entity_field: use a field that identifies an entity, not a date."
        )
    field = _date_field(model, arguments["date_field"])
    granularity = arguments.get("granularity", "month")
    tz_name = tz_of(env, arguments.get("timezone"))
    model = model.with_context(tz=tz_name)
    measures = parse_measures(model, arguments.get("measures") or [])
    if not all(measure.additive for measure in measures):
        raise ToolError("cohort measures must be counts or sums.")
    aggregates = odoo_aggregates(measures) or ["__count"]
    domain = expression.AND(
        [domain, [(entity.field.name, "!=", False), (field.name, "!=", False)]]
    )
    cap = max_groups(env) * COHORT_ROWS_FACTOR

    # 2. each entity's first period, then its activity per period
    firsts = capped_groups(model, domain, [entity], [f"{field.name}:min"], cap=cap)
    start = {
        _hashable(key)[0]: align(
            env, granularity, local_day(field, raw[f"{field.name}:min"], tz_name)
        )
        for key, raw in firsts
    }
    bucketed = GroupBy(f"{field.name}:{granularity}", field, granularity)
    activity = capped_groups(model, domain, [entity, bucketed], aggregates, cap=cap)

    # 3. cohorts x offsets
    horizon = max((as_day(key[1]) for key, _raw in activity), default=None)
    table = {}
    for key, raw in activity:
        began = start[_hashable(key)[0]]
        offset = periods_between(began, as_day(key[1]), granularity)
        table.setdefault(began, {}).setdefault(offset, []).append(raw)
    periods = arguments.get("periods", 12)
    cohorts = []
    for began in sorted(table):
        size = len(table[began].get(0, []))
        last = min(periods - 1, periods_between(began, horizon, granularity))
        cohorts.append(
            {
                "cohort": began.isoformat(),
                "label": bucket_label(env, granularity, began),
                "size": size,
                "periods": [
                    _cohort_cell(
                        began,
                        offset,
                        granularity=granularity,
                        size=size,
                        raws=table[began].get(offset, []),
                        measures=measures,
                        aggregates=aggregates,
                    )
                    for offset in range(last + 1)
                ],
            }
        )
    return {
        "model": model._name,
        "entity_field": entity.field.name,
        "date_field": field.name,
        "granularity": granularity,
        "timezone": tz_name,
        "measures": _measure_infos(
            model, measures, merge([raw for _key, raw in activity], aggregates)
        ),
        "cohorts": cohorts,
    }


def _cohort_cell(began, offset, *, granularity, size, raws, measures, aggregates):
    return {
        "offset": offset,
        "period": (began + STEP[granularity] * offset).isoformat(),
        "active": len(raws),
        "retention": len(raws) / size if size else None,
        "values": measure_values(measures, merge(raws, aggregates)),
    }


# -- topn --


@tool(
    "topn",
    title="Top N groups",
    description=(
        "The `n` largest groups of a model by one measure (a count or a sum), "
        "the rest summed as `others`, and each one's share of the total. "
        f"{GROUPBY_NOTE} {DOMAIN_NOTE} {NUMBERS_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "groupby": SPEC,
            "measure": {**SPEC, "default": "count"},
            "n": {"type": "integer", "minimum": 1, "maximum": TOPN_MAX, "default": 10},
            "include_archived": ARCHIVED,
        },
        "required": ["model", "groupby"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "groupby": {"type": "string"},
            "measure": MEASURE_INFO,
            "top": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": KEY,
                        "value": {"type": ["number", "null"]},
                        "share": {"type": ["number", "null"]},
                    },
                    "required": ["key", "value", "share"],
                    "additionalProperties": False,
                },
            },
            "others": {
                "type": "object",
                "properties": {
                    "value": {"type": ["number", "null"]},
                    "share": {"type": ["number", "null"]},
                },
                "required": ["value", "share"],
                "additionalProperties": False,
            },
            "total": {"type": ["number", "null"]},
        },
        "required": ["model", "groupby", "measure", "top", "others", "total"],
        "additionalProperties": False,
    },
)
def topn(env, arguments):
    model, domain = _source(env, arguments)
    groupby = parse_groupby(model, arguments["groupby"], "groupby")
    measure = parse_measure(model, arguments.get("measure", "count"), "measure")
    if not measure.additive:
        raise ToolError(
            "measure: topn ranks by a count or a sum, whose remainder can be "
            "summed as 'others'."
        )
    order = f"{measure.odoo} desc nulls last, {groupby.odoo}"
    rows = read_groups(
        model,
        domain,
        [groupby],
        [measure.odoo],
        order=order,
        limit=arguments.get("n", 10),
    )
    ((_key, total_raw),) = read_groups(model, domain, [], list(measure.parts))
    total = measure_value(measure, total_raw) or 0
    labeller = KeyLabeller(model, [groupby], [key for key, _raw in rows])
    top = []
    for key, raw in rows:
        value = measure_value(measure, raw)
        top.append(
            {
                "key": labeller.key(groupby, key[0]),
                "value": value,
                "share": (value or 0) / total if total else None,
            }
        )
    rest = total - sum(item["value"] or 0 for item in top)
    return {
        "model": model._name,
        "groupby": groupby.name,
        "measure": _measure_info(model, measure, total_raw),
        "top": top,
        "others": {"value": number(rest), "share": rest / total if total else None},
        "total": number(total),
    }


# -- funnel --


@tool(
    "funnel",
    title="Funnel",
    description=(
        "Counts through ordered stages, with the conversion from each stage to "
        "the next and overall. Either `stage_field` (a selection or many2one "
        "field; stages in the field's order, or in the order of `stages`, a list "
        "of keys or ids): a record at a later stage counts as having reached the "
        "earlier ones; or `steps`, a list of {name, domain}: step i counts the "
        "records matching the domain and steps 1..i. "
        f"{DOMAIN_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": MODEL,
            "domain": DOMAIN,
            "stage_field": {"type": "string", "minLength": 1, "maxLength": 128},
            "stages": {
                "type": "array",
                "items": {"type": ["string", "integer"]},
                "minItems": 1,
                "maxItems": 100,
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": FUNNEL_MAX_STEPS,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "domain": DOMAIN,
                    },
                    "required": ["name", "domain"],
                    "additionalProperties": False,
                },
            },
            "include_archived": ARCHIVED,
        },
        "required": ["model"],
        "oneOf": [{"required": ["stage_field"]}, {"required": ["steps"]}],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "stages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": KEY,
                        "count": {"type": "integer"},
                        "reached": {"type": "integer"},
                        "conversion": {"type": ["number", "null"]},
                    },
                    "required": ["key", "count", "reached", "conversion"],
                    "additionalProperties": False,
                },
            },
            "overall_conversion": {"type": ["number", "null"]},
            "outside_stages": {"type": "integer"},
        },
        "required": ["model", "stages", "overall_conversion", "outside_stages"],
        "additionalProperties": False,
    },
)
def funnel(env, arguments):
    model, domain = _source(env, arguments)
    if "steps" in arguments:
        stages, outside = _steps_funnel(model, domain, arguments["steps"])
    else:
        stages, outside = _field_funnel(model, domain, arguments)
    previous = None
    for stage in stages:
        stage["conversion"] = (
            None
            if previous is None
            else (stage["reached"] / previous if previous else None)
        )
        previous = stage["reached"]
    first = stages[0]["reached"] if stages else 0
    return {
        "model": model._name,
        "stages": stages,
        "overall_conversion": stages[-1]["reached"] / first if first else None,
        "outside_stages": outside,
    }


def _steps_funnel(model, domain, steps):
    stages, current = [], domain
    for index, step in enumerate(steps):
        step_domain = validate_domain(model, step["domain"], f"steps[{index}].domain")
        current = expression.AND([current, step_domain])
        ((_key, raw),) = read_groups(model, current, [], ["__count"])
        count = int(raw["__count"])
        stages.append(
            {
                "key": {"value": index, "label": step["name"]},
                "count": count,
                "reached": count,
            }
        )
    return stages, 0


def _field_funnel(model, domain, arguments):
    groupby = parse_groupby(model, arguments["stage_field"], "stage_field")
    if groupby.field.type not in ("selection", "many2one"):
        raise ToolError("stage_field: use a selection or many2one field.")
    rows = capped_groups(model, domain, [groupby], ["__count"])
    counts = {_hashable(key)[0]: int(raw["__count"]) for key, raw in rows}
    order = _stage_order(model, groupby, arguments.get("stages"), counts)
    values = [
        model.env[groupby.field.comodel_name].browse(value[1])
        if isinstance(value, tuple)
        else value
        for value in order
    ]
    labeller = KeyLabeller(model, [groupby], [(value,) for value in values])
    stages = [
        {"key": labeller.key(groupby, value), "count": counts.get(key, 0)}
        for key, value in zip(order, values, strict=True)
    ]
    reached = 0
    for stage in reversed(stages):
        reached += stage["count"]
        stage["reached"] = reached
    outside = sum(counts.values()) - sum(stage["count"] for stage in stages)
    return stages, outside


def _stage_order(model, groupby, requested, counts):
    """Hashable stage values in funnel order."""
    field = groupby.field
    if field.type == "selection":
        keys = [key for key, _label in field._description_selection(model.env)]
        if requested is None:
            return keys
        unknown = [value for value in requested if value not in keys]
        if unknown:
            raise ToolError(f"stages: {unknown[0]!r} is not a value of {field.name!r}.")
        return list(dict.fromkeys(requested))
    if requested is not None:
        if not all(isinstance(value, int) for value in requested):
            raise ToolError("stages: give the ids of the stage records.")
        return [("record", value) for value in dict.fromkeys(requested)]
    ids = [value[1] for value in counts if isinstance(value, tuple)]
    comodel = model.env[field.comodel_name].with_context(active_test=False)
    ordered = (
        comodel.search([("id", "in", ids)]).ids if comodel.has_access("read") else []
    )
    ordered += sorted(set(ids) - set(ordered))
    return [("record", value) for value in ordered]


TOOLS = [aggregate_records, pivot, timeseries, cohort, topn, funnel]
