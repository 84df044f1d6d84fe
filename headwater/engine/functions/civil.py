"""Calendar arithmetic on numpy arrays: days since the epoch <-> (year, month, day), in the proleptic
Gregorian calendar that ``java.time`` uses, for any year (Howard Hinnant's algorithms).

Example:
    >>> import numpy as np
    >>> [a.tolist() for a in civil_from_days(np.array([0, 19157, -719528]))]
    [[1970, 2022, 0], [1, 6, 1], [1, 14, 1]]
    >>> days_from_civil(np.array([2022]), np.array([6]), np.array([13])).tolist()
    [19156]
"""

from __future__ import annotations

import numpy as np

__all__ = ["civil_from_days", "day_of_year", "days_from_civil", "days_in_month", "is_leap", "iso_day_of_week"]


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each (year, month, day)."""
    y = year.astype(np.int64) - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    m = month.astype(np.int64)
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + day.astype(np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of each count of days since 1970-01-01."""
    z = days.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + np.where(mp < 10, 3, -9)
    return y + (m <= 2), m, d


def is_leap(year: np.ndarray) -> np.ndarray:
    year = year.astype(np.int64)
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    month = np.clip(month.astype(np.int64), 1, 12)
    return _MONTH_DAYS[month] + ((month == 2) & is_leap(year))


def day_of_year(year: np.ndarray, days: np.ndarray) -> np.ndarray:
    """1-based day of the year of each epoch day (``year`` is that day's year)."""
    first = days_from_civil(year, np.ones_like(year), np.ones_like(year))
    return days.astype(np.int64) - first + 1


def iso_day_of_week(days: np.ndarray) -> np.ndarray:
    """ISO day of week of each epoch day: Monday 1 ... Sunday 7 (1970-01-01 was a Thursday)."""
    return np.mod(days.astype(np.int64) + 3, 7) + 1
