"""Running one RQTT case, as ksqlDB's ``RestTestExecutor`` does (FORMAT.md §12.3), over a transport.

The algorithm is the same whether the statements reach Headwater through the engine's Python API or
through a real server over HTTP; a :class:`Transport` hides the difference (see
:mod:`headwater.conformance.rest_transports`). Either way the runner reaches the engine's event log
directly to create topics, produce the input records and read the output records, as ksqlDB's harness
reaches its Kafka cluster.

1. ``test_topic`` becomes ``test_topic_<8 hex digits>`` everywhere (statements, topics, records,
   responses), so cases sharing a server never share a topic;
2. the statements are split: the admin statements before the first ``SELECT ``, the queries after; a
   statement that is not a query after a query, or more expected responses than statements, is an
   invalid case;
3. the topics the statements declare are created, then the admin statements go in one ``/ksql``
   request with the case's properties as request properties; an error response is matched against
   ``expectedError`` and ends the case;
4. the inputs are produced (unless the case waits for an active push query), and when responses to
   queries are expected the persistent queries are given time to consume them;
5. each query goes in its own ``/query`` request; an error response is matched against
   ``expectedError``; rows returned while an error is expected fail the case;
6. the outputs, then the responses, are verified (:mod:`headwater.conformance.rest_compare`).

Differences from ksqlDB's harness, on purpose: a case that expects an error fails when no request
returns one (ksqlDB's harness lets such a case pass when it sends no query); no request is sent when a
case has no admin statement; cases that check protobuf query output (``testPullWithProtoFormat``) are
skipped, as are those that need a schema registry or a format Headwater does not have.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from headwater.conformance import engine_io
from headwater.conformance.comparator import ActualRecord
from headwater.conformance.executor import CaseFailure
from headwater.conformance.model import RecordSpec
from headwater.conformance.pool import CaseTimeout, time_limit
from headwater.conformance.rest_compare import (
    ActualResponse,
    ResponseMismatch,
    error_mismatch,
    verify_responses,
    verify_rest_outputs,
)
from headwater.conformance.rest_model import ErrorResponse, RestTestCase
from headwater.conformance.results import CaseResult, Status, error_reason, first_line
from headwater.conformance.serde import SerdeFailure, TopicSerdes
from headwater.conformance.skips import skip_reason
from headwater.errors import HeadwaterError
from headwater.parser import ast

__all__ = [
    "PROTO_OUTPUT_SKIP",
    "RQTT_DEFAULT_PARTITIONS",
    "RQTT_SERVER_CONFIG",
    "Transport",
    "TransportFactory",
    "rest_skip_reason",
    "run_rest_case",
    "with_unique_topics",
]

RQTT_SERVER_CONFIG: Mapping[str, str] = {
    "auto.offset.reset": "earliest",
    "cache.max.bytes.buffering": "0",
    "ksql.query.pull.table.scan.enabled": "true",
    "ksql.query.pull.interpreter.enabled": "true",
    "ksql.query.push.v2.registry.installed": "true",
    "ksql.query.push.v2.enabled": "true",
    "ksql.query.push.v2.new.latest.delay.ms": "0",
    "ksql.headers.columns.enabled": "true",
    "headwater.query.pull.ksqldb.strict": "true",
}
"""The server configuration of ksqlDB's RQTT run (``RestQueryTranslationTest`` on top of
``TestKsqlRestApp``'s base configuration), minus what concerns only Kafka and Kafka Streams, plus
Headwater's switch that makes pull queries over streams refuse what ksqlDB refuses (GROUP BY, WINDOW,
JOIN...), which Headwater otherwise answers as historical SQL."""

RQTT_DEFAULT_PARTITIONS = 4
"""Partitions of a topic the RQTT harness creates for a CREATE STREAM/TABLE without ``PARTITIONS``
(ksqlDB's ``Topic.DEFAULT_PARTITIONS``). The harness produces its inputs with a real Kafka producer, so a
keyed record lands on the partition Kafka's default partitioner picks: expected ``ROWPARTITION`` values
follow from it (push-queries "join with ROWPARTITION and ROWOFFSET" expects key "x" on partition 2 of 4)."""

PROTO_OUTPUT_SKIP = "needs protobuf query output (testPullWithProtoFormat)"

_TOPIC_PLACEHOLDER = "test_topic"


class Transport(Protocol):
    """How statements and queries reach Headwater, and how the run waits for its persistent queries.

    ``engine`` is the engine the requests end up in: the runner creates topics, produces records and
    reads records through its event log and catalog directly.
    """

    engine: Any

    def ksql(self, text: str, properties: Mapping[str, Any]) -> list[dict[str, Any]] | ErrorResponse:
        """Run admin statements: the entities of ``/ksql``, or its error response."""
        ...

    def query(
        self, text: str, properties: Mapping[str, Any], *, on_header: Callable[[], None] | None = None
    ) -> list[dict[str, Any]] | ErrorResponse:
        """Run a query to its end: the rows of ``/query`` (header, rows, final message, as JSON
        objects), or its error response. ``on_header`` runs once the header has arrived."""
        ...

    def settle(self) -> None:
        """Return once every persistent query has consumed every record of its sources."""
        ...

    def records(self, topic: str, serdes: TopicSerdes, at_least: int) -> list[ActualRecord]:
        """The records of ``topic``, waiting (within reason) until ``at_least`` of them exist."""
        ...


TransportFactory = Callable[[RestTestCase], AbstractContextManager[Transport]]
"""Makes the transport for one case and tears it down afterwards."""


class _ErrorReturned(Exception):
    """A request returned the error response ``expectedError`` describes: the case passes here."""


def rest_skip_reason(case: RestTestCase) -> str | None:
    """Why ``case`` is not run (the QTT skip rules, and protobuf query output), or None."""
    return skip_reason(case.as_qtt()) or (PROTO_OUTPUT_SKIP if case.proto_output else None)


def _replace_topic(value: Any, unique: str) -> Any:
    if isinstance(value, str):
        return value.replace(_TOPIC_PLACEHOLDER, unique)
    if isinstance(value, list):
        return [_replace_topic(v, unique) for v in value]
    if isinstance(value, dict):
        return {k: _replace_topic(v, unique) for k, v in value.items()}
    return value


def with_unique_topics(case: RestTestCase, suffix: str | None = None) -> RestTestCase:
    """``case`` with every ``test_topic`` in its statements, topics, records and responses made unique
    (``test_topic_<suffix>``, 8 random hex digits by default)."""
    unique = f"{_TOPIC_PLACEHOLDER}_{suffix or uuid.uuid4().hex[:8]}"

    def records(specs: Sequence[RecordSpec]) -> tuple[RecordSpec, ...]:
        return tuple(dataclasses.replace(r, topic=_replace_topic(r.topic, unique)) for r in specs)

    return dataclasses.replace(
        case,
        statements=tuple(_replace_topic(s, unique) for s in case.statements),
        topics=tuple(dataclasses.replace(t, name=_replace_topic(t.name, unique)) for t in case.topics),
        inputs=records(case.inputs),
        outputs=records(case.outputs),
        responses=tuple(_replace_topic(dict(r), unique) for r in case.responses),
    )


class _RestRun:
    """One case's run over one transport."""

    def __init__(self, case: RestTestCase, transport: Transport) -> None:
        self.case = case
        self.transport = transport
        self.properties = dict(case.properties)
        self.exact_decimals = (
            str(self.properties.get("use.exact.numeric.comparison", "true")).lower() != "false"
        )

    # -- checks of the case itself ---------------------------------------------------------------------------
    def _validate(self) -> None:
        queries = len(self.case.queries)
        first_query = len(self.case.statements) - queries
        for index in range(first_query, len(self.case.statements)):
            if not self.case.statements[index].startswith("SELECT "):
                raise CaseFailure(
                    "Invalid test case: a statement follows queries",
                    f"statement {index} follows queries, but is not a query. "
                    "All queries should be at the end of the statement list",
                )
        expected = sum(1 for r in self.case.responses if "queryProto" not in r)
        if len(self.case.statements) < expected:
            raise CaseFailure(
                "Invalid test case: more expected responses than statements",
                f"statementCount: {len(self.case.statements)}\nresponsesCount: {expected}",
            )
        if self.case.wait_for_active_push_query and queries > 1:
            raise CaseFailure("Can only have one query when using inputConditions")

    # -- errors ----------------------------------------------------------------------------------------------
    def _handle_error(self, error: ErrorResponse) -> None:
        """An error response: the case fails unless it expects exactly this error."""
        expected = self.case.expected_error
        if expected is None:
            raise CaseFailure(
                f"Server failed to execute statement: {first_line(error.message)}",
                f"statement: {error.statement_text or ''}\nreason: {error.describe()}",
            )
        problem = error_mismatch(error, expected, self.case.statements[-1])
        if problem is not None:
            raise CaseFailure(
                f"Expected error mismatch: {first_line(error.message)}",
                f"{problem}\nexpected: {expected.describe()}\nactual: {error.describe()}",
            )

    # -- records ---------------------------------------------------------------------------------------------
    def _serdes(self, topic: str) -> TopicSerdes:
        sources = self.transport.engine.catalog.sources_on_topic(topic)
        if not sources:
            raise CaseFailure("No information found for topic", f"No information found for topic: {topic}")
        return TopicSerdes(sources[0], exact_decimals=self.exact_decimals)

    def _produce(self) -> None:
        """Every input record, topic by topic in file order, serialised with the topic's serdes."""
        by_topic: dict[str, list[RecordSpec]] = {}
        for record in self.case.inputs:
            by_topic.setdefault(record.topic, []).append(record)
        for topic, records in by_topic.items():
            serdes = self._serdes(topic)
            raw = [
                engine_io.RawRecord(
                    serdes.serialize_key(r.key, r.window),
                    serdes.serialize_value(r.value),
                    r.timestamp or 0,
                    tuple((h.key, h.value) for h in r.headers) if r.headers is not None else None,
                )
                for r in records
            ]
            engine_io.append_raw(self.transport.engine, topic, raw, serdes.source, kafka_partitioning=True)

    def _verify_outputs(self) -> None:
        wanted: dict[str, int] = {}
        for record in self.case.outputs:
            wanted[record.topic] = wanted.get(record.topic, 0) + 1
        actual: dict[str, list[ActualRecord]] = {}
        for topic, count in wanted.items():
            try:
                actual[topic] = self.transport.records(topic, self._serdes(topic), count)
            except SerdeFailure as e:
                raise CaseFailure(first_line(str(e)), str(e)) from None
        try:
            verify_rest_outputs(self.case.outputs, actual)
        except ResponseMismatch as e:
            raise CaseFailure(f"output differs: {str(e).split(':', 1)[0]}", str(e)) from None

    # -- the run ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the case.

        Raises:
            CaseFailure: the outcome differs from the expectations.
        """
        case = self.case
        self._validate()
        try:
            statements = _parsed(case.admin_statements)
        except HeadwaterError:
            statements = []
        engine_io.create_declared_topics(
            self.transport.engine, statements, case.topics, default_partitions=RQTT_DEFAULT_PARTITIONS
        )
        admin: list[ActualResponse] = []
        if case.admin_statements:
            result = self.transport.ksql("\n".join(case.admin_statements), self.properties)
            if isinstance(result, ErrorResponse):
                self._handle_error(result)
                return
            admin = [("admin", entity) for entity in result]
        if not case.wait_for_active_push_query:
            self._produce()
        if case.expected_error is None and len(case.responses) > len(case.admin_statements):
            self.transport.settle()
        queries: list[ActualResponse] = []
        for index, text in enumerate(case.queries):
            produce_after_header = self._produce if case.wait_for_active_push_query and index == 0 else None
            result = self.transport.query(text, self.properties, on_header=produce_after_header)
            if isinstance(result, ErrorResponse):
                self._handle_error(result)
                continue
            queries.append(("query", result))
        if case.expected_error is not None and queries:
            # only rows returned by a query fail a case expecting an error: RestTestExecutor does not
            # check that an error came (a case of admin statements that all succeed passes on)
            raise CaseFailure(
                "Expected last statement to return an error",
                f"Expected last statement to return an error: {case.expected_error.describe()}",
            )
        self._verify_outputs()
        try:
            verify_responses([*admin, *queries], case.responses, verify_order=case.verify_order)
        except ResponseMismatch as e:
            raise CaseFailure(f"response differs: {_response_summary(str(e))}", str(e)) from None


def _response_summary(message: str) -> str:
    """The grouping line of a response mismatch: where it is (indexes left out), without the values.

    Example:
        >>> _response_summary("Response mismatch at responses[2]->query[0]->header->schema: expected x")
        'responses->query->header->schema'
    """
    first = first_line(message)
    if first.startswith("Response mismatch at "):
        return re.sub(r"\[\d+\]", "", first[len("Response mismatch at ") :].split(":", 1)[0])
    return first.split(":", 1)[0]


def _parsed(texts: Sequence[str]) -> list[ast.Statement]:
    """The statements of ``texts`` parsed as one script (for the topics they declare).

    Raises:
        HeadwaterError: the script does not parse.
    """
    from headwater.parser import parse

    return list(parse("\n".join(texts)))


def run_rest_case(
    case: RestTestCase,
    transport_factory: TransportFactory,
    *,
    timeout: float | None = None,
    unique_topics: bool = True,
) -> CaseResult:
    """Run one expanded RQTT case and say how it went (never raises for a problem of the case itself).

    Args:
        case: the case.
        transport_factory: makes the transport for the case (engine API or HTTP).
        timeout: seconds before the case is stopped and reported as an error.
        unique_topics: replace ``test_topic`` with a unique name first (as ksqlDB's harness does).
    """
    started = time.perf_counter()

    def result(status: Status, reason: str = "") -> CaseResult:
        return CaseResult(
            case.file, case.test, case.name, status, reason, round(time.perf_counter() - started, 4)
        )

    reason = rest_skip_reason(case)
    if reason is not None:
        return result(Status.SKIP, reason)
    runnable = with_unique_topics(case) if unique_topics else case
    try:
        with time_limit(timeout), transport_factory(runnable) as transport:
            _RestRun(runnable, transport).run()
    except CaseFailure as failure:
        return result(Status.FAIL, str(failure))
    except CaseTimeout as e:
        return result(Status.ERROR, str(e))
    except Exception as e:
        return result(Status.ERROR, error_reason(e))
    return result(Status.PASS)
