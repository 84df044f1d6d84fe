"""Points in time as users write them (``--since``, ``read(since=...)``) -> ksqlDB's epoch milliseconds.

Accepted: an integer (milliseconds since the epoch), a ``datetime`` (naive means UTC, as ksqlDB's
timestamps are), a ``date`` (its midnight, UTC), or text: digits (milliseconds), an ISO-8601 date or
date-time (``2024-05-01``, ``2024-05-01T12:00:00``, ``2024-05-01 12:00:00.250+02:00``, ``...Z``).

Example:
    >>> to_epoch_millis("2024-01-01T00:00:01Z")
    1704067201000
    >>> to_epoch_millis(1704067201000)
    1704067201000
"""

from __future__ import annotations

import datetime

from headwater.errors import PlanError

__all__ = ["TimeLike", "to_epoch_millis"]

TimeLike = int | str | datetime.datetime | datetime.date
"""What may stand for a point in time."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_USAGE = "Use milliseconds since the epoch or an ISO-8601 date or date-time such as 2024-05-01T12:00:00Z."


def to_epoch_millis(value: TimeLike, what: str = "time") -> int:
    """``value`` as milliseconds since the epoch (UTC).

    Raises:
        PlanError: text that is neither a number nor an ISO-8601 date or date-time, or a number of
            milliseconds outside what a timestamp holds (64 bits, as ksqlDB's ``ROWTIME`` BIGINT), which
            would otherwise fail deep in the rendering of the bound (``what`` names the option).
    """
    if isinstance(value, bool):
        raise PlanError(f"Invalid {what}: {value!r}")
    if isinstance(value, int):
        return _in_range(value, what)
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return _millis(moment)
    if isinstance(value, datetime.date):
        return to_epoch_millis(datetime.datetime(value.year, value.month, value.day), what)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return _in_range(int(text), what)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PlanError(f"Invalid {what}: {text!r}. {_USAGE}") from None
    return to_epoch_millis(parsed, what)


def _in_range(millis: int, what: str) -> int:
    if _INT64_MIN <= millis <= _INT64_MAX:
        return millis
    raise PlanError(f"Invalid {what}: {millis} is outside the range of a timestamp ({_INT64_MIN} to {_INT64_MAX}). {_USAGE}")


def _millis(moment: datetime.datetime) -> int:
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
