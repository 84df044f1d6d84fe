"""Running one QTT case against a fresh Headwater engine, as ksqlDB's ``TestExecutor`` does (FORMAT.md §5).

Each case gets its own engine on a new temporary data directory, with the harness's base configuration
plus the case's properties, and a function registry holding the product's functions plus ksqlDB's
test-only ones. Then, in ksqlDB's order:

1. the statements are parsed as one script (a parse error ends the case there);
2. the topics the statements declare (``KAFKA_TOPIC`` of CREATE STREAM/TABLE with columns) are created,
   with ``PARTITIONS`` or the case's ``topics`` entry, so the CREATE statements find them;
3. the statements execute one by one; a failure is matched against ``expectedException`` (and must come
   from the last statement); persistent queries are taken from the engine in creation order;
4. every input record is serialised with the harness serdes of the source declared on its topic and
   appended to partition 0 of that topic, in file order, with its timestamp (0 if none) and headers;
5. each query, in creation order, consumes its inputs one record at a time in file order, across all its
   input topics, then drains any source topic the case did not produce to (an earlier query's sink);
6. the outputs are read back, deserialised and compared (§7); a negative case that got this far fails;
7. the post-conditions are checked (§9).

In *resumed* mode the engine is closed half-way through step 5 (after half of the input records have
been fed) and a new engine is opened on the same data directory; the queries must continue where their
committed offsets say and produce exactly what a straight run produces.

Failures that ksqlDB raises as ``RuntimeException`` (statement errors, runtime errors of queries, a
topic without a declared source, a wrong output count) are matched against the case's
``expectedException``; assertion failures (a record that differs, a post-condition) never are.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.conformance import engine_io
from headwater.conformance.comparator import ActualRecord, OutputCountMismatch, OutputMismatch, verify_outputs
from headwater.conformance.expected_errors import (
    KSQL_EXCEPTION,
    JavaException,
    mismatch_reason,
    runtime_exception,
    statement_exception,
)
from headwater.conformance.functions import test_function_registry
from headwater.conformance.model import TestCase
from headwater.conformance.pool import CaseTimeout, time_limit
from headwater.conformance.post_conditions import ObservedTopic, PostConditionFailure, check_post_conditions
from headwater.conformance.results import CaseResult, Status, error_reason, first_line
from headwater.conformance.serde import SerdeFailure, TopicSerdes
from headwater.conformance.skips import skip_reason
from headwater.errors import ExecutionError, HeadwaterError, ParseError, PlanError, StorageError
from headwater.parser import ast

__all__ = ["BASE_CONFIG", "Mode", "failed_statement_index", "run_case"]

BASE_CONFIG: Mapping[str, str] = {
    "auto.offset.reset": "earliest",
    "cache.max.bytes.buffering": "0",
    "auto.commit.interval.ms": "0",
    "ksql.service.id": "some.ksql.service.id",
    "ksql.headers.columns.enabled": "true",
}
"""ksqlDB's ``TestExecutor.BASE_CONFIG`` minus what only concerns Kafka clients (bootstrap servers, the
state directory, the schema registry URL)."""

_HARNESS_PROPERTIES = ("use.exact.numeric.comparison",)
"""Case properties that configure the harness, not the engine."""

Mode = str
"""``"straight"`` or ``"resumed"``."""


class CaseFailure(AssertionError):
    """The case's outcome differs from its expectations; ``summary`` is the first line of the reason."""

    def __init__(self, summary: str, detail: str = "") -> None:
        self.summary = summary
        self.detail = detail
        super().__init__(summary + (f"\n{detail}" if detail else ""))


class _Raised(Exception):
    """What ksqlDB would have thrown as a RuntimeException at this point (matched against the case's
    expectedException when it has one)."""

    def __init__(self, java: JavaException, summary: str) -> None:
        self.java = java
        self.summary = summary
        super().__init__(java.describe())


@dataclass(frozen=True, slots=True)
class _FeedStep:
    """One input record for one query: consume the next record of ``topic`` partition 0."""

    query_id: str
    topic: str


# --------------------------------------------------------------------------------------------------------


def failed_statement_index(error: HeadwaterError, statements: Sequence[ast.Statement]) -> int:
    """Which statement of a script an error from ``Engine.execute`` belongs to (0-based).

    The engine names it with ``statement_index`` when it can; otherwise the failing statement's text
    (``PlanError.statement``, ``ParseError.source``) is looked up among the statements, the last equal
    one winning (a repeated statement fails the second time). When nothing names it, the error is taken
    to come from the last statement, which is where a negative case expects it.
    """
    index = getattr(error, "statement_index", None)
    if isinstance(index, int) and 0 <= index < len(statements):
        return index
    text = getattr(error, "statement", None) or getattr(error, "source", None)
    if isinstance(text, str) and text.strip():
        wanted = text.strip().rstrip(";").strip()
        for position in range(len(statements) - 1, -1, -1):
            if statements[position].text.strip() == wanted:
                return position
    return len(statements) - 1


def _category(error: HeadwaterError) -> str:
    """The error's category in headwater.errors (ParseError, PlanError...), not its own subclass."""
    for category in (ParseError, PlanError, ExecutionError, StorageError):
        if isinstance(error, category):
            return category.__name__
    return type(error).__name__


class _CaseRun:
    """The state of one case's run: its engine, data directory, queries and what has been fed."""

    def __init__(
        self, case: TestCase, data_dir: Path, mode: Mode, engine_factory: Callable[..., Any]
    ) -> None:
        self.case = case
        self.data_dir = data_dir
        self.mode = mode
        self.engine_factory = engine_factory
        self.exact_decimals = (
            str(case.properties.get("use.exact.numeric.comparison", "true")).lower() != "false"
        )
        self.config = dict(BASE_CONFIG)
        for key, value in case.properties.items():
            if key not in _HARNESS_PROPERTIES:
                self.config[key] = value if isinstance(value, str) else _config_text(value)
        self.registry = test_function_registry()
        self.script = "\n".join(case.statements)
        self.engine: Any = None
        self.production_marks: dict[str, list[dict[int, int]]] = {}
        """Per expected output topic with several partitions: its end offsets after each feeding step."""

    # -- engine lifecycle ----------------------------------------------------------------------------------

    def open_engine(self) -> None:
        """Open the engine; a configuration it refuses is what ksqlDB reports as a KsqlException."""
        try:
            self.engine = self.engine_factory(
                self.data_dir, config=self.config, background=False, function_registry=self.registry
            )
        except HeadwaterError as e:
            raise _Raised(
                JavaException(KSQL_EXCEPTION, str(e)), f"{_category(e)}: {first_line(str(e))}"
            ) from None

    def close_engine(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            engine.close()

    # -- the steps -----------------------------------------------------------------------------------------

    def run(self) -> str:
        """Run the case; return the digest of the topics' contents on success.

        Raises:
            CaseFailure: the outcome differs from the expectations.
        """
        expected = self.case.expected_exception
        try:
            statements = self._parse()
            self.open_engine()
            self._create_declared_topics(statements)
            query_ids = self._execute(statements)
            if expected is not None and not self.case.inputs:
                raise CaseFailure(
                    "expected an exception, none was thrown", f"Expected test to throw {expected.describe()}"
                )
            if not query_ids:
                raise CaseFailure("test did not generate any queries")
            self._produce_inputs()
            self._feed(query_ids)
            actual = self._read_outputs()
            try:
                verify_outputs(self.case.outputs, actual, ran_without_inputs=not self.case.inputs)
            except OutputCountMismatch as e:
                raise _Raised(JavaException(KSQL_EXCEPTION, str(e)), "output count differs") from None
            except OutputMismatch as e:
                raise CaseFailure(f"output differs: {e.what}", str(e)) from None
            if expected is not None:
                raise CaseFailure(
                    "expected an exception, none was thrown", f"Expected test to throw {expected.describe()}"
                )
            if self.case.post is not None:
                self._check_post()
            return self._digest()
        except _Raised as raised:
            if expected is None:
                raise CaseFailure(raised.summary, raised.java.describe()) from None
            problem = mismatch_reason(raised.java, expected)
            if problem:
                raise CaseFailure(
                    f"a different exception was thrown: {raised.summary}",
                    f"{problem}\nexpected: {expected.describe()}\nactual: {raised.java.describe()}",
                ) from None
            return ""
        finally:
            self.close_engine()

    def _parse(self) -> list[ast.Statement]:
        from headwater.parser import parse

        try:
            return list(parse(self.script))
        except HeadwaterError as e:
            raise _Raised(statement_exception(e), f"{_category(e)}: {first_line(str(e))}") from None

    def _create_declared_topics(self, statements: Sequence[ast.Statement]) -> None:
        engine_io.create_declared_topics(self.engine, statements, self.case.topics)

    def _execute(self, statements: Sequence[ast.Statement]) -> list[str]:
        """Execute the joined script in one call; return the persistent queries' ids in creation order.

        ksqlDB's harness parses the script once and plans each statement from that parse (FORMAT.md
        §5.3), so the positions in its messages ("Line: 2, Col: 13: ...") count from the start of the
        script. Handing the engine the whole script lets it do the same.
        """
        last = len(statements) - 1
        try:
            self.engine.execute(self.script)
        except HeadwaterError as e:
            java = statement_exception(e)
            summary = f"{_category(e)}: {first_line(str(e))}"
            index = failed_statement_index(e, statements)
            if self.case.expected_exception is not None and index != last:
                raise CaseFailure(
                    "Only the last statement in a negative test should fail.",
                    f"statement {index + 1} of {last + 1} failed: {java.describe()}",
                ) from None
            raise _Raised(java, summary) from None
        return [q.query_id for q in self.engine.persistent_queries()]

    def _serdes_for(self, topic: str) -> TopicSerdes:
        sources = self.engine.catalog.sources_on_topic(topic)
        if not sources:
            raise _Raised(
                JavaException(KSQL_EXCEPTION, f"No information found for topic: {topic}"),
                "No information found for topic",
            )
        return TopicSerdes(sources[0], exact_decimals=self.exact_decimals)

    def _produce_inputs(self) -> None:
        rows: dict[str, list[engine_io.RawRecord]] = {}
        for record in self.case.inputs:
            serdes = self._serdes_for(record.topic)
            key = serdes.serialize_key(record.key, record.window)
            value = serdes.serialize_value(record.value)
            headers = tuple((h.key, h.value) for h in record.headers) if record.headers is not None else None
            rows.setdefault(record.topic, []).append(
                engine_io.RawRecord(key, value, record.timestamp or 0, headers)
            )
        for topic, records in rows.items():
            engine_io.append_raw(self.engine, topic, records, self._serdes_for(topic).source)

    def _feed_plan(self, query_ids: Sequence[str]) -> list[tuple[str, list[_FeedStep], list[str]]]:
        """Per query: the input records to feed one by one, then the other source topics to drain."""
        input_topics = {r.topic for r in self.case.inputs}
        queries = {q.query_id: q for q in self.engine.persistent_queries()}
        plan = []
        for query_id in query_ids:
            sources = set(queries[query_id].source_topics)
            steps = [_FeedStep(query_id, r.topic) for r in self.case.inputs if r.topic in sources]
            drains = sorted(sources - input_topics)
            plan.append((query_id, steps, drains))
        return plan

    def _feed(self, query_ids: Sequence[str]) -> None:
        plan = self._feed_plan(query_ids)
        total_steps = sum(len(steps) for _, steps, _ in plan)
        restart_after = total_steps // 2 if self.mode == "resumed" else None
        fed = 0
        for query_id, steps, drains in plan:
            for step in steps:
                if restart_after is not None and fed == restart_after:
                    self._restart()
                    restart_after = None
                self._process(query_id, step.topic, 0)
                fed += 1
            if restart_after is not None and fed == restart_after and total_steps == 0:
                self._restart()
                restart_after = None
            for topic in drains:
                for partition in range(engine_io.partition_count(self.engine, topic) or 0):
                    while self._process(query_id, topic, partition):
                        pass
        if restart_after is not None:
            self._restart()

    def _restart(self) -> None:
        """Close the engine and open a new one on the same data directory (resumed mode)."""
        self.close_engine()
        self.open_engine()

    def _process(self, query_id: str, topic: str, partition: int) -> int:
        query = next((q for q in self.engine.persistent_queries() if q.query_id == query_id), None)
        if query is None:
            raise CaseFailure(
                "query lost on restart", f"query {query_id} is not among the engine's persistent queries"
            )
        try:
            processed = int(query.process(topic, partition, max_records=1))
        except HeadwaterError as e:
            java = runtime_exception(e, topic=topic, partition=partition, offset=None)
            raise _Raised(java, f"runtime {_category(e)}: {first_line(str(e))}") from None
        self._mark_production()
        return processed

    def _mark_production(self) -> None:
        """Note the end offsets of the expected output topics with several partitions after a step, so
        that their records can be read back in the order they were produced (one record fed per step)."""
        for name in dict.fromkeys(r.topic for r in self.case.outputs):
            if self.engine.log.has_topic(name):
                ends = self.engine.log.topic(name).end_offsets()
                if len(ends) > 1:
                    self.production_marks.setdefault(name, []).append(dict(ends))

    def _read_outputs(self) -> dict[str, list[ActualRecord]]:
        actual: dict[str, list[ActualRecord]] = {}
        for topic in dict.fromkeys(r.topic for r in self.case.outputs):
            serdes = self._serdes_for(topic)
            try:
                actual[topic] = engine_io.read_records(
                    self.engine, topic, serdes, production_marks=self.production_marks.get(topic, ())
                )
            except SerdeFailure as e:
                raise CaseFailure(first_line(str(e)), str(e)) from None
        return actual

    def _observed_topics(self) -> dict[str, ObservedTopic]:
        observed = {}
        for name in engine_io.topic_names(self.engine):
            sources = self.engine.catalog.sources_on_topic(name)
            source = sources[0] if sources else None
            observed[name] = ObservedTopic(
                name=name,
                partitions=engine_io.partition_count(self.engine, name),
                key_format=source.key_format if source else None,
                value_format=source.value_format if source else None,
                window=source.window if source else None,
            )
        return observed

    def _check_post(self) -> None:
        assert self.case.post is not None
        try:
            check_post_conditions(self.case.post, self.engine.catalog.sources(), self._observed_topics())
        except PostConditionFailure as e:
            raise CaseFailure(f"post condition: {e.what}", str(e)) from None

    def _digest(self) -> str:
        """A fingerprint of every record in the case's input topics and its queries' sink topics, as the
        harness deserialises them (two runs that agree here wrote the same records in the same order)."""
        digest = hashlib.sha256()
        topics = {r.topic for r in self.case.inputs} | {
            q.sink_topic for q in self.engine.persistent_queries()
        }
        for name in sorted(topics):
            sources = self.engine.catalog.sources_on_topic(name)
            if not sources:
                continue
            try:
                records = engine_io.read_records(
                    self.engine, name, TopicSerdes(sources[0], exact_decimals=True)
                )
            except SerdeFailure as e:
                records = [ActualRecord(key=str(e), value=None, timestamp=0)]
            digest.update(name.encode())
            for record in records:
                digest.update(repr(record).encode())
        return digest.hexdigest()


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _default_engine_factory(*args: Any, **kwargs: Any) -> Any:
    from headwater.engine import Engine

    return Engine(*args, **kwargs)


def run_case(
    case: TestCase,
    *,
    mode: Mode = "straight",
    timeout: float | None = None,
    work_dir: Path | None = None,
    engine_factory: Callable[..., Any] | None = None,
) -> CaseResult:
    """Run one expanded case and say how it went (never raises for a problem of the case itself).

    Args:
        case: the case.
        mode: ``"straight"``, or ``"resumed"`` to restart the engine half-way through the inputs.
        timeout: seconds before the case is stopped and reported as an error.
        work_dir: where the temporary data directory is made (the system's temp dir by default).
        engine_factory: builds the engine (``Engine`` by default); tests pass their own.
    """
    started = time.perf_counter()

    def result(status: Status, reason: str = "", digest: str | None = None) -> CaseResult:
        return CaseResult(
            case.file, case.test, case.name, status, reason, round(time.perf_counter() - started, 4), digest
        )

    reason = skip_reason(case)
    if reason is not None:
        return result(Status.SKIP, reason)
    factory = engine_factory or _default_engine_factory
    with tempfile.TemporaryDirectory(prefix="hw-qtt-", dir=work_dir) as tmp:
        try:
            with time_limit(timeout):
                run = _CaseRun(case, Path(tmp), mode, factory)
                digest = run.run()
        except CaseFailure as failure:
            return result(Status.FAIL, str(failure))
        except CaseTimeout as e:
            return result(Status.ERROR, str(e))
        except Exception as e:
            return result(Status.ERROR, error_reason(e))
    return result(Status.PASS, "", digest or None)
