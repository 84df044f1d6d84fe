"""Every file and directory name of the event log, and the rule that keeps user text inside it.

Layout of a log directory (see docs/storage-format.md for the bytes of each file)::

    <log>/topics/<topic>/topic.json                  config, kind and metadata (JSON)
    <log>/topics/<topic>/schema.arrow                typed topics: the current schema (an IPC schema message)
    <log>/topics/<topic>/<partition>/writer.lock     flock-ed by the one writer; holds who that is
    <log>/topics/<topic>/<partition>/<base>.arrow    a segment: Arrow IPC, named by its base offset
    <log>/topics/<topic>/<partition>/<base>.index    its sparse offset index
    <log>/topics/<topic>/<partition>/<base>.timeindex its time index
    <log>/offsets/<group>.json                       committed consumer offsets of one group
    <log>/tmp/                                       topic directories being built or deleted

``<base>`` is the base offset in 20 decimal digits, zero padded (Kafka's naming), so names sort in
offset order. ``<partition>`` is the partition number in decimal. Files being written before an atomic
rename end in ``.tmp``; recovery removes any it finds.

Topic names follow Kafka's rule, which is also what makes them safe as one path component: only
``[a-zA-Z0-9._-]``, 1 to 249 characters, and neither ``.`` nor ``..``. Consumer group names may be any
text, so they are percent-encoded into a file name. Every path built here is checked to lie inside the
log directory, so nothing a user types reaches outside it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from headwater.storage.errors import InvalidGroupNameError, InvalidTopicNameError

__all__ = [
    "INDEX_SUFFIX",
    "LOCK_FILE",
    "MAX_TOPIC_NAME_LENGTH",
    "OFFSETS_DIR",
    "SCHEMA_FILE",
    "SEGMENT_SUFFIX",
    "TEMP_SUFFIX",
    "TIME_INDEX_SUFFIX",
    "TMP_DIR",
    "TOPICS_DIR",
    "TOPIC_CONFIG_FILE",
    "group_file_name",
    "index_path",
    "inside",
    "parse_segment_base",
    "partition_dir",
    "segment_path",
    "temp_path",
    "time_index_path",
    "topic_dir",
    "validate_topic_name",
]

TOPICS_DIR = "topics"
OFFSETS_DIR = "offsets"
TMP_DIR = "tmp"
TOPIC_CONFIG_FILE = "topic.json"
SCHEMA_FILE = "schema.arrow"
LOCK_FILE = "writer.lock"
SEGMENT_SUFFIX = ".arrow"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
TEMP_SUFFIX = ".tmp"
MAX_TOPIC_NAME_LENGTH = 249
_BASE_DIGITS = 20
_LEGAL_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_SEGMENT_NAME = re.compile(r"(\d{20})\.arrow")
_GROUP_SAFE = re.compile(r"[a-zA-Z0-9_-]")
_MAX_GROUP_FILE_STEM = 200


def validate_topic_name(name: object) -> str:
    """Return ``name`` if it is a legal topic name, else raise :class:`InvalidTopicNameError`.

    Example:
        >>> validate_topic_name("orders.v2")
        'orders.v2'
    """
    if not isinstance(name, str):
        raise InvalidTopicNameError(f"Topic name must be a string, got {type(name).__name__}")
    if not name:
        raise InvalidTopicNameError("Topic name is empty")
    if name in (".", ".."):
        raise InvalidTopicNameError(f"Topic name cannot be {name!r}")
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise InvalidTopicNameError(
            f"Topic name is {len(name)} characters long; the limit is {MAX_TOPIC_NAME_LENGTH}"
        )
    if not _LEGAL_TOPIC_NAME.fullmatch(name):
        bad = next(ch for ch in name if not _LEGAL_TOPIC_NAME.fullmatch(ch))
        raise InvalidTopicNameError(
            f"Topic name {name!r} contains {bad!r}; only ASCII letters, digits, '.', '_' and '-' are allowed"
        )
    return name


def inside(root: Path, path: Path) -> Path:
    """Return ``path`` after checking that it resolves to a location inside ``root``.

    Names are validated before they get here; this is the second, independent fence.
    """
    resolved_root = root.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise InvalidTopicNameError(f"Path {path} lies outside the log directory {root}")
    return path


def topic_dir(log_dir: Path, topic: str) -> Path:
    """The directory of ``topic`` (validated) under ``log_dir``."""
    return inside(log_dir, log_dir / TOPICS_DIR / validate_topic_name(topic))


def partition_dir(topic_directory: Path, partition: int) -> Path:
    """The directory of one partition of a topic."""
    return topic_directory / str(int(partition))


def segment_path(partition_directory: Path, base_offset: int) -> Path:
    """``<base>.arrow``: the segment whose first offset is ``base_offset``."""
    return partition_directory / f"{base_offset:0{_BASE_DIGITS}d}{SEGMENT_SUFFIX}"


def index_path(partition_directory: Path, base_offset: int) -> Path:
    """``<base>.index``: the sparse offset index of a segment."""
    return partition_directory / f"{base_offset:0{_BASE_DIGITS}d}{INDEX_SUFFIX}"


def time_index_path(partition_directory: Path, base_offset: int) -> Path:
    """``<base>.timeindex``: the time index of a segment."""
    return partition_directory / f"{base_offset:0{_BASE_DIGITS}d}{TIME_INDEX_SUFFIX}"


def temp_path(path: Path) -> Path:
    """The name a file is written under before it is renamed into place."""
    return path.with_name(path.name + TEMP_SUFFIX)


def parse_segment_base(file_name: str) -> int | None:
    """The base offset a segment file name encodes, or None if it is not a segment file name."""
    match = _SEGMENT_NAME.fullmatch(file_name)
    return int(match.group(1)) if match else None


def group_file_name(group: object) -> str:
    """A file name (without directory) for consumer group ``group``: percent-encoded, or hashed if long.

    Percent-encoding keeps names readable and injective; a name whose encoding is too long for a file
    system becomes a SHA-256 digest (the file also stores the group's real name).
    """
    if not isinstance(group, str) or not group:
        raise InvalidGroupNameError(f"Consumer group name must be a non-empty string, got {group!r}")
    stem = "".join(ch if _GROUP_SAFE.fullmatch(ch) else "".join(f"%{b:02X}" for b in ch.encode()) for ch in group)
    if len(stem) > _MAX_GROUP_FILE_STEM:
        stem = "sha256-" + hashlib.sha256(group.encode()).hexdigest()
    return f"{stem}.json"
