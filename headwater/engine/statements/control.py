"""PAUSE / RESUME of persistent queries, and ASSERT TOPIC / ASSERT SCHEMA.

PAUSE and RESUME change what a query does, so they are recorded in the command topic like TERMINATE: a
restart brings a paused query back paused, at its committed position.

ASSERT waits up to its TIMEOUT (``ksql.assert.topic.default.timeout.ms`` / ``...schema...``, 1 second by
default) for the topic to exist (or not), checking every 100 ms as ksqlDB does, and fails with ksqlDB's
message. Headwater has no schema registry, so a schema never exists: ASSERT SCHEMA fails and ASSERT NOT
EXISTS SCHEMA holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from headwater.engine.entities import AssertSchemaEntity, AssertTopicEntity, Entity
from headwater.engine.statements.context import StatementContext
from headwater.engine.statements.ddl import status
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = ["assert_schema", "assert_topic", "pause", "resume"]

_RETRY_SECONDS = 0.1
_DEFAULT_TIMEOUT_MS = 1000


def _queries(ctx: StatementContext, query_id: str | None) -> list[str]:
    if query_id is None:
        return [q.query_id for q in ctx.engine.persistent_queries()]
    query = ctx.engine.query(query_id)
    if query is None:
        raise PlanError(f"Unknown queryId: {query_id}")
    return [query.query_id]


def pause(ctx: StatementContext, stmt: ast.PauseQuery) -> Entity:
    """PAUSE query_id | ALL."""
    ids = _queries(ctx, stmt.query_id)
    ctx.engine.record(ctx, stmt)
    for query_id in ids:
        ctx.engine.pause_query(query_id)
    return status(ctx, stmt, f"pause/{stmt.query_id or 'ALL'}/execute", "Query paused.")


def resume(ctx: StatementContext, stmt: ast.ResumeQuery) -> Entity:
    """RESUME query_id | ALL."""
    ids = _queries(ctx, stmt.query_id)
    ctx.engine.record(ctx, stmt)
    for query_id in ids:
        ctx.engine.resume_query(query_id)
    return status(ctx, stmt, f"resume/{stmt.query_id or 'ALL'}/execute", "Query resumed.")


def _timeout_ms(ctx: StatementContext, timeout: pe.Duration | None, config_name: str) -> int:
    if timeout is not None:
        return timeout.millis
    return ctx.config.get_int(config_name) or _DEFAULT_TIMEOUT_MS


def _retry(check: Callable[[], str | None], timeout_ms: int) -> None:
    """Run ``check`` (None: holds, else the failure) every 100 ms until it holds or time runs out.

    Raises:
        PlanError: the last failure.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        problem = check()
        if problem is None:
            return
        if time.monotonic() + _RETRY_SECONDS > deadline:
            raise PlanError(problem)
        time.sleep(_RETRY_SECONDS)


def _property_value(prop: ast.Property) -> object:
    value = prop.value
    return getattr(value, "value", value)


def assert_topic(ctx: StatementContext, stmt: ast.AssertTopic) -> Entity:
    """ASSERT [NOT EXISTS] TOPIC name [WITH (PARTITIONS=n, REPLICAS=n)] [TIMEOUT n unit]."""
    log = ctx.log

    def check() -> str | None:
        exists = log.has_topic(stmt.topic)
        if not stmt.exists:
            return f"Topic {stmt.topic} exists" if exists else None
        if not exists:
            return f"Topic {stmt.topic} does not exist"
        partitions = ctx.engine.partition_count(stmt.topic)
        errors = []
        for prop in stmt.properties:
            name = prop.name.lower()
            expected = _property_value(prop)
            actual = {"partitions": partitions, "replicas": 1}.get(name)
            if actual is None:
                errors.append(f"Cannot assert unknown topic property: {prop.name}")
            elif not (isinstance(expected, int) and not isinstance(expected, bool) and expected == actual):
                errors.append(
                    f"Mismatched configuration for topic {stmt.topic}: For config {name}, expected "
                    f"{expected} got {actual}"
                )
        return "\n".join(errors) or None

    _retry(check, _timeout_ms(ctx, stmt.timeout, "ksql.assert.topic.default.timeout.ms"))
    return AssertTopicEntity(stmt.text, topic_name=stmt.topic, exists=stmt.exists)


def assert_schema(ctx: StatementContext, stmt: ast.AssertSchema) -> Entity:
    """ASSERT [NOT EXISTS] SCHEMA [SUBJECT s] [ID n] [TIMEOUT n unit]: without a schema registry no
    schema exists."""
    if stmt.subject is None and stmt.schema_id is None:
        raise PlanError("ASSERT SCHEMA statements must include a subject name or an id")
    described = []
    if stmt.subject is not None:
        described.append(f"subject name {stmt.subject}")
    if stmt.schema_id is not None:
        described.append(f"id {stmt.schema_id}")
    subject = " ".join(described)

    def check() -> str | None:
        return f"Schema with {subject} does not exist" if stmt.exists else None

    _retry(check, _timeout_ms(ctx, stmt.timeout, "ksql.assert.schema.default.timeout.ms"))
    return AssertSchemaEntity(stmt.text, subject=stmt.subject, schema_id=stmt.schema_id, exists=stmt.exists)
