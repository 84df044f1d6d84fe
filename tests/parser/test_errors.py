"""ParseError: position, offending token, expected tokens, caret, and ksqlDB's message texts."""

from __future__ import annotations

import pytest

from headwater.errors import HeadwaterError, ParseError
from headwater.parser import parse, parse_expression, parse_statement, parse_type


def _error(text: str, **options: object) -> ParseError:
    with pytest.raises(ParseError) as raised:
        parse(text, **options)  # type: ignore[arg-type]
    return raised.value


# ------------------------------------------------------------------------------------------------------
# Syntax errors


def test_syntax_error_reports_line_column_token_expected_and_caret() -> None:
    error = _error("SELECT * FROM S1 ORDER BY MYKEY DESC;")
    assert (error.line, error.column, error.token) == (1, 24, "BY")
    assert "'EMIT'" in error.expected and "'WHERE'" in error.expected and "<EOF>" in error.expected
    assert str(error).startswith("line 1:24: Syntax Error\nmismatched input 'BY' expecting {")
    assert str(error).endswith("SELECT * FROM S1 ORDER BY MYKEY DESC;\n" + " " * 23 + "^")
    assert isinstance(error, HeadwaterError) and isinstance(error, ValueError)


def test_missing_token_is_named_as_ksqldb_names_it() -> None:
    script = (
        "CREATE STREAM TEST (ID INT KEY, f1 INT, f2 VARCHAR, f3 INT) WITH (kafka_topic='t', value_format='JSON');\n"
        "CREATE TABLE OUTPUT AS SELECT f1, f2, COUNT(*) FROM TEST GROUP BY f3, (f2, f1);"
    )
    assert "line 2:74: Syntax Error\nmissing ')' at ','" in str(_error(script))


def test_error_on_the_second_line_counts_lines_of_the_whole_script() -> None:
    error = _error("SHOW STREAMS;\n\n  SELECT * FROM riderLocations LIMIT heh;")
    assert (error.line, error.column, error.token) == (3, 38, "heh")
    assert error.source_line == "  SELECT * FROM riderLocations LIMIT heh;"


@pytest.mark.parametrize(
    "text",
    [
        "CREATE STREAM OUTPUT AS SELECT * FROM INPUT WHERE ID IN ( );",
        "CREATE STREAM INPUT (ROWKEY INT KEY, COL0 NULL) WITH (kafka_topic='t', value_format='JSON');",
        "CREATE STREAM INPUT (ID INT KEY, COL0 ARRAY<NULL>) WITH (kafka_topic='t', value_format='JSON');",
        "CREATE STREAM INPUT (ID INT KEY, COL0 MAP<STRING, NULL>) WITH (kafka_topic='t', value_format='JSON');",
        "CREATE STREAM INPUT (ID INT KEY, COL0 STRUCT<fo NULL>) WITH (kafka_topic='t', value_format='JSON');",
        "CREATE STREAM OUTPUT AS select * from INPUT partition by NAME AND AGE;",
        "CREATE TABLE OUTPUT AS SELECT COUNT(*) FROM TEST GROUP BY DATA AND ID;",
        "CREATE STREAM OUTPUT AS SELECT * FROM EXPLODE(MY_ARR);",
        "SELECT TRANSFORM(x => x) FROM s;",  # a lambda cannot be the first argument
        "SELECT F(x => 1, y) FROM s;",  # nor be followed by an ordinary one
        "INSERT INTO s () VALUES ();",
        "SELECT * FROM s WHERE a IS NULL IS NULL;",
        "SELECT a = b = c FROM s;",
        "SELECT * FROM s LIMIT 1 EMIT CHANGES;",
        "CREATE STREAM s (a INT) AS SELECT * FROM t;",
        "CREATE SOURCE STREAM s AS SELECT * FROM t;",
        "SELECT * FROM s WINDOW TUMBLING (SIZE 1 YEAR);",
        "DROP STREAM;",
        "SELECT;",
    ],
)
def test_syntax_errors(text: str) -> None:
    assert _error(text).message.startswith("Syntax Error\n")


def test_error_at_end_of_input_points_after_the_last_token() -> None:
    error = _error("SELECT * FROM  ")
    assert (error.line, error.column, error.token) == (1, 14, "")
    assert "mismatched input <EOF>" in error.message


def test_error_at_the_closing_semicolon_names_it() -> None:
    error = _error("SELECT * FROM s WHERE;")
    assert (error.column, error.token) == (22, ";")
    assert "mismatched input ';'" in error.message


def test_extraneous_token_and_reserved_keyword_messages() -> None:
    assert "extraneous input ')'" in _error("SELECT a FROM s WHERE (a > 1));").message
    reserved = _error("CREATE STREAM s (id INT KEY, by BYTES) WITH (kafka_topic='t', value_format='JSON');")
    assert '"by" is a reserved keyword and it can\'t be used as an identifier.' in reserved.message
    assert reserved.column == 30


def test_empty_statement_is_an_error() -> None:
    error = _error("SHOW STREAMS;;")
    assert (error.line, error.column, error.token) == (1, 14, ";")


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("SELECT 'abc FROM s;", "unterminated string literal", 8),
        ('SELECT "abc FROM s;', "unterminated quoted identifier", 8),
        ("SELECT a FROM s /* never closed", "unterminated comment", 17),
        ("SELECT a ? b FROM s;", "unexpected character '?'", 10),
        ("SELECT a | b FROM s;", "unexpected character '|'", 10),
    ],
)
def test_lexical_errors(text: str, fragment: str, column: int) -> None:
    error = _error(text)
    assert fragment in error.message
    assert (error.line, error.column) == (1, column)


def test_test_statements_need_to_be_enabled() -> None:
    for text in ("ASSERT VALUES s (a) VALUES (1);", "RUN SCRIPT 'x.sql';", "ASSERT NULL VALUES s KEY (1);"):
        assert _error(text).message.startswith("Syntax Error")
        assert parse(text, allow_test_statements=True)


# ------------------------------------------------------------------------------------------------------
# Checks ksqlDB makes while building its tree, with its messages


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "CREATE TABLE INPUT (ID INT KEY, NAME STRING) WITH (kafka_topic='input',value_format='JSON');",
            "Line: 1, Col: 21: Column `ID` is a 'KEY' column: please use 'PRIMARY KEY' for tables.",
        ),
        (
            "CREATE STREAM INPUT (ID INT PRIMARY KEY, NAME STRING) WITH (kafka_topic='input',value_format='JSON');",
            "Line: 1, Col: 22: Column `ID` is a 'PRIMARY KEY' column: please use 'KEY' for streams.",
        ),
        (
            "CREATE STREAM INPUT (K STRING KEY, ID bigint) WITH (kafka_topic='input', value_format='DELIMITED');\n"
            "CREATE STREAM OUTPUT AS select K, id, 9223372036854775808 FROM INPUT;",
            "Failed to prepare statement: line 2:40: Invalid numeric literal: 9223372036854775808",
        ),
        (
            "CREATE STREAM OUTPUT AS select K, id, -9223372036854775809 FROM INPUT;",
            "Invalid numeric literal: -9223372036854775809",
        ),
        (
            "CREATE STREAM INPUT (K STRING KEY, ID bigint) WITH (kafka_topic='input', value_format='DELIMITED');\n"
            "CREATE STREAM OUTPUT AS select K, id, 1.7976931348623159E308 FROM INPUT;",
            "Failed to prepare statement: line 2:40: Number overflows DOUBLE: 1.7976931348623159E308",
        ),
        (
            "CREATE STREAM OUTPUT AS select K, id, -1.7976931348623160E308 FROM INPUT;",
            "Number overflows DOUBLE: -1.7976931348623160E308",
        ),
        (
            "CREATE TABLE TEST (K STRING PRIMARY KEY, ID bigint) WITH (kafka_topic='t', value_format='DELIMITED', "
            "WINDOW_TYPE='Hopping', WINDOW_SIZE='30 bobs');",
            "Configuration WINDOW_SIZE is invalid: Invalid duration: '30 bobs'. Unknown time unit: 'BOBS'",
        ),
        (
            "CREATE TABLE TEST (K STRING PRIMARY KEY, ID bigint) WITH (kafka_topic='t', value_format='DELIMITED', "
            "WINDOW_TYPE='Session', WINDOW_SIZE='30 seconds');",
            "'WINDOW_SIZE' should not be set for SESSION windows.",
        ),
        (
            "CREATE TABLE T (K STRING PRIMARY KEY) WITH (kafka_topic='t', value_format='JSON', WINDOW_TYPE='tumbling');",
            "TUMBLING windows require 'WINDOW_SIZE' to be provided in the WITH clause.",
        ),
        (
            "CREATE TABLE T (K STRING PRIMARY KEY) WITH (kafka_topic='t', value_format='JSON', WINDOW_TYPE='daily');",
            "Invalid value daily for property WINDOW_TYPE: String must be one of: SESSION, HOPPING, TUMBLING",
        ),
        (
            "CREATE STREAM OUTPUT as SELECT K, unknown.* FROM INPUT i;",
            "Failed to prepare statement: 'UNKNOWN' is not a valid stream/table name or alias.",
        ),
        (
            "CREATE TABLE output AS SELECT id1, f2 FROM left_table JOIN right_table ON id = unknown.id;",
            "Failed to prepare statement: 'UNKNOWN' is not a valid stream/table name or alias.",
        ),
        (
            "INSERT INTO TEST (K, ID) VALUES (FOO.bar, '10');",
            "Failed to prepare statement: 'FOO' is not a valid stream/table name or alias.",
        ),
        (
            "INSERT INTO TEST (K, ID) VALUES ('10');",
            "Failed to prepare statement: Expected number columns and values to match: 2, 1",
        ),
        (
            "SELECT * FROM riderLocations LIMIT 2.5;",
            "Failed to prepare statement: Value must be integer for command: LIMIT",
        ),
        ("PRINT 't' INTERVAL 1.5;", "Value must be integer for command: INTERVAL"),
        (
            "CREATE STREAM s (d DECIMAL(2.5, 1)) WITH (kafka_topic='t');",
            "Value must be integer for command: DECIMAL(PRECISION)",
        ),
        (
            "CREATE STREAM s (d DECIMAL(2, 3)) WITH (kafka_topic='t');",
            "DECIMAL scale must be between 0 and the precision",
        ),
        ("CREATE TYPE T AS STRUCT<a INT, A STRING>;", "Duplicate field names found in STRUCT: 'A'"),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic='t', value_format='JSON', foo='bar');",
            "Failed to prepare statement: Invalid config variable(s) in the WITH clause: FOO",
        ),
        (
            "CREATE STREAM s (a INT) WITH (value_format='JSON');",
            'Missing required property "KAFKA_TOPIC" which has no default value.',
        ),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic='t', format='JSON', value_format='JSON');",
            "Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats.",
        ),
        (
            "CREATE STREAM s AS SELECT * FROM t WITH;",
            "Syntax Error",
        ),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic=5, value_format='JSON');",
            "Invalid value 5 for property KAFKA_TOPIC: Expected value to be a string, but it was a java.lang.Integer",
        ),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic='t', partitions='many');",
            "Invalid value many for property PARTITIONS",
        ),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic='t', kafka_topic='u');",
            "Multiple entries with same key: KAFKA_TOPIC=t and KAFKA_TOPIC=u",
        ),
        (
            "CREATE STREAM s (a INT) WITH (kafka_topic='t', timestamp_format='yyyy-bb');",
            "Invalid datetime format for config:TIMESTAMP_FORMAT, reason:Unknown pattern letter: b",
        ),
        (
            "INSERT INTO s WITH (partitions=1) SELECT * FROM t;",
            "Invalid config variable(s) in the WITH clause: PARTITIONS",
        ),
        (
            "CREATE STREAM `a.b` (x INT) WITH (kafka_topic='t');",
            "Source names may only contain alphanumeric values",
        ),
        ("SELECT TRANSFORM(a, (x, x) => x) FROM s;", "Duplicate lambda arguments are not allowed."),
        (
            "SELECT TRANSFORM(a, x => TRANSFORM(b, x => x)) FROM s;",
            "Duplicate lambda arguments are not allowed.",
        ),
        ("SELECT TRANSFORM(a, (x + 1) => x) FROM s;", "Syntax Error\nmismatched input '=>'"),
        ("SELECT * FROM s WHERE a LIKE 'x' ESCAPE 'ab';", "Expected single character escape but got: ab"),
        ("SELECT DATE '2020-01-01' FROM s;", "Failed to prepare statement: Unknown type: DATE"),
        ("SELECT * FROM s WINDOW TUMBLING (SIZE 1.5 SECONDS);", 'For input string: "1.5"'),
        ("ASSERT SCHEMA TIMEOUT 1 SECOND;", "ASSERT SCHEMA statements much include a subject name or an id"),
    ],
)
def test_ksqldb_parse_time_checks(text: str, message: str) -> None:
    assert message in str(_error(text))


def test_check_errors_point_at_the_offending_construct() -> None:
    error = _error("SELECT a, x.b FROM s WHERE c = 1;")
    assert (error.line, error.column) == (1, 11)
    error = _error("CREATE STREAM s (a INT) WITH (kafka_topic='t', nope=1);")
    assert (error.line, error.column) == (1, 48)
    error = _error("SHOW TOPICS;\nSELECT 99999999999999999999 FROM s;")
    assert (error.line, error.column) == (2, 8)


def test_decimal_typed_literal_is_the_only_type_constructor() -> None:
    (statement,) = parse("""SELECT "DECIMAL" '1.50' FROM s;""")
    assert "1.50" in str(statement.query.select[0].expression)  # type: ignore[attr-defined]


def test_unresolved_variables_are_errors_where_they_stand() -> None:
    assert "Illegal argument at Line: 1, Col: 15" in str(
        _error("CREATE STREAM ${name} (a INT) WITH (kafka_topic='t');")
    )
    assert "Illegal argument at Line: 1, Col: 59." in str(
        _error("CREATE STREAM s (a INT) WITH (kafka_topic='t', partitions=${n});")
    )


def test_parse_statement_wants_exactly_one() -> None:
    with pytest.raises(ParseError, match="Expected exactly one statement, found 2"):
        parse_statement("SHOW STREAMS; SHOW TABLES;")
    with pytest.raises(ParseError, match="found 0"):
        parse_statement("-- nothing")


def test_expression_and_type_errors() -> None:
    with pytest.raises(ParseError) as raised:
        parse_expression("a + ")
    assert raised.value.column == 4 or raised.value.column == 5
    with pytest.raises(ParseError):
        parse_expression("a; b")
    with pytest.raises(ParseError) as raised:
        parse_type("MAP<STRING>")
    assert raised.value.token == ">"
