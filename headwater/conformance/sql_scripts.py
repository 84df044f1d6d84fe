"""KsqlTester SQL scripts (ksqlDB's ``sql-tests``; FORMAT.md appendix B).

A script holds tests, each starting with a ``--@test: name`` comment, optionally followed by
``--@expected.error: <Java class>`` and ``--@expected.message: <substring>`` directives. A test runs its
statements in order on a fresh engine, as ksqlDB's ``KsqlTesterTest`` does:

* ``INSERT INTO ... VALUES`` writes one record, which then flows through every persistent query at once
  (the queries are driven until none has anything left to read); a query sees only records written
  after it was created, as ksqlDB's test pipeline only pipes new records to a new query's driver;
* ``SET`` / ``UNSET`` change the properties of the statements that follow;
* ``ASSERT VALUES source (columns) VALUES (...)`` reads the next record of the source's topic (one read
  position per topic) and compares the listed columns, and the timestamp when ``ROWTIME`` is listed;
  ``ASSERT NULL VALUES source (columns) KEY (...)`` expects a tombstone with that key. The expected
  values are built by the product's own INSERT VALUES on a scratch engine, so literals are typed and
  converted exactly as an INSERT would convert them;
* ``ASSERT STREAM|TABLE name (columns) WITH (...)`` compares the source's schema, type, topic, key and
  value formats, value serde features and timestamp column and format, failing with ksqlDB's
  ``Expected <property> does not match actual for source <name>.``;
* ``RUN SCRIPT 'path'`` runs the statements of another file in its place, as ksqlDB's ``SqlTestReader``
  does: the path names a resource of ksqlDB's test classpath first (here ``resources/`` next to this
  module, which holds the test jar's ``test-script.sql``), else a file; the file is parsed with the
  product grammar (no test statements), and an unreadable, unparsable or empty file fails the test;
* anything else is executed as a statement.

The first exception ends the test: it passes if the directives expected it (class by ``instanceof``,
message by substring) and fails otherwise; a test that expected an exception and got none fails.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.conformance.expected_errors import (
    KSQL_EXCEPTION,
    PARSE_FAILED,
    JavaException,
    is_instance,
    runtime_exception,
    statement_exception,
)
from headwater.conformance.functions import test_function_registry
from headwater.conformance.pool import CaseTimeout, run_cases, time_limit
from headwater.conformance.results import CaseResult, Status, error_reason
from headwater.conformance.skips import UNSUPPORTED_FORMATS
from headwater.engine.catalog import DataSource
from headwater.engine.schema import ROWTIME, Column, LogicalSchema, Namespace, format_type, quote
from headwater.errors import HeadwaterError, ParseError
from headwater.parser import ast

__all__ = ["ScriptTest", "load_scripts", "run_script_test", "run_scripts"]

_RESOURCES = Path(__file__).with_name("resources")
"""ksqlDB's test classpath: the files a ``RUN SCRIPT`` path names before it names a file on disk."""
_ILLEGAL_ARGUMENT = "java.lang.IllegalArgumentException"
_TEST_HEADER = re.compile(r"^--@test:\s*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^--@(expected\.error|expected\.message):\s*(.*?)\s*$")
_ASSERTION_ERROR = "java.lang.AssertionError"
_BASE_CONFIG = {
    # ksqlDB's tester configures "earliest", but its pipeline only ever pipes records produced after a
    # query's test driver exists: a query never sees older records. "latest" gives that here.
    "auto.offset.reset": "latest",
    "cache.max.bytes.buffering": "0",
    "auto.commit.interval.ms": "0",
    "ksql.service.id": "some.ksql.service.id",
}
_FORMAT_PROPERTY = re.compile(
    r"\b(?:KEY_FORMAT|VALUE_FORMAT|FORMAT)\s*=\s*'(" + "|".join(UNSUPPORTED_FORMATS) + r")'", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ScriptTest:
    """One ``--@test:`` block of a script."""

    file: str
    test: str
    name: str
    text: str
    expected_error: str | None = None
    expected_message: str | None = None


def _parse_script(path: Path, display_file: str) -> list[ScriptTest]:
    tests: list[ScriptTest] = []
    current: dict[str, Any] | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            tests.append(
                ScriptTest(
                    file=display_file,
                    test=current["name"],
                    name=f"({display_file}) {current['name']}",
                    text="\n".join(lines),
                    expected_error=current.get("expected.error"),
                    expected_message=current.get("expected.message"),
                )
            )

    for line in path.read_text(encoding="utf-8").splitlines():
        header = _TEST_HEADER.match(line)
        if header:
            close()
            current, lines = {"name": header.group(1)}, []
            continue
        directive = _DIRECTIVE.match(line)
        if directive and current is not None:
            current[directive.group(1)] = directive.group(2)
            lines.append("")
            continue
        lines.append(line)
    close()
    return tests


def load_scripts(paths: Iterable[Path | str]) -> list[ScriptTest]:
    """Every test of the ``.sql`` scripts under ``paths`` (directories searched recursively, sorted)."""
    tests: list[ScriptTest] = []
    for raw in paths:
        root = Path(raw)
        files = sorted(root.rglob("*.sql")) if root.is_dir() else [root]
        for path in files:
            display = f"{path.parent.name}/{path.name}"
            tests.extend(_parse_script(path, display))
    return tests


# --------------------------------------------------------------------------------------------------------


class _Thrown(Exception):
    """An exception of the test, as the Java class ksqlDB would have thrown."""

    def __init__(self, java: JavaException) -> None:
        self.java = java
        super().__init__(java.describe())


def _assertion(message: str) -> _Thrown:
    return _Thrown(JavaException(_ASSERTION_ERROR, message))


def _same(a: Any, b: Any) -> bool:
    """Java ``equals`` on decoded values: decimals must also have the same scale."""
    from decimal import Decimal

    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    return (bool(a == b) and type(a) is type(b)) or (a is None and b is None)


class _ScriptRun:
    def __init__(self, test: ScriptTest, data_dir: Path) -> None:
        self.test = test
        self.data_dir = data_dir
        self.overrides: dict[str, str] = {}
        self.positions: dict[str, int] = {}
        self.registry = test_function_registry()
        self.engine: Any = None
        self.scratch: Any = None
        self.scratch_sources: dict[str, str] = {}

    def _engine(self, path: Path) -> Any:
        from headwater.engine import Engine

        return Engine(path, config=dict(_BASE_CONFIG), background=False, function_registry=self.registry)

    def run(self) -> None:
        from headwater.parser import parse

        self.engine = self._engine(self.data_dir / "engine")
        try:
            try:
                statements = parse(self.test.text, allow_test_statements=True)
            except HeadwaterError as e:
                raise _Thrown(statement_exception(e)) from None
            for statement in statements:
                self._statement(statement)
        finally:
            for engine in (self.engine, self.scratch):
                if engine is not None:
                    engine.close()

    # -- statements ------------------------------------------------------------------------------------------

    def _execute(self, text: str) -> None:
        try:
            self.engine.execute(text, properties=dict(self.overrides))
        except HeadwaterError as e:
            raise _Thrown(statement_exception(e)) from None

    def _statement(self, statement: ast.Statement) -> None:
        if isinstance(statement, ast.SetProperty):
            self.overrides[statement.name] = statement.value
        elif isinstance(statement, ast.UnsetProperty):
            self.overrides.pop(statement.name, None)
        elif isinstance(statement, ast.InsertValues):
            self._execute(statement.text)
            self._drive()
        elif isinstance(statement, ast.AssertValues | ast.AssertTombstone):
            self._assert_values(statement)
        elif isinstance(statement, ast.AssertSource):
            self._assert_source(statement)
        elif isinstance(statement, ast.RunScript):
            for included in _run_script_statements(statement.path):
                self._statement(included)
        else:
            if isinstance(statement, ast.CreateStream | ast.CreateTable):
                self._precreate_topic(statement)
            self._execute(statement.text)

    def _precreate_topic(self, statement: ast.CreateStream | ast.CreateTable) -> None:
        """ksqlDB's tester makes sure a declared topic exists before the statement runs."""
        from headwater.conformance import engine_io

        properties = {p.name.upper(): p.value for p in statement.properties}
        topic = properties.get("KAFKA_TOPIC")
        partitions = properties.get("PARTITIONS")
        if isinstance(topic, ast.StringLiteral):
            count = partitions.value if isinstance(partitions, ast.IntegerLiteral) else 1
            engine_io.create_raw_topic(self.engine, topic.value, count)

    def _drive(self) -> None:
        """Run every persistent query until none has anything left to read."""
        while True:
            progress = 0
            for query in self.engine.persistent_queries():
                try:
                    progress += int(query.process_available())
                except HeadwaterError as e:
                    raise _Thrown(
                        runtime_exception(e, topic=",".join(query.source_topics), partition=0, offset=None)
                    ) from None
            if progress == 0:
                return

    # -- ASSERT VALUES -------------------------------------------------------------------------------------

    def _source(self, name: str) -> DataSource:
        source = self.engine.catalog.source(name)
        if source is None:
            raise _Thrown(JavaException(KSQL_EXCEPTION, f"Source {name} does not exist."))
        return source

    def _expected_row(
        self, source: DataSource, columns: Sequence[str], values: Sequence[ast.Expression]
    ) -> dict[str, Any]:
        """The listed columns' values as the product's INSERT VALUES types them (on a scratch engine)."""
        from headwater.conformance import engine_io
        from headwater.parser import to_sql

        if self.scratch is None:
            self.scratch = self._engine(self.data_dir / "scratch")
        shape = f"{source.schema}"  # CREATE OR REPLACE and ALTER change a source's columns
        scratch_name = self.scratch_sources.get(shape)
        if scratch_name is None:
            scratch_name = f"EXPECTED_{len(self.scratch_sources)}"
            elements = ", ".join(
                f"{quote(c.name)} {format_type(c.type)}{' KEY' if c.is_key else ''}"
                for c in source.schema
                if not c.is_header
            )
            self.scratch.execute(
                f"CREATE STREAM {scratch_name} ({elements}) WITH (KAFKA_TOPIC='{scratch_name}', PARTITIONS=1, "
                "KEY_FORMAT='JSON', VALUE_FORMAT='JSON');"
            )
            self.scratch_sources[shape] = scratch_name
        column_list = ", ".join(quote(c) for c in columns)
        value_list = ", ".join(to_sql(v) for v in values)
        try:
            self.scratch.execute(f"INSERT INTO {scratch_name} ({column_list}) VALUES ({value_list});")
        except HeadwaterError as e:
            raise _Thrown(statement_exception(e)) from None
        scratch_source = self.scratch.catalog.source(scratch_name)
        rows = engine_io.decoded_rows(self.scratch, scratch_source)
        return rows[-1]

    def _assert_values(self, statement: ast.AssertValues | ast.AssertTombstone) -> None:
        source = self._source(statement.target)
        if isinstance(statement, ast.AssertValues):
            columns = (
                list(statement.columns)
                if statement.columns is not None
                else [c.name for c in source.schema if not c.is_header]
            )
            values = list(statement.values)
        else:
            columns = (
                list(statement.columns)
                if statement.columns is not None
                else [c.name for c in source.schema.key_columns]
            )
            values = list(statement.key_values)
        expected = self._expected_row(source, columns, values)
        if isinstance(statement, ast.AssertTombstone):
            listed_values = [
                c for c in columns if (col := source.schema.find(c)) is not None and not col.is_key
            ]
            if any(expected.get(c) is not None for c in listed_values):
                raise _assertion("Unexpected value columns specified in ASSERT NULL VALUES.")
        from headwater.conformance import engine_io

        records = engine_io.decoded_rows(self.engine, source)
        position = self.positions.get(source.topic, 0)
        if position >= len(records):
            raise _assertion(
                "Expected another record, but all records have already been read:\n"
                f"expected {self._describe(expected, columns)}"
            )
        self.positions[source.topic] = position + 1
        actual = records[position]
        compare = [c for c in columns if c.upper() != ROWTIME or ROWTIME in columns]
        mismatch = []
        for name in compare:
            key = ROWTIME if name.upper() == ROWTIME else name
            want, have = expected.get(key), actual.get(key)
            if (
                isinstance(statement, ast.AssertTombstone)
                and key not in [c.name for c in source.schema.key_columns]
                and key != ROWTIME
            ):
                continue
            if not _same(want, have):
                mismatch.append(f"{key}: expected {want!r}, actual {have!r}")
        if isinstance(statement, ast.AssertTombstone) and not actual.get("__tombstone"):
            mismatch.append("expected a tombstone, actual has a value")
        if not isinstance(statement, ast.AssertTombstone) and actual.get("__tombstone"):
            mismatch.append("expected a value, actual is a tombstone")
        if mismatch:
            raise _assertion(
                "Expected record does not match actual.\n"
                f"expected {self._describe(expected, columns)}\nactual   {self._describe(actual, columns)}\n"
                + "\n".join(mismatch)
            )

    @staticmethod
    def _describe(row: dict[str, Any], columns: Sequence[str]) -> str:
        return ", ".join(f"{c}={row.get(c)!r}" for c in columns)

    # -- ASSERT STREAM / TABLE -----------------------------------------------------------------------------

    def _assert_source(self, statement: ast.AssertSource) -> None:
        source = self._source(statement.name)
        props = {p.name.upper(): _literal(p.value) for p in statement.properties}
        config = self.engine.config.with_overrides(dict(self.overrides))
        expected_schema = LogicalSchema(tuple(_column(e) for e in statement.elements))
        expected_kind = "TABLE" if statement.kind is ast.SourceKind.TABLE else "STREAM"
        key_format = (
            props.get("KEY_FORMAT")
            or props.get("FORMAT")
            or config.get("ksql.persistence.default.format.key")
        )
        value_format = (
            props.get("VALUE_FORMAT")
            or props.get("FORMAT")
            or config.get("ksql.persistence.default.format.value")
        )
        wrap = props.get("WRAP_SINGLE_VALUE")
        features: frozenset[str] = frozenset()
        if wrap is not None:
            features = frozenset({"WRAP_SINGLES" if str(wrap).lower() == "true" else "UNWRAP_SINGLES"})
        delimiter = props.get("VALUE_DELIMITER")
        checks: list[tuple[str, Any, Any]] = [
            ("schema", expected_schema, source.schema),
            ("type", expected_kind, source.kind.value),
            ("kafka topic", props.get("KAFKA_TOPIC"), source.topic),
            ("key format", str(key_format).upper() if key_format else None, source.key_format.name.upper()),
            (
                "value format",
                str(value_format).upper() if value_format else None,
                source.value_format.name.upper(),
            ),
            (
                "delimiter",
                delimiter,
                source.value_format.get_property("delimiter") if delimiter is not None else None,
            ),
            ("value serde features", features, source.value_format.features),
            (
                "timestamp column",
                props.get("TIMESTAMP") and str(props["TIMESTAMP"]).upper(),
                source.timestamp_column,
            ),
            ("timestamp format", props.get("TIMESTAMP_FORMAT"), source.timestamp_format),
        ]
        for name, expected, actual in checks:
            if expected != actual:
                raise _Thrown(
                    JavaException(
                        KSQL_EXCEPTION,
                        f"Expected {name} does not match actual for source {source.name}.\n"
                        f"\tExpected: {expected}\n\tActual: {actual}",
                    )
                )


def _run_script_statements(path: str) -> list[ast.Statement]:
    """The statements a ``RUN SCRIPT`` stands for (ksqlDB's ``SqlTestReader.handleRunScript``).

    ksqlDB reads the path as a classpath resource when its test jar has one, else as a file, and parses
    it with the product grammar: test statements are not allowed inside.

    Raises:
        _Thrown: ``IllegalArgumentException`` when the file cannot be read or holds no statement,
            ``ParseFailedException`` when it does not parse.
    """
    from headwater.parser import parse

    resource = _RESOURCES / path.lstrip("/")
    source = resource if resource.is_file() else Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _Thrown(JavaException(_ILLEGAL_ARGUMENT, f"Could not read {path}: {e}")) from None
    try:
        statements = parse(text)
    except ParseError as e:
        raise _Thrown(
            JavaException(
                PARSE_FAILED,
                "Failed to parse contents of RUN SCRIPT",
                cause=statement_exception(e),
            )
        ) from None
    if not statements:
        raise _Thrown(JavaException(_ILLEGAL_ARGUMENT, f"Empty run script: {path}"))
    return list(statements)


def _literal(expression: ast.Expression) -> Any:
    if isinstance(expression, ast.StringLiteral | ast.IntegerLiteral | ast.BooleanLiteral):
        return expression.value
    from headwater.parser import to_sql

    return to_sql(expression)


def _column(element: ast.TableElement) -> Column:
    if element.constraint in (ast.ColumnConstraint.KEY, ast.ColumnConstraint.PRIMARY_KEY):
        return Column(element.name, element.type, Namespace.KEY)
    if element.constraint in (ast.ColumnConstraint.HEADERS, ast.ColumnConstraint.HEADER):
        return Column(element.name, element.type, Namespace.HEADERS, element.header_key)
    return Column(element.name, element.type)


# --------------------------------------------------------------------------------------------------------


def _short(java: JavaException) -> str:
    """``SimpleClassName: first line of the message``, for the summary line of a reason."""
    return f"{java.class_name.rsplit('.', 1)[-1]}: {java.message.split(chr(10), 1)[0]}"


def _skip_reason(test: ScriptTest) -> str | None:
    """``needs <FORMAT>`` when a statement that runs needs a schema-registry format.

    ``ASSERT STREAM|TABLE ... WITH (KEY_FORMAT='AVRO')`` only compares the format's name with the
    source's, so assertions are left out: such a test runs (and fails as ksqlDB's does).
    """
    from headwater.parser import parse

    try:
        statements = parse(test.text, allow_test_statements=True)
        texts = [getattr(s, "text", "") for s in statements if not isinstance(s, ast.AssertSource)]
    except ParseError:
        texts = [test.text]  # the run reports the parse error; the skip still sees every format
    for text in texts:
        match = _FORMAT_PROPERTY.search(text)
        if match:
            return f"needs {match.group(1).upper()}"
    return None


def run_script_test(
    test: ScriptTest, *, timeout: float | None = None, work_dir: Path | None = None
) -> CaseResult:
    """Run one KsqlTester test and say how it went."""
    started = time.perf_counter()

    def result(status: Status, reason: str = "") -> CaseResult:
        return CaseResult(
            test.file, test.test, test.name, status, reason, round(time.perf_counter() - started, 4)
        )

    skip = _skip_reason(test)
    if skip:
        return result(Status.SKIP, skip)
    expecting = test.expected_error is not None or test.expected_message is not None
    with tempfile.TemporaryDirectory(prefix="hw-sql-", dir=work_dir) as tmp:
        try:
            with time_limit(timeout):
                _ScriptRun(test, Path(tmp)).run()
        except _Thrown as thrown:
            java = thrown.java
            if not expecting:
                return result(Status.FAIL, f"{_short(java)}\n{java.describe()}")
            if test.expected_message is not None and test.expected_message not in java.message:
                return result(
                    Status.FAIL,
                    f"a different exception was thrown: {_short(java)}\n"
                    f"expected a message containing {test.expected_message!r}, got {java.describe()}",
                )
            if test.expected_error is not None and not is_instance(java.class_name, test.expected_error):
                return result(
                    Status.FAIL,
                    f"a different exception was thrown: {_short(java)}\n"
                    f"expected {test.expected_error}, got {java.describe()}",
                )
            return result(Status.PASS)
        except CaseTimeout as e:
            return result(Status.ERROR, str(e))
        except Exception as e:
            return result(Status.ERROR, error_reason(e))
    if expecting:
        return result(
            Status.FAIL,
            "expected an exception, none was thrown\n"
            f"Did not get expected exception of type {test.expected_error or '<any>'} "
            f"with message {test.expected_message or '<any>'}",
        )
    return result(Status.PASS)


def _run_job(job: tuple[ScriptTest, Any]) -> CaseResult:
    test, options = job
    return run_script_test(test, timeout=options.timeout, work_dir=options.work_dir)


def _describe_job(job: tuple[ScriptTest, Any]) -> tuple[str, str, str]:
    return job[0].file, job[0].test, job[0].name


def run_scripts(
    paths: Sequence[Path | str],
    options: Any,
    *,
    pattern: str | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run every KsqlTester test under ``paths`` whose name matches ``pattern``; results in file order."""
    tests = load_scripts(paths)
    if pattern:
        regex = re.compile(pattern)
        tests = [t for t in tests if regex.search(t.name)]
    jobs = [(t, options) for t in tests]
    return run_cases(
        jobs, _run_job, _describe_job, jobs=options.jobs, timeout=options.timeout, on_result=on_result
    )
