"""ksqlDB's REST JSON back into the engine's entities, so a remote session sees what an embedded one does.

:func:`entity_from_json` is the inverse of ``Entity.to_json()`` for every entity the engine produces
(``entity_from_json(e.to_json()).to_json() == e.to_json()``); a document of a kind it does not know
(a newer server, a ksqlDB server) becomes a :class:`RemoteEntity`, which keeps the document and gives
it back from ``to_json()``, so the shell can still render it.

Example:
    >>> doc = {"@type": "warning_entity", "statementText": "UNDEFINE x", "message": "no", "warnings": []}
    >>> entity_from_json(doc)
    WarningEntity(statement_text='UNDEFINE x', warnings=(), message='no')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headwater.engine import entities as e

__all__ = ["RemoteEntity", "entity_from_json"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RemoteEntity(e.Entity):
    """An entity of a kind this client does not model: its JSON, as the server sent it."""

    document: Json = field(default_factory=dict)

    def to_json(self) -> Json:
        return dict(self.document)


def _schema(doc: Json | None) -> e.SchemaInfo:
    doc = doc or {}
    fields = doc.get("fields")
    member = doc.get("memberSchema")
    return e.SchemaInfo(
        type=doc.get("type", ""),
        fields=None if fields is None else tuple(_field(f) for f in fields),
        member_schema=None if member is None else _schema(member),
        parameters=tuple((k, int(v)) for k, v in (doc.get("parameters") or {}).items()),
    )


def _field(doc: Json) -> e.FieldInfo:
    return e.FieldInfo(doc["name"], _schema(doc.get("schema")), doc.get("type"), doc.get("headerKey"))


def _source(doc: Json) -> e.SourceInfo:
    return e.SourceInfo(
        doc.get("type", ""),
        doc.get("name", ""),
        doc.get("topic", ""),
        doc.get("keyFormat", ""),
        doc.get("valueFormat", ""),
        bool(doc.get("isWindowed", False)),
    )


def _running(doc: Json) -> e.RunningQuery:
    return e.RunningQuery(
        query_string=doc.get("queryString", ""),
        sinks=tuple(doc.get("sinks", ())),
        sink_kafka_topics=tuple(doc.get("sinkKafkaTopics", ())),
        id=doc.get("id", ""),
        state=doc.get("state", "RUNNING"),
        query_type=doc.get("queryType", "PERSISTENT"),
    )


def _stats(doc: Json | None) -> tuple[tuple[str, float, int], ...]:
    return tuple((name, stat.get("value"), stat.get("timestamp")) for name, stat in (doc or {}).items())


def _source_description(doc: Json) -> e.SourceDescription:
    return e.SourceDescription(
        name=doc.get("name", ""),
        type=doc.get("type", ""),
        fields=tuple(_field(f) for f in doc.get("fields", ())),
        topic=doc.get("topic", ""),
        key_format=doc.get("keyFormat", ""),
        value_format=doc.get("valueFormat", ""),
        partitions=int(doc.get("partitions", 0)),
        statement=doc.get("statement", ""),
        window_type=doc.get("windowType"),
        read_queries=tuple(_running(q) for q in doc.get("readQueries", ())),
        write_queries=tuple(_running(q) for q in doc.get("writeQueries", ())),
        timestamp=doc.get("timestamp", ""),
        statistics=doc.get("statistics", ""),
        error_stats=doc.get("errorStats", ""),
        extended=bool(doc.get("extended", False)),
        replication=int(doc.get("replication", 1)),
        source_constraints=tuple(doc.get("sourceConstraints", ())),
        statistics_map=_stats(doc.get("statisticsMap")),
        error_stats_map=_stats(doc.get("errorStatsMap")),
    )


def _query_description(doc: Json) -> e.QueryDescription:
    host_status = doc.get("ksqlHostQueryStatus") or {}
    host = next(iter(host_status), "localhost:8088")
    return e.QueryDescription(
        id=doc.get("id", ""),
        statement_text=doc.get("statementText", ""),
        fields=tuple(_field(f) for f in doc.get("fields", ())),
        sources=tuple(doc.get("sources", ())),
        sinks=tuple(doc.get("sinks", ())),
        topology=doc.get("topology", ""),
        execution_plan=doc.get("executionPlan", ""),
        window_type=doc.get("windowType"),
        overridden_properties=tuple((doc.get("overriddenProperties") or {}).items()),
        state=doc.get("state"),
        query_type=doc.get("queryType", "PERSISTENT"),
        host=host,
    )


def _function(doc: Json) -> e.FunctionInfo:
    return e.FunctionInfo(
        arguments=tuple(
            e.ArgumentInfo(
                a.get("name", ""), a.get("type", ""), a.get("description", ""), bool(a.get("isVariadic"))
            )
            for a in doc.get("arguments", ())
        ),
        return_type=doc.get("returnType", ""),
        description=doc.get("description", ""),
    )


_DECODERS: dict[str, Callable[[Json, dict[str, Any]], e.Entity]] = {
    "currentStatus": lambda d, base: e.CommandStatusEntity(
        **base,
        command_id=d.get("commandId", ""),
        command_status=e.CommandStatus(
            (d.get("commandStatus") or {}).get("status", ""),
            (d.get("commandStatus") or {}).get("message", ""),
            (d.get("commandStatus") or {}).get("queryId"),
        ),
        command_sequence_number=int(d.get("commandSequenceNumber", -1)),
    ),
    "streams": lambda d, base: e.StreamsList(**base, streams=tuple(_source(s) for s in d.get("streams", ()))),
    "tables": lambda d, base: e.TablesList(**base, tables=tuple(_source(s) for s in d.get("tables", ()))),
    "kafka_topics": lambda d, base: e.KafkaTopicsList(
        **base,
        topics=tuple(
            e.KafkaTopicInfo(t["name"], tuple(t.get("replicaInfo", ()))) for t in d.get("topics", ())
        ),
    ),
    "kafka_topics_extended": lambda d, base: e.KafkaTopicsListExtended(
        **base,
        topics=tuple(
            e.KafkaTopicInfoExtended(
                t["name"],
                tuple(t.get("replicaInfo", ())),
                t.get("consumerCount", 0),
                t.get("consumerGroupCount", 0),
            )
            for t in d.get("topics", ())
        ),
    ),
    "queries": lambda d, base: e.Queries(**base, queries=tuple(_running(q) for q in d.get("queries", ()))),
    "sourceDescription": lambda d, base: e.SourceDescriptionEntity(
        **base, source_description=_source_description(d.get("sourceDescription") or {})
    ),
    "source_descriptions": lambda d, base: e.SourceDescriptionList(
        **base, source_descriptions=tuple(_source_description(s) for s in d.get("sourceDescriptions", ()))
    ),
    "queryDescription": lambda d, base: e.QueryDescriptionEntity(
        **base, query_description=_query_description(d.get("queryDescription") or {})
    ),
    "query_descriptions": lambda d, base: e.QueryDescriptionList(
        **base, query_descriptions=tuple(_query_description(q) for q in d.get("queryDescriptions", ()))
    ),
    "function_names": lambda d, base: e.FunctionNameList(
        **base,
        functions=tuple(
            e.SimpleFunctionInfo(f.get("name", ""), f.get("type", ""), f.get("category", ""))
            for f in d.get("functions", ())
        ),
    ),
    "describe_function": lambda d, base: e.FunctionDescriptionList(
        **base,
        name=d.get("name", ""),
        description=d.get("description", ""),
        functions=tuple(_function(f) for f in d.get("functions", ())),
        type=d.get("type", "SCALAR"),
        author=d.get("author", ""),
        version=d.get("version", ""),
        path=d.get("path", ""),
    ),
    "properties": lambda d, base: e.PropertiesList(
        **base,
        properties=tuple(
            e.PropertyEntry(p.get("name", ""), p.get("scope", ""), p.get("value"))
            for p in d.get("properties", ())
        ),
        overwritten_properties=tuple(d.get("overwrittenProperties", ())),
        default_properties=tuple(d.get("defaultProperties", ())),
    ),
    "type_list": lambda d, base: e.TypeList(
        **base, types=tuple((name, _schema(info)) for name, info in (d.get("types") or {}).items())
    ),
    "variables": lambda d, base: e.VariablesList(
        **base,
        variables=tuple(
            e.VariableEntry(v.get("name", ""), v.get("value", "")) for v in d.get("variables", ())
        ),
    ),
    "warning_entity": lambda d, base: e.WarningEntity(**base, message=d.get("message", "")),
    "assert_topic": lambda d, base: e.AssertTopicEntity(
        **base, topic_name=d.get("topicName", ""), exists=bool(d.get("exists", True))
    ),
    "assert_schema": lambda d, base: e.AssertSchemaEntity(
        **base, subject=d.get("subject"), schema_id=d.get("id"), exists=bool(d.get("exists", True))
    ),
}


def entity_from_json(document: Json) -> e.Entity:
    """The engine entity a ``/ksql`` result object describes (a :class:`RemoteEntity` when unknown)."""
    base: dict[str, Any] = {
        "statement_text": document.get("statementText", ""),
        "warnings": tuple(
            w.get("message", "") for w in document.get("warnings") or () if isinstance(w, dict)
        ),
    }
    decode = _DECODERS.get(str(document.get("@type", "")))
    if decode is None:
        return RemoteEntity(**base, document=dict(document))
    try:
        return decode(document, base)
    except (KeyError, TypeError, ValueError, AttributeError):  # a shape this client does not know
        return RemoteEntity(**base, document=dict(document))
