"""ROWTIME, WINDOWSTART and WINDOWEND compared with a string: the string is a timestamp.

ksqlDB's ``StatementRewriteForMagicPseudoTimestamp``: in a WHERE clause, a comparison or BETWEEN whose
one side is one of these pseudo-columns (BIGINT milliseconds) and whose other side is a string literal
compares with the instant the string names. The string may be partial (``'2018'``, ``'2020-02'``,
``'2020-02-10T08'``...; missing parts are the start of the period), may end in ``Z``, and may carry a
numeric offset (``+0445``, ``-01:00``); without one it is UTC (ksqlDB's
``PartialStringToTimestampParser``).

Example:
    >>> from headwater.parser.expressions import ColumnRef, Comparison, ComparisonOp, StringLiteral
    >>> rewritten = pseudo_timestamp_literals(
    ...     Comparison(ComparisonOp.GREATER_THAN, ColumnRef("ROWTIME"), StringLiteral("2018-01-01T00:00:00.001")))
    >>> rewritten.right
    IntegerLiteral(value=1514764800001)
    >>> parse_partial_timestamp("2019-01-01T00:00:00+0445")
    1546283700000
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from headwater.engine.planner.rewrite import transform
from headwater.engine.schema import ROWTIME, WINDOWEND, WINDOWSTART
from headwater.errors import PlanError
from headwater.parser import expressions as pe

__all__ = ["parse_partial_timestamp", "pseudo_timestamp_literals"]

_PSEUDO_TIMESTAMPS = frozenset({ROWTIME, WINDOWSTART, WINDOWEND})
_TIME_PATTERN = "HH:mm:ss.SSS"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FULL = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})")
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")
_HELP = (
    "\nRequired format is: \"yyyy-MM-dd'T'HH:mm:ss.SSS\", with an optional numeric 4-digit timezone, for "
    "example: '2020-05-26T23:59:58.000' or with tz: '2020-05-26T23:59:58.000+0200'. A trailing 'Z' instead "
    'of tz indicates the zero UTC offset. Partials are also supported, for example "2020-05-26"'
)


def _complete_date(date: str) -> str:
    parts = date.split("-")
    if len(parts) == 1:
        return date + "-01-01"
    if len(parts) == 2:
        return date + "-01"
    return date


def _complete_time(time: str) -> str:
    if len(time) >= len(_TIME_PATTERN):
        return time
    return time + re.sub("[a-zA-Z]", "0", _TIME_PATTERN[len(time) :])


def _offset(text: str) -> timezone:
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ValueError(f"Failed to parse timezone '{text}': Invalid ID for ZoneOffset, invalid format: {text}")
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes, seconds = (int(match.group(i) or 0) for i in (2, 3, 4))
    if hours > 18 or minutes > 59 or seconds > 59:
        raise ValueError(f"Failed to parse timezone '{text}': Zone offset out of range: {text}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds))


def parse_partial_timestamp(text: str) -> int:
    """Milliseconds since the epoch of a full or partial ISO-8601 timestamp (see the module docstring).

    Raises:
        PlanError: ``Failed to parse timestamp '<text>': ...`` with ksqlDB's help text.
    """
    try:
        if "T" in text:
            date, with_zone = text[: text.index("T")], text[text.index("T") + 1 :]
            zone_start = next((i for i, ch in enumerate(with_zone) if ch in "+-"), len(with_zone))
            zone_text = with_zone[zone_start:]
            time = _complete_time(re.sub("Z$", "", with_zone[:zone_start]))
        else:
            date, zone_text, time = _complete_date(text), "", _complete_time("")
        zone = _offset(zone_text) if zone_text.strip() else UTC
        match = _FULL.fullmatch(f"{date}T{time}")
        if match is None:
            raise ValueError(f"Text '{date}T{time}' could not be parsed")
        year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
        # Java's SMART resolver reads 24:00 as the midnight that ends the day
        end_of_day = hour == 24 and minute == second == millis == 0
        instant = datetime(year, month, day, 0 if end_of_day else hour, minute, second, millis * 1000, tzinfo=zone)
        if end_of_day:
            instant += timedelta(days=1)
    except ValueError as error:
        raise PlanError(f"Failed to parse timestamp '{text}': {error}{_HELP}") from None
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def _is_pseudo_timestamp(node: pe.Expression) -> bool:
    return isinstance(node, pe.ColumnRef) and node.name.upper() in _PSEUDO_TIMESTAMPS


def _as_millis(node: pe.Expression) -> pe.Expression:
    if isinstance(node, pe.StringLiteral):
        return pe.IntegerLiteral(parse_partial_timestamp(node.value), span=node.span)
    return node


def _rewrite(node: object) -> pe.Expression | None:
    if isinstance(node, pe.Comparison):
        if _is_pseudo_timestamp(node.left) and isinstance(node.right, pe.StringLiteral):
            return pe.Comparison(node.op, node.left, _as_millis(node.right), span=node.span)
        if _is_pseudo_timestamp(node.right) and isinstance(node.left, pe.StringLiteral):
            return pe.Comparison(node.op, _as_millis(node.left), node.right, span=node.span)
    if isinstance(node, pe.Between) and _is_pseudo_timestamp(node.value):
        return pe.Between(
            node.value, _as_millis(node.low), _as_millis(node.high), node.negated, span=node.span
        )
    return None


def pseudo_timestamp_literals(expression: pe.Expression) -> pe.Expression:
    """``expression`` with the strings compared to ROWTIME / WINDOWSTART / WINDOWEND made instants."""
    rewritten: pe.Expression = transform(expression, _rewrite)
    return rewritten
