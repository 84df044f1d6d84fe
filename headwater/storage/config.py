"""Topic configuration: Kafka's topic properties as a frozen value, persisted with the topic.

Property names and meanings follow Kafka's topic configs. Defaults differ in two places, on purpose:
``retention.ms`` defaults to -1 (keep forever) rather than 7 days, because a local log used for
historical queries and tests with old event times must not lose data nobody asked to expire; and
``segment.bytes`` defaults to 128 MiB rather than 1 GiB so sealed segments (the unit DuckDB prunes)
arrive sooner.

=========================  =====================  ==========================================================
property                   default                meaning
=========================  =====================  ==========================================================
``partitions``             1                      number of partitions (can only grow)
``retention.ms``           -1                     delete a closed segment whose max timestamp is older
``retention.bytes``        -1                     delete oldest closed segments while the partition is larger
``cleanup.policy``         delete                 ``delete``, ``compact`` or ``compact,delete``
``segment.bytes``          134217728              roll the active segment before it would pass this size
``segment.ms``             604800000              roll when a segment's records span this much event time
``delete.retention.ms``    86400000               compaction keeps a tombstone at least this long
``index.interval.bytes``   4096                   bytes of batches between two offset index entries
``flush.policy``           os                     ``always`` (fsync every append), ``interval``, ``os``
``flush.ms``               1000                   with ``interval``: fsync when this long since the last
=========================  =====================  ==========================================================

``-1`` means "no limit" for the retention settings, as in Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from headwater.storage.errors import InvalidConfigError

__all__ = ["CLEANUP_POLICIES", "FLUSH_POLICIES", "TopicConfig"]

CLEANUP_POLICIES = frozenset({"delete", "compact", "compact,delete"})
FLUSH_POLICIES = frozenset({"always", "interval", "os"})

_PROPERTY_NAMES = {
    "partitions": "partitions",
    "retention_ms": "retention.ms",
    "retention_bytes": "retention.bytes",
    "cleanup_policy": "cleanup.policy",
    "segment_bytes": "segment.bytes",
    "segment_ms": "segment.ms",
    "delete_retention_ms": "delete.retention.ms",
    "index_interval_bytes": "index.interval.bytes",
    "flush_policy": "flush.policy",
    "flush_ms": "flush.ms",
}
_FIELD_NAMES = {prop: name for name, prop in _PROPERTY_NAMES.items()}


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """A topic's configuration; see the module docstring for each setting.

    Example:
        >>> TopicConfig.from_properties({"partitions": "4", "cleanup.policy": "compact"}).partitions
        4
    """

    partitions: int = 1
    retention_ms: int = -1
    retention_bytes: int = -1
    cleanup_policy: str = "delete"
    segment_bytes: int = 128 * 1024 * 1024
    segment_ms: int = 7 * 24 * 3600 * 1000
    delete_retention_ms: int = 24 * 3600 * 1000
    index_interval_bytes: int = 4096
    flush_policy: str = "os"
    flush_ms: int = 1000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidConfigError(f"{_PROPERTY_NAMES[f.name]} must be an integer, got {value!r}")
        if self.partitions < 1:
            raise InvalidConfigError(f"partitions must be at least 1, got {self.partitions}")
        for name in ("retention_ms", "retention_bytes"):
            if getattr(self, name) < -1:
                raise InvalidConfigError(f"{_PROPERTY_NAMES[name]} must be -1 (no limit) or >= 0")
        if self.cleanup_policy not in CLEANUP_POLICIES:
            raise InvalidConfigError(
                f"cleanup.policy must be one of {', '.join(sorted(CLEANUP_POLICIES))}, got {self.cleanup_policy!r}"
            )
        if self.flush_policy not in FLUSH_POLICIES:
            raise InvalidConfigError(
                f"flush.policy must be one of {', '.join(sorted(FLUSH_POLICIES))}, got {self.flush_policy!r}"
            )
        for name, low in (("segment_bytes", 1024), ("segment_ms", 1), ("index_interval_bytes", 0),
                          ("delete_retention_ms", 0), ("flush_ms", 0)):
            if getattr(self, name) < low:
                raise InvalidConfigError(f"{_PROPERTY_NAMES[name]} must be at least {low}, got {getattr(self, name)}")

    @property
    def compacted(self) -> bool:
        """True when compaction applies."""
        return "compact" in self.cleanup_policy

    @property
    def deletes(self) -> bool:
        """True when time and size retention apply."""
        return "delete" in self.cleanup_policy

    def to_properties(self) -> dict[str, str]:
        """Kafka-style ``name -> string value`` properties (what is persisted in topic.json)."""
        return {_PROPERTY_NAMES[k]: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any], base: TopicConfig | None = None) -> TopicConfig:
        """Parse Kafka-style properties (string or int values) over ``base`` (defaults if None)."""
        changes: dict[str, Any] = {}
        for prop, raw in properties.items():
            name = _FIELD_NAMES.get(prop) or (prop if prop in _PROPERTY_NAMES else None)
            if name is None:
                raise InvalidConfigError(f"Unknown topic property {prop!r}; known: {', '.join(_FIELD_NAMES)}")
            if name in ("cleanup_policy", "flush_policy"):
                changes[name] = str(raw).strip().lower().replace(" ", "")
                if changes[name] == "delete,compact":
                    changes[name] = "compact,delete"
                continue
            try:
                changes[name] = int(str(raw).strip())
            except ValueError:
                raise InvalidConfigError(f"{_PROPERTY_NAMES[name]} must be an integer, got {raw!r}") from None
        return replace(base or cls(), **changes)
