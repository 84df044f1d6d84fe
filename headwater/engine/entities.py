"""What a statement returns: entities mirroring ksqlDB's REST API entities, and the shapes of query results.

Every statement run by :meth:`headwater.engine.Engine.execute` yields one :class:`Entity`. The REPL renders
entities as tables, the server sends ``to_json()`` as ksqlDB's ``/ksql`` endpoint would, and the
conformance runner reads their attributes, so all three share one shape. ``to_json()`` gives ksqlDB's
exact JSON: the ``@type`` discriminator, ``statementText``, the entity's own fields in ksqlDB's spelling,
and ``warnings``.

A few statements answer with nothing in ksqlDB's REST API (``INSERT ... VALUES``, ``SET``, ``UNSET``,
``DEFINE``, ``UNDEFINE``): they return a :class:`StatementApplied` whose ``rest_visible`` is False, so the
engine keeps its "one entity per statement" promise while the server can drop them exactly where ksqlDB
sends nothing.

Query results (``Engine.stream``) are a :class:`QueryHeader`, rows (lists of JSON-ready values) and an
optional final message, in ksqlDB's ``/query`` shapes.

Example:
    >>> status = CommandStatusEntity(
    ...     statement_text="CREATE STREAM S (ID INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
    ...     command_id="stream/`S`/create",
    ...     command_status=CommandStatus("SUCCESS", "Stream created"),
    ...     command_sequence_number=2)
    >>> status.to_json()["commandStatus"]
    {'status': 'SUCCESS', 'message': 'Stream created', 'queryId': None}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from headwater.parser import types as t

__all__ = [
    "ArgumentInfo",
    "AssertSchemaEntity",
    "AssertTopicEntity",
    "CommandStatus",
    "CommandStatusEntity",
    "Entity",
    "FieldInfo",
    "FinalMessage",
    "FunctionDescriptionList",
    "FunctionInfo",
    "FunctionNameList",
    "KafkaTopicInfo",
    "KafkaTopicInfoExtended",
    "KafkaTopicsList",
    "KafkaTopicsListExtended",
    "PropertiesList",
    "PropertyEntry",
    "Queries",
    "QueryDescription",
    "QueryDescriptionEntity",
    "QueryDescriptionList",
    "QueryHeader",
    "QueryRow",
    "RunningQuery",
    "SchemaInfo",
    "SimpleFunctionInfo",
    "SourceDescription",
    "SourceDescriptionEntity",
    "SourceDescriptionList",
    "SourceInfo",
    "StatementApplied",
    "StreamsList",
    "TablesList",
    "TypeList",
    "VariableEntry",
    "VariablesList",
    "WarningEntity",
    "schema_info",
]

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------------------
# Building blocks


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """A column type as ksqlDB's REST API describes it: the base type name, the fields of a STRUCT, the
    member type of an ARRAY or MAP (a MAP's key is always STRING there), and DECIMAL's parameters."""

    type: str
    fields: tuple[FieldInfo, ...] | None = None
    member_schema: SchemaInfo | None = None
    parameters: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> Json:
        out: Json = {
            "type": self.type,
            "fields": None if self.fields is None else [f.to_json() for f in self.fields],
            "memberSchema": None if self.member_schema is None else self.member_schema.to_json(),
        }
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


_BASE_TYPE_NAMES = {
    t.PrimitiveKind.BOOLEAN: "BOOLEAN",
    t.PrimitiveKind.INTEGER: "INTEGER",
    t.PrimitiveKind.BIGINT: "BIGINT",
    t.PrimitiveKind.DOUBLE: "DOUBLE",
    t.PrimitiveKind.STRING: "STRING",
    t.PrimitiveKind.BYTES: "BYTES",
    t.PrimitiveKind.DATE: "DATE",
    t.PrimitiveKind.TIME: "TIME",
    t.PrimitiveKind.TIMESTAMP: "TIMESTAMP",
}


def schema_info(sql_type: t.SqlType) -> SchemaInfo:
    """The :class:`SchemaInfo` of a SQL type, as ksqlDB's ``EntityUtil`` builds it.

    Example:
        >>> schema_info(t.Array(t.INT)).to_json()
        {'type': 'ARRAY', 'fields': None, 'memberSchema': {'type': 'INTEGER', 'fields': None, 'memberSchema': None}}
    """
    if isinstance(sql_type, t.Primitive):
        return SchemaInfo(_BASE_TYPE_NAMES[sql_type.kind])
    if isinstance(sql_type, t.Decimal):
        return SchemaInfo(
            "DECIMAL", parameters=(("precision", sql_type.precision), ("scale", sql_type.scale))
        )
    if isinstance(sql_type, t.Array):
        return SchemaInfo("ARRAY", member_schema=schema_info(sql_type.element))
    if isinstance(sql_type, t.Map):
        return SchemaInfo("MAP", member_schema=schema_info(sql_type.value))
    if isinstance(sql_type, t.Struct):
        return SchemaInfo("STRUCT", fields=tuple(FieldInfo(n, schema_info(ft)) for n, ft in sql_type.fields))
    raise TypeError(f"type {sql_type} must be resolved before it can be described")


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A column in DESCRIBE and EXPLAIN output; ``field_type`` is "KEY", "HEADER" or None (a value
    column); ``header_key`` is the key of a ``HEADER('k')`` column."""

    name: str
    schema: SchemaInfo
    field_type: str | None = None
    header_key: str | None = None

    def to_json(self) -> Json:
        out: Json = {"name": self.name, "schema": self.schema.to_json()}
        if self.field_type is not None:
            out["type"] = self.field_type
        if self.header_key is not None:
            out["headerKey"] = self.header_key
        return out


@dataclass(frozen=True, slots=True)
class CommandStatus:
    """The outcome of a catalog-changing statement: status (SUCCESS, ERROR...), a message, and the id of
    the query it started, if any."""

    status: str
    message: str
    query_id: str | None = None

    def to_json(self) -> Json:
        return {"status": self.status, "message": self.message, "queryId": self.query_id}


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One row of SHOW STREAMS / SHOW TABLES."""

    type: str
    name: str
    topic: str
    key_format: str
    value_format: str
    is_windowed: bool

    def to_json(self) -> Json:
        return {
            "type": self.type,
            "name": self.name,
            "topic": self.topic,
            "keyFormat": self.key_format,
            "valueFormat": self.value_format,
            "isWindowed": self.is_windowed,
        }


@dataclass(frozen=True, slots=True)
class KafkaTopicInfo:
    """One row of SHOW TOPICS: the name and one replica count per partition."""

    name: str
    replica_info: tuple[int, ...]

    def to_json(self) -> Json:
        return {"name": self.name, "replicaInfo": list(self.replica_info)}


@dataclass(frozen=True, slots=True)
class KafkaTopicInfoExtended:
    """One row of SHOW TOPICS EXTENDED: adds the consumers and consumer groups reading the topic."""

    name: str
    replica_info: tuple[int, ...]
    consumer_count: int
    consumer_group_count: int

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "replicaInfo": list(self.replica_info),
            "consumerCount": self.consumer_count,
            "consumerGroupCount": self.consumer_group_count,
        }


@dataclass(frozen=True, slots=True)
class RunningQuery:
    """One persistent query, as SHOW QUERIES and DESCRIBE list it."""

    query_string: str
    sinks: tuple[str, ...]
    sink_kafka_topics: tuple[str, ...]
    id: str
    state: str = "RUNNING"
    query_type: str = "PERSISTENT"

    def to_json(self) -> Json:
        return {
            "queryString": self.query_string,
            "sinks": list(self.sinks),
            "sinkKafkaTopics": list(self.sink_kafka_topics),
            "id": self.id,
            "statusCount": {self.state: 1},
            "queryType": self.query_type,
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """DESCRIBE's payload (ksqlDB's ``SourceDescription``)."""

    name: str
    type: str
    fields: tuple[FieldInfo, ...]
    topic: str
    key_format: str
    value_format: str
    partitions: int
    statement: str
    window_type: str | None = None
    read_queries: tuple[RunningQuery, ...] = ()
    write_queries: tuple[RunningQuery, ...] = ()
    timestamp: str = ""
    statistics: str = ""
    error_stats: str = ""
    extended: bool = False
    replication: int = 1
    source_constraints: tuple[str, ...] = ()
    statistics_map: tuple[tuple[str, float, int], ...] = ()
    error_stats_map: tuple[tuple[str, float, int], ...] = ()

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "windowType": self.window_type,
            "readQueries": [q.to_json() for q in self.read_queries],
            "writeQueries": [q.to_json() for q in self.write_queries],
            "fields": [f.to_json() for f in self.fields],
            "type": self.type,
            "timestamp": self.timestamp,
            "statistics": self.statistics,
            "errorStats": self.error_stats,
            "statisticsMap": _stats(self.statistics_map),
            "errorStatsMap": _stats(self.error_stats_map),
            "extended": self.extended,
            "keyFormat": self.key_format,
            "valueFormat": self.value_format,
            "topic": self.topic,
            "partitions": self.partitions,
            "replication": self.replication,
            "statement": self.statement,
            "queryOffsetSummaries": [],
            "sourceConstraints": list(self.source_constraints),
        }


def _stats(stats: tuple[tuple[str, float, int], ...]) -> Json:
    """ksqlDB's ``Stat`` map: name -> {name, value, timestamp}."""
    return {name: {"name": name, "value": value, "timestamp": ts} for name, value, ts in stats}


@dataclass(frozen=True, slots=True)
class QueryDescription:
    """EXPLAIN's payload (ksqlDB's ``QueryDescription``): the query, its output columns, sources and
    sinks, and the plan as text in ``execution_plan`` (``topology`` holds the operator graph)."""

    id: str
    statement_text: str
    fields: tuple[FieldInfo, ...]
    sources: tuple[str, ...]
    sinks: tuple[str, ...]
    topology: str
    execution_plan: str
    window_type: str | None = None
    overridden_properties: tuple[tuple[str, Any], ...] = ()
    state: str | None = "RUNNING"
    query_type: str = "PERSISTENT"
    host: str = "localhost:8088"

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "statementText": self.statement_text,
            "windowType": self.window_type,
            "fields": [f.to_json() for f in self.fields],
            "sources": list(self.sources),
            "sinks": list(self.sinks),
            "topology": self.topology,
            "executionPlan": self.execution_plan,
            "overriddenProperties": dict(self.overridden_properties),
            "ksqlHostQueryStatus": {} if self.state is None else {self.host: self.state},
            "queryType": self.query_type,
            "queryErrors": [],
            "tasksMetadata": [],
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class SimpleFunctionInfo:
    """One row of SHOW FUNCTIONS."""

    name: str
    type: str
    category: str

    def to_json(self) -> Json:
        return {"name": self.name, "type": self.type, "category": self.category}


@dataclass(frozen=True, slots=True)
class ArgumentInfo:
    """One parameter of one overload in DESCRIBE FUNCTION."""

    name: str
    type: str
    description: str = ""
    is_variadic: bool = False

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "isVariadic": self.is_variadic,
        }


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """One overload in DESCRIBE FUNCTION."""

    arguments: tuple[ArgumentInfo, ...]
    return_type: str
    description: str = ""

    def to_json(self) -> Json:
        return {
            "arguments": [a.to_json() for a in self.arguments],
            "returnType": self.return_type,
            "description": self.description,
            "argumentTypes": [a.type for a in self.arguments],
        }


@dataclass(frozen=True, slots=True)
class PropertyEntry:
    """One row of SHOW PROPERTIES: name, scope (KSQL, STREAMS, ...) and the value as text."""

    name: str
    scope: str
    value: str | None

    def to_json(self) -> Json:
        return {"name": self.name, "scope": self.scope, "value": self.value}


@dataclass(frozen=True, slots=True)
class VariableEntry:
    """One row of SHOW VARIABLES."""

    name: str
    value: str

    def to_json(self) -> Json:
        return {"name": self.name, "value": self.value}


# --------------------------------------------------------------------------------------------------------
# Entities


@dataclass(frozen=True, slots=True)
class Entity:
    """Base of every statement result: the statement's text and warnings; subclasses add their fields.

    Attributes:
        statement_text: the statement as the user wrote it.
        warnings: messages that did not stop the statement.
        rest_visible: False for statements ksqlDB's REST API answers with nothing.
    """

    TYPE: ClassVar[str] = ""
    statement_text: str
    warnings: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def rest_visible(self) -> bool:
        return True

    def _fields(self) -> Json:
        return {}

    def to_json(self) -> Json:
        """ksqlDB's JSON for this entity."""
        out: Json = {"@type": self.TYPE, "statementText": self.statement_text}
        out.update(self._fields())
        out["warnings"] = [{"message": w} for w in self.warnings]
        return out


@dataclass(frozen=True, slots=True)
class CommandStatusEntity(Entity):
    """``currentStatus``: what CREATE, DROP, TERMINATE, ALTER and CREATE TYPE return."""

    TYPE: ClassVar[str] = "currentStatus"
    command_id: str = ""
    command_status: CommandStatus = CommandStatus("SUCCESS", "")
    command_sequence_number: int = -1

    @property
    def query_id(self) -> str | None:
        return self.command_status.query_id

    def _fields(self) -> Json:
        return {
            "commandId": self.command_id,
            "commandStatus": self.command_status.to_json(),
            "commandSequenceNumber": self.command_sequence_number,
        }


@dataclass(frozen=True, slots=True)
class StreamsList(Entity):
    TYPE: ClassVar[str] = "streams"
    streams: tuple[SourceInfo, ...] = ()

    def _fields(self) -> Json:
        return {"streams": [s.to_json() for s in self.streams]}


@dataclass(frozen=True, slots=True)
class TablesList(Entity):
    TYPE: ClassVar[str] = "tables"
    tables: tuple[SourceInfo, ...] = ()

    def _fields(self) -> Json:
        return {"tables": [s.to_json() for s in self.tables]}


@dataclass(frozen=True, slots=True)
class KafkaTopicsList(Entity):
    TYPE: ClassVar[str] = "kafka_topics"
    topics: tuple[KafkaTopicInfo, ...] = ()

    def _fields(self) -> Json:
        return {"topics": [x.to_json() for x in self.topics]}


@dataclass(frozen=True, slots=True)
class KafkaTopicsListExtended(Entity):
    TYPE: ClassVar[str] = "kafka_topics_extended"
    topics: tuple[KafkaTopicInfoExtended, ...] = ()

    def _fields(self) -> Json:
        return {"topics": [x.to_json() for x in self.topics]}


@dataclass(frozen=True, slots=True)
class Queries(Entity):
    TYPE: ClassVar[str] = "queries"
    queries: tuple[RunningQuery, ...] = ()

    def _fields(self) -> Json:
        return {"queries": [q.to_json() for q in self.queries]}


@dataclass(frozen=True, slots=True)
class SourceDescriptionEntity(Entity):
    TYPE: ClassVar[str] = "sourceDescription"
    source_description: SourceDescription | None = None

    def _fields(self) -> Json:
        assert self.source_description is not None
        return {"sourceDescription": self.source_description.to_json()}


@dataclass(frozen=True, slots=True)
class SourceDescriptionList(Entity):
    """DESCRIBE STREAMS / DESCRIBE TABLES [EXTENDED]."""

    TYPE: ClassVar[str] = "source_descriptions"
    source_descriptions: tuple[SourceDescription, ...] = ()

    def _fields(self) -> Json:
        return {"sourceDescriptions": [d.to_json() for d in self.source_descriptions]}


@dataclass(frozen=True, slots=True)
class QueryDescriptionEntity(Entity):
    """EXPLAIN."""

    TYPE: ClassVar[str] = "queryDescription"
    query_description: QueryDescription | None = None

    def _fields(self) -> Json:
        assert self.query_description is not None
        return {"queryDescription": self.query_description.to_json()}


@dataclass(frozen=True, slots=True)
class QueryDescriptionList(Entity):
    """SHOW QUERIES EXTENDED."""

    TYPE: ClassVar[str] = "query_descriptions"
    query_descriptions: tuple[QueryDescription, ...] = ()

    def _fields(self) -> Json:
        return {"queryDescriptions": [d.to_json() for d in self.query_descriptions]}


@dataclass(frozen=True, slots=True)
class FunctionNameList(Entity):
    """SHOW FUNCTIONS."""

    TYPE: ClassVar[str] = "function_names"
    functions: tuple[SimpleFunctionInfo, ...] = ()

    def _fields(self) -> Json:
        return {"functions": [f.to_json() for f in self.functions]}


@dataclass(frozen=True, slots=True)
class FunctionDescriptionList(Entity):
    """DESCRIBE FUNCTION."""

    TYPE: ClassVar[str] = "describe_function"
    name: str = ""
    description: str = ""
    functions: tuple[FunctionInfo, ...] = ()
    type: str = "SCALAR"
    author: str = "Confluent"
    version: str = ""
    path: str = "internal"

    def _fields(self) -> Json:
        return {
            "name": self.name,
            "description": self.description,
            "author": self.author,
            "version": self.version,
            "path": self.path,
            "functions": [f.to_json() for f in self.functions],
            "type": self.type,
        }


@dataclass(frozen=True, slots=True)
class PropertiesList(Entity):
    """SHOW PROPERTIES: every property with its value, which were overwritten in this session, and which
    still have their default."""

    TYPE: ClassVar[str] = "properties"
    properties: tuple[PropertyEntry, ...] = ()
    overwritten_properties: tuple[str, ...] = ()
    default_properties: tuple[str, ...] = ()

    def _fields(self) -> Json:
        return {
            "properties": [p.to_json() for p in self.properties],
            "overwrittenProperties": list(self.overwritten_properties),
            "defaultProperties": list(self.default_properties),
        }


@dataclass(frozen=True, slots=True)
class TypeList(Entity):
    """SHOW TYPES: every registered type by name."""

    TYPE: ClassVar[str] = "type_list"
    types: tuple[tuple[str, SchemaInfo], ...] = ()

    def _fields(self) -> Json:
        return {"types": {name: info.to_json() for name, info in self.types}}


@dataclass(frozen=True, slots=True)
class VariablesList(Entity):
    """SHOW VARIABLES."""

    TYPE: ClassVar[str] = "variables"
    variables: tuple[VariableEntry, ...] = ()

    def _fields(self) -> Json:
        return {"variables": [v.to_json() for v in self.variables]}


@dataclass(frozen=True, slots=True)
class WarningEntity(Entity):
    """A statement that did nothing and says why (e.g. DROP ... IF EXISTS of a missing source is silent,
    UNDEFINE of an unknown variable warns)."""

    TYPE: ClassVar[str] = "warning_entity"
    message: str = ""

    def _fields(self) -> Json:
        return {"message": self.message}


@dataclass(frozen=True, slots=True)
class AssertTopicEntity(Entity):
    """ASSERT [NOT EXISTS] TOPIC that held (ksqlDB's ``assert_topic``)."""

    TYPE: ClassVar[str] = "assert_topic"
    topic_name: str = ""
    exists: bool = True

    def _fields(self) -> Json:
        return {"topicName": self.topic_name, "exists": self.exists}


@dataclass(frozen=True, slots=True)
class AssertSchemaEntity(Entity):
    """ASSERT [NOT EXISTS] SCHEMA that held (ksqlDB's ``assert_schema``)."""

    TYPE: ClassVar[str] = "assert_schema"
    subject: str | None = None
    schema_id: int | None = None
    exists: bool = True

    def _fields(self) -> Json:
        return {"subject": self.subject, "id": self.schema_id, "exists": self.exists}


@dataclass(frozen=True, slots=True)
class StatementApplied(Entity):
    """A statement that took effect but for which ksqlDB's REST API returns no entity (INSERT VALUES,
    SET, UNSET, DEFINE, UNDEFINE); ``message`` says what happened, for the shell."""

    TYPE: ClassVar[str] = "statement_applied"
    message: str = ""

    @property
    def rest_visible(self) -> bool:
        return False

    def _fields(self) -> Json:
        return {"message": self.message}


# --------------------------------------------------------------------------------------------------------
# Query results


@dataclass(frozen=True, slots=True)
class QueryHeader:
    """The first message of a query result: the query id and the columns as ksqlDB prints them, e.g.
    ``"`ID` STRING KEY, `COUNT` BIGINT"``."""

    query_id: str
    schema: str
    column_names: tuple[str, ...] = ()
    column_types: tuple[str, ...] = ()

    def to_json(self) -> Json:
        return {"header": {"queryId": self.query_id, "schema": self.schema}}


@dataclass(frozen=True, slots=True)
class QueryRow:
    """One result row: JSON-ready column values in header order; ``tombstone`` marks a table row that was
    deleted (ksqlDB's ``{"row": {"columns": [...], "tombstone": true}}``)."""

    columns: tuple[Any, ...]
    tombstone: bool = False

    def to_json(self) -> Json:
        row: Json = {"columns": list(self.columns)}
        if self.tombstone:
            row["tombstone"] = True
        return {"row": row}


@dataclass(frozen=True, slots=True)
class FinalMessage:
    """The last message of a query that ended by itself (e.g. "Limit Reached", "Query Completed")."""

    message: str

    def to_json(self) -> Json:
        return {"finalMessage": self.message}
