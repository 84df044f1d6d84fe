"""Time zones as ksqlDB names them (``java.time.ZoneId.of``), and vectorized offsets.

A zone is either a fixed offset (``Z``, ``+05:30``, ``UTC+1``, ``GMT-08:00``...) or a region of the IANA
database (``America/Los_Angeles``, ``UTC``, ``EST``). Offsets of a region at many instants come from
Arrow's time-zone kernels in one pass; local date-times are turned into instants with Java's
``ZonedDateTime.of`` rules: in a gap (spring forward) the offset *before* the transition applies,
which moves the wall time forward by the gap; in an overlap (fall back) the earlier offset wins.

Example:
    >>> import numpy as np
    >>> zone = zone_of("America/Los_Angeles")
    >>> offsets_millis(np.array([0]), zone).tolist()
    [-28800000]
    >>> zone_of("UTC+5:30").fixed_offset_millis
    19800000
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.registry import FunctionError

__all__ = ["Zone", "local_to_instant_millis", "offsets_millis", "zone_of"]

_DAY_MS = 86_400_000
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?\Z")


@dataclass(frozen=True, slots=True)
class Zone:
    """A resolved zone: ``region`` (an IANA name) or ``fixed_offset_millis``; ``id`` as Java prints it."""

    id: str
    region: str | None = None
    fixed_offset_millis: int = 0


def _parse_offset(text: str) -> int | None:
    match = _OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes, seconds = match.groups()
    if len(hours) == 1 and (minutes is not None and ":" not in text):
        return None
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    if int(hours) > 18 or int(minutes or 0) > 59 or int(seconds or 0) > 59 or total > 18 * 3600:
        return None
    return (-1 if sign == "-" else 1) * total * 1000


def _offset_id(millis: int) -> str:
    if millis == 0:
        return "Z"
    sign = "-" if millis < 0 else "+"
    seconds = abs(millis) // 1000
    text = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


@lru_cache(maxsize=512)
def zone_of(name: str) -> Zone:
    """Resolve a zone name like ``ZoneId.of``.

    Raises:
        FunctionError: an unknown zone ("Unknown time-zone ID: X") or a malformed offset.
    """
    if name == "Z":
        return Zone("Z", fixed_offset_millis=0)
    if name[:1] in "+-":
        offset = _parse_offset(name)
        if offset is None:
            raise FunctionError(f"Invalid ID for ZoneOffset, invalid format: {name}")
        return Zone(_offset_id(offset), fixed_offset_millis=offset)
    for prefix in ("UTC", "GMT", "UT"):
        if name.startswith(prefix) and name[len(prefix) : len(prefix) + 1] in ("+", "-"):
            offset = _parse_offset(name[len(prefix) :])
            if offset is None:
                raise FunctionError(f"Invalid ID for offset-based ZoneId: {name}")
            suffix = "" if offset == 0 else _offset_id(offset)
            return Zone(prefix + suffix, fixed_offset_millis=offset)
    if name in ("UTC", "GMT", "UT"):
        return Zone(name, region="UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError) as error:
        raise FunctionError(f"Unknown time-zone ID: {name}") from error
    return Zone(name, region=name)


def offsets_millis(instants: np.ndarray, zone: Zone) -> np.ndarray:
    """The zone's UTC offset, in milliseconds, at each instant (epoch milliseconds)."""
    if zone.region is None:
        return np.full(len(instants), zone.fixed_offset_millis, dtype=np.int64)
    if zone.region == "UTC":
        return np.zeros(len(instants), dtype=np.int64)
    instants = instants.astype(np.int64)
    stamps = pa.array(instants, pa.int64()).cast(pa.timestamp("ms", tz=zone.region))
    local = pc.local_timestamp(stamps).cast(pa.int64())
    offsets = np.asarray(local.to_numpy(zero_copy_only=False), dtype=np.int64) - instants
    late = instants >= _EXPLICIT_TRANSITIONS_END
    if late.any():
        offsets[late] = _rule_offsets(instants[late], zone.region)
    return offsets


_EXPLICIT_TRANSITIONS_END = 2_114_380_800_000  # 2037-01-01T00:00Z
"""Arrow's time-zone kernels read only the explicit transitions of the zone files, which end in 2037;
later instants follow the zone's recurring rule, which Python's ``zoneinfo`` (like Java) applies."""


def _rule_offsets(instants: np.ndarray, region: str) -> np.ndarray:
    """Offsets past the explicit transitions, one ``zoneinfo`` lookup per distinct minute (zones change
    offset on minute boundaries)."""
    info = zoneinfo.ZoneInfo(region)
    minutes, inverse = np.unique(np.floor_divide(instants, 60_000), return_inverse=True)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    limit = 253_402_300_799  # the last second Python's datetime holds
    found = []
    for minute in minutes.tolist():
        seconds = min(minute * 60, limit - 86_400)
        offset = (epoch + dt.timedelta(seconds=seconds)).astimezone(info).utcoffset()
        found.append(int(offset.total_seconds() * 1000) if offset is not None else 0)
    return np.array(found, dtype=np.int64)[inverse.reshape(-1)]


def local_to_instant_millis(local: np.ndarray, zone: Zone) -> np.ndarray:
    """Epoch milliseconds of local date-times (milliseconds since 1970-01-01T00:00 on the wall clock)
    in ``zone``, with ``ZonedDateTime.of``'s handling of gaps and overlaps."""
    local = local.astype(np.int64)
    if zone.region is None or zone.region == "UTC":
        return local - (zone.fixed_offset_millis if zone.region is None else 0)
    before = offsets_millis(local - _DAY_MS, zone)
    after = offsets_millis(local + _DAY_MS, zone)
    before_valid = offsets_millis(local - before, zone) == before
    after_valid = offsets_millis(local - after, zone) == after
    # overlap: both valid, the earlier offset (before the transition) wins; gap: neither, before wins
    return np.where(before_valid | ~after_valid, local - before, local - after)
