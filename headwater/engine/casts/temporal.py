"""TIMESTAMP, TIME and DATE: conversions among them and to and from STRING, as ksqlDB does them.

Formatting (vectorized):

* TIMESTAMP -> STRING: ``yyyy-MM-dd'T'HH:mm:ss.SSS`` in UTC (``1970-01-01T00:00:00.010``).
* TIME -> STRING: ``LocalTime.ofSecondOfDay(ms / 1000).toString()``: milliseconds are dropped and
  zero seconds are omitted (``00:00:05``, ``00:01``).
* DATE -> STRING: ``LocalDate.toString()`` (``1970-01-11``).

Parsing (one value at a time: ksqlDB's rules are those of ``java.time`` formatters, with partial
inputs completed by hand, and these casts are applied to literals far more often than to columns):

* STRING -> TIMESTAMP: ``PartialStringToTimestampParser``: ``2020``, ``2020-05``, ``2020-05-26``,
  ``2020-05-26T23``, ... up to ``2020-05-26T23:59:58.000``, with an optional offset (``+0200``,
  ``-01:00``) or ``Z``. A day past the end of its month is clamped to the last day (the formatter's
  SMART resolver).
* STRING -> TIME: ``LocalTime.parse``: ``HH:mm``, ``HH:mm:ss``, ``HH:mm:ss.fffffffff``.
* STRING -> DATE: ``LocalDate.parse`` of the completed text: ``2020``, ``2020-05``, ``2020-05-26``.

Between the types: TIMESTAMP -> DATE takes the UTC day (floor division, so -2000 ms is 1969-12-31),
TIMESTAMP -> TIME the UTC time of day, DATE -> TIMESTAMP midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.casts.outcome import CastResult
from headwater.parser import types as t

__all__ = [
    "civil_from_days",
    "date_to_string",
    "date_to_timestamp",
    "format_date",
    "format_time",
    "format_timestamp",
    "parse_date",
    "parse_time",
    "parse_timestamp",
    "string_to_date",
    "string_to_time",
    "string_to_timestamp",
    "time_to_string",
    "timestamp_to_date",
    "timestamp_to_string",
    "timestamp_to_time",
]

MS_PER_DAY = 86_400_000
_EPOCH_DATE = dt.date(1970, 1, 1)

TIMESTAMP_HELP = (
    "\nRequired format is: \"yyyy-MM-dd'T'HH:mm:ss.SSS\", with an optional numeric 4-digit timezone, "
    "for example: '2020-05-26T23:59:58.000' or with tz: '2020-05-26T23:59:58.000+0200'. A trailing 'Z' "
    'instead of tz indicates the zero UTC offset. Partials are also supported, for example "2020-05-26"'
)
TIME_HELP = (
    "\nRequired format is: \"HH:mm:ss.SSS\", for example: '01:34:20.123' or '01:34:20'. "
    "Partials are also supported, for example '01:34'"
)
DATE_HELP = (
    "\nRequired format is: \"yyyy-MM-dd\", for example '2020-05-26'. Partials are also supported, "
    "for example '2020-05'"
)

_FULL_TIMESTAMP = re.compile(r"(\d{4,19})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})")
_ISO_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{0,9}))?)?")
_ISO_DATE = re.compile(r"([+-]?)(\d{4,9})-(\d{2})-(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")
_TIME_PATTERN = "HH:mm:ss.SSS"


# --------------------------------------------------------------------------------------------------
# between the types


def _int64_of(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    storage = (
        values.cast(pa.int32())
        if pa.types.is_time32(values.type) or pa.types.is_date32(values.type)
        else values
    )
    data = pc.fill_null(storage.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return data, valid


def timestamp_to_time(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    millis, valid = _int64_of(values)
    return CastResult(
        pa.array(np.mod(millis, MS_PER_DAY).astype(np.int32), pa.int32(), mask=~valid).cast(pa.time32("ms"))
    )


def timestamp_to_date(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    millis, valid = _int64_of(values)
    days = np.floor_divide(millis, MS_PER_DAY).astype(np.int32)
    return CastResult(pa.array(days, pa.int32(), mask=~valid).cast(pa.date32()))


def date_to_timestamp(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    days, valid = _int64_of(values)
    return CastResult(pa.array(days * MS_PER_DAY, pa.int64(), mask=~valid).cast(pa.timestamp("ms")))


# --------------------------------------------------------------------------------------------------
# formatting


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01 in the proleptic Gregorian calendar, for any
    integer (Python's ``datetime`` stops at year 9999; Java's ``java.time`` does not)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def format_timestamp(millis: int) -> str:
    """``SqlTimeTypes.formatTimestamp``: ``yyyy-MM-dd'T'HH:mm:ss.SSS`` in UTC, year of era."""
    days, in_day = divmod(int(millis), MS_PER_DAY)
    year, month, day = civil_from_days(days)
    seconds, milli = divmod(in_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_year_of_era(year)}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}"


def _year_of_era(year: int) -> str:
    era_year = year if year > 0 else 1 - year
    text = f"{era_year:04d}"
    return "+" + text if len(text) > 4 else text


def format_time(millis: int) -> str:
    """``LocalTime.ofSecondOfDay(ms / 1000).toString()``."""
    seconds = int(millis) // 1000 if millis >= 0 else -((-int(millis)) // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if not 0 <= seconds < 86400:
        raise ValueError(f"Invalid value for SecondOfDay (valid values 0 - 86399): {seconds}")
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def format_date(days: int) -> str:
    """``LocalDate.toString()``: four-digit years, a sign beyond them (``+10000-01-01``, ``-0001-...``)."""
    year, month, day = civil_from_days(int(days))
    if 0 <= year <= 9999:
        text = f"{year:04d}"
    elif year > 9999:
        text = f"+{year}"
    else:
        text = f"-{-year:04d}"
    return f"{text}-{month:02d}-{day:02d}"


def timestamp_to_string(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    stamps = values.cast(pa.timestamp("ms"))
    millis, valid = _int64_of(stamps)
    return CastResult(
        _strftime_years_1_to_9999(
            stamps, "%Y-%m-%dT%H:%M:%S", millis, valid, (-62135596800000, 253402300800000), format_timestamp
        )
    )


def time_to_string(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    millis, valid = _int64_of(values)
    seconds = np.clip(millis // 1000, 0, 86399)
    hours, minutes, secs = seconds // 3600, (seconds // 60) % 60, seconds % 60

    def two_digits(numbers: np.ndarray) -> pa.Array:
        return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=2, padding="0")

    base = pc.binary_join_element_wise(two_digits(hours), two_digits(minutes), ":")
    with_seconds = pc.binary_join_element_wise(base, two_digits(secs), ":")
    text = pc.if_else(pa.array(secs != 0), with_seconds, base)
    return CastResult(pc.if_else(pa.array(valid), text, pa.scalar(None, pa.string())))


def date_to_string(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    days, valid = _int64_of(values)
    return CastResult(
        _strftime_years_1_to_9999(values.cast(pa.date32()), "%Y-%m-%d", days, valid, (-719162, 2932897), format_date)
    )


def _strftime_years_1_to_9999(
    values: pa.Array,
    pattern: str,
    numbers: np.ndarray,
    valid: np.ndarray,
    ordinary: tuple[int, int],
    format_one: Callable[[int], str],
) -> pa.Array:
    """Dates or timestamps as text: Arrow's strftime for years 0001-9999 (``numbers``, the days or
    milliseconds, in ``[ordinary[0], ordinary[1])``), where it writes what Java writes; ``format_one``
    (Python's datetime, as Java's ``yyyy``) row by row for the rare values outside."""
    text = pc.strftime(values, format=pattern)
    rest = np.flatnonzero(valid & ~((numbers >= ordinary[0]) & (numbers < ordinary[1])))
    if len(rest):
        py = text.to_pylist()
        for row in rest:
            py[row] = format_one(int(numbers[row]))
        text = pa.array(py, pa.string())
    return text


# --------------------------------------------------------------------------------------------------
# parsing


class TemporalParseError(ValueError):
    """A string ksqlDB cannot read as a TIMESTAMP, TIME or DATE; the message is ksqlDB's."""


def complete_date(text: str) -> str:
    """``PartialStringToTimestampParser.completeDate``: a year or a year-month gets its first day."""
    parts = text.split("-")
    while parts and parts[-1] == "":  # Java's split drops trailing empty strings
        parts.pop()
    if len(parts) == 1:
        return text + "-01-01"
    if len(parts) == 2:
        return text + "-01"
    return text


def _complete_time(text: str) -> str:
    if len(text) >= len(_TIME_PATTERN):
        return text
    return text + re.sub(r"[a-zA-Z]", "0", _TIME_PATTERN[len(text) :])


def _offset_seconds(zone: str) -> int:
    if not zone.strip():
        return 0
    match = _OFFSET.fullmatch(zone)
    if match is None:
        raise ValueError(f"Invalid ID for ZoneOffset, invalid format: {zone}")
    sign, hours, minutes, seconds = match.groups()
    if len(hours) == 1 and (minutes or seconds):
        raise ValueError(f"Invalid ID for ZoneOffset, invalid format: {zone}")
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    if int(hours) > 18 or int(minutes or 0) > 59 or int(seconds or 0) > 59 or total > 18 * 3600:
        raise ValueError(f"Zone offset not in valid range: {zone}")
    return -total if sign == "-" else total


def parse_timestamp(text: str) -> int:
    """ksqlDB's ``SqlTimeTypes.parseTimestamp``: epoch milliseconds.

    Raises:
        TemporalParseError: ``Failed to parse timestamp '...': ...`` with ksqlDB's help text.
    """
    if "T" in text:
        date = text[: text.index("T")]
        with_zone = text[text.index("T") + 1 :]
        if "+" in with_zone:
            zone = with_zone[with_zone.index("+") :]
        elif "-" in with_zone:
            zone = with_zone[with_zone.index("-") :]
        else:
            zone = ""
        time_text = re.sub(r"Z$", "", with_zone[: len(with_zone) - len(zone)])
        time_text = _complete_time(time_text)
    else:
        date, time_text, zone = complete_date(text), _complete_time(""), ""
    try:
        offset = _offset_seconds(zone)
    except ValueError as error:
        raise TemporalParseError(
            f"Failed to parse timestamp '{text}': Failed to parse timezone '{zone}': {error}{TIMESTAMP_HELP}"
        ) from None
    full = f"{date}T{time_text}"
    match = _FULL_TIMESTAMP.fullmatch(full)
    try:
        if match is None:
            raise ValueError(f"Text '{full}' could not be parsed")
        year, month, day, hour, minute, second, milli = (int(g) for g in match.groups())
        if not 1 <= month <= 12 or not 1 <= day <= 31 or hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"Text '{full}' could not be parsed: field value out of range")
        if year < 1 or year > 9999:
            raise ValueError(f"Text '{full}' could not be parsed: year out of supported range")
        last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
        moment = dt.datetime(year, month, min(day, last_day), hour, minute, second, milli * 1000)
    except ValueError as error:
        raise TemporalParseError(f"Failed to parse timestamp '{text}': {error}{TIMESTAMP_HELP}") from None
    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds - offset) * 1000 + delta.microseconds // 1000


def parse_time(text: str) -> int:
    """``SqlTimeTypes.parseTime``: milliseconds of the day.

    Raises:
        TemporalParseError: ``Failed to parse time '...': ...`` with ksqlDB's help text.
    """
    match = _ISO_TIME.fullmatch(text)
    if match is not None:
        hour, minute = int(match.group(1)), int(match.group(2))
        second = int(match.group(3) or 0)
        fraction = (match.group(4) or "").ljust(9, "0")
        if hour <= 23 and minute <= 59 and second <= 59:
            return (hour * 3600 + minute * 60 + second) * 1000 + int(fraction) // 1_000_000
    raise TemporalParseError(f"Failed to parse time '{text}': Text '{text}' could not be parsed{TIME_HELP}")


def parse_date(text: str) -> int:
    """``SqlTimeTypes.parseDate``: days since the epoch.

    Raises:
        TemporalParseError: ``Failed to parse date '...': ...`` with ksqlDB's help text.
    """
    completed = complete_date(text)
    match = _ISO_DATE.fullmatch(completed)
    if match is not None:
        sign, year_digits, month, day = match.groups()
        year = int(year_digits) * (-1 if sign == "-" else 1)
        sign_ok = (len(year_digits) == 4 and sign != "+") or (len(year_digits) > 4 and sign != "")
        if sign_ok and 1 <= year <= 9999:
            try:
                return (dt.date(year, int(month), int(day)) - _EPOCH_DATE).days
            except ValueError:
                pass
    raise TemporalParseError(
        f"Failed to parse date '{text}': Text '{completed}' could not be parsed{DATE_HELP}"
    )


def _parse_each(values: pa.Array, parse: object, arrow_type: pa.DataType) -> CastResult:
    """Per-row parsing of Java-trimmed strings (see the module docstring for why)."""
    from headwater.engine.casts.java_text import java_trim

    trimmed = java_trim(values).to_pylist()
    out: list[int | None] = []
    failures: dict[int, str] = {}
    for row, text in enumerate(trimmed):
        if text is None:
            out.append(None)
            continue
        try:
            out.append(parse(text))  # type: ignore[operator]
        except TemporalParseError as error:
            failures[row] = str(error)
            out.append(None)
    storage = pa.int64() if arrow_type == pa.timestamp("ms") else pa.int32()
    return CastResult(pa.array(out, storage).cast(arrow_type), failures)


def string_to_timestamp(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    return _parse_each(values, parse_timestamp, pa.timestamp("ms"))


def string_to_time(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    return _parse_each(values, parse_time, pa.time32("ms"))


def string_to_date(values: pa.Array, from_type: t.SqlType, to_type: t.SqlType) -> CastResult:
    return _parse_each(values, parse_date, pa.date32())
