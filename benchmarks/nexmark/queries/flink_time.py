"""Flink SQL for a window bound as epoch milliseconds, the BIGINT Headwater's WINDOWSTART is."""

from __future__ import annotations

__all__ = ["epoch_ms"]


def epoch_ms(column: str) -> str:
    """``column`` (a TIMESTAMP(3) window bound) as BIGINT milliseconds since the epoch.

    Flink has no direct cast from TIMESTAMP to a number; the bounds of the benchmark's windows are whole
    seconds, so seconds since 1970-01-01 (``TIMESTAMPDIFF``, an INT until 2038) times 1000 is exact.
    """
    return f"CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', {column}) AS BIGINT) * 1000"
