"""What the parser builds: trees, names, precedence, keywords used as names, variables, positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from headwater.parser import (
    ast,
    parse,
    parse_expression,
    parse_statement,
    parse_type,
    split_statements,
    to_sql,
)
from headwater.parser import expressions as ex
from headwater.parser import types as ty


def _query(text: str) -> ast.Query:
    statement = parse_statement(text)
    assert isinstance(statement, ast.SelectStatement | ast.CreateStreamAsSelect | ast.CreateTableAsSelect)
    return statement.query


def _select(text: str) -> list[ex.Expression]:
    return [item.expression for item in _query(text).select if isinstance(item, ast.SingleColumn)]


# ------------------------------------------------------------------------------------------------------
# Statements


def test_create_stream_with_every_part() -> None:
    statement = parse_statement(
        "create or replace source stream if not exists Orders "
        "(id bigint key, `Name` varchar, h bytes header('trace'), hs array<struct<key string, value bytes>> headers) "
        "with (kafka_topic='orders', 'value_format'='JSON', partitions=2)"
    )
    assert statement == ast.CreateStream(
        "ORDERS",
        (
            ast.TableElement("ID", ty.BIGINT, ast.ColumnConstraint.KEY),
            ast.TableElement("Name", ty.STRING),
            ast.TableElement("H", ty.BYTES, ast.ColumnConstraint.HEADER, "trace"),
            ast.TableElement(
                "HS",
                ty.Array(ty.Struct((("KEY", ty.STRING), ("VALUE", ty.BYTES)))),
                ast.ColumnConstraint.HEADERS,
            ),
        ),
        (
            ast.Property("KAFKA_TOPIC", ex.StringLiteral("orders")),
            ast.Property("VALUE_FORMAT", ex.StringLiteral("JSON")),
            ast.Property("PARTITIONS", ex.IntegerLiteral(2)),
        ),
        or_replace=True,
        if_not_exists=True,
        is_source=True,
    )


def test_create_table_as_select_keeps_properties_and_query() -> None:
    statement = parse_statement(
        "CREATE TABLE agg WITH (kafka_topic='agg') AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;"
    )
    assert isinstance(statement, ast.CreateTableAsSelect)
    assert statement.properties == (ast.Property("KAFKA_TOPIC", ex.StringLiteral("agg")),)
    assert statement.query.group_by == (ex.ColumnRef("K"),)
    assert statement.query.select[1] == ast.SingleColumn(ex.FunctionCall("COUNT", (), star=True), "N")
    assert statement.query.emit is None


def test_query_clauses() -> None:
    query = _query(
        "SELECT * FROM a JOIN b WITHIN (1 SECOND, 2 MINUTES) GRACE PERIOD 3 HOURS ON a.id = b.id "
        "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS, RETENTION 1 DAY, GRACE PERIOD 0 MILLISECONDS) "
        "WHERE x GROUP BY () PARTITION BY (a, b) HAVING y EMIT FINAL LIMIT 7"
    )
    join = query.from_
    assert isinstance(join, ast.Join) and join.join_type is ast.JoinType.INNER
    assert join.within == ast.WithinExpression(
        ex.Duration(1, ex.TimeUnit.SECONDS),
        ex.Duration(2, ex.TimeUnit.MINUTES),
        ex.Duration(3, ex.TimeUnit.HOURS),
    )
    assert query.window == ast.HoppingWindow(
        ex.Duration(10, ex.TimeUnit.SECONDS),
        ex.Duration(5, ex.TimeUnit.SECONDS),
        ex.Duration(1, ex.TimeUnit.DAYS),
        ex.Duration(0, ex.TimeUnit.MILLISECONDS),
    )
    assert query.group_by == () and query.partition_by == (ex.ColumnRef("A"), ex.ColumnRef("B"))
    assert query.emit is ast.EmitMode.FINAL and query.limit == 7
    assert _query("SELECT * FROM s").group_by is None


def test_n_way_joins_nest_to_the_left() -> None:
    join = _query("SELECT * FROM a FULL OUTER JOIN b ON a.x = b.x LEFT JOIN c ON a.x = c.x").from_
    assert isinstance(join, ast.Join) and join.join_type is ast.JoinType.LEFT
    assert join.right == ast.AliasedRelation("C")
    assert isinstance(join.left, ast.Join) and join.left.join_type is ast.JoinType.FULL
    assert join.left.left == ast.AliasedRelation("A")


def test_list_describe_and_control_statements() -> None:
    statements = parse(
        "SHOW ALL TOPICS EXTENDED; LIST QUERIES; SHOW SINK CONNECTORS; DESCRIBE TABLES EXTENDED; "
        "DESCRIBE `TABLES`; DESCRIBE FUNCTION substring; DESCRIBE function; TERMINATE csas_out_1; "
        "PAUSE ALL; PRINT My_Topic FROM BEGINNING INTERVAL 2 LIMIT 3; EXPLAIN q1; SET 'a'='b'; UNSET 'a'"
    )
    assert statements == [
        ast.ListTopics(all=True, extended=True),
        ast.ListQueries(),
        ast.ListConnectors(ast.ConnectorKind.SINK),
        ast.DescribeTables(extended=True),
        ast.DescribeSource("TABLES"),
        ast.DescribeFunction("SUBSTRING"),
        ast.DescribeSource("FUNCTION"),
        ast.TerminateQuery("CSAS_OUT_1"),
        ast.PauseQuery(None),
        ast.PrintTopic("My_Topic", from_beginning=True, interval=2, limit=3),  # topic names keep their case
        ast.Explain(query_id="Q1"),
        ast.SetProperty("a", "b"),
        ast.UnsetProperty("a"),
    ]


def test_explained_statement_has_its_own_text() -> None:
    explain = parse_statement("EXPLAIN  SELECT * FROM s EMIT CHANGES;")
    assert isinstance(explain, ast.Explain) and explain.statement is not None
    assert explain.statement.text == "SELECT * FROM s EMIT CHANGES"


def test_connector_property_names_keep_their_case() -> None:
    statement = parse_statement("CREATE SOURCE CONNECTOR c WITH ('connector.class'='x', tasks=1)")
    assert isinstance(statement, ast.CreateConnector)
    assert [p.name for p in statement.properties] == ["connector.class", "TASKS"]


def test_test_statements() -> None:
    statements = parse(
        "ASSERT VALUES o (rowtime, id) VALUES (1, 2); ASSERT NULL VALUES t (id) KEY (1); "
        "ASSERT TABLE t (id INT PRIMARY KEY) WITH (kafka_topic='T'); RUN SCRIPT 'a.sql'",
        allow_test_statements=True,
    )
    assert statements == [
        ast.AssertValues("O", ("ROWTIME", "ID"), (ex.IntegerLiteral(1), ex.IntegerLiteral(2))),
        ast.AssertTombstone("T", ("ID",), (ex.IntegerLiteral(1),)),
        ast.AssertSource(
            "T",
            ast.SourceKind.TABLE,
            (ast.TableElement("ID", ty.INT, ast.ColumnConstraint.PRIMARY_KEY),),
            (ast.Property("KAFKA_TOPIC", ex.StringLiteral("T")),),
        ),
        ast.RunScript("a.sql"),
    ]


# ------------------------------------------------------------------------------------------------------
# Expressions


def test_literals() -> None:
    assert _select("SELECT 1, 2147483648, 1.50, 1.5E0, .5, 'it''s', true, NULL FROM s") == [
        ex.IntegerLiteral(1),
        ex.IntegerLiteral(2147483648),
        ex.DecimalLiteral(Decimal("1.50")),
        ex.DoubleLiteral(1.5),
        ex.DecimalLiteral(Decimal("0.5")),
        ex.StringLiteral("it's"),
        ex.BooleanLiteral(True),
        ex.NullLiteral(),
    ]
    (decimal,) = _select("SELECT 1.50 FROM s")
    assert isinstance(decimal, ex.DecimalLiteral) and decimal.value.as_tuple().exponent == -2


def test_negative_numbers_are_literals_but_minus_of_a_parenthesis_is_not() -> None:
    assert parse_expression("-5") == ex.IntegerLiteral(-5)
    assert parse_expression("- 5.5") == ex.DecimalLiteral(Decimal("-5.5"))
    assert parse_expression("-(5)") == ex.ArithmeticUnary(True, ex.IntegerLiteral(5))
    assert parse_expression("a - -5") == ex.ArithmeticBinary(
        ex.ArithmeticOp.SUBTRACT, ex.ColumnRef("A"), ex.IntegerLiteral(-5)
    )
    assert parse_expression("-a") == ex.ArithmeticUnary(True, ex.ColumnRef("A"))


def test_precedence_follows_ksqldb() -> None:
    assert to_sql(parse_expression("a + b * c - d / e % f")) == "((A + (B * C)) - ((D / E) % F))"
    assert to_sql(parse_expression("a || b + c")) == "CONCAT(A, (B + C))"
    assert to_sql(parse_expression("-a * b")) == "(-A * B)"
    assert to_sql(parse_expression("-a AT TIME ZONE 'z'")) == "-A AT TIME ZONE 'z'"  # AT binds tighter
    assert to_sql(parse_expression("(-a) AT TIME ZONE 'z'")) == "(-A) AT TIME ZONE 'z'"
    assert to_sql(parse_expression("NOT a AND b OR c AND d")) == "(((NOT A) AND B) OR (C AND D))"
    assert to_sql(parse_expression("a BETWEEN 1 AND 2 AND b")) == "((A BETWEEN 1 AND 2) AND B)"
    assert to_sql(parse_expression("a + 1 = b * 2")) == "((A + 1) = (B * 2))"
    assert to_sql(parse_expression("a->b[1]->c")) == "A->B[1]->C"


def test_predicates() -> None:
    assert parse_expression("a NOT IN (1, b)") == ex.InList(
        ex.ColumnRef("A"), (ex.IntegerLiteral(1), ex.ColumnRef("B")), negated=True
    )
    assert parse_expression("a NOT LIKE 'x!%' ESCAPE '!'") == ex.Like(
        ex.ColumnRef("A"), ex.StringLiteral("x!%"), "!", negated=True
    )
    assert parse_expression("a IS NOT DISTINCT FROM b") == ex.Comparison(
        ex.ComparisonOp.IS_NOT_DISTINCT_FROM, ex.ColumnRef("A"), ex.ColumnRef("B")
    )
    assert parse_expression("a != b").op is ex.ComparisonOp.NOT_EQUAL  # type: ignore[attr-defined]


def test_constructors_casts_and_cases() -> None:
    assert parse_expression("STRUCT(a := 1, `b` := 'x')") == ex.StructConstructor(
        (("A", ex.IntegerLiteral(1)), ("b", ex.StringLiteral("x")))
    )
    assert parse_expression("MAP('k' := 1)") == ex.MapConstructor(
        ((ex.StringLiteral("k"), ex.IntegerLiteral(1)),)
    )
    assert parse_expression("ARRAY[]") == ex.ArrayConstructor(())
    assert parse_expression("CAST(a AS ARRAY<DECIMAL(4, 2)>)") == ex.Cast(
        ex.ColumnRef("A"), ty.Array(ty.Decimal(4, 2))
    )
    assert parse_expression("CASE a WHEN 1 THEN 'x' END") == ex.SimpleCase(
        ex.ColumnRef("A"), (ex.WhenClause(ex.IntegerLiteral(1), ex.StringLiteral("x")),)
    )


def test_lambdas_bind_their_parameters() -> None:
    call = parse_expression("TRANSFORM(m, (k, v) => k + v + z, x => TRANSFORM(x, y => x + y))")
    assert isinstance(call, ex.FunctionCall)
    first, second = call.args[1], call.args[2]
    assert first == ex.Lambda(
        ("K", "V"),
        ex.ArithmeticBinary(
            ex.ArithmeticOp.ADD,
            ex.ArithmeticBinary(ex.ArithmeticOp.ADD, ex.LambdaVariable("K"), ex.LambdaVariable("V")),
            ex.ColumnRef("Z"),
        ),
    )
    assert isinstance(second, ex.Lambda)
    inner = second.body
    assert isinstance(inner, ex.FunctionCall)
    assert inner.args[0] == ex.LambdaVariable("X")
    assert inner.args[1] == ex.Lambda(
        ("Y",), ex.ArithmeticBinary(ex.ArithmeticOp.ADD, ex.LambdaVariable("X"), ex.LambdaVariable("Y"))
    )
    assert parse_expression("F(a, (x) => x)").args[1] == ex.Lambda(("X",), ex.LambdaVariable("X"))  # type: ignore[attr-defined]


def test_interval_units_as_arguments() -> None:
    call = parse_expression("TIMESTAMPADD(MILLISECONDS, 5, ts)")
    assert call.args[0] == ex.IntervalUnit(ex.TimeUnit.MILLISECONDS)  # type: ignore[attr-defined]
    # The singular DAY is non-reserved: ksqlDB reads it as a column there.
    assert parse_expression("F(day, second)").args == (ex.ColumnRef("DAY"), ex.ColumnRef("SECOND"))  # type: ignore[attr-defined]


def test_identifiers() -> None:
    assert _select('SELECT a, `b`, "C d", `x``y`, "p""q", 1abc, s.e FROM s') == [
        ex.ColumnRef("A"),
        ex.ColumnRef("b"),
        ex.ColumnRef("C d"),
        ex.ColumnRef("x`y"),
        ex.ColumnRef('p"q'),
        ex.ColumnRef("1ABC"),
        ex.ColumnRef("E", "S"),
    ]


# ------------------------------------------------------------------------------------------------------
# Non-reserved keywords: keywords where the statement calls for them, names elsewhere


def test_non_reserved_keywords_as_names() -> None:
    query = _query("SELECT key, emit, type, map FROM partition emit EMIT CHANGES")
    assert [item.expression for item in query.select] == [  # type: ignore[attr-defined]
        ex.ColumnRef("KEY"),
        ex.ColumnRef("EMIT"),
        ex.ColumnRef("TYPE"),
        ex.ColumnRef("MAP"),
    ]
    assert query.from_ == ast.AliasedRelation("PARTITION", "EMIT") and query.emit is ast.EmitMode.CHANGES
    assert _query("SELECT * FROM s emit").from_ == ast.AliasedRelation("S", "EMIT")
    assert _query("SELECT * FROM s PARTITION BY a").partition_by == (ex.ColumnRef("A"),)
    assert _query("SELECT * FROM s partition").from_ == ast.AliasedRelation("S", "PARTITION")
    assert parse_statement("CREATE STREAM IF NOT EXISTS s (a INT) WITH (kafka_topic='t')").if_not_exists  # type: ignore[attr-defined]
    assert parse_statement("CREATE STREAM if (a INT) WITH (kafka_topic='t')").name == "IF"  # type: ignore[attr-defined]
    assert parse_expression("MAP(1 := 2)") == ex.MapConstructor(
        ((ex.IntegerLiteral(1), ex.IntegerLiteral(2)),)
    )
    assert parse_expression("`MAP`(1)") == ex.FunctionCall("MAP", (ex.IntegerLiteral(1),))


def test_reserved_keywords_are_never_names() -> None:
    for text in (
        "SELECT size FROM s",
        "SELECT * FROM select",
        "CREATE STREAM s (from INT) WITH (kafka_topic='t')",
    ):
        with pytest.raises(Exception, match="Syntax Error"):
            parse(text)
    assert _select("SELECT `size`, `FROM` FROM s") == [ex.ColumnRef("size"), ex.ColumnRef("FROM")]


def test_variable_names_may_be_any_word() -> None:
    assert parse("DEFINE select = 'x'; UNDEFINE from") == [
        ast.DefineVariable("select", "x"),
        ast.UndefineVariable("from"),
    ]


# ------------------------------------------------------------------------------------------------------
# Variables


def test_variables_substitute_before_parsing() -> None:
    (statement,) = parse(
        "CREATE STREAM ${name} (a INT) WITH (kafka_topic='${topic}', partitions=${n});",
        variables={"name": "s1", "TOPIC": "it's", "n": "3"},
    )
    assert statement == ast.CreateStream(
        "S1",
        (ast.TableElement("A", ty.INT),),
        (
            ast.Property("KAFKA_TOPIC", ex.StringLiteral("it's")),
            ast.Property("PARTITIONS", ex.IntegerLiteral(3)),
        ),
    )
    assert statement.text == "CREATE STREAM s1 (a INT) WITH (kafka_topic='it''s', partitions=3)"


def test_define_applies_to_the_statements_after_it() -> None:
    statements = parse("DEFINE t = 'x'; SELECT '${t}' FROM s; UNDEFINE t; SELECT '${t}', '$${t}' FROM s;")
    assert _first_value(statements[1]) == "x"
    assert [i.expression for i in statements[3].query.select] == [  # type: ignore[attr-defined]
        ex.StringLiteral("${t}"),
        ex.StringLiteral("${t}"),
    ]


def _first_value(statement: ast.Statement) -> object:
    assert isinstance(statement, ast.SelectStatement)
    item = statement.query.select[0]
    assert isinstance(item, ast.SingleColumn) and isinstance(item.expression, ex.StringLiteral)
    return item.expression.value


def test_caller_variables_are_not_changed() -> None:
    variables = {"a": "1"}
    parse("DEFINE b = '2'; UNDEFINE a;", variables=variables)
    assert variables == {"a": "1"}


# ------------------------------------------------------------------------------------------------------
# Scripts, positions, types


def test_script_statements_need_semicolons_except_the_last() -> None:
    assert len(parse("SHOW STREAMS; SHOW TABLES")) == 2
    assert parse("") == [] and parse("  -- only a comment\n /* and this */ ") == []
    with pytest.raises(Exception, match="Syntax Error"):
        parse("SHOW STREAMS SHOW TABLES")


def test_statement_text_and_expression_spans() -> None:
    statements = parse("SHOW STREAMS;\n  SELECT a + 1 AS b\n  FROM s ;")
    select = statements[1]
    assert select.text == "SELECT a + 1 AS b\n  FROM s"
    assert select.span == ex.Span(16, 42, 2, 3)
    item = select.query.select[0]  # type: ignore[attr-defined]
    assert item.expression.span == ex.Span(23, 28, 2, 10)
    assert item.expression.right.span == ex.Span(27, 28, 2, 14)


def test_split_statements_respects_strings_identifiers_and_comments() -> None:
    script = "SELECT ';' FROM `a;b`; -- c;\nSHOW STREAMS /* ; */;\n;\nSELECT \"x;\" FROM s"
    assert split_statements(script) == [
        "SELECT ';' FROM `a;b`",
        "-- c;\nSHOW STREAMS /* ; */",
        'SELECT "x;" FROM s',
    ]
    assert split_statements("SELECT 'unterminated; still") == ["SELECT 'unterminated; still"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int", ty.INT),
        ("INTEGER", ty.INT),
        ("varchar(20)", ty.STRING),
        ("STRING", ty.STRING),
        ("bigint", ty.BIGINT),
        ("double", ty.DOUBLE),
        ("boolean", ty.BOOLEAN),
        ("bytes", ty.BYTES),
        ("date", ty.DATE),
        ("time", ty.TIME),
        ("timestamp", ty.TIMESTAMP),
        ("decimal(10, 0)", ty.Decimal(10, 0)),
        ("int array", ty.Array(ty.INT)),
        ("array<array<int>>", ty.Array(ty.Array(ty.INT))),
        (
            "map<string, struct<`a` int, b map<int, bytes>>>",
            ty.Map(ty.STRING, ty.Struct((("a", ty.INT), ("B", ty.Map(ty.INT, ty.BYTES))))),
        ),
        ("STRUCT<>", ty.Struct(())),
        ("address", ty.UserType("ADDRESS")),
        ("`Address`", ty.UserType("Address")),
    ],
)
def test_types(text: str, expected: ty.SqlType) -> None:
    assert parse_type(text) == expected
    assert parse_type(to_sql(expected)) == expected


# ------------------------------------------------------------------------------------------------------
# Tables and threads


def test_keyword_tables_match_the_grammar_and_the_type_printer() -> None:
    import re
    from pathlib import Path

    from headwater.parser import lexer

    grammar = (Path(lexer.__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    declared = {
        name for line in re.findall(r"^%declare (.*)$", grammar, re.MULTILINE) for name in line.split()
    }
    assert {lexer.keyword_type(word) for word in lexer.KEYWORDS} <= declared
    assert lexer.NON_RESERVED <= lexer.KEYWORDS
    # types.quote_identifier (Struct.sql) must quote every reserved word, or its output would not parse.
    assert lexer.RESERVED <= ty.RESERVED_WORDS


def test_parsing_from_many_threads_gives_the_same_statements() -> None:
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    identity = (Path(__file__).resolve().parents[1] / "fixtures" / "parser" / "identity.sql").read_text(
        encoding="utf-8"
    )
    texts = split_statements(identity)
    expected = [parse(text, allow_test_statements=True) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda text: parse(text, allow_test_statements=True), texts * 3))
    assert results == expected * 3


def test_expression_module_exports_every_public_name() -> None:
    public = {
        name
        for name, value in vars(ex).items()
        if not name.startswith("_")
        and (isinstance(value, type) or callable(value))
        and value.__module__ == ex.__name__
    }
    assert set(ex.__all__) == public
    assert all(hasattr(ast, name) for name in ex.__all__)  # the statement tree re-exports them
