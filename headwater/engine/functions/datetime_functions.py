"""Date and time functions: FORMAT_/PARSE_ TIMESTAMP, DATE and TIME, the deprecated TIMESTAMPTOSTRING,
STRINGTOTIMESTAMP, DATETOSTRING and STRINGTODATE, CONVERT_TZ, UNIX_TIMESTAMP, UNIX_DATE, FROM_UNIXTIME,
FROM_DAYS, and the interval arithmetic DATEADD, DATESUB, TIMEADD, TIMESUB, TIMESTAMPADD, TIMESTAMPSUB.

Patterns are Java ``DateTimeFormatter`` patterns (see :mod:`.java_time_format`), time zones Java zone
ids (see :mod:`.timezones`); both are usually literals, so each kernel compiles them once and works
on the whole column, grouping rows by distinct pattern and zone when they are columns. Where ksqlDB
uses the JVM's default zone (FORMAT_TIMESTAMP and PARSE_TIMESTAMP without a zone, UNIX_DATE) Headwater
uses the zone in the query configuration :data:`DEFAULT_ZONE_CONFIG`, UTC unless set.

The interval functions take a time unit (``DATEADD(DAYS, 2, d)``): the binder types it
:data:`~.registry.INTERVAL_UNIT` and passes the unit's name. Their arithmetic is Java's: DATEADD
converts to milliseconds and truncates back to days toward zero, TIMEADD wraps around midnight.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.TIMESTAMP, t.STRING), t.STRING, 1)
    >>> stamps = pa.array([1600000000123], pa.timestamp("ms"))
    >>> _format_timestamp([stamps, pa.scalar("yyyy-MM-dd HH:mm:ss.SSS")], ctx).to_pylist()
    ['2020-09-13 12:26:40.123']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.functions.columns import apply_by_distinct, as_array, as_numpy, valid_mask, with_nulls
from headwater.engine.functions.java_time_format import (
    compile_pattern,
    format_dates,
    format_instants,
    format_times,
    instants_from_fields,
    parse_column,
    resolve_date,
    resolve_time,
)
from headwater.engine.functions.registry import (
    INTERVAL_UNIT,
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.timezones import offsets_millis, zone_of
from headwater.parser import types as t

__all__ = ["DEFAULT_ZONE_CONFIG", "FUNCTIONS", "unit_millis"]

CATEGORY = "DATE / TIME"
DEFAULT_ZONE_CONFIG = "headwater.functions.timezone"
"""Query configuration key naming the zone that stands for ksqlDB's JVM default zone (UTC if unset)."""

_DAY_MS = 86_400_000
_UNIT_NANOS = {
    "NANOSECONDS": 1,
    "MICROSECONDS": 1_000,
    "MILLISECONDS": 1_000_000,
    "SECONDS": 1_000_000_000,
    "MINUTES": 60_000_000_000,
    "HOURS": 3_600_000_000_000,
    "DAYS": 86_400_000_000_000,
}


def unit_nanos(name: str) -> int:
    """Nanoseconds in one Java ``TimeUnit`` (singular or plural name, any case).

    Raises:
        FunctionError: an unknown unit.
    """
    key = name.upper()
    key = key if key.endswith("S") else key + "S"
    if key not in _UNIT_NANOS:
        raise FunctionError(f"Unknown time unit: '{name}'")
    return _UNIT_NANOS[key]


def unit_millis(name: str, amounts: np.ndarray) -> np.ndarray:
    """Java's ``TimeUnit.toMillis(amount)`` (truncating for units below a millisecond)."""
    nanos = unit_nanos(name)
    if nanos >= 1_000_000:
        return amounts.astype(np.int64) * (nanos // 1_000_000)
    return np.trunc(amounts.astype(np.int64) / (1_000_000 // nanos)).astype(np.int64)


def _default_zone(ctx: CallContext) -> str:
    return str(ctx.config.get(DEFAULT_ZONE_CONFIG) or "UTC")


def _ints(datum: Datum, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Integers, dates (days), times (ms of day) or timestamps (epoch ms) as int64, with validity."""
    array = as_array(datum, length)
    if pa.types.is_date32(array.type) or pa.types.is_time32(array.type):
        array = array.view(pa.int32())
    elif pa.types.is_timestamp(array.type):
        array = array.view(pa.int64())
    return as_numpy(array.cast(pa.int64()), fill=0).astype(np.int64), valid_mask(array)


def _typed(values: np.ndarray, out_type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy array of epoch numbers as a column of ``out_type`` (dates in days, times in ms of
    the day, timestamps in ms), NULL where ``valid`` is False."""
    mask = None if valid is None or valid.all() else ~valid
    width = pa.int32() if out_type.bit_width == 32 else pa.int64()
    numbers = pa.array(values.astype(np.int32 if width == pa.int32() else np.int64), width, mask=mask)
    return numbers.view(out_type) if out_type != width else numbers


def _epoch_millis(datum: Datum, length: int) -> tuple[np.ndarray, np.ndarray]:
    """TIMESTAMP or BIGINT milliseconds as int64, with validity."""
    return _ints(datum, length)


# --------------------------------------------------------------------------------------------------------
# Formatting


def _formatting_kernel(
    render: Callable[[str, np.ndarray, str | None], pa.Array],
    describe: Callable[[np.ndarray, str], str],
    *,
    zone_arg: bool,
) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    """A kernel formatting argument 0 with the pattern in argument 1 (and the zone in argument 2)."""

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        values, valid = _ints(args[0], ctx.length)
        keys = [args[1], args[2]] if zone_arg and len(args) > 2 else [args[1]]

        def compute(key: object, rows: np.ndarray) -> pa.Array:
            pattern, zone = (key if isinstance(key, tuple) else (key, None))
            subset_valid = valid[rows]
            subset = values[rows][subset_valid]
            try:
                text = render(pattern, subset, zone)
            except FunctionError as error:
                raise FunctionError(f"{describe(subset, pattern)}: {error.message}") from None
            out = pa.nulls(len(rows), pa.string())
            if subset_valid.all():
                return text
            positions = np.full(len(rows), len(text), dtype=np.int64)
            positions[subset_valid] = np.arange(len(text))
            return pa.concat_arrays([text, out[:1]]).take(pa.array(positions))

        return apply_by_distinct(keys if len(keys) > 1 else keys[0], ctx.length, pa.string(), compute)

    return kernel


def _timestamp_renderer(default_zone: Callable[[], str]) -> Callable[[str, np.ndarray, str | None], pa.Array]:
    def render(pattern: str, millis: np.ndarray, zone: str | None) -> pa.Array:
        return format_instants(compile_pattern(pattern), millis, zone_of(zone or default_zone()))

    return render


def _format_timestamp_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    render = _timestamp_renderer(lambda: _default_zone(ctx))

    def describe(values: np.ndarray, pattern: str) -> str:
        return f"Failed to format timestamp {values[0] if len(values) else ''} with formatter '{pattern}'"

    return _formatting_kernel(render, describe, zone_arg=True)(args, ctx)


_format_timestamp = _format_timestamp_kernel


def _format_date_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    def describe(values: np.ndarray, pattern: str) -> str:
        return f"Failed to format date {values[0] if len(values) else ''} with formatter '{pattern}'"

    return _formatting_kernel(
        lambda pattern, days, _: format_dates(compile_pattern(pattern), days), describe, zone_arg=False
    )(args, ctx)


def _format_time_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    def describe(values: np.ndarray, pattern: str) -> str:
        return f"Failed to format time {values[0] if len(values) else ''} with formatter '{pattern}'"

    return _formatting_kernel(
        lambda pattern, millis, _: format_times(compile_pattern(pattern), millis), describe, zone_arg=False
    )(args, ctx)


# --------------------------------------------------------------------------------------------------------
# Parsing


def _parsing_kernel(
    parse: Callable[[str, pa.Array, str | None], np.ndarray],
    out_type: pa.DataType,
    what: str,
    *,
    zone_arg: bool,
) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        texts = as_array(args[0], ctx.length)
        valid = valid_mask(texts)
        keys = [args[1], args[2]] if zone_arg and len(args) > 2 else [args[1]]

        def compute(key: object, rows: np.ndarray) -> pa.Array:
            pattern, zone = (key if isinstance(key, tuple) else (key, None))
            subset = texts.take(pa.array(rows))
            zone_name = zone or (_default_zone(ctx) if zone_arg else None)
            try:
                values = parse(pattern, subset, zone_name)
            except FunctionError as error:
                first = subset.drop_null()[0].as_py() if subset.null_count < len(subset) else None
                where = f" at timezone '{zone}'" if zone else ""
                raise FunctionError(
                    f"Failed to parse {what} '{first}'{where} with formatter '{pattern}': {error.message}"
                ) from None
            return _typed(values, out_type, valid[rows])

        result = apply_by_distinct(keys if len(keys) > 1 else keys[0], ctx.length, out_type, compute)
        return with_nulls(result, ~valid)

    return kernel


def _parse_timestamp_values(pattern: str, texts: pa.Array, zone: str | None) -> np.ndarray:
    fields = parse_column(compile_pattern(pattern), texts)
    assert zone is not None
    return instants_from_fields(fields, zone_of(zone))


def _parse_date_values(
    *, reject_time: bool, trailing_text: bool
) -> Callable[[str, pa.Array, str | None], np.ndarray]:
    """Days since the epoch of dates in a pattern. PARSE_DATE (``reject_time``) refuses patterns with
    time fields and, like the ``java.text`` parser ksqlDB's PARSE_DATE uses, ignores text after the
    date (``trailing_text``: '2003-12-24-01-01' in 'yyyy-MM-dd' is 2003-12-24); STRINGTODATE
    (``java.time``'s ``LocalDate.parse``) must consume the whole text."""

    def parse(pattern: str, texts: pa.Array, _: str | None) -> np.ndarray:
        compiled = compile_pattern(pattern)
        if reject_time and compiled.has_time:
            raise FunctionError("Date format contains time field.")
        fields = parse_column(compiled, texts, trailing_text=trailing_text)
        days, full = resolve_date(fields, default_year=None)
        valid = valid_mask(texts)
        if (valid & ~full).any():
            raise FunctionError("Unable to obtain LocalDate from TemporalAccessor")
        return days

    return parse


def _parse_time_values(pattern: str, texts: pa.Array, _: str | None) -> np.ndarray:
    compiled = compile_pattern(pattern)
    if compiled.has_date:
        letter = next(iter(sorted(compiled.letters & set("GuyYDMLdQqwWEecF"))))
        names = {"y": "YearOfEra", "u": "Year", "M": "MonthOfYear", "d": "DayOfMonth", "D": "DayOfYear"}
        raise FunctionError(f"Unsupported field: {names.get(letter, letter)}")
    fields = parse_column(compiled, texts)
    millis, defined = resolve_time(fields, default_ampm=False)
    if (valid_mask(texts) & ~defined).any():
        raise FunctionError("Unable to obtain LocalTime from TemporalAccessor")
    return millis


# --------------------------------------------------------------------------------------------------------
# Conversions and arithmetic


def _convert_tz(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    millis, valid = _epoch_millis(args[0], ctx.length)

    def compute(zones: tuple[str, str], rows: np.ndarray) -> pa.Array:
        try:
            source, target = zone_of(zones[0]), zone_of(zones[1])
        except FunctionError as error:
            raise FunctionError(f"Invalid time zone: {error.message}") from None
        subset = millis[rows]
        shifted = subset + offsets_millis(subset, target) - offsets_millis(subset, source)
        return _typed(shifted, pa.timestamp("ms"))

    result = apply_by_distinct([args[1], args[2]], ctx.length, pa.timestamp("ms"), compute)
    return with_nulls(result, ~valid)


def _unix_timestamp(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    if not args:
        return pa.array(np.full(ctx.length, int(time.time() * 1000), dtype=np.int64), pa.int64())
    millis, valid = _epoch_millis(args[0], ctx.length)
    return pa.array(millis, pa.int64(), mask=~valid if not valid.all() else None)


def _unix_date(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    if not args:
        now = np.array([int(time.time() * 1000)], dtype=np.int64)
        local = now + offsets_millis(now, zone_of(_default_zone(ctx)))
        return pa.array(np.full(ctx.length, local[0] // _DAY_MS, dtype=np.int32), pa.int32())
    days, valid = _ints(args[0], ctx.length)
    return pa.array(days.astype(np.int32), pa.int32(), mask=~valid if not valid.all() else None)


def _from_unixtime(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    millis, valid = _ints(args[0], ctx.length)
    return _typed(millis, pa.timestamp("ms"), valid)


def _from_days(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    days, valid = _ints(args[0], ctx.length)
    return _typed(days, pa.date32(), valid)


def _interval_kernel(kind: str, sign: int) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    """DATEADD/DATESUB ("date"), TIMEADD/TIMESUB ("time"), TIMESTAMPADD/TIMESTAMPSUB ("timestamp")."""
    out_type = {"date": pa.date32(), "time": pa.time32("ms"), "timestamp": pa.timestamp("ms")}[kind]

    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        unit = args[0]
        if not isinstance(unit, pa.Scalar) or not unit.is_valid:
            return pa.nulls(ctx.length, out_type)
        name = str(unit.as_py())
        amounts, amounts_valid = _ints(args[1], ctx.length)
        base, base_valid = _ints(args[2], ctx.length)
        valid = amounts_valid & base_valid
        amounts = sign * amounts
        if kind == "date":
            total = base * _DAY_MS + unit_millis(name, amounts)
            days = np.sign(total) * (np.abs(total) // _DAY_MS)  # TimeUnit.toDays truncates toward zero
            out = days.astype(np.int32)
        elif kind == "time":
            per_unit = unit_nanos(name)
            if per_unit >= 1_000_000:
                unit_ms = per_unit // 1_000_000
                delta = (amounts % _DAY_MS) * (unit_ms % _DAY_MS) % _DAY_MS
                out = ((base + delta) % _DAY_MS).astype(np.int32)
            else:
                nanos = (base * 1_000_000 + amounts * per_unit) % (_DAY_MS * 1_000_000)
                out = (nanos // 1_000_000).astype(np.int32)
        else:
            out = base + unit_millis(name, amounts)
        return _typed(out, out_type, valid)

    kernel.__name__ = f"{kind}_{'add' if sign > 0 else 'sub'}"
    return kernel


# --------------------------------------------------------------------------------------------------------
# The catalog


def _p(name: str, sql_type: t.SqlType, description: str = "") -> Param:
    return Param(name, sql_type, description)


_PATTERN = _p("formatPattern", t.STRING, "The format pattern, as java.time.format.DateTimeFormatter expects.")
_ZONE = _p("timeZone", t.STRING, "A java.util.TimeZone ID, for example: UTC, America/Los_Angeles.")
_UNIT = _p("unit", INTERVAL_UNIT, "A unit of time, for example DAYS or HOURS.")
_INTERVAL = _p("interval", t.INT, "An integer number of intervals.")


def _timestamp_parse(out_type: pa.DataType) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    return _parsing_kernel(_parse_timestamp_values, out_type, "timestamp", zone_arg=True)


def _interval_function(name: str, kind: str, sign: int, sql_type: t.SqlType, verb: str) -> ScalarFunction:
    noun = {"date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP"}[kind]
    return ScalarFunction(
        name,
        CATEGORY,
        f"{verb} a duration {'to' if sign > 0 else 'from'} a {noun} value.",
        (Signature((_UNIT, _INTERVAL, _p(kind, sql_type, f"A {noun} value.")), sql_type, _interval_kernel(kind, sign)),),
    )


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "format_timestamp",
        CATEGORY,
        "Converts a TIMESTAMP value into the string representation of the timestamp in the given format.",
        (
            Signature((_p("timestamp", t.TIMESTAMP, "TIMESTAMP value."), _PATTERN), t.STRING, _format_timestamp_kernel,
                      description="Formats in the default time zone."),
            Signature((_p("timestamp", t.TIMESTAMP, "TIMESTAMP value."), _PATTERN, _ZONE), t.STRING,
                      _format_timestamp_kernel, description="Formats in the given time zone."),
        ),
    ),
    ScalarFunction(
        "parse_timestamp",
        CATEGORY,
        "Converts a string representation of a date in the given format into a TIMESTAMP value.",
        (
            Signature((_p("formattedTimestamp", t.STRING, "The string representation of a date."), _PATTERN),
                      t.TIMESTAMP, _timestamp_parse(pa.timestamp("ms"))),
            Signature((_p("formattedTimestamp", t.STRING, "The string representation of a date."), _PATTERN, _ZONE),
                      t.TIMESTAMP, _timestamp_parse(pa.timestamp("ms"))),
        ),
    ),
    ScalarFunction(
        "timestamptostring",
        CATEGORY,
        "Converts a number of milliseconds since 1970-01-01 00:00:00 UTC/GMT into the string "
        "representation of the timestamp in the given format.",
        (
            Signature((_p("epochMilli", t.BIGINT, "Milliseconds since January 1, 1970, 00:00:00 UTC/GMT."), _PATTERN),
                      t.STRING, _format_timestamp_kernel),
            Signature((_p("epochMilli", t.BIGINT, "Milliseconds since January 1, 1970, 00:00:00 UTC/GMT."), _PATTERN,
                       _ZONE), t.STRING, _format_timestamp_kernel),
        ),
    ),
    ScalarFunction(
        "stringtotimestamp",
        CATEGORY,
        "Converts a string representation of a date in the given format into the BIGINT value that "
        "represents the millisecond timestamp.",
        (
            Signature((_p("formattedTimestamp", t.STRING, "The string representation of a date."), _PATTERN),
                      t.BIGINT, _timestamp_parse(pa.int64())),
            Signature((_p("formattedTimestamp", t.STRING, "The string representation of a date."), _PATTERN, _ZONE),
                      t.BIGINT, _timestamp_parse(pa.int64())),
        ),
    ),
    ScalarFunction(
        "format_date",
        CATEGORY,
        "Converts a DATE value to a string using the given format pattern.",
        (Signature((_p("date", t.DATE, "The date to convert."), _PATTERN), t.STRING, _format_date_kernel),),
    ),
    ScalarFunction(
        "parse_date",
        CATEGORY,
        "Converts a string representation of a date in the given format into a DATE value.",
        (
            Signature(
                (_p("formattedDate", t.STRING, "The string representation of a date."), _PATTERN),
                t.DATE,
                _parsing_kernel(_parse_date_values(reject_time=True, trailing_text=True), pa.date32(), "date",
                                zone_arg=False),
            ),
        ),
    ),
    ScalarFunction(
        "datetostring",
        CATEGORY,
        "Converts an integer representing days since epoch to a date string using the given format pattern.",
        (Signature((_p("epochDays", t.INT, "The Epoch Day to convert, based on the epoch 1970-01-01."), _PATTERN),
                   t.STRING, _format_date_kernel),),
    ),
    ScalarFunction(
        "stringtodate",
        CATEGORY,
        "Converts a string representation of a date in the given format into the number of days since "
        "1970-01-01 00:00:00 UTC/GMT.",
        (
            Signature(
                (_p("formattedDate", t.STRING, "The string representation of a date."), _PATTERN),
                t.INT,
                _parsing_kernel(_parse_date_values(reject_time=False, trailing_text=False), pa.int32(), "date",
                                zone_arg=False),
            ),
        ),
    ),
    ScalarFunction(
        "format_time",
        CATEGORY,
        "Converts a TIME value into the string representation of the time in the given format.",
        (Signature((_p("time", t.TIME, "TIME value."), _PATTERN), t.STRING, _format_time_kernel),),
    ),
    ScalarFunction(
        "parse_time",
        CATEGORY,
        "Converts a string representation of a time in the given format into a TIME value.",
        (
            Signature(
                (_p("formattedTime", t.STRING, "The string representation of a time."), _PATTERN),
                t.TIME,
                _parsing_kernel(_parse_time_values, pa.time32("ms"), "time", zone_arg=False),
            ),
        ),
    ),
    ScalarFunction(
        "convert_tz",
        CATEGORY,
        "Converts a TIMESTAMP value from one timezone to another.",
        (
            Signature(
                (_p("timestamp", t.TIMESTAMP, "The TIMESTAMP value."),
                 _p("fromTimeZone", t.STRING, "The zone to convert from, a java.util.TimeZone ID."),
                 _p("toTimeZone", t.STRING, "The zone to convert to, a java.util.TimeZone ID.")),
                t.TIMESTAMP,
                _convert_tz,
            ),
        ),
    ),
    ScalarFunction(
        "unix_timestamp",
        CATEGORY,
        "Gets the current unix timestamp in milliseconds, or the milliseconds of a TIMESTAMP.",
        (
            Signature((), t.BIGINT, _unix_timestamp, description="The current time."),
            Signature((_p("timestamp", t.TIMESTAMP, "The TIMESTAMP value."),), t.BIGINT, _unix_timestamp),
        ),
    ),
    ScalarFunction(
        "unix_date",
        CATEGORY,
        "Gets the current date in days since 1970-01-01, or the days of a DATE.",
        (
            Signature((), t.INT, _unix_date, description="The current date."),
            Signature((_p("date", t.DATE, "The DATE value."),), t.INT, _unix_date),
        ),
    ),
    ScalarFunction(
        "from_unixtime",
        CATEGORY,
        "Converts a BIGINT millisecond timestamp value into a TIMESTAMP value.",
        (Signature((_p("epochMilli", t.BIGINT, "Milliseconds since 1970-01-01T00:00:00 UTC."),), t.TIMESTAMP,
                   _from_unixtime),),
    ),
    ScalarFunction(
        "from_days",
        CATEGORY,
        "Converts an INT number of days since epoch to a DATE value.",
        (Signature((_p("days", t.INT, "Days since 1970-01-01."),), t.DATE, _from_days),),
    ),
    _interval_function("dateadd", "date", 1, t.DATE, "Adds"),
    _interval_function("datesub", "date", -1, t.DATE, "Subtracts"),
    _interval_function("timeadd", "time", 1, t.TIME, "Adds"),
    _interval_function("timesub", "time", -1, t.TIME, "Subtracts"),
    _interval_function("timestampadd", "timestamp", 1, t.TIMESTAMP, "Adds"),
    _interval_function("timestampsub", "timestamp", -1, t.TIMESTAMP, "Subtracts"),
)

