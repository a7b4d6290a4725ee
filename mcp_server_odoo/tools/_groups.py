"""Group-by keys, measures and buckets of the analytics tools.

Every spec a client sends is parsed here into a small value object after the
field behind it has been checked as readable by the user (``readable_field``)
and fit for its use: only stored columns are grouped or aggregated, only
numbers are summed or averaged. The ORM checks field access once more when it
builds the SQL (``_field_to_sql``); these checks give the client a clear
message first and make sure nothing but a known spec reaches ``_read_group``.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import babel.dates
import psycopg2
import pytz
from dateutil.relativedelta import relativedelta

from odoo.tools.misc import get_lang

from . import ToolError
from ._domain import _int_param, readable_field

MAX_GROUPS_DEFAULT = 1000
GRANULARITIES = ("day", "week", "month", "quarter", "year")
AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct")
NUMERIC_TYPES = frozenset({"integer", "float", "monetary"})
ORDERED_TYPES = NUMERIC_TYPES | {"date", "datetime"}
DATE_TYPES = frozenset({"date", "datetime"})
RELATIONS = frozenset({"many2one", "many2many"})
GROUPABLE_TYPES = frozenset(
    {
        "char",
        "selection",
        "many2one",
        "many2many",
        "boolean",
        "integer",
        "float",
        "monetary",
        "date",
        "datetime",
        "many2one_reference",
        "reference",
    }
)
STEP = {
    "day": relativedelta(days=1),
    "week": relativedelta(days=7),
    "month": relativedelta(months=1),
    "quarter": relativedelta(months=3),
    "year": relativedelta(years=1),
}
LABEL_FORMAT = {
    "day": "dd MMM yyyy",
    "month": "MMMM yyyy",
    "quarter": "QQQ yyyy",
    "year": "yyyy",
}

MEASURE_NOTE = (
    "Measures are 'count' (records per group) or 'field:aggregate' with aggregate "
    "one of sum, avg, min, max, count, count_distinct; sum and avg need a number "
    "field, min and max a number or date field."
)
GROUPBY_NOTE = (
    "Group-by keys are stored field names; date and datetime fields take a "
    "granularity, 'field:day|week|month|quarter|year' (month when absent); "
    "datetimes are bucketed in the user's time zone."
)


def max_groups(env):
    return _int_param(env, "mcp_server_odoo.max_groups", MAX_GROUPS_DEFAULT)


# ---------------------------------------------------------------------------
# specs


@dataclass(frozen=True)
class GroupBy:
    name: str  # as the client and the result name it, e.g. "date:month"
    field: object
    granularity: str | None = None

    @property
    def odoo(self):
        return self.name


@dataclass(frozen=True)
class Measure:
    name: str  # "count" or "field:aggregate"
    field: object = None
    aggregate: str = "count"
    # The currency field of a monetary measure, when the user may read it.
    currency: str | None = None

    @property
    def odoo(self):
        return "__count" if self.field is None else self.name

    @property
    def parts(self):
        """The aggregates ``_read_group`` computes for this measure.

        An average is kept as sum and count so that groups can be merged into
        totals exactly, without another scan.
        """
        parts = (self.odoo,)
        if self.aggregate == "avg":
            parts = (f"{self.field.name}:sum", f"{self.field.name}:count")
        if self.currency:
            # Lowest and highest currency id in the same scan: equal when the
            # rows share one currency.
            parts += (f"{self.currency}:min", f"{self.currency}:max")
        return parts

    @property
    def additive(self):
        return self.aggregate in ("sum", "count")

    @property
    def mergeable(self):
        return self.aggregate != "count_distinct"


def _stored_column(model, name, at):
    try:
        field = readable_field(model, name)
    except ToolError as exc:
        raise ToolError(f"{at}: {exc}") from None
    if not field.store or not (field.column_type or field.type == "many2many"):
        raise ToolError(
            f"{at}: field {name!r} of model {model._name!r} is not stored in the "
            "database and cannot be grouped or aggregated."
        )
    return field


def parse_groupby(model, spec, at="groupby", default_granularity="month"):
    if not isinstance(spec, str) or not spec.strip():
        raise ToolError(f"{at}: expected 'field' or 'field:granularity'.")
    name, _sep, granularity = spec.strip().partition(":")
    field = _stored_column(model, name, at)
    if field.type not in GROUPABLE_TYPES:
        raise ToolError(
            f"{at}: field {name!r} is a {field.type} field and cannot be grouped by."
        )
    if field.type in DATE_TYPES:
        granularity = granularity or default_granularity
        if granularity not in GRANULARITIES:
            raise ToolError(
                f"{at}: {granularity!r} is not a granularity; use one of "
                f"{', '.join(GRANULARITIES)}."
            )
        return GroupBy(f"{name}:{granularity}", field, granularity)
    if granularity:
        raise ToolError(
            f"{at}: a granularity applies only to date and datetime fields, and "
            f"{name!r} is a {field.type} field."
        )
    return GroupBy(name, field)


def parse_measure(model, spec, at="measures"):
    if spec in ("count", "__count"):
        return Measure("count")
    if not isinstance(spec, str) or ":" not in spec:
        raise ToolError(
            f"{at}: {spec!r} is not a measure; use 'count' or 'field:aggregate', "
            "e.g. 'amount_total:sum'."
        )
    name, _sep, aggregate = spec.strip().partition(":")
    if aggregate not in AGGREGATES:
        raise ToolError(
            f"{at}: {aggregate!r} is not an aggregate; use one of "
            f"{', '.join(AGGREGATES)}."
        )
    field = _stored_column(model, name, at)
    if field.type == "many2many":
        raise ToolError(f"{at}: many2many field {name!r} cannot be aggregated.")
    if aggregate in ("sum", "avg") and field.type not in NUMERIC_TYPES:
        raise ToolError(
            f"{at}: cannot {aggregate} field {name!r}: it is a {field.type} field, "
            "and only integer, float and monetary fields can be summed or averaged."
        )
    if aggregate in ("min", "max") and field.type not in ORDERED_TYPES:
        raise ToolError(
            f"{at}: cannot take the {aggregate} of {field.type} field {name!r}; "
            "use a number or date field."
        )
    return Measure(
        f"{name}:{aggregate}",
        field,
        aggregate,
        _currency_field(model, field, aggregate),
    )


def _currency_field(model, field, aggregate):
    if field.type != "monetary" or aggregate not in ("sum", "avg", "min", "max"):
        return None
    name = field.get_currency_field(model)
    currency = model._fields.get(name) if name else None
    if currency is None or not currency.is_accessible(model.env):
        return None
    if not (currency.store and currency.column_type and currency.type == "many2one"):
        return None
    return name


def parse_measures(model, specs, at="measures"):
    measures = [
        parse_measure(model, spec, f"{at}[{i}]") for i, spec in enumerate(specs)
    ]
    names = [measure.name for measure in measures]
    if len(set(names)) != len(names):
        raise ToolError(f"{at}: each measure may appear only once.")
    return measures


def odoo_aggregates(measures):
    """The aggregate specs to ask ``_read_group`` for, each once."""
    return list(dict.fromkeys(part for measure in measures for part in measure.parts))


# ---------------------------------------------------------------------------
# running _read_group


def read_groups(model, domain, groupbys, aggregates, *, order=None, limit=None):
    """Rows of ``_read_group`` as (key tuple, {aggregate spec: raw value})."""
    try:
        # Read-only tools run without a savepoint: dispatch rolls back on failure.
        rows = model._read_group(
            domain,
            [groupby.odoo for groupby in groupbys],
            aggregates,
            order=order,
            limit=limit,
        )
    except psycopg2.DataError:
        raise ToolError(
            "The database refused a value in the domain: check that each value "
            "fits its field's type."
        ) from None
    width = len(groupbys)
    return [
        (row[:width], dict(zip(aggregates, row[width:], strict=True))) for row in rows
    ]


def capped_groups(model, domain, groupbys, aggregates, *, order=None, cap=None):
    """All groups, or a ToolError when there are more than the configured cap."""
    cap = cap or max_groups(model.env)
    rows = read_groups(model, domain, groupbys, aggregates, order=order, limit=cap + 1)
    if len(rows) > cap:
        raise ToolError(
            f"More than {cap} groups: narrow the domain, group by fewer or coarser "
            "keys, or ask for a limit. The cap is the setting 'MCP maximum groups'."
        )
    return rows


# ---------------------------------------------------------------------------
# numbers


def number(value):
    """A JSON number (or null) from what PostgreSQL returned for an aggregate."""
    if value is None or value is False:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def measure_value(measure, raw):
    """The value of ``measure`` from one row's {aggregate spec: raw} dict."""
    if measure.aggregate == "avg":
        total, count = raw[measure.parts[0]], raw[measure.parts[1]]
        return float(total) / count if count else None
    value = raw[measure.odoo]
    if measure.aggregate in ("count", "count_distinct"):
        return int(value or 0)
    return number(value)


def merge(rows, aggregates):
    """One {aggregate spec: raw} dict from several, for mergeable aggregates."""
    merged = {}
    for spec in aggregates:
        values = [raw[spec] for raw in rows if raw[spec] not in (None, False)]
        kind = "count" if spec == "__count" else spec.rpartition(":")[2]
        if kind in ("sum", "count"):
            merged[spec] = sum(values) if values else (0 if kind == "count" else None)
        elif kind == "min":
            merged[spec] = min(values) if values else None
        elif kind == "max":
            merged[spec] = max(values) if values else None
        else:
            raise ValueError(f"cannot merge {spec}")
    return merged


def measure_values(measures, raw):
    return {measure.name: measure_value(measure, raw) for measure in measures}


# ---------------------------------------------------------------------------
# labels


def _babel_locale(env):
    return babel.Locale.parse(get_lang(env).code)


def first_week_day(env):
    """0 for Monday ... 6 for Sunday, from the user's language as Odoo groups weeks."""
    return int(get_lang(env).week_start) - 1


def bucket_label(env, granularity, day):
    if granularity == "week":
        year, week, _weekday = day.isocalendar()
        return f"W{week} {year:04}"
    return babel.dates.format_date(
        day, format=LABEL_FORMAT[granularity], locale=_babel_locale(env)
    )


class KeyLabeller:
    """Turns group-key values into {value, label}, one display-name read per field."""

    def __init__(self, model, groupbys, key_rows):
        self.model = model
        self.groupbys = groupbys
        self.names = {}
        for index, groupby in enumerate(groupbys):
            if groupby.field.type in ("many2one", "many2many"):
                ids = {row[index].id for row in key_rows if row[index]}
                self.names[groupby.name] = display_names(model.env, groupby.field, ids)
            elif groupby.field.type == "selection":
                labels = groupby.field._description_selection(model.env)
                self.names[groupby.name] = dict(labels)

    def key(self, groupby, value):
        kind = groupby.field.type
        if kind == "boolean":
            return {"value": bool(value), "label": "Yes" if value else "No"}
        if value is False or value is None or (kind in RELATIONS and not value):
            return {"value": None, "label": None}
        if kind in RELATIONS:
            return {"value": value.id, "label": self.names[groupby.name].get(value.id)}
        if groupby.granularity:
            day = as_day(value)
            label = bucket_label(self.model.env, groupby.granularity, day)
            return {"value": day.isoformat(), "label": label}
        if kind == "selection":
            return {"value": value, "label": self.names[groupby.name].get(value, value)}
        value = number(value)
        return {"value": value, "label": str(value)}

    def keys(self, key_row):
        return {
            groupby.name: self.key(groupby, value)
            for groupby, value in zip(self.groupbys, key_row, strict=True)
        }


def display_names(env, field, ids):
    """{id: display name} of the records of the field's comodel that the user may
    read; records hidden from the user keep their id and get no name."""
    if not ids:
        return {}
    comodel = env[field.comodel_name].with_context(active_test=False)
    if not comodel.has_access("read"):
        return {}
    visible = comodel.search([("id", "in", list(ids))])
    return {record.id: record.display_name for record in visible}


# ---------------------------------------------------------------------------
# buckets


def align(env, granularity, day):
    """The first day of the bucket holding ``day``, as PostgreSQL computes it."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - datetime.timedelta(days=(day.weekday() - first_week_day(env)) % 7)
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def buckets(first, last, granularity):
    """Aligned bucket starts from ``first`` to ``last`` included."""
    result, current, step = [], first, STEP[granularity]
    while current <= last:
        result.append(current)
        current = first + step * len(result)
    return result


def periods_between(start, later, granularity):
    """Whole buckets from ``start`` to ``later`` (both aligned)."""
    if granularity in ("day", "week"):
        days = (later - start).days
        return days if granularity == "day" else days // 7
    months = (later.year - start.year) * 12 + later.month - start.month
    return {"month": months, "quarter": months // 3, "year": months // 12}[granularity]


def tz_of(env, requested=None):
    """The time zone datetimes are bucketed in: ``requested``, else the user's."""
    name = requested or env.context.get("tz") or "UTC"
    if name not in pytz.all_timezones_set:
        raise ToolError(
            f"Unknown time zone {name!r}; use an IANA name like Europe/Brussels."
        )
    return name


def date_bounds(field, tz_name, first_day, end_day):
    """Domain terms for [first_day, end_day) as local days (either may be None),
    in what the field stores: dates as they are, datetimes as naive UTC."""
    zone = pytz.timezone(tz_name)

    def stored(day):
        if field.type == "date":
            return day.isoformat()
        local = zone.localize(datetime.datetime.combine(day, datetime.time.min))
        return local.astimezone(pytz.utc).strftime("%Y-%m-%d %H:%M:%S")

    terms = []
    if first_day:
        terms.append((field.name, ">=", stored(first_day)))
    if end_day:
        terms.append((field.name, "<", stored(end_day)))
    return terms


def local_day(field, value, tz_name):
    """The user's calendar day of a raw date or naive-UTC datetime value."""
    if field.type == "date" or not isinstance(value, datetime.datetime):
        return value
    return pytz.utc.localize(value).astimezone(pytz.timezone(tz_name)).date()


def as_day(value):
    return value.date() if isinstance(value, datetime.datetime) else value
