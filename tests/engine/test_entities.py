"""Entities serialise to ksqlDB's JSON shapes."""

from __future__ import annotations

from headwater.engine.entities import (
    CommandStatus,
    CommandStatusEntity,
    FieldInfo,
    FinalMessage,
    PropertiesList,
    PropertyEntry,
    QueryHeader,
    QueryRow,
    RunningQuery,
    SourceDescription,
    SourceDescriptionEntity,
    StatementApplied,
    TypeList,
    WarningEntity,
    schema_info,
)
from headwater.parser import types as t


def test_current_status_has_ksqldb_fields_in_order() -> None:
    entity = CommandStatusEntity(
        "CREATE STREAM S ...;",
        command_id="stream/`S`/create",
        command_status=CommandStatus("SUCCESS", "Created query with ID CSAS_S_0", "CSAS_S_0"),
        command_sequence_number=4,
        warnings=("careful",),
    )
    doc = entity.to_json()
    assert list(doc) == [
        "@type",
        "statementText",
        "commandId",
        "commandStatus",
        "commandSequenceNumber",
        "warnings",
    ]
    assert doc["@type"] == "currentStatus"
    assert doc["commandStatus"] == {
        "status": "SUCCESS",
        "message": "Created query with ID CSAS_S_0",
        "queryId": "CSAS_S_0",
    }
    assert doc["warnings"] == [{"message": "careful"}]
    assert entity.query_id == "CSAS_S_0"


def test_schema_info_of_nested_types() -> None:
    info = schema_info(t.Struct((("A", t.Decimal(4, 2)), ("B", t.Map(t.STRING, t.Array(t.INT)))))).to_json()
    assert info["type"] == "STRUCT"
    a, b = info["fields"]
    assert a == {
        "name": "A",
        "schema": {
            "type": "DECIMAL",
            "fields": None,
            "memberSchema": None,
            "parameters": {"precision": 4, "scale": 2},
        },
    }
    assert b["schema"]["memberSchema"]["type"] == "ARRAY"
    assert b["schema"]["memberSchema"]["memberSchema"]["type"] == "INTEGER"


def test_source_description_lists_queries_and_key_fields() -> None:
    query = RunningQuery("CREATE STREAM O AS SELECT * FROM S;", ("O",), ("O",), "CSAS_O_0")
    description = SourceDescription(
        name="S",
        type="STREAM",
        fields=(FieldInfo("ID", schema_info(t.INT), "KEY"), FieldInfo("V", schema_info(t.STRING))),
        topic="s",
        key_format="KAFKA",
        value_format="JSON",
        partitions=2,
        statement="CREATE STREAM S ...",
        read_queries=(query,),
    )
    doc = SourceDescriptionEntity("DESCRIBE S;", source_description=description).to_json()
    body = doc["sourceDescription"]
    assert doc["@type"] == "sourceDescription"
    assert body["fields"][0] == {
        "name": "ID",
        "schema": {"type": "INTEGER", "fields": None, "memberSchema": None},
        "type": "KEY",
    }
    assert "type" not in body["fields"][1]
    assert body["readQueries"][0]["statusCount"] == {"RUNNING": 1}
    assert body["partitions"] == 2 and body["windowType"] is None


def test_properties_types_warning_and_applied() -> None:
    props = PropertiesList(
        "SHOW PROPERTIES;",
        properties=(PropertyEntry("auto.offset.reset", "CONSUMER", "earliest"),),
        overwritten_properties=("auto.offset.reset",),
    ).to_json()
    assert props["properties"] == [{"name": "auto.offset.reset", "scope": "CONSUMER", "value": "earliest"}]
    types = TypeList("SHOW TYPES;", types=(("ADDRESS", schema_info(t.Struct((("N", t.INT),)))),)).to_json()
    assert types["types"]["ADDRESS"]["type"] == "STRUCT"
    assert WarningEntity("UNDEFINE x;", message="m").to_json()["@type"] == "warning_entity"
    applied = StatementApplied("SET 'a'='b';", message="changed")
    assert applied.rest_visible is False


def test_query_result_shapes() -> None:
    assert QueryHeader("q1", "`ID` STRING KEY, `C` BIGINT").to_json() == {
        "header": {"queryId": "q1", "schema": "`ID` STRING KEY, `C` BIGINT"}
    }
    assert QueryRow(("a", 1)).to_json() == {"row": {"columns": ["a", 1]}}
    assert FinalMessage("Limit Reached").to_json() == {"finalMessage": "Limit Reached"}
