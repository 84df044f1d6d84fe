"""Java ``DateTimeFormatter`` patterns (``yyyy-MM-dd'T'HH:mm:ss.SSSX``), vectorized.

ksqlDB formats and parses dates, times and timestamps with ``java.time.format.DateTimeFormatter``.
This module compiles a pattern once into a :class:`JavaPattern` and then

* **formats** a whole column: every field (year, month name, hour of the AM/PM...) is computed with
  numpy from the epoch values, turned into a text column with Arrow's string kernels, and the pieces
  are joined; no per-row Python;
* **parses** a whole column: the pattern becomes one regular expression with a named group per field,
  run by Arrow's RE2 ``extract_regex``; the captured texts are converted and combined with numpy into
  epoch values, resolving missing fields as ksqlDB does (PARSE_TIMESTAMP defaults them to
  1970-01-01T00:00, PARSE_DATE requires a full date) and following the SMART resolver (a day past
  the end of its month clamps to the month's last day).

Pattern letters follow ``DateTimeFormatterBuilder.appendPattern`` with the English text of
``Locale.ROOT``/``en``: ``G u y D M L d Q q Y w W E e c F a h K k H m s S A n N V z O X x Z``, quoted
literals (``''`` for a quote) and optional sections ``[...]``. A row that does not match the pattern
fails with Java's message shape (``Text '...' could not be parsed``).

Example:
    >>> import numpy as np
    >>> from headwater.engine.functions.timezones import zone_of
    >>> pattern = compile_pattern("yyyy-MM-dd'T'HH:mm:ss.SSSX")
    >>> format_instants(pattern, np.array([1600000000123]), zone_of("UTC")).to_pylist()
    ['2020-09-13T12:26:40.123Z']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.civil import (
    civil_from_days,
    day_of_year,
    days_from_civil,
    days_in_month,
    iso_day_of_week,
)
from headwater.engine.functions.registry import FunctionError
from headwater.engine.functions.timezones import Zone, local_to_instant_millis, offsets_millis, zone_of

__all__ = [
    "JavaPattern",
    "ParsedFields",
    "compile_pattern",
    "format_dates",
    "format_instants",
    "format_times",
    "parse_column",
]

_DAY_MS = 86_400_000
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_QUARTER_WORDS = ("1st quarter", "2nd quarter", "3rd quarter", "4th quarter")
_VALID_COUNTS = {
    "G": 5, "Q": 5, "q": 5, "M": 5, "L": 5, "w": 2, "W": 1, "E": 5, "e": 5, "c": 5, "F": 1, "a": 1,
    "h": 2, "K": 2, "k": 2, "H": 2, "m": 2, "s": 2, "S": 9, "D": 3, "d": 2, "V": 2, "z": 4, "O": 4,
    "X": 5, "x": 5, "Z": 5, "y": 19, "u": 19, "Y": 19, "A": 19, "n": 19, "N": 19,
}
_FIELD_NAMES = {
    "G": "Era", "u": "Year", "y": "YearOfEra", "Y": "WeekBasedYear", "D": "DayOfYear", "M": "MonthOfYear",
    "L": "MonthOfYear", "d": "DayOfMonth", "Q": "QuarterOfYear", "q": "QuarterOfYear",
    "w": "WeekOfWeekBasedYear", "W": "WeekOfMonth", "E": "DayOfWeek", "e": "DayOfWeek", "c": "DayOfWeek",
    "F": "AlignedWeekOfMonth", "a": "AmPmOfDay", "h": "ClockHourOfAmPm", "K": "HourOfAmPm",
    "k": "ClockHourOfDay", "H": "HourOfDay", "m": "MinuteOfHour", "s": "SecondOfMinute",
    "S": "NanoOfSecond", "A": "MilliOfDay", "n": "NanoOfSecond", "N": "NanoOfDay",
}
_DATE_LETTERS = frozenset("GuyYDMLdQqwWEecF")
_TIME_LETTERS = frozenset("ahKkHmsSAnN")
_ZONE_LETTERS = frozenset("VzOXxZ")


def _month_names(count: int) -> tuple[str, ...]:
    return tuple(m[:3] for m in _MONTHS) if count == 3 else (_MONTHS if count == 4 else tuple(m[0] for m in _MONTHS))


def _day_names(count: int) -> tuple[str, ...]:
    return tuple(d[:3] for d in _DAYS) if count <= 3 else (_DAYS if count == 4 else tuple(d[0] for d in _DAYS))


def _era_names(count: int) -> tuple[str, ...]:
    return ("BC", "AD") if count <= 3 else (("Before Christ", "Anno Domini") if count == 4 else ("B", "A"))


def _quarter_names(count: int) -> tuple[str, ...]:
    return ("Q1", "Q2", "Q3", "Q4") if count == 3 else (_QUARTER_WORDS if count == 4 else ("1", "2", "3", "4"))


# --------------------------------------------------------------------------------------------------------
# Compiling a pattern


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str


@dataclass(frozen=True, slots=True)
class _Field:
    letter: str
    count: int


@dataclass(frozen=True, slots=True)
class _Optional:
    items: tuple[_Literal | _Field | _Optional, ...]


Item = _Literal | _Field | _Optional


@dataclass(frozen=True)
class JavaPattern:
    """A compiled pattern: its items, the letters it uses, and its regular expression for parsing."""

    source: str
    items: tuple[Item, ...]
    letters: frozenset[str]
    _regex_cache: dict[tuple[bool, bool], tuple[str, tuple[tuple[str, _Field], ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def has_time(self) -> bool:
        return bool(self.letters & _TIME_LETTERS)

    @property
    def has_date(self) -> bool:
        return bool(self.letters & _DATE_LETTERS)

    @property
    def has_zone(self) -> bool:
        return bool(self.letters & _ZONE_LETTERS)


def _tokenize(pattern: str) -> tuple[Item, ...]:
    stack: list[list[Item]] = [[]]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch.isascii() and ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            count = j - i
            if ch == "p":
                raise FunctionError("Pad letter 'p' is not supported")
            if ch not in _VALID_COUNTS:
                raise FunctionError(f"Unknown pattern letter: {ch}")
            if count > _VALID_COUNTS[ch] or (ch == "V" and count != 2) or (ch == "O" and count not in (1, 4)):
                raise FunctionError(f"Too many pattern letters: {ch}" if ch != "V" else "Pattern letter count must be 2: V")
            stack[-1].append(_Field(ch, count))
            i = j
        elif ch == "'":
            j = i + 1
            text = []
            while j < n:
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            if j >= n:
                raise FunctionError(f"Pattern ends with an incomplete string literal: {pattern}")
            stack[-1].append(_Literal("".join(text) if text or j > i + 1 else "'"))
            i = j + 1
        elif ch == "[":
            stack.append([])
            i += 1
        elif ch == "]":
            if len(stack) == 1:
                raise FunctionError("Pattern invalid as it contains ] without previous [")
            items = stack.pop()
            stack[-1].append(_Optional(tuple(items)))
            i += 1
        elif ch in "{}#":
            raise FunctionError(f"Pattern includes reserved character: '{ch}'")
        else:
            stack[-1].append(_Literal(ch))
            i += 1
    while len(stack) > 1:
        items = stack.pop()
        stack[-1].append(_Optional(tuple(items)))
    return tuple(stack[0])


def _letters(items: tuple[Item, ...]) -> set[str]:
    found: set[str] = set()
    for item in items:
        if isinstance(item, _Field):
            found.add(item.letter)
        elif isinstance(item, _Optional):
            found |= _letters(item.items)
    return found


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> JavaPattern:
    """Compile (and cache) a Java date-time pattern.

    Raises:
        FunctionError: an unknown letter, too many letters, a reserved character...
    """
    items = _tokenize(pattern)
    return JavaPattern(pattern, items, frozenset(_letters(items)))


# --------------------------------------------------------------------------------------------------------
# Formatting


@dataclass
class _Values:
    """The fields of the values being formatted, as numpy arrays (None when the kind lacks them)."""

    length: int
    days: np.ndarray | None = None  # epoch day
    millis_of_day: np.ndarray | None = None
    offset_ms: np.ndarray | None = None
    zone: Zone | None = None
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    def civil(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if "year" not in self._cache:
            assert self.days is not None
            y, m, d = civil_from_days(self.days)
            self._cache.update(year=y, month=m, day=d)
        return self._cache["year"], self._cache["month"], self._cache["day"]


def _unsupported(letter: str) -> FunctionError:
    return FunctionError(f"Unsupported field: {_FIELD_NAMES.get(letter, letter)}")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as text, zero-padded to ``width``."""
    text = pa.array(values.astype(np.int64)).cast(pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width > 1 else text


def _signed(values: np.ndarray, width: int, *, plus_when_wider: bool) -> pa.Array:
    """Java's ``appendValue`` for years: zero-padded to ``width``, '-' for negatives and, with
    EXCEEDS_PAD, '+' when the value has more digits than the width."""
    magnitude = _digits(np.abs(values), width)
    negative = values < 0
    sign = np.where(negative, "-", "")
    if plus_when_wider:
        sign = np.where(~negative & (values >= 10**width), "+", sign)
    return pc.binary_join_element_wise(pa.array(sign), magnitude, "")


def _names(index: np.ndarray, names: tuple[str, ...]) -> pa.Array:
    return pa.array(np.array(names, dtype=object)[index], pa.string())


def _offset_text(offset_ms: np.ndarray, letter: str, count: int) -> pa.Array:
    seconds = offset_ms // 1000
    sign = np.where(seconds < 0, "-", "+")
    total = np.abs(seconds)
    hours, minutes, secs = total // 3600, total // 60 % 60, total % 60
    hh = [f"{h:02d}" for h in hours.tolist()]
    mm = [f"{m:02d}" for m in minutes.tolist()]
    ss = [f"{s:02d}" for s in secs.tolist()]
    out = []
    for i, s in enumerate(sign.tolist()):
        zero = total[i] == 0
        if letter in "XZ" and zero and (letter == "X" or count == 5):
            out.append("Z")
            continue
        if letter == "O" or (letter == "Z" and count == 4):
            if zero:
                out.append("GMT")
            elif letter == "O" and count == 1:
                text = f"GMT{s}{int(hours[i])}" + (f":{mm[i]}" if minutes[i] or secs[i] else "")
                out.append(text + (f":{ss[i]}" if secs[i] else ""))
            else:
                out.append(f"GMT{s}{hh[i]}:{mm[i]}" + (f":{ss[i]}" if secs[i] else ""))
            continue
        if letter == "Z" and count <= 3:
            out.append(f"{s}{hh[i]}{mm[i]}" + (ss[i] if secs[i] else ""))
            continue
        if count == 1:
            out.append(f"{s}{hh[i]}" + (mm[i] if minutes[i] else ""))
        elif count == 2:
            out.append(f"{s}{hh[i]}{mm[i]}")
        elif count == 3:
            out.append(f"{s}{hh[i]}:{mm[i]}")
        elif count == 4:
            out.append(f"{s}{hh[i]}{mm[i]}" + (ss[i] if secs[i] else ""))
        else:
            out.append(f"{s}{hh[i]}:{mm[i]}" + (f":{ss[i]}" if secs[i] else ""))
    return pa.array(out, pa.string())


def _offset_column(values: _Values, letter: str, count: int) -> pa.Array:
    """Offsets take few distinct values: format each once and spread the texts."""
    assert values.offset_ms is not None
    distinct, inverse = np.unique(values.offset_ms, return_inverse=True)
    return _offset_text(distinct, letter, count).take(pa.array(inverse.reshape(-1)))


def _zone_names(values: _Values, count: int) -> pa.Array:
    """``z``: the zone's abbreviation in effect (``PST``/``PDT``), or its id for fixed offsets."""
    import datetime as dt
    import zoneinfo

    zone = values.zone
    assert zone is not None and values.offset_ms is not None and values.days is not None
    if zone.region is None:
        return pa.array([zone.id] * values.length, pa.string())
    if zone.region == "UTC":
        name = "Coordinated Universal Time" if count == 4 else "UTC"
        return pa.array([name] * values.length, pa.string())
    info = zoneinfo.ZoneInfo(zone.region)
    assert values.millis_of_day is not None
    instants = values.days * _DAY_MS + values.millis_of_day - values.offset_ms
    _, first, inverse = np.unique(values.offset_ms, return_index=True, return_inverse=True)
    names = []
    for index in first:
        millis = int(np.clip(instants[index], -62_135_596_800_000 + _DAY_MS, 253_402_300_799_000 - _DAY_MS))
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)
        names.append(moment.astimezone(info).tzname() or zone.id)
    return pa.array(names, pa.string()).take(pa.array(inverse.reshape(-1)))


def _week_fields(values: _Values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(week-based year, week of week-based year, week of month) with Sunday-first weeks and one
    minimal day, the rules of the US locale a JVM formats with by default."""
    assert values.days is not None
    year, _, day = values.civil()
    doy = day_of_year(year, values.days)
    jan1_dow = np.mod(values.days - doy + 1 + 4, 7)
    week = (doy - 1 + jan1_dow) // 7 + 1
    week_year = year.copy()
    # days at the end of December that belong to week 1 of the next year
    next_jan1 = values.days - doy + 1 + np.where(
        ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0), 366, 365
    )
    in_next = (values.days >= next_jan1 - np.mod(next_jan1 + 4, 7))
    week = np.where(in_next, 1, week)
    week_year = np.where(in_next, year + 1, week_year)
    first_of_month_dow = np.mod(values.days - day + 1 + 4, 7)
    week_of_month = (day - 1 + first_of_month_dow) // 7 + 1
    return week_year, week, week_of_month


def _field_column(item: _Field, values: _Values) -> pa.Array:
    letter, count = item.letter, item.count
    if letter in _DATE_LETTERS and values.days is None:
        raise _unsupported(letter)
    if letter in _TIME_LETTERS and values.millis_of_day is None:
        raise _unsupported(letter)
    if letter in _ZONE_LETTERS and values.offset_ms is None:
        raise FunctionError("Unable to extract ZoneId from temporal")
    if letter in "yuG":
        year, _, _ = values.civil()
        if letter == "G":
            era = (year > 0).astype(np.int64)
            names = _era_names(count)
            return _names(era, names)
        shown = year if letter == "u" else np.where(year > 0, year, 1 - year)
        if count == 2:
            return _digits(np.mod(shown, 100), 2)
        return _signed(shown, count, plus_when_wider=count >= 4)
    if letter in "ML":
        _, month, _ = values.civil()
        if count <= 2:
            return _digits(month, count)
        names = _month_names(count)
        return _names(month - 1, names)
    if letter == "d":
        return _digits(values.civil()[2], count)
    if letter == "D":
        year, _, _ = values.civil()
        assert values.days is not None
        return _digits(day_of_year(year, values.days), count)
    if letter in "Qq":
        _, month, _ = values.civil()
        quarter = (month - 1) // 3
        if count <= 2:
            return _digits(quarter + 1, count)
        names = _quarter_names(count)
        return _names(quarter, names)
    if letter in "Eec":
        assert values.days is not None
        iso = iso_day_of_week(values.days)
        if letter in "ec" and count <= 2:
            return _digits(np.mod(iso, 7) + 1, count)  # localized: Sunday is day 1
        names = _day_names(count)
        return _names(iso - 1, names)
    if letter in "YwWF":
        week_year, week, week_of_month = _week_fields(values)
        if letter == "Y":
            return _digits(np.mod(week_year, 100), 2) if count == 2 else _signed(week_year, count, plus_when_wider=count >= 4)
        if letter == "w":
            return _digits(week, count)
        if letter == "W":
            return _digits(week_of_month, count)
        return _digits((values.civil()[2] - 1) // 7 + 1, count)
    millis = values.millis_of_day
    assert millis is not None
    hour = millis // 3_600_000
    if letter == "H":
        return _digits(hour, count)
    if letter == "k":
        return _digits(np.where(hour == 0, 24, hour), count)
    if letter == "K":
        return _digits(hour % 12, count)
    if letter == "h":
        return _digits(np.where(hour % 12 == 0, 12, hour % 12), count)
    if letter == "a":
        return _names((hour >= 12).astype(np.int64), ("AM", "PM"))
    if letter == "m":
        return _digits(millis // 60_000 % 60, count)
    if letter == "s":
        return _digits(millis // 1000 % 60, count)
    if letter == "S":
        nanos = (millis % 1000) * 1_000_000
        return _digits(nanos // 10 ** (9 - count), count)
    if letter == "A":
        return _digits(millis, count)
    if letter == "n":
        return _digits((millis % 1000) * 1_000_000, count)
    if letter == "N":
        return _digits(millis * 1_000_000, count)
    if letter == "V":
        assert values.zone is not None
        return pa.array([values.zone.id] * values.length, pa.string())
    if letter == "z":
        return _zone_names(values, count)
    return _offset_column(values, letter, count)


def _format(items: tuple[Item, ...], values: _Values) -> pa.Array:
    pieces: list[pa.Array | str] = []
    for item in items:
        if isinstance(item, _Literal):
            pieces.append(item.text)
        elif isinstance(item, _Field):
            pieces.append(_field_column(item, values))
        else:
            try:
                pieces.append(_format(item.items, values))
            except FunctionError:
                continue  # an optional section whose fields the value lacks prints nothing
    if not pieces:
        return pa.array([""] * values.length, pa.string())
    columns = [pa.array([p] * values.length, pa.string()) if isinstance(p, str) else p for p in pieces]
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, "")


def format_instants(pattern: JavaPattern, instants: np.ndarray, zone: Zone) -> pa.Array:
    """Format epoch milliseconds as ``ZonedDateTime``\\ s in ``zone`` (no NULLs in ``instants``)."""
    offsets = offsets_millis(instants, zone)
    local = instants.astype(np.int64) + offsets
    days = np.floor_divide(local, _DAY_MS)
    values = _Values(len(instants), days, local - days * _DAY_MS, offsets, zone)
    return _format(pattern.items, values)


def format_dates(pattern: JavaPattern, days: np.ndarray) -> pa.Array:
    """Format epoch days as ``LocalDate``\\ s."""
    return _format(pattern.items, _Values(len(days), days=days.astype(np.int64)))


def format_times(pattern: JavaPattern, millis_of_day: np.ndarray) -> pa.Array:
    """Format milliseconds of the day as ``LocalTime``\\ s."""
    return _format(pattern.items, _Values(len(millis_of_day), millis_of_day=millis_of_day.astype(np.int64)))


# --------------------------------------------------------------------------------------------------------
# Parsing

_ZONE_ABBREVIATIONS = {
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "MST": "America/Denver",
    "MDT": "America/Denver", "CST": "America/Chicago", "CDT": "America/Chicago",
    "EST": "America/New_York", "EDT": "America/New_York", "HST": "Pacific/Honolulu",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage", "GMT": "GMT", "UTC": "UTC", "UT": "UT",
    "Z": "Z", "BST": "Europe/London", "CET": "Europe/Paris", "CEST": "Europe/Paris",
    "EET": "Europe/Athens", "EEST": "Europe/Athens", "WET": "Europe/Lisbon", "JST": "Asia/Tokyo",
    "IST": "Asia/Kolkata", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
}


def _alternatives(names: tuple[str, ...], insensitive: bool) -> str:
    body = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return f"(?i:{body})" if insensitive else f"(?:{body})"


def _field_regex(item: _Field, insensitive: bool) -> str:
    letter, count = item.letter, item.count
    if letter in "yuY":
        if count == 2:
            return r"\d{2}"
        if count == 1:
            return r"[+-]?\d+"
        return rf"[+-]?\d{{{count},}}"
    if letter in "ML" and count >= 3:
        names = _month_names(count)
        return _alternatives(names, insensitive)
    if letter in "Eec" and (count >= 3 or letter == "E"):
        names = _day_names(count)
        return _alternatives(names, insensitive)
    if letter == "G":
        names = _era_names(count)
        return _alternatives(names, insensitive)
    if letter == "a":
        return _alternatives(("AM", "PM"), insensitive)
    if letter in "Qq" and count >= 3:
        names = _quarter_names(count)
        return _alternatives(names, insensitive)
    if letter == "S":
        return rf"\d{{{count}}}"
    if letter == "V":
        return r"[A-Za-z][A-Za-z0-9~/._+\-]*|[+\-]\d{1,2}(?::?\d{2}){0,2}|Z"
    if letter == "z":
        return r"[A-Za-z][A-Za-z0-9/_+:\-]*"
    if letter in "Xx":
        offset = r"[+\-]\d{2}(?::?\d{2}(?::?\d{2})?)?"
        zero = "[Zz]" if insensitive else "Z"
        return f"{zero}|{offset}" if letter == "X" else offset
    if letter == "Z":
        zero = "[Zz]" if insensitive else "Z"
        return rf"[+\-]\d{{2}}:?\d{{2}}(?::?\d{{2}})?|{zero}|GMT(?:[+\-]\d{{1,2}}(?::\d{{2}}){{0,2}})?"
    if letter == "O":
        return r"GMT(?:[+\-]\d{1,2}(?::\d{2}){0,2})?"
    if letter == "D":
        return r"\d{1,3}" if count == 1 else rf"\d{{{count},3}}"
    if count == 1:
        return r"\d+"
    return rf"\d{{{count}}}"


def _regex(items: tuple[Item, ...], insensitive: bool, groups: list[tuple[str, _Field]]) -> str:
    out = []
    for item in items:
        if isinstance(item, _Literal):
            out.append(f"(?i:{re.escape(item.text)})" if insensitive and item.text.isalpha() else re.escape(item.text))
        elif isinstance(item, _Field):
            name = f"f{len(groups)}"
            groups.append((name, item))
            out.append(f"(?P<{name}>{_field_regex(item, insensitive)})")
        else:
            out.append(f"(?:{_regex(item.items, insensitive, groups)})?")
    return "".join(out)


@dataclass
class ParsedFields:
    """What :func:`parse_column` read from each row: numpy arrays of the fields found (absent fields
    are not keys), plus the parsed zone per row when the pattern has one."""

    length: int
    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    zones: list[Zone | None] | None = None

    def has(self, name: str) -> bool:
        return name in self.values


def _text_index(texts: pa.Array, names: tuple[str, ...], insensitive: bool) -> np.ndarray:
    lowered = pc.utf8_lower(texts) if insensitive else texts
    lookup = pa.array([n.lower() if insensitive else n for n in names])
    index = pc.index_in(lowered, value_set=lookup)
    return np.asarray(pc.fill_null(index, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _zone_from_text(text: str) -> Zone:
    if text.upper() in _ZONE_ABBREVIATIONS:
        return zone_of(_ZONE_ABBREVIATIONS[text.upper()])
    return zone_of(text)


def _offset_from_text(text: str) -> Zone:
    if text.upper() in ("Z", "GMT", "UT", "UTC"):
        return zone_of("Z")
    body = text[3:] if text.startswith("GMT") else text
    digits = body[1:].replace(":", "")
    if len(digits) in (1, 3, 5):
        digits = "0" + digits
    hours, minutes, seconds = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return zone_of(f"{body[0]}{hours:02d}:{minutes:02d}:{seconds:02d}" if seconds else f"{body[0]}{hours:02d}:{minutes:02d}")


def parse_column(
    pattern: JavaPattern, texts: pa.Array, *, insensitive: bool = True, trailing_text: bool = False
) -> ParsedFields:
    """Match every non-NULL row against the pattern and read its fields.

    Args:
        pattern: the compiled pattern.
        texts: the strings to parse.
        insensitive: letters and names match in any case (``parseCaseInsensitive``).
        trailing_text: text after what the pattern reads is ignored, as ``java.text`` parsers
            (``SimpleDateFormat.parse(String)``) do, instead of failing the row.

    Raises:
        FunctionError: a row does not match ("Text '...' could not be parsed ...").
    """
    cache_key = (insensitive, trailing_text)
    if cache_key not in pattern._regex_cache:
        groups: list[tuple[str, _Field]] = []
        regex = "^" + _regex(pattern.items, insensitive, groups) + ("" if trailing_text else "$")
        pattern._regex_cache[cache_key] = (regex, tuple(groups))
    regex, groups_tuple = pattern._regex_cache[cache_key]
    length = len(texts)
    valid = np.asarray(texts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if not groups_tuple:
        ok = pc.fill_null(pc.match_substring_regex(texts, regex), False)
        _fail_unmatched(texts, valid & ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool))
        return ParsedFields(length, {}, {})
    extracted = pc.extract_regex(texts, pattern=regex)
    matched_mask = np.asarray(extracted.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    _fail_unmatched(texts, valid & ~matched_mask)
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    zones: list[Zone | None] | None = None
    for name, item in groups_tuple:
        column = pc.struct_field(extracted, [name])
        has = np.asarray(pc.fill_null(pc.not_equal(column, ""), False).to_numpy(zero_copy_only=False), dtype=bool)
        key, number = _interpret(item, column, insensitive)
        if key == "zone":
            texts_list = column.to_pylist()
            resolver = _offset_from_text if item.letter in "XxZO" else _zone_from_text
            parsed = [resolver(text) if text else None for text in texts_list]
            zones = parsed if zones is None else [p or z for p, z in zip(parsed, zones)]
            continue
        if key in values:
            # a field given twice must agree (Java: "Conflict found")
            both = present[key] & has
            if (values[key][both] != number[both]).any():
                raise FunctionError(f"Conflict found: Field {key} differs from the value parsed before")
            values[key] = np.where(has, number, values[key])
            present[key] = present[key] | has
        else:
            values[key] = number
            present[key] = has
    return ParsedFields(length, values, present, zones)


def _fail_unmatched(texts: pa.Array, failed: np.ndarray) -> None:
    if failed.any():
        text = texts[int(np.flatnonzero(failed)[0])].as_py()
        raise FunctionError(f"Text '{text}' could not be parsed")


def _as_int(column: pa.Array) -> np.ndarray:
    cleaned = pc.if_else(pc.equal(column, ""), "0", column)
    cleaned = pc.replace_substring(cleaned, "+", "")
    try:
        return np.asarray(pc.fill_null(cleaned.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    except pa.ArrowInvalid as error:
        raise FunctionError(f"Text could not be parsed: value out of range ({error})") from error


def _interpret(item: _Field, column: pa.Array, insensitive: bool) -> tuple[str, np.ndarray]:
    """The resolved field a captured text sets, and its numeric value."""
    letter, count = item.letter, item.count
    if letter in "VzXxZO":
        return "zone", np.zeros(0)
    if letter in "ML" and count >= 3:
        names = _month_names(count)
        return "month", _text_index(column, names, insensitive) + 1
    if letter in "Eec" and (count >= 3 or letter == "E"):
        names = _day_names(count)
        return "day_of_week", _text_index(column, names, insensitive) + 1
    if letter in "ec":
        return "day_of_week", np.mod(_as_int(column) - 2, 7) + 1
    if letter == "G":
        names = _era_names(count)
        return "era", _text_index(column, names, insensitive)
    if letter == "a":
        return "ampm", _text_index(column, ("AM", "PM"), insensitive)
    if letter in "Qq":
        if count >= 3:
            names = _quarter_names(count)
            return "quarter", _text_index(column, names, insensitive) + 1
        return "quarter", _as_int(column)
    number = _as_int(column)
    if letter in "yu":
        if count == 2:
            number = 2000 + number
        return ("year_of_era" if letter == "y" else "year"), number
    if letter == "S":
        return "nano", number * 10 ** (9 - count)
    mapping = {
        "M": "month", "L": "month", "d": "day", "D": "day_of_year", "H": "hour", "k": "clock_hour_of_day",
        "K": "hour_of_ampm", "h": "clock_hour_of_ampm", "m": "minute", "s": "second", "A": "milli_of_day",
        "n": "nano", "N": "nano_of_day", "Y": "week_based_year", "w": "week", "W": "week_of_month",
        "F": "aligned_week_of_month",
    }
    return mapping[letter], number


# --------------------------------------------------------------------------------------------------------
# Resolving parsed fields


def _check(condition: np.ndarray, message: str) -> None:
    if condition.any():
        raise FunctionError(message)


def resolve_time(fields: ParsedFields, *, default_ampm: bool) -> tuple[np.ndarray, np.ndarray]:
    """(milliseconds of the day, whether the rows have enough to define an hour). With
    ``default_ampm`` a clock hour of AM/PM without AM/PM counts as AM (ksqlDB's timestamp parser sets
    the fields on midnight); otherwise such rows do not define an hour (Java's LocalTime.from)."""
    n = fields.length
    zeros = np.zeros(n, dtype=np.int64)
    get = lambda key: fields.values.get(key, zeros)  # noqa: E731
    has = lambda key: fields.present.get(key, np.zeros(n, dtype=bool))  # noqa: E731
    hour = get("hour").copy()
    defined = has("hour").copy()
    _check(has("hour") & (hour > 23), "Invalid value for HourOfDay (valid values 0 - 23)")
    clock = get("clock_hour_of_day")
    _check(has("clock_hour_of_day") & ((clock < 1) | (clock > 24)), "Invalid value for ClockHourOfDay (valid values 1 - 24)")
    hour = np.where(has("clock_hour_of_day"), clock % 24, hour)
    defined |= has("clock_hour_of_day")
    ampm = get("ampm")
    ampm_hour = np.where(has("clock_hour_of_ampm"), get("clock_hour_of_ampm") % 12, get("hour_of_ampm"))
    _check(has("clock_hour_of_ampm") & ((get("clock_hour_of_ampm") < 1) | (get("clock_hour_of_ampm") > 12)),
           "Invalid value for ClockHourOfAmPm (valid values 1 - 12)")
    _check(has("hour_of_ampm") & (get("hour_of_ampm") > 11), "Invalid value for HourOfAmPm (valid values 0 - 11)")
    has_ampm_hour = has("clock_hour_of_ampm") | has("hour_of_ampm")
    with_ampm = has_ampm_hour & has("ampm")
    hour = np.where(with_ampm, ampm_hour + 12 * ampm, hour)
    defined |= with_ampm
    if default_ampm:
        hour = np.where(has_ampm_hour & ~has("ampm"), ampm_hour, hour)
        defined |= has_ampm_hour
    minute, second, nano = get("minute"), get("second"), get("nano")
    _check(has("minute") & (minute > 59), "Invalid value for MinuteOfHour (valid values 0 - 59)")
    _check(has("second") & (second > 59), "Invalid value for SecondOfMinute (valid values 0 - 59)")
    millis = hour * 3_600_000 + minute * 60_000 + second * 1000 + nano // 1_000_000
    millis = np.where(has("milli_of_day"), get("milli_of_day"), millis)
    millis = np.where(has("nano_of_day"), get("nano_of_day") // 1_000_000, millis)
    defined |= has("milli_of_day") | has("nano_of_day")
    return millis, defined


def resolve_date(fields: ParsedFields, *, default_year: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(epoch days, whether the row defines a full date). With ``default_year`` missing fields take
    1970-01-01's values (ksqlDB's timestamp parser); otherwise only full dates count."""
    n = fields.length
    zeros = np.zeros(n, dtype=np.int64)
    get = lambda key: fields.values.get(key, zeros)  # noqa: E731
    has = lambda key: fields.present.get(key, np.zeros(n, dtype=bool))  # noqa: E731
    year_of_era = get("year_of_era")
    era = np.where(has("era"), get("era"), 1)
    year = np.where(has("year"), get("year"), np.where(era == 1, year_of_era, 1 - year_of_era))
    has_year = has("year") | has("year_of_era")
    if default_year is not None:
        year = np.where(has_year, year, default_year)
    month, day = get("month"), get("day")
    _check(has("month") & ((month < 1) | (month > 12)), "Invalid value for MonthOfYear (valid values 1 - 12)")
    _check(has("day") & ((day < 1) | (day > 31)), "Invalid value for DayOfMonth (valid values 1 - 28/31)")
    month = np.where(has("month"), month, 1)
    day = np.where(has("day"), day, 1)
    full = has_year & has("month") & has("day")
    # SMART resolution: a day past the end of its month becomes the month's last day
    day = np.minimum(day, days_in_month(year, month))
    days = days_from_civil(year, month, day)
    from_doy = has("day_of_year") & ~has("month")
    if from_doy.any():
        doy = get("day_of_year")
        leap = days_in_month(year, np.full(n, 2)) == 29
        _check(from_doy & ((doy < 1) | (doy > 366) | ((doy == 366) & ~leap)), "Invalid date: DayOfYear out of range")
        days = np.where(from_doy, days_from_civil(year, np.ones(n, np.int64), np.ones(n, np.int64)) + doy - 1, days)
        full |= from_doy & has_year
    dow = get("day_of_week")
    _check(has("day_of_week") & full & (iso_day_of_week(days) != dow), "Conflict found: DayOfWeek differs from the date")
    return days, full if default_year is None else np.ones(n, dtype=bool)


def instants_from_fields(fields: ParsedFields, zone: Zone) -> np.ndarray:
    """Epoch milliseconds of parsed timestamps: ksqlDB's ``StringToTimestampParser`` (missing fields
    from 1970-01-01T00:00, the parsed zone if any, else ``zone``)."""
    days, _ = resolve_date(fields, default_year=1970)
    millis, _ = resolve_time(fields, default_ampm=True)
    local = days * _DAY_MS + millis
    if fields.zones is None:
        return local_to_instant_millis(local, zone)
    out = np.empty(fields.length, dtype=np.int64)
    by_zone: dict[Zone, list[int]] = {}
    for row, parsed in enumerate(fields.zones):
        by_zone.setdefault(parsed or zone, []).append(row)
    for each, rows in by_zone.items():
        index = np.array(rows, dtype=np.int64)
        out[index] = local_to_instant_millis(local[index], each)
    return out

