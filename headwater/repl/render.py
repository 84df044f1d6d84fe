"""Statement results as text: one renderer per ksqlDB entity type, laid out as ksqlDB's CLI lays them out.

Renderers read the entity's ksqlDB JSON (``Entity.to_json()``), not the Python objects, for two reasons:
the same code will render what a remote server sends when the shell connects to one, and the JSON shape
is ksqlDB's documented contract, so the layouts below can follow ksqlDB's CLI field by field. An entity
type without a renderer is shown as indented JSON rather than refused, so a new statement is never
invisible in the shell.

Example:
    >>> entity = {"@type": "currentStatus", "statementText": "DROP STREAM S;",
    ...           "commandStatus": {"status": "SUCCESS", "message": "Source `S` was dropped.",
    ...                             "queryId": None}, "warnings": []}
    >>> print("\\n".join(render_entity(entity)))
     Message
    -------------------------
     Source `S` was dropped.
    -------------------------
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from headwater.repl.table import listing
from headwater.repl.values import json_default

__all__ = ["render_entity", "schema_text"]

Json = dict[str, Any]
Renderer = Callable[[Json, "int | None"], list[str]]

_LABEL_WIDTH = 20


def _labelled(label: str, value: object) -> str:
    """A ``Name                 : value`` line, ksqlDB's layout for descriptions."""
    return f"{label:<{_LABEL_WIDTH}} : {value}"


def schema_text(schema: Json) -> str:
    """A column type as ksqlDB's DESCRIBE prints it (ksqlDB's ``SchemaInfo.toTypeString``).

    Example:
        >>> schema_text({"type": "MAP", "memberSchema": {"type": "STRING"}})
        'MAP<STRING, VARCHAR(STRING)>'
    """
    kind = schema.get("type", "?")
    if kind == "STRING":
        return "VARCHAR(STRING)"
    if kind == "ARRAY":
        return f"ARRAY<{schema_text(schema.get('memberSchema') or {})}>"
    if kind == "MAP":
        return f"MAP<STRING, {schema_text(schema.get('memberSchema') or {})}>"
    if kind == "STRUCT":
        inner = ", ".join(f"{f['name']} {schema_text(f['schema'])}" for f in schema.get("fields") or [])
        return f"STRUCT<{inner}>"
    if kind == "DECIMAL":
        parameters = schema.get("parameters") or {}
        return f"DECIMAL({parameters.get('precision')}, {parameters.get('scale')})"
    return str(kind)


def _field_type_text(field: Json, window_type: str | None, is_table: bool) -> str:
    """The Type cell of a DESCRIBE row: key and header columns are marked, as ksqlDB marks them."""
    type_text = schema_text(field["schema"])
    kind = field.get("type")
    if kind == "HEADER":
        header_key = field.get("headerKey")
        marker = f"(header('{header_key}'))" if header_key else "(headers)"
        return f"{type_text:<16} {marker}"
    if kind == "KEY":
        window = f" (Window type: {window_type})" if window_type else ""
        return f"{type_text:<16} {'(primary key)' if is_table else '(key)'}{window}"
    return type_text


def _schema_lines(fields: list[Json], window_type: str | None, is_table: bool, width: int | None) -> list[str]:
    if not fields:
        return []
    rows = [[f["name"], _field_type_text(f, window_type, is_table)] for f in fields]
    return listing(["Field", "Type"], rows, max_width=width)


def _query_lines(queries: list[Json], kind: str, operation: str) -> list[str]:
    if not queries:
        return []
    lines = ["", f"Queries that {operation} from this {kind}", "-----------------------------------"]
    for query in queries:
        single_line = " ".join(str(query.get("queryString", "")).split())
        lines.append(f"{query.get('id')} ({query.get('state') or 'N/A'}) : {single_line}")
    lines.append("")
    lines.append("For query topology and execution plan please run: EXPLAIN <QueryId>")
    return lines


def _source_description(source: Json, width: int | None) -> list[str]:
    is_table = str(source.get("type", "")).upper() == "TABLE"
    window_type = source.get("windowType")
    lines = [_labelled("Name", source.get("name"))]
    if not source.get("extended"):
        lines.extend(_schema_lines(source.get("fields", []), window_type, is_table, width))
        lines.append("For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;")
        return lines
    lines.append(_labelled("Type", source.get("type")))
    lines.append(_labelled("Timestamp field", source.get("timestamp") or "Not set - using <ROWTIME>"))
    lines.append(_labelled("Key format", source.get("keyFormat")))
    lines.append(_labelled("Value format", source.get("valueFormat")))
    if source.get("topic"):
        topic = str(source["topic"])
        if source.get("partitions"):
            topic += f" (partitions: {source['partitions']}, replication: {source.get('replication', 1)})"
        lines.append(_labelled("Kafka topic", topic))
    lines.append(_labelled("Statement", source.get("statement")))
    lines.append("")
    lines.extend(_schema_lines(source.get("fields", []), window_type, is_table, width))
    constraints = source.get("sourceConstraints") or []
    if constraints:
        lines += ["", "Sources that have a DROP constraint on this source", "-" * 50, *constraints]
    kind = str(source.get("type", "")).upper()
    lines.extend(_query_lines(source.get("readQueries") or [], kind, "read"))
    lines.extend(_query_lines(source.get("writeQueries") or [], kind, "write"))
    lines += ["", "Local runtime statistics", "------------------------"]
    lines.append(str(source.get("statistics") or ""))
    lines.append(str(source.get("errorStats") or ""))
    lines.append(f"(Statistics of the local Headwater server interaction with the topic {source.get('topic')})")
    return lines


def _query_description(query: Json, width: int | None) -> list[str]:
    lines = [_labelled("ID", query.get("id")), _labelled("Query Type", query.get("queryType"))]
    if query.get("statementText"):
        lines.append(_labelled("SQL", query["statementText"]))
    if query.get("ksqlHostQueryStatus"):
        status = ", ".join(f"{host}={state}" for host, state in query["ksqlHostQueryStatus"].items())
        lines.append(_labelled("Host Query Status", "{" + status + "}"))
    lines.append("")
    lines.extend(_schema_lines(query.get("fields", []), query.get("windowType"), False, width))
    for title, key, hint in (
        ("Sources that this query reads from: ", "sources", "For source description please run: DESCRIBE [EXTENDED] <SourceId>"),
        ("Sinks that this query writes to: ", "sinks", "For sink description please run: DESCRIBE [EXTENDED] <SinkId>"),
    ):
        names = query.get(key) or []
        if names:
            lines += ["", title, "-----------------------------------", *names, "", hint]
    for title, key in (("Execution plan", "executionPlan"), ("Processing topology", "topology")):
        if query.get(key):
            lines += ["", title, "-" * len(title), *str(query[key]).rstrip("\n").split("\n")]
    overridden = query.get("overriddenProperties") or {}
    if overridden:
        lines += ["", "Overridden Properties", "---------------------"]
        rows = [[name, str(value)] for name, value in sorted(overridden.items())]
        lines.extend(listing(["Property", "Value"], rows, max_width=width))
    return lines


def _command_status(entity: Json, width: int | None) -> list[str]:
    message = str(entity.get("commandStatus", {}).get("message", ""))
    return listing(["Message"], [[message.split("\n", 1)[0]]], max_width=width)


def _sources(kind: str) -> Renderer:
    title = "Stream Name" if kind == "streams" else "Table Name"

    def render(entity: Json, width: int | None) -> list[str]:
        rows = [
            [s["name"], s["topic"], s["keyFormat"], s["valueFormat"], "true" if s.get("isWindowed") else "false"]
            for s in sorted(entity.get(kind, []), key=lambda s: str(s["name"]))
        ]
        return listing([title, "Kafka Topic", "Key Format", "Value Format", "Windowed"], rows, max_width=width)

    return render


def _replicas(replica_info: list[int]) -> str:
    if not replica_info:
        return "0"
    if len(set(replica_info)) == 1:
        return str(replica_info[0])
    return ", ".join(str(r) for r in replica_info)


def _topics(entity: Json, width: int | None) -> list[str]:
    rows = [
        [t["name"], str(len(t.get("replicaInfo", []))), _replicas(t.get("replicaInfo", []))]
        for t in entity.get("topics", [])
    ]
    return listing(["Kafka Topic", "Partitions", "Partition Replicas"], rows, max_width=width)


def _topics_extended(entity: Json, width: int | None) -> list[str]:
    rows = [
        [
            t["name"],
            str(len(t.get("replicaInfo", []))),
            _replicas(t.get("replicaInfo", [])),
            str(t.get("consumerCount", 0)),
            str(t.get("consumerGroupCount", 0)),
        ]
        for t in entity.get("topics", [])
    ]
    headers = ["Kafka Topic", "Partitions", "Partition Replicas", "Consumers", "ConsumerGroups"]
    return listing(headers, rows, max_width=width)


def _queries(entity: Json, width: int | None) -> list[str]:
    rows = [
        [
            str(q.get("id")),
            str(q.get("queryType", "")),
            str(q.get("state") or "N/A"),
            ",".join(q.get("sinks", [])),
            ",".join(q.get("sinkKafkaTopics", [])),
            " ".join(str(q.get("queryString", "")).split()),
        ]
        for q in entity.get("queries", [])
    ]
    headers = ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"]
    lines = listing(headers, rows, max_width=width)
    lines.append("For detailed information on a Query run: EXPLAIN <Query ID>;")
    return lines


def _source_description_entity(entity: Json, width: int | None) -> list[str]:
    return _source_description(entity.get("sourceDescription", {}), width)


def _source_description_list(entity: Json, width: int | None) -> list[str]:
    return _each_described(entity.get("sourceDescriptions", []), _source_description, width)


def _query_description_entity(entity: Json, width: int | None) -> list[str]:
    return _query_description(entity.get("queryDescription", {}), width)


def _query_description_list(entity: Json, width: int | None) -> list[str]:
    return _each_described(entity.get("queryDescriptions", []), _query_description, width)


def _each_described(items: list[Json], describe: Callable[[Json, int | None], list[str]], width: int | None) -> list[str]:
    """The descriptions of a list entity's items (DESCRIBE EXTENDED of several), a blank line after each."""
    lines: list[str] = []
    for item in items:
        lines.extend(describe(item, width))
        lines.append("")
    return lines


def _function_names(entity: Json, width: int | None) -> list[str]:
    rows = [
        [f["name"], str(f.get("category", ""))] for f in sorted(entity.get("functions", []), key=lambda f: f["name"])
    ]
    lines = listing(["Function Name", "Category"], rows, max_width=width)
    lines.append("For detailed information on a function run: DESCRIBE FUNCTION <Function Name>;")
    return lines


def _describe_function(entity: Json, width: int | None) -> list[str]:
    """DESCRIBE FUNCTION in ksqlDB's layout (``Name        : ABS``; author and version only when set)."""

    def labelled(label: str, value: object, indent: str = "") -> str:
        return f"{indent}{label:<12}: {value}".rstrip()

    name = str(entity.get("name", "")).upper()
    lines = [labelled("Name", name)]
    for label, key in (("Author", "author"), ("Version", "version")):
        if str(entity.get(key) or "").strip():
            lines.append(labelled(label, entity[key]))
    if str(entity.get("description") or "").strip():
        lines.append(labelled("Overview", str(entity["description"]).strip()))
    lines.append(labelled("Type", entity.get("type")))
    lines.append(labelled("Jar", entity.get("path")))
    lines.append(labelled("Variations", ""))
    for overload in entity.get("functions", []):
        arguments = ", ".join(
            (
                f"{a['name']} {a['type']}{'[]' if a.get('isVariadic') else ''}"
                if a.get("name")
                else f"{a['type']}{'[]' if a.get('isVariadic') else ''}"
            )
            for a in overload.get("arguments", [])
        )
        lines.append("")
        lines.append(labelled("Variation", f"{name}({arguments})", "\t"))
        lines.append(labelled("Returns", overload.get("returnType"), "\t"))
        if str(overload.get("description") or "").strip():
            lines.append(labelled("Description", str(overload["description"]).strip(), "\t"))
        for argument in overload.get("arguments", []):
            if str(argument.get("description") or "").strip():
                lines.append(labelled(argument["name"], str(argument["description"]).strip(), "\t"))
    return lines


def _assert_topic(entity: Json, width: int | None) -> list[str]:
    existence = " exists" if entity.get("exists", True) else " does not exist"
    return [f"Topic {entity.get('topicName')}{existence}."]


def _assert_schema(entity: Json, width: int | None) -> list[str]:
    existence = " exists" if entity.get("exists", True) else " does not exist"
    subject = f" subject {entity['subject']}" if entity.get("subject") is not None else ""
    schema_id = f" id {entity['id']}" if entity.get("id") is not None else ""
    return [f"Schema with{subject}{schema_id}{existence}."]


def _properties(entity: Json, width: int | None) -> list[str]:
    overwritten = set(entity.get("overwrittenProperties", []))
    defaults = set(entity.get("defaultProperties", []))
    rows = []
    for prop in sorted(entity.get("properties", []), key=lambda p: p["name"]):
        name = prop["name"]
        level = "SESSION" if name in overwritten else "" if name in defaults else "SERVER"
        value = "NULL" if prop.get("value") is None else str(prop["value"])
        rows.append([name, str(prop.get("scope", "")), level, value])
    return listing(["Property", "Scope", "Default override", "Effective Value"], rows, max_width=width)


def _types(entity: Json, width: int | None) -> list[str]:
    rows = [[name, schema_text(schema)] for name, schema in sorted(entity.get("types", {}).items())]
    return listing(["Type Name", "Schema"], rows, max_width=width)


def _variables(entity: Json, width: int | None) -> list[str]:
    rows = [[v["name"], str(v["value"])] for v in entity.get("variables", [])]
    return listing(["Variable Name", "Value"], rows, max_width=width)


def _warning(entity: Json, width: int | None) -> list[str]:
    return listing(["Message"], [[str(entity.get("message", ""))]], max_width=width)


def _applied(entity: Json, width: int | None) -> list[str]:
    message = str(entity.get("message", ""))
    return message.split("\n") if message else []


RENDERERS: dict[str, Renderer] = {
    "currentStatus": _command_status,
    "streams": _sources("streams"),
    "tables": _sources("tables"),
    "kafka_topics": _topics,
    "kafka_topics_extended": _topics_extended,
    "queries": _queries,
    "sourceDescription": _source_description_entity,
    "source_descriptions": _source_description_list,
    "queryDescription": _query_description_entity,
    "query_descriptions": _query_description_list,
    "function_names": _function_names,
    "describe_function": _describe_function,
    "properties": _properties,
    "type_list": _types,
    "variables": _variables,
    "warning_entity": _warning,
    "statement_applied": _applied,
    "assert_topic": _assert_topic,
    "assert_schema": _assert_schema,
}


def render_entity(entity: Json, *, width: int | None = None) -> list[str]:
    """The lines that show one statement result, followed by its warnings.

    Args:
        entity: the entity's ksqlDB JSON (``Entity.to_json()``).
        width: the terminal width, if known (listing separators never exceed it).
    """
    renderer = RENDERERS.get(str(entity.get("@type")))
    if renderer is None:
        body = {k: v for k, v in entity.items() if k not in ("warnings",)}
        lines = orjson.dumps(body, default=json_default, option=orjson.OPT_INDENT_2).decode().split("\n")
    else:
        lines = renderer(entity, width)
    lines.extend(f"WARNING: {w.get('message', w) if isinstance(w, dict) else w}" for w in entity.get("warnings", []))
    return lines
