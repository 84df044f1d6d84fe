"""KsqlTester scripts: splitting into tests, directives, INSERT/ASSERT semantics, expected errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.conformance.results import Status
from headwater.conformance.sql_scripts import load_scripts, run_script_test

SCRIPT = """
-- a header comment
--------------------------------------------------------------------
--@test: passes
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT, col2 STRING) WITH (kafka_topic='foo', value_format='JSON');
CREATE STREAM bar AS SELECT * FROM foo WHERE col1 > 0;
ASSERT STREAM bar (id INT KEY, col1 INT, col2 STRING) WITH (kafka_topic='BAR', value_format='JSON');

INSERT INTO foo (rowtime, id, col1, col2) VALUES (1, 1, 0, 'a');
INSERT INTO foo (rowtime, id, col1, col2) VALUES (2, 2, 5, 'b');
ASSERT VALUES bar (rowtime, id, col1) VALUES (2, 2, 5);
ASSERT VALUES foo (id, col2) VALUES (1, 'a');

--------------------------------------------------------------------
--@test: wrong value
--@expected.error: java.lang.AssertionError
--@expected.message: Expected record does not match actual
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='JSON');
CREATE STREAM bar AS SELECT * FROM foo;
INSERT INTO foo (id, col1) VALUES (1, 1);
ASSERT VALUES bar (id, col1) VALUES (1, 2);

--------------------------------------------------------------------
--@test: no more records
--@expected.error: java.lang.AssertionError
--@expected.message: Expected another record
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='JSON');
CREATE STREAM bar AS SELECT * FROM foo;
ASSERT VALUES bar (id, col1) VALUES (1, 2);

--------------------------------------------------------------------
--@test: wrong topic
--@expected.error: io.confluent.ksql.util.KsqlException
--@expected.message: Expected kafka topic does not match actual for source BAR
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='JSON');
CREATE STREAM bar AS SELECT * FROM foo;
ASSERT STREAM bar (id INT KEY, col1 INT) WITH (kafka_topic='BAZ', value_format='JSON');

--------------------------------------------------------------------
--@test: expected but not thrown
--@expected.error: io.confluent.ksql.util.KsqlException
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='JSON');

--------------------------------------------------------------------
--@test: unexpected error
--------------------------------------------------------------------
CREATE STREAM bar AS SELECT * FROM missing;

--------------------------------------------------------------------
--@test: needs avro
--------------------------------------------------------------------
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='AVRO');
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    directory = tmp_path / "scripts"
    directory.mkdir()
    path = directory / "demo.sql"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_tests_and_directives_are_split_out(script: Path) -> None:
    tests = load_scripts([script.parent])
    assert [t.test for t in tests] == [
        "passes",
        "wrong value",
        "no more records",
        "wrong topic",
        "expected but not thrown",
        "unexpected error",
        "needs avro",
    ]
    assert tests[0].name == "(scripts/demo.sql) passes" and tests[0].file == "scripts/demo.sql"
    assert tests[1].expected_error == "java.lang.AssertionError"
    assert tests[1].expected_message == "Expected record does not match actual"
    assert tests[0].expected_error is None


def test_outcomes(script: Path, tmp_path: Path) -> None:
    results = {t.test: run_script_test(t, timeout=60, work_dir=tmp_path) for t in load_scripts([script])}
    assert results["passes"].status is Status.PASS, results["passes"].reason
    assert results["wrong value"].status is Status.PASS
    assert results["no more records"].status is Status.PASS
    assert results["wrong topic"].status is Status.PASS
    assert results["expected but not thrown"].status is Status.FAIL
    assert "Did not get expected exception" in results["expected but not thrown"].reason
    assert results["unexpected error"].status is Status.FAIL
    assert results["unexpected error"].summary.startswith("KsqlStatementException: ")
    assert (results["needs avro"].status, results["needs avro"].reason) == (Status.SKIP, "needs AVRO")


def _run_one(text: str, tmp_path: Path) -> tuple[Status, str]:
    """Run the only test of a script written to ``tmp_path``."""
    directory = tmp_path / "scripts"
    directory.mkdir(exist_ok=True)
    path = directory / "one.sql"
    path.write_text(text, encoding="utf-8")
    (test,) = load_scripts([path])
    result = run_script_test(test, timeout=60, work_dir=tmp_path)
    return result.status, result.reason


def test_run_script_runs_the_test_classpath_resource_in_its_place(tmp_path: Path) -> None:
    # /test-script.sql (ksqlDB's test resource) creates FOO and BAR AS SELECT * FROM FOO
    status, reason = _run_one(
        "--@test: run script\n"
        "RUN SCRIPT '/test-script.sql';\n"
        "INSERT INTO foo (rowtime, id, col1) VALUES (1, 1, 7);\n"
        "ASSERT VALUES bar (rowtime, id, col1) VALUES (1, 1, 7);\n",
        tmp_path,
    )
    assert status is Status.PASS, reason


def test_run_script_reads_a_file_when_no_resource_has_the_path(tmp_path: Path) -> None:
    included = tmp_path / "included.sql"
    included.write_text(
        "CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON');\n"
        "CREATE STREAM t AS SELECT id, UCASE(v) AS v FROM s;\n",
        encoding="utf-8",
    )
    status, reason = _run_one(
        f"--@test: file\nRUN SCRIPT '{included}';\n"
        "INSERT INTO s (id, v) VALUES (3, 'abc');\nASSERT VALUES t (id, v) VALUES (3, 'ABC');\n",
        tmp_path,
    )
    assert status is Status.PASS, reason
    # and the included statements are really run: a wrong expectation fails on the record
    status, reason = _run_one(
        f"--@test: file\nRUN SCRIPT '{included}';\n"
        "INSERT INTO s (id, v) VALUES (3, 'abc');\nASSERT VALUES t (id, v) VALUES (3, 'abc');\n",
        tmp_path,
    )
    assert status is Status.FAIL and "Expected record does not match actual" in reason


@pytest.mark.parametrize(
    ("contents", "summary"),
    [
        (None, "IllegalArgumentException: Could not read "),
        ("-- nothing but a comment\n", "IllegalArgumentException: Empty run script: "),
        ("CREATE STREAM;\n", "ParseFailedException: Failed to parse contents of RUN SCRIPT"),
        (
            "ASSERT VALUES s (id) VALUES (1);\n",  # test statements are not part of the product grammar
            "ParseFailedException: Failed to parse contents of RUN SCRIPT",
        ),
    ],
)
def test_run_script_failures_end_the_test(tmp_path: Path, contents: str | None, summary: str) -> None:
    included = tmp_path / "bad.sql"
    if contents is not None:
        included.write_text(contents, encoding="utf-8")
    status, reason = _run_one(f"--@test: bad\nRUN SCRIPT '{included}';\n", tmp_path)
    assert status is Status.FAIL
    assert reason.startswith(summary), reason


def test_a_format_only_named_by_an_assertion_is_not_skipped(tmp_path: Path) -> None:
    # ASSERT STREAM compares format names; nothing is serialised with AVRO, so the test runs
    status, reason = _run_one(
        "--@test: wrong key format\n"
        "--@expected.error: io.confluent.ksql.util.KsqlException\n"
        "--@expected.message: Expected key format does not match actual for source BAR\n"
        "CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', key_format='KAFKA', "
        "value_format='JSON');\n"
        "CREATE STREAM bar AS SELECT * FROM foo;\n"
        "ASSERT STREAM bar (id INT KEY, col1 INT) WITH (kafka_topic='BAR', key_format='AVRO', "
        "value_format='JSON');\n",
        tmp_path,
    )
    assert status is Status.PASS, reason
