"""CREATE STREAM / TABLE over topics, DROP, ALTER ... ADD COLUMN, CREATE / DROP TYPE.

Each handler validates with ksqlDB's rules and messages, records the statement in the command topic
(unless replaying it), and applies it: catalog entries, and for CREATE with PARTITIONS a new raw topic
(records arrive as bytes in the declared formats, from INSERT VALUES, producers, or Kafka tooling).
"""

from __future__ import annotations

from headwater.engine import formats
from headwater.engine.catalog import DataSource, FormatSpec, SourceType, WindowInfo, WindowType
from headwater.engine.entities import CommandStatus, CommandStatusEntity, Entity, WarningEntity
from headwater.engine.schema import (
    HEADERS_TYPE,
    SYSTEM_COLUMNS,
    Column,
    LogicalSchema,
    Namespace,
    format_type,
    quote,
)
from headwater.engine.serde import SourceSerde
from headwater.engine.statements.context import StatementContext
from headwater.engine.statements.with_clause import WithClause
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import types as t

__all__ = [
    "alter_source",
    "build_formats",
    "create_source",
    "create_type",
    "drop_source",
    "drop_type",
    "status",
]

def status(
    ctx: StatementContext, stmt: ast.Statement, command_id: str, message: str, query_id: str | None = None
) -> CommandStatusEntity:
    """A SUCCESS ``currentStatus`` for ``stmt``."""
    return CommandStatusEntity(
        getattr(stmt, "text", ""),
        command_id=command_id,
        command_status=CommandStatus("SUCCESS", message, query_id),
        command_sequence_number=ctx.engine.last_command_sequence,
    )


def _location(node: ast.Node) -> str:
    span = getattr(node, "span", None)
    return "" if span is None else f"Line: {span.line}, Col: {span.column}: "


def _columns(
    ctx: StatementContext, stmt: ast.CreateStream | ast.CreateTable, kind: SourceType
) -> LogicalSchema:
    if not stmt.elements:
        raise PlanError("The statement does not define any columns.")
    columns = []
    seen: set[str] = set()
    for element in stmt.elements:
        if element.name in SYSTEM_COLUMNS or element.name.upper() in SYSTEM_COLUMNS:
            raise PlanError(
                f"'{element.name}' is a reserved column name. You cannot use it as a name for a column."
            )
        if element.name in seen:
            raise PlanError(f"Duplicate column names: {quote(element.name)}")
        seen.add(element.name)
        sql_type = ctx.catalog.resolve_type(element.type)
        constraint = element.constraint
        if constraint is ast.ColumnConstraint.PRIMARY_KEY and kind is SourceType.STREAM:
            raise PlanError(
                _location(element)
                + f"Column {quote(element.name)} is a 'PRIMARY KEY' column: please use 'KEY' for streams."
            )
        if constraint is ast.ColumnConstraint.KEY and kind is SourceType.TABLE:
            raise PlanError(
                _location(element)
                + f"Column {quote(element.name)} is a 'KEY' column: please use 'PRIMARY KEY' for tables."
            )
        if constraint in (ast.ColumnConstraint.KEY, ast.ColumnConstraint.PRIMARY_KEY):
            columns.append(Column(element.name, sql_type, Namespace.KEY))
        elif constraint is ast.ColumnConstraint.HEADERS:
            if sql_type != HEADERS_TYPE:
                raise PlanError(
                    f"Invalid type for HEADERS column: expected {format_type(HEADERS_TYPE)}, got {format_type(sql_type)}"
                )
            _check_header_column(columns, None)
            columns.append(Column(element.name, sql_type, Namespace.HEADERS))
        elif constraint is ast.ColumnConstraint.HEADER:
            if sql_type != t.BYTES:
                raise PlanError(
                    f"Invalid type for HEADER('{element.header_key}') column: expected BYTES, got {format_type(sql_type)}"
                )
            _check_header_column(columns, element.header_key)
            columns.append(Column(element.name, sql_type, Namespace.HEADERS, element.header_key))
        else:
            columns.append(Column(element.name, sql_type))
    return LogicalSchema(tuple(columns)).ordered()


def _check_header_column(columns: list[Column], key: str | None) -> None:
    """A schema holds one HEADERS column and nothing else from the headers, or HEADER('k') columns
    with distinct keys (ksqlDB's LogicalSchema builder)."""
    headers = [c for c in columns if c.namespace is Namespace.HEADERS]
    if any(c.header_key is None for c in headers):
        raise PlanError("Schema already contains a HEADERS column.")
    taken = [c.header_key for c in headers if key is None or c.header_key == key]
    if taken:
        raise PlanError(f"Schema already contains a HEADER('{taken[0]}') column.")


def build_formats(
    ctx: StatementContext,
    props: WithClause,
    schema: LogicalSchema,
    *,
    inherited: tuple[FormatSpec, FormatSpec] | None = None,
    partition_by_null: bool = False,
) -> tuple[FormatSpec, FormatSpec]:
    """Key and value formats from the WITH clause, the inherited formats (CSAS), or the defaults, with
    their properties (delimiters, parsed; schema names) and serde features (wrapping), as ksqlDB
    derives them. A query result without key columns has the NONE key format.

    Raises:
        PlanError: an unknown format, a bad delimiter, WRAP_SINGLE_VALUE misused, a missing
            VALUE_FORMAT, a key format for PARTITION BY NULL (ksqlDB's messages).
    """
    config = ctx.config
    default_key = str(config.get("ksql.persistence.default.format.key", "KAFKA") or "KAFKA").upper()
    key_name = props.key_format
    if key_name is None:
        key_name = inherited[0].name if inherited is not None else default_key
        if not schema.key_columns:
            key_name = "NONE" if inherited is not None else key_name
        elif key_name == "NONE":
            key_name = default_key
    elif partition_by_null and key_name != "NONE":
        raise PlanError("Key format specified for stream without key columns.")
    value_name = props.value_format
    if value_name is None:
        if inherited is not None:
            value_name = inherited[1].name
        else:
            default = config.get("ksql.persistence.default.format.value")
            if default is None:
                raise PlanError(
                    "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one "
                    "or set a default via the 'ksql.persistence.default.format.value' config."
                )
            value_name = str(default).upper()
    key_format = formats.get_format(key_name)
    value_format = formats.get_format(value_name)
    key_props = _format_properties(props, key_name, inherited, 0)
    value_props = _format_properties(props, value_name, inherited, 1)
    key_features = formats.key_features(key_format, len(schema.key_columns))
    wrap_default = config.get("ksql.persistence.wrap.single.values")
    value_features = formats.value_features(
        value_format,
        len(schema.value_columns),
        wrap_single_value=props.wrap_single_value,
        default_wrap_single_values=None if wrap_default is None else config.get_bool(
            "ksql.persistence.wrap.single.values"
        ),
    )
    return (
        FormatSpec(key_format.name, key_props, key_features),
        FormatSpec(value_format.name, value_props, value_features),
    )


def _format_properties(
    props: WithClause,
    format_name: str,
    inherited: tuple[FormatSpec, FormatSpec] | None,
    index: int,
) -> tuple[tuple[str, str], ...]:
    """The properties of the key (``index`` 0) or value (1) format: the delimiter, parsed, and the
    schema name, from the WITH clause; a CSAS inherits its source format's properties when it keeps
    the format. The format refuses properties it does not support (``JSON does not support the
    following configs: [fullSchemaName]``)."""
    side = "KEY" if index == 0 else "VALUE"
    found: dict[str, str] = {}
    if inherited is not None and inherited[index].name == format_name:
        found.update(inherited[index].properties)
    delimiter = props.key_delimiter if index == 0 else props.value_delimiter
    if delimiter is not None:
        found["delimiter"] = formats.parse_delimiter(delimiter, f"{side}_DELIMITER")
    for name in (f"{side}_SCHEMA_FULL_NAME", "VALUE_AVRO_SCHEMA_FULL_NAME" if index == 1 else ""):
        value = props.get(name) if name else None
        if value is not None:
            found["fullSchemaName"] = str(value)
    return tuple(found.items())


def _timestamp(props: WithClause, schema: LogicalSchema) -> tuple[str | None, str | None]:
    name = props.timestamp_column
    if name is None:
        if props.timestamp_format is not None:
            raise PlanError("Cannot set TIMESTAMP_FORMAT without TIMESTAMP.")
        return None, None
    column = schema.find(name)
    if column is None:
        raise PlanError(f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{name}'")
    fmt = props.timestamp_format
    if (column.type == t.STRING and fmt is None) or column.type not in (t.BIGINT, t.TIMESTAMP, t.STRING):
        raise PlanError(
            f"Timestamp column, {quote(name)}, should be LONG(INT64), TIMESTAMP, or a String with a "
            "timestamp_format specified."
        )
    return name, fmt


def create_source(ctx: StatementContext, stmt: ast.CreateStream | ast.CreateTable) -> Entity:
    """CREATE [OR REPLACE] [SOURCE] STREAM | TABLE [IF NOT EXISTS] name (columns) WITH (...)."""
    kind = SourceType.STREAM if isinstance(stmt, ast.CreateStream) else SourceType.TABLE
    noun = kind.value.lower()
    props = WithClause.parse(stmt.properties, for_create_as=False)
    existing = ctx.catalog.source(stmt.name)
    if existing is not None:
        if stmt.if_not_exists:
            return WarningEntity(
                stmt.text,
                message=f"Cannot add {noun} {stmt.name}: A {existing.kind.value.lower()} with the same name already exists",
            )
        if not stmt.or_replace:
            raise PlanError(
                f"Cannot add {noun} '{stmt.name}': A {existing.kind.value.lower()} with the same name already exists"
            )
        if existing.kind is not kind:
            raise PlanError(
                f"Cannot add {noun} '{stmt.name}': A {existing.kind.value.lower()} with the same name already exists"
            )
    if stmt.or_replace and (stmt.is_source or (existing is not None and existing.is_source)):
        raise PlanError(
            f"Cannot add {noun} '{stmt.name}': CREATE OR REPLACE is not supported on source {noun}s."
        )
    for name in (props.key_format, props.value_format):
        if name is not None:
            formats.get_format(name)  # an unknown format is reported before anything else, as in ksqlDB
    schema = _columns(ctx, stmt, kind)
    if kind is SourceType.TABLE and not schema.key_columns:
        raise PlanError("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.")
    window = None
    if props.window_type is not None:
        window = WindowInfo(WindowType(props.window_type), props.window_size_ms)
        if not schema.key_columns:
            raise PlanError("Windowed sources require a key column.")
    key_format, value_format = build_formats(ctx, props, schema)
    timestamp_column, timestamp_format = _timestamp(props, schema)
    topic = props.kafka_topic
    if topic is None:
        if props.partitions is None:
            raise PlanError('Missing required configuration "KAFKA_TOPIC" which has no default value.')
        topic = stmt.name
    source = DataSource(
        name=stmt.name,
        kind=kind,
        schema=schema,
        topic=topic,
        key_format=key_format,
        value_format=value_format,
        timestamp_column=timestamp_column,
        timestamp_format=timestamp_format,
        window=window,
        is_source=stmt.is_source,
        sql=stmt.text,
    )
    SourceSerde(source)  # the formats refuse schemas they cannot serialise, with ksqlDB's messages
    if existing is not None:
        ctx.engine.check_replace(existing, source)
    if not ctx.engine.log.has_topic(topic):
        if props.partitions is None and not ctx.replaying:
            raise PlanError(f"Kafka topic does not exist: {topic}")
        ctx.engine.create_raw_topic(topic, props.partitions or 1, source)
    ctx.engine.record(ctx, stmt)
    ctx.catalog.put_source(source)
    return status(ctx, stmt, f"{noun}/{quote(stmt.name)}/create", f"{kind.title} created")


def drop_source(ctx: StatementContext, stmt: ast.DropStream | ast.DropTable) -> Entity:
    """DROP STREAM | TABLE [IF EXISTS] name [DELETE TOPIC]."""
    kind = SourceType.STREAM if isinstance(stmt, ast.DropStream) else SourceType.TABLE
    noun = kind.value.lower()
    source = ctx.catalog.source(stmt.name)
    if source is None or source.kind is not kind:
        if stmt.if_exists:
            return status(
                ctx, stmt, f"{noun}/{quote(stmt.name)}/drop", f"Source {quote(stmt.name)} does not exist."
            )
        if source is not None:
            raise PlanError(
                f"Incompatible data source type is {source.kind.value}, but statement was DROP {kind.value}"
            )
        raise PlanError(f"{kind.title} {stmt.name} does not exist.")
    if stmt.delete_topic and source.is_source:
        raise PlanError(f"Cannot delete topic for read-only source: {source.name}")
    # ksqlDB's rules (EngineContext.executeDdl): INSERT INTO queries reading or writing the source
    # block the drop; then sources made from it by CREATE ... AS SELECT (even when their query was
    # terminated: the catalog keeps the reference); its own CREATE ... AS SELECT query is terminated
    # with it
    users = ctx.engine.queries_using(source.name)
    creates = ("CSAS_", "CTAS_")
    inserts = [q for q in users if not q.query_id.startswith(creates)]
    if inserts:
        readers = sorted(q.query_id for q in inserts if source.name in [s.name for s in q.sources])
        writers = sorted(q.query_id for q in inserts if q.sink.name == source.name)
        raise PlanError(
            f"Cannot drop {source.name}.\n"
            f"The following queries read from this source: [{', '.join(readers)}].\n"
            f"The following queries write into this source: [{', '.join(writers)}].\n"
            f"You need to terminate them before dropping {source.name}."
        )
    derived = ctx.catalog.referencing(source.name)
    if derived:
        raise PlanError(
            f"Cannot drop {source.name}.\n"
            f"The following streams and/or tables read from this source: [{', '.join(derived)}].\n"
            f"You need to drop them before dropping {source.name}."
        )
    ctx.engine.record(ctx, stmt)
    for query in users:  # the query that created the source
        if query.sink.name == source.name:
            ctx.engine.terminate_query(query.query_id)
    ctx.catalog.remove_source(source.name)
    if stmt.delete_topic and ctx.engine.log.has_topic(source.topic):
        ctx.engine.log.delete_topic(source.topic)
    return status(
        ctx,
        stmt,
        f"{noun}/{quote(stmt.name)}/drop",
        f"Source {quote(source.name)} (topic: {source.topic}) was dropped.",
    )


def alter_source(ctx: StatementContext, stmt: ast.AlterSource) -> Entity:
    """ALTER STREAM | TABLE name ADD COLUMN c type, ..."""
    kind = SourceType.STREAM if stmt.kind is ast.SourceKind.STREAM else SourceType.TABLE
    noun = kind.value.lower()
    source = ctx.catalog.source(stmt.name)
    if source is None or source.kind is not kind:
        raise PlanError(f"Source {stmt.name} does not exist.")
    if source.is_source:
        raise PlanError(
            f"Cannot alter {noun} '{source.name}': ALTER operations are not supported on source {noun}s."
        )
    if source.is_sink:
        raise PlanError("ALTER command is not supported for CREATE ... AS statements.")
    added = []
    for element in stmt.add_columns:
        if source.schema.find(element.name) is not None:
            raise PlanError(
                f"Cannot add column {quote(element.name)} to schema. A column with the same name already exists."
            )
        if element.constraint is not ast.ColumnConstraint.NONE:
            raise PlanError("ALTER ... ADD COLUMN can only add value columns.")
        added.append(Column(element.name, ctx.catalog.resolve_type(element.type)))
    altered = source.with_schema(source.schema.with_columns(tuple(added)))
    SourceSerde(altered)
    ctx.engine.record(ctx, stmt)
    ctx.catalog.put_source(altered)
    return status(ctx, stmt, f"{noun}/{quote(stmt.name)}/alter", f"{kind.title} altered")


def create_type(ctx: StatementContext, stmt: ast.CreateType) -> Entity:
    """CREATE TYPE name AS type."""
    existing = ctx.catalog.type(stmt.name)
    if existing is not None:
        if stmt.if_not_exists:
            return status(ctx, stmt, f"type/{stmt.name}/create", f"Type {stmt.name} already exists.")
        raise PlanError(
            f"Cannot register custom type '{stmt.name.upper()}' since it is already registered with type: "
            f"{format_type(existing)}"
        )
    resolved = ctx.catalog.resolve_type(stmt.type)
    ctx.engine.record(ctx, stmt)
    ctx.catalog.put_type(stmt.name, resolved)
    return status(
        ctx,
        stmt,
        f"type/{stmt.name}/create",
        f"Registered custom type with name '{stmt.name.upper()}' and SQL type {format_type(resolved)}",
    )


def drop_type(ctx: StatementContext, stmt: ast.DropType) -> Entity:
    """DROP TYPE [IF EXISTS] name."""
    if ctx.catalog.type(stmt.name) is None:
        if stmt.if_exists:
            return status(ctx, stmt, f"type/{stmt.name}/drop", f"Type {stmt.name} does not exist.")
        raise PlanError(f"Type {stmt.name} does not exist.")
    ctx.engine.record(ctx, stmt)
    ctx.catalog.remove_type(stmt.name)
    return status(ctx, stmt, f"type/{stmt.name}/drop", f"Dropped type '{stmt.name.upper()}'")
