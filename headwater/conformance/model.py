"""The model of ksqlDB's query-validation test files (QTT), after loading and expansion.

These mirror ksqlDB's test model classes (``TestCaseNode``, ``RecordNode``, ``WindowData``, ``TopicNode``,
``ExpectedExceptionNode``, ``PostConditionsNode``, ``SourceNode``, ``KeyFormatNode``), reduced to what a run
needs. Record keys and values stay *value specs*: the JSON as written, with objects as dicts, arrays as
lists, integers as ``int``, other numbers as exact :class:`~decimal.Decimal` and strings as ``str``; the
serialisers (:mod:`headwater.conformance.serde`) and the comparator (:mod:`headwater.conformance.comparator`)
interpret them.

A :class:`TestCase` is one *expanded* case: a test object with its ``format`` and ``config`` matrices
applied, named as ksqlDB names it ("<file stem> - <name>[ - <format>][ - <key>=<config>]").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "CaseCore",
    "ExpectedException",
    "HeaderSpec",
    "KeyFormatCondition",
    "PostConditions",
    "RecordSpec",
    "SourceCondition",
    "TestCase",
    "TopicCondition",
    "TopicSpec",
    "WindowSpec",
    "WindowType",
]


class WindowType(Enum):
    """ksqlDB's ``WindowData.Type``: tumbling and hopping windows are both ``TIME``."""

    TIME = "TIME"
    SESSION = "SESSION"


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """The window of a windowed key: start and end in ms (``end`` is always compared)."""

    start: int
    end: int
    type: WindowType


@dataclass(frozen=True, slots=True)
class HeaderSpec:
    """One Kafka record header; ``value`` None is a null header value (not an empty one)."""

    key: str
    value: bytes | None


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """An input record to produce, or an output record to expect.

    Attributes:
        topic: the Kafka topic name (case-sensitive).
        key: the key as a value spec (None: a null key).
        value: the value as a value spec (None: a tombstone).
        timestamp: ms; None means 0 for inputs and "not checked" for outputs.
        window: set when the key is windowed.
        headers: the headers in order; None when not written (outputs then expect no headers).
    """

    topic: str
    key: Any
    value: Any
    timestamp: int | None = None
    window: WindowSpec | None = None
    headers: tuple[HeaderSpec, ...] | None = None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """An entry of a case's ``topics`` list: partitions, and schema-registry data (not supported here)."""

    name: str
    partitions: int = 1
    replicas: int = 1
    key_format: str | None = None
    value_format: str | None = None
    has_key_schema: bool = False
    has_value_schema: bool = False
    key_schema_id: int | None = None
    value_schema_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExpectedException:
    """What a negative case expects: a Java class name (matched with ``instanceof``), a substring of the
    message, and optionally the direct cause's class and a substring of its message."""

    type: str | None = None
    message: str | None = None
    cause: str | None = None
    cause_message: str | None = None

    def describe(self) -> str:
        """A one-line description, for failure messages."""
        parts = []
        if self.type:
            parts.append(self.type)
        if self.message is not None:
            parts.append(f"message containing {self.message!r}")
        if self.cause:
            parts.append(f"caused by {self.cause}")
        if self.cause_message is not None:
            parts.append(f"with cause message containing {self.cause_message!r}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class KeyFormatCondition:
    """``post.sources[].keyFormat``: when present, window type and size must match exactly (absent means
    not windowed, no size); ``format`` is checked only when given."""

    format: str | None = None
    window_type: str | None = None
    window_size: int | None = None


@dataclass(frozen=True, slots=True)
class SourceCondition:
    """One entry of ``post.sources``: a source that must exist after the run, with these properties."""

    name: str
    type: str
    schema: str | None = None
    key_format: KeyFormatCondition | None = None
    value_format: str | None = None
    key_features: frozenset[str] | None = None
    value_features: frozenset[str] | None = None
    is_source: bool | None = None


@dataclass(frozen=True, slots=True)
class TopicCondition:
    """One entry of ``post.topics.topics``: a topic that must be known after the run.

    ``key_format`` and ``value_format`` are ksqlDB's serialised ``KeyFormat``/``ValueFormat`` objects
    (``{"format": ..., "features": [...], "properties": {...}, "windowInfo": {...}}``), kept as written.
    """

    name: str
    key_format: Mapping[str, Any] | None = None
    value_format: Mapping[str, Any] | None = None
    partitions: int | None = None
    key_schema_id: int | None = None
    value_schema_id: int | None = None
    has_key_schema: bool = False
    has_value_schema: bool = False


@dataclass(frozen=True, slots=True)
class PostConditions:
    """``post``: sources that must exist, a regex no known topic name may contain, topics that must exist."""

    sources: tuple[SourceCondition, ...] = ()
    blacklist: str | None = None
    topics: tuple[TopicCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseCore:
    """What every expanded case has, QTT (:class:`TestCase`) or RQTT (``rest_model.RestTestCase``).

    Attributes:
        file: the test file's name (``project-filter.json``).
        test: the test object's ``name`` as written.
        name: the expanded name ksqlDB gives the case.
        statements: the statements with ``{FORMAT}`` substituted, one per string.
        inputs: records to produce, in file order.
        outputs: records to expect.
        topics: the ``topics`` entries.
        properties: config overrides (QTT, with the config matrix value applied) or request properties
            (RQTT).
        format: the format of this expansion, if the test has a format matrix.
    """

    file: str
    test: str
    name: str
    statements: tuple[str, ...]
    inputs: tuple[RecordSpec, ...] = ()
    outputs: tuple[RecordSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)
    format: str | None = None


@dataclass(frozen=True, slots=True)
class TestCase(CaseCore):
    """One expanded, runnable QTT case: the core fields (:class:`CaseCore`) and QTT's own.

    Attributes:
        expected_exception: set for negative cases.
        post: post-conditions, if any.
        enabled: False for tests ksqlDB drops at load time (``"enabled": false``).
    """

    __test__ = False  # not a pytest test class despite the name

    expected_exception: ExpectedException | None = None
    post: PostConditions | None = None
    enabled: bool = True
