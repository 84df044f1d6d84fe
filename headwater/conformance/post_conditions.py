"""Post-conditions on the catalog and the topics after a run (FORMAT.md §9).

``post.sources``: every listed source must exist with the given type, schema (full logical-schema
equality: names, types, namespaces and order; system columns excluded), key format (window type and size
matched exactly once a ``keyFormat`` is given), value format, serde features and ``isSource``. Sources
not listed are not checked.

``post.topics.blacklist``: no topic known to the run may contain a match of the regex (a substring
search, as Java's ``Pattern.asPredicate`` does).

``post.topics.topics``: each listed topic must be known, with equal key and value formats (ksqlDB's
serialised ``KeyFormat``/``ValueFormat`` objects), partitions when given, and no schema ids or schemas,
since Headwater has no schema registry. Entries that name Kafka Streams' internal topics
(``_confluent-ksql-<service id>query_<id>-...-changelog``) are not checked: their names encode Kafka
Streams processor names that an engine without Kafka Streams cannot reproduce (:func:`is_internal_topic`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.conformance.model import KeyFormatCondition, PostConditions, SourceCondition, TopicCondition
from headwater.engine.catalog import DataSource, FormatSpec, WindowInfo
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.errors import HeadwaterError
from headwater.parser import ast

__all__ = [
    "ObservedTopic",
    "PostConditionFailure",
    "check_post_conditions",
    "is_internal_topic",
    "parse_schema",
]

_INTERNAL_PREFIX = "_confluent-ksql-"


class PostConditionFailure(AssertionError):
    """A post-condition does not hold (ksqlDB reports these as assertion failures). ``what`` names the
    kind of condition (``source schema``, ``topic blacklist``...) for grouping failures."""

    def __init__(self, what: str, message: str) -> None:
        self.what = what
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ObservedTopic:
    """A topic known after the run: its partitions and the formats of a source declared on it (None when
    no source is declared on the topic)."""

    name: str
    partitions: int | None
    key_format: FormatSpec | None = None
    value_format: FormatSpec | None = None
    window: WindowInfo | None = None


def is_internal_topic(name: str) -> bool:
    """Whether ``name`` is one of Kafka Streams' internal topics (changelog, repartition, subscription),
    named by ksqlDB as ``_confluent-ksql-<service id>query_<query id>-<processor>-<suffix>``."""
    return name.startswith(_INTERNAL_PREFIX)


def parse_schema(text: str) -> LogicalSchema:
    """Parse a column list such as ``ID BIGINT KEY, `v` STRING`` into a logical schema.

    The list is parsed by the SQL parser as the element list of a CREATE STREAM (of a CREATE TABLE for
    PRIMARY KEY columns), so names, quoting and types follow the language exactly.

    Raises:
        HeadwaterError: the text is not a valid column list.
    """
    from headwater.parser import parse_statement

    try:
        statement = parse_statement(f"CREATE STREAM POST_CONDITION_SCHEMA ({text}) WITH (KAFKA_TOPIC='x');")
    except HeadwaterError as stream_error:
        try:  # PRIMARY KEY columns only parse in a table
            statement = parse_statement(
                f"CREATE TABLE POST_CONDITION_SCHEMA ({text}) WITH (KAFKA_TOPIC='x');"
            )
        except HeadwaterError:
            raise stream_error from None
    if not isinstance(statement, ast.CreateStream | ast.CreateTable):
        raise HeadwaterError(f"not a column list: {text}")
    columns = []
    for element in statement.elements:
        if element.constraint in (ast.ColumnConstraint.KEY, ast.ColumnConstraint.PRIMARY_KEY):
            namespace = Namespace.KEY
        elif element.constraint in (ast.ColumnConstraint.HEADERS, ast.ColumnConstraint.HEADER):
            namespace = Namespace.HEADERS
        else:
            namespace = Namespace.VALUE
        columns.append(Column(element.name, element.type, namespace, element.header_key))
    return LogicalSchema(tuple(columns))


def _check_key_format(source: DataSource, expected: KeyFormatCondition) -> str | None:
    if expected.format is not None and expected.format.upper() != source.key_format.name.upper():
        return f"format is {source.key_format.name}, expected {expected.format}"
    actual_type = source.window.type.value if source.window is not None else None
    actual_size = source.window.size_ms if source.window is not None else None
    expected_type = expected.window_type.upper() if expected.window_type is not None else None
    if actual_type != expected_type:
        return f"window type is {actual_type or 'none'}, expected {expected_type or 'none'}"
    if actual_size != expected.window_size:
        return f"window size is {actual_size}, expected {expected.window_size}"
    return None


def _check_source(source: DataSource, expected: SourceCondition) -> tuple[str, str] | None:
    """(what, problem) for the first property of ``source`` that differs, or None."""
    if source.kind.value.lower() != expected.type:
        return "type", f"is a {source.kind.value.lower()}, expected a {expected.type}"
    if expected.schema is not None:
        try:
            expected_schema = parse_schema(expected.schema)
        except HeadwaterError as e:
            return "schema", f"the expected schema {expected.schema!r} does not parse: {e}"
        if source.schema != expected_schema:
            return "schema", f"schema is {source.schema}, expected {expected_schema}"
    if expected.key_format is not None:
        problem = _check_key_format(source, expected.key_format)
        if problem:
            return "key format", f"key {problem}"
    if (
        expected.value_format is not None
        and expected.value_format.upper() != source.value_format.name.upper()
    ):
        return "value format", f"value format is {source.value_format.name}, expected {expected.value_format}"
    if expected.key_features is not None and expected.key_features != source.key_format.features:
        have, want = sorted(source.key_format.features), sorted(expected.key_features)
        return "key features", f"key features are {have}, expected {want}"
    if expected.value_features is not None and expected.value_features != source.value_format.features:
        have, want = sorted(source.value_format.features), sorted(expected.value_features)
        return "value features", f"value features are {have}, expected {want}"
    if expected.is_source is not None and expected.is_source != source.is_source:
        return "isSource", f"isSource is {source.is_source}, expected {expected.is_source}"
    return None


def _format_object(spec: FormatSpec | None, window: WindowInfo | None) -> dict[str, Any]:
    """ksqlDB's serialised KeyFormat/ValueFormat for comparison."""
    if spec is None:
        return {}
    obj: dict[str, Any] = {
        "format": spec.name.upper(),
        "features": sorted(spec.features),
        "properties": dict(spec.properties),
    }
    if window is not None:
        obj["windowInfo"] = {"type": window.type.value, "size": window.size_ms}
    return obj


def _normalise_format(expected: Mapping[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "format": str(expected.get("format", "")).upper(),
        "features": sorted(expected.get("features") or []),
        "properties": {str(k): str(v) for k, v in (expected.get("properties") or {}).items()},
    }
    window = expected.get("windowInfo")
    if window is not None:
        size = window.get("size")
        obj["windowInfo"] = {
            "type": str(window.get("type", "")).upper(),
            "size": None if size is None else int(size),
        }
    return obj


def _check_topic(actual: ObservedTopic, expected: TopicCondition) -> tuple[str, str] | None:
    """(what, problem) for the first property of the topic that differs, or None."""
    if expected.key_format is not None:
        want = _normalise_format(expected.key_format)
        have = _format_object(actual.key_format, actual.window)
        if want != have:
            return "key format", f"key format is {have or 'unknown'}, expected {want}"
    if expected.value_format is not None:
        want = _normalise_format(expected.value_format)
        have = _format_object(actual.value_format, None)
        if want != have:
            return "value format", f"value format is {have or 'unknown'}, expected {want}"
    if expected.partitions is not None and expected.partitions != actual.partitions:
        return "partitions", f"has {actual.partitions} partitions, expected {expected.partitions}"
    if expected.key_schema_id is not None or expected.value_schema_id is not None:
        return "schema ids", "expects schema ids, and Headwater has no schema registry"
    if expected.has_key_schema or expected.has_value_schema:
        return "schemas", "expects registered schemas, and Headwater has no schema registry"
    return None


def check_post_conditions(
    post: PostConditions, sources: Sequence[DataSource], topics: Mapping[str, ObservedTopic]
) -> None:
    """Check ``post`` against the catalog's sources and the topics known after the run.

    Args:
        post: the case's post-conditions.
        sources: every source in the catalog.
        topics: every topic known to the run, by name.

    Raises:
        PostConditionFailure: the first condition that does not hold, saying which and why.
    """
    by_name = {s.name: s for s in sources}
    for expected in post.sources:
        source = by_name.get(expected.name)
        if source is None:
            raise PostConditionFailure(
                "source missing",
                f"source {expected.name} does not exist (sources: {', '.join(sorted(by_name)) or 'none'})",
            )
        problem = _check_source(source, expected)
        if problem:
            raise PostConditionFailure(
                f"source {problem[0]} differs", f"source {expected.name}: {problem[1]}"
            )
    if post.blacklist is not None:
        pattern = re.compile(post.blacklist)
        for name in sorted(topics):
            if pattern.search(name):
                raise PostConditionFailure(
                    "topic matches the blacklist", f"topic {name} matches the blacklist {post.blacklist!r}"
                )
    for expected_topic in post.topics:
        if is_internal_topic(expected_topic.name):
            continue
        actual = topics.get(expected_topic.name)
        if actual is None:
            raise PostConditionFailure("topic missing", f"topic {expected_topic.name} does not exist")
        problem = _check_topic(actual, expected_topic)
        if problem:
            raise PostConditionFailure(
                f"topic {problem[0]} differs", f"topic {expected_topic.name}: {problem[1]}"
            )
