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


def to_epoch_millis(value: TimeLike, what: str = "time") -> int:
    """``value`` as milliseconds since the epoch (UTC).

    Raises:
        PlanError: text that is neither a number nor an ISO-8601 date or date-time (``what`` names the
            option in the message).
    """
    if isinstance(value, bool):
        raise PlanError(f"Invalid {what}: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return _millis(moment)
    if isinstance(value, datetime.date):
        return to_epoch_millis(datetime.datetime(value.year, value.month, value.day), what)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PlanError(
            f"Invalid {what}: {text!r}. Use milliseconds since the epoch or an ISO-8601 date or date-time "
            "such as 2024-05-01T12:00:00Z."
        ) from None
    return to_epoch_millis(parsed, what)


def _millis(moment: datetime.datetime) -> int:
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
