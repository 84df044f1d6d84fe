"""Entity rendering, from the engine's real entities serialised to ksqlDB's JSON."""

from __future__ import annotations

from headwater.engine import entities as e
from headwater.parser import types as t
from headwater.repl.render import render_entity, schema_text
from headwater.repl.values import cell_text


def render(entity: e.Entity) -> list[str]:
    return render_entity(entity.to_json())


def test_command_status_shows_its_message() -> None:
    entity = e.CommandStatusEntity(
        "CREATE STREAM S ...;", command_status=e.CommandStatus("SUCCESS", "Stream created")
    )
    assert render(entity) == [" Message", "----------------", " Stream created", "----------------"]


def test_streams_are_listed_sorted_by_name_with_ksqldb_columns() -> None:
    entity = e.StreamsList(
        "SHOW STREAMS;",
        streams=(
            e.SourceInfo("STREAM", "ZED", "zed", "KAFKA", "JSON", False),
            e.SourceInfo("STREAM", "ALPHA", "alpha", "KAFKA", "DELIMITED", True),
        ),
    )
    lines = render(entity)
    assert lines[0].split("|")[0].strip() == "Stream Name"
    assert [line.split("|")[0].strip() for line in lines[2:4]] == ["ALPHA", "ZED"]
    assert lines[2].split("|")[-1].strip() == "true"


def test_topics_show_partition_counts() -> None:
    entity = e.KafkaTopicsList("SHOW TOPICS;", topics=(e.KafkaTopicInfo("orders", (1, 1, 1)),))
    assert [cell.strip() for cell in render(entity)[2].split("|")] == ["orders", "3", "1"]


def test_describe_marks_key_columns_and_prints_sql_types() -> None:
    fields = (
        e.FieldInfo("ID", e.schema_info(t.INT), "KEY"),
        e.FieldInfo("TAGS", e.schema_info(t.Array(t.STRING))),
        e.FieldInfo("PRICE", e.schema_info(t.Decimal(10, 2))),
    )
    description = e.SourceDescription(
        name="ORDERS", type="STREAM", fields=fields, topic="orders", key_format="KAFKA",
        value_format="JSON", partitions=1, statement="CREATE STREAM ORDERS ...",
    )
    lines = render(e.SourceDescriptionEntity("DESCRIBE ORDERS;", source_description=description))
    assert lines[0] == "Name                 : ORDERS"
    body = "\n".join(lines)
    assert "ID    | INTEGER          (key)" in body
    assert "TAGS  | ARRAY<VARCHAR(STRING)>" in body
    assert "PRICE | DECIMAL(10, 2)" in body


def test_extended_describe_names_topic_partitions_and_queries() -> None:
    query = e.RunningQuery("CREATE STREAM B AS SELECT * FROM A;", ("B",), ("b",), "CSAS_B_0")
    description = e.SourceDescription(
        name="A", type="STREAM", fields=(), topic="a", key_format="KAFKA", value_format="JSON",
        partitions=4, statement="CREATE STREAM A ...", extended=True, read_queries=(query,),
    )
    body = "\n".join(render(e.SourceDescriptionEntity("DESCRIBE A EXTENDED;", source_description=description)))
    assert "Kafka topic          : a (partitions: 4, replication: 1)" in body
    assert "CSAS_B_0 (RUNNING) : CREATE STREAM B AS SELECT * FROM A;" in body


def test_queries_list_ids_and_sinks() -> None:
    query = e.RunningQuery("CREATE STREAM B AS\n SELECT * FROM A;", ("B",), ("b",), "CSAS_B_0")
    lines = render(e.Queries("SHOW QUERIES;", queries=(query,)))
    assert [cell.strip() for cell in lines[2].split("|")] == [
        "CSAS_B_0", "PERSISTENT", "RUNNING", "B", "b", "CREATE STREAM B AS SELECT * FROM A;",
    ]


def test_properties_mark_session_overrides() -> None:
    entity = e.PropertiesList(
        "SHOW PROPERTIES;",
        properties=(e.PropertyEntry("b.prop", "KSQL", "2"), e.PropertyEntry("a.prop", "KSQL", None)),
        overwritten_properties=("b.prop",),
        default_properties=("a.prop",),
    )
    rows = [[cell.strip() for cell in line.split("|")] for line in render(entity)[2:4]]
    assert rows == [["a.prop", "KSQL", "", "NULL"], ["b.prop", "KSQL", "SESSION", "2"]]


def test_warnings_follow_the_entity() -> None:
    entity = e.WarningEntity("DROP STREAM IF EXISTS X;", message="Source X does not exist.", warnings=("careful",))
    assert render(entity)[-1] == "WARNING: careful"


def test_applied_statements_print_their_message_plainly() -> None:
    assert render(e.StatementApplied("SET 'a'='b';", message="Successfully changed")) == ["Successfully changed"]
    assert render(e.StatementApplied("INSERT ...;")) == []


def test_unknown_entity_types_are_shown_as_json_not_dropped() -> None:
    lines = render_entity({"@type": "something_new", "statementText": "X;", "value": 7, "warnings": []})
    assert '"value": 7' in "\n".join(lines)


def test_schema_text_of_nested_types() -> None:
    info = e.schema_info(t.Struct((("A", t.INT), ("B", t.Map(t.STRING, t.Array(t.DOUBLE))))))
    assert schema_text(info.to_json()) == "STRUCT<A INTEGER, B MAP<STRING, ARRAY<DOUBLE>>>"


def test_cell_text_of_values() -> None:
    assert [cell_text(v) for v in (None, False, -1, 0.5, "x", b"\x00\x01", {"K": [1, None]})] == [
        "null", "false", "-1", "0.5", "x", "AAE=", '{"K":[1,null]}',
    ]


def test_describe_function_in_ksqldbs_layout() -> None:
    entity = {
        "@type": "describe_function",
        "name": "len",
        "author": "",
        "version": "",
        "description": "The length of a string.",
        "type": "SCALAR",
        "path": "internal",
        "functions": [
            {
                "arguments": [{"name": "s", "type": "STRING", "description": "the string", "isVariadic": False}],
                "returnType": "INT",
                "description": "",
            },
            {"arguments": [{"name": "", "type": "INT", "description": "", "isVariadic": True}], "returnType": "INT"},
        ],
        "warnings": [],
    }
    assert render_entity(entity) == [
        "Name        : LEN",
        "Overview    : The length of a string.",
        "Type        : SCALAR",
        "Jar         : internal",
        "Variations  :",
        "",
        "\tVariation   : LEN(s STRING)",
        "\tReturns     : INT",
        "\ts           : the string",
        "",
        "\tVariation   : LEN(INT[])",
        "\tReturns     : INT",
    ]


def test_assertions_say_what_held() -> None:
    assert render(e.AssertTopicEntity("ASSERT TOPIC t", topic_name="t", exists=True)) == ["Topic t exists."]
    assert render(e.AssertTopicEntity("ASSERT NOT EXISTS TOPIC t", topic_name="t", exists=False)) == [
        "Topic t does not exist."
    ]
    assert render(e.AssertSchemaEntity("ASSERT SCHEMA ID 3", schema_id=3)) == ["Schema with id 3 exists."]
