"""Help on SQL statements in the shell: ``help`` lists them, ``help <statement>`` shows one's syntax.

ksqlDB's CLI ``help`` covers only the shell's own commands and sends people to the documentation for
the SQL. A newcomer at a Headwater prompt should not need a browser to recall how ``CREATE STREAM`` is
spelled, so the statements Headwater runs are summarised here, in ksqlDB's syntax notation (``[ ]``
optional, ``{ | }`` one of, ``...`` repeatable). The grammar itself is the parser's
(``headwater/parser/grammar.lark``); these are the forms people type.

Example:
    >>> [topic.title for topic in find_topics("create stream")]
    ['CREATE STREAM', 'CREATE STREAM AS SELECT']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SQL_TOPICS", "SqlTopic", "find_topics", "overview_lines", "topic_lines"]


@dataclass(frozen=True, slots=True)
class SqlTopic:
    """One statement's help: its name, what it does in a line, and its syntax."""

    title: str
    summary: str
    syntax: str


SQL_TOPICS: tuple[SqlTopic, ...] = (
    SqlTopic(
        "CREATE STREAM",
        "declare a stream over a topic (created when PARTITIONS is given and it does not exist)",
        "CREATE [OR REPLACE] STREAM [IF NOT EXISTS] name (column type [KEY | HEADERS | HEADER('k')], ...)\n"
        "  WITH (KAFKA_TOPIC='topic', VALUE_FORMAT='JSON' | 'DELIMITED' | 'KAFKA' | ...,\n"
        "        [KEY_FORMAT='...',] [PARTITIONS=n,] [TIMESTAMP='column',] [TIMESTAMP_FORMAT='...'])",
    ),
    SqlTopic(
        "CREATE TABLE",
        "declare a table (latest value per PRIMARY KEY) over a topic",
        "CREATE [OR REPLACE] [SOURCE] TABLE [IF NOT EXISTS] name (column type PRIMARY KEY, column type, ...)\n"
        "  WITH (KAFKA_TOPIC='topic', VALUE_FORMAT='JSON', [PARTITIONS=n, ...])",
    ),
    SqlTopic(
        "CREATE STREAM AS SELECT",
        "a persistent query writing its rows into a new stream (and topic)",
        "CREATE [OR REPLACE] STREAM name [WITH (KAFKA_TOPIC='t', PARTITIONS=n, ...)] AS\n"
        "  SELECT expression [AS alias], ... FROM stream [[LEFT | FULL | INNER] JOIN ... WITHIN ... ON ...]\n"
        "  [WHERE condition] [PARTITION BY expression, ...] EMIT CHANGES;",
    ),
    SqlTopic(
        "CREATE TABLE AS SELECT",
        "a persistent query maintaining a table, usually an aggregation",
        "CREATE [OR REPLACE] TABLE name [WITH (...)] AS\n"
        "  SELECT key_expression, aggregate(...) [AS alias], ... FROM source\n"
        "  [WINDOW {TUMBLING (SIZE n unit) | HOPPING (SIZE n unit, ADVANCE BY n unit) | SESSION (n unit)}]\n"
        "  [WHERE condition] GROUP BY key_expression, ... [HAVING condition] [EMIT {CHANGES | FINAL}];",
    ),
    SqlTopic(
        "INSERT INTO",
        "a persistent query appending a query's rows to an existing stream",
        "INSERT INTO stream SELECT ... FROM source [WHERE ...] EMIT CHANGES;",
    ),
    SqlTopic(
        "INSERT VALUES",
        "append one row to a stream or table",
        "INSERT INTO name [(column, ...)] VALUES (value, ...);",
    ),
    SqlTopic(
        "SELECT",
        "a push query (EMIT CHANGES: rows as they arrive, until LIMIT or Ctrl-C), or without EMIT a "
        "historical query over everything a stream holds / a pull query on a table",
        "SELECT {* | expression [AS alias]}, ... FROM source [[LEFT] JOIN ... ON ...]\n"
        "  [WINDOW ...] [WHERE condition] [GROUP BY ...] [HAVING ...]\n"
        "  [EMIT CHANGES] [LIMIT n];",
    ),
    SqlTopic(
        "PRINT",
        "the raw records of a topic, key and value as they are stored",
        "PRINT 'topic' [FROM BEGINNING] [INTERVAL n] [LIMIT n];",
    ),
    SqlTopic(
        "SHOW",
        "list what exists",
        "SHOW | LIST {STREAMS | TABLES | TOPICS | QUERIES | FUNCTIONS | TYPES | PROPERTIES | VARIABLES}\n"
        "  [EXTENDED];",
    ),
    SqlTopic(
        "DESCRIBE",
        "a source's columns (EXTENDED: its topic, queries and statistics), or a function's signatures",
        "DESCRIBE name [EXTENDED];  DESCRIBE STREAMS | TABLES [EXTENDED];  DESCRIBE FUNCTION name;",
    ),
    SqlTopic(
        "EXPLAIN",
        "the execution plan of a running query or of a statement",
        "EXPLAIN query_id;  EXPLAIN {SELECT ... | CREATE ... AS SELECT ... | INSERT INTO ... SELECT ...};",
    ),
    SqlTopic(
        "DROP",
        "remove a stream, table or type (DELETE TOPIC also deletes its topic and data)",
        "DROP {STREAM | TABLE} [IF EXISTS] name [DELETE TOPIC];  DROP TYPE [IF EXISTS] name;",
    ),
    SqlTopic(
        "TERMINATE",
        "stop a persistent query for good",
        "TERMINATE query_id;  TERMINATE ALL;",
    ),
    SqlTopic(
        "PAUSE / RESUME",
        "stop a persistent query consuming, and let it go on from where it stopped",
        "PAUSE {query_id | ALL};  RESUME {query_id | ALL};",
    ),
    SqlTopic(
        "ALTER",
        "add value columns to a stream or table declared over a topic",
        "ALTER {STREAM | TABLE} name ADD [COLUMN] column type, ...;",
    ),
    SqlTopic(
        "CREATE TYPE",
        "name a type (a STRUCT, say) for use in column declarations",
        "CREATE TYPE [IF NOT EXISTS] name AS type;",
    ),
    SqlTopic(
        "SET / UNSET",
        "set a property for the statements and queries that follow in this session",
        "SET 'property' = 'value';  UNSET 'property';   e.g. SET 'auto.offset.reset' = 'earliest';",
    ),
    SqlTopic(
        "DEFINE / UNDEFINE",
        "a variable substituted as ${name} in the statements that follow",
        "DEFINE name = 'value';  UNDEFINE name;  SHOW VARIABLES;",
    ),
    SqlTopic(
        "ASSERT",
        "wait until a topic or schema exists (or does not), or fail after a timeout",
        "ASSERT [NOT EXISTS] TOPIC name [WITH (PARTITIONS=n, ...)] [TIMEOUT n unit];",
    ),
)


def find_topics(words: str) -> list[SqlTopic]:
    """The statements whose name starts with ``words`` (case and spacing do not matter); ``SET`` finds
    ``SET / UNSET``, ``UNSET`` too."""
    wanted = " ".join(words.upper().split())
    if not wanted:
        return []
    found = []
    for topic in SQL_TOPICS:
        names = [name.strip() for name in topic.title.split("/")]
        if any(name == wanted or name.startswith(wanted + " ") for name in names):
            found.append(topic)
    return found


def overview_lines() -> list[str]:
    """One line per statement: name and what it does."""
    width = max(len(topic.title) for topic in SQL_TOPICS)
    return [f"  {topic.title:<{width}}  {topic.summary}" for topic in SQL_TOPICS]


def topic_lines(topic: SqlTopic) -> list[str]:
    """A statement's help: its name and summary, then its syntax, indented."""
    return [f"{topic.title}: {topic.summary}", *(f"    {line}" for line in topic.syntax.split("\n"))]
