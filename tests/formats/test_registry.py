"""Format lookup and statement-time validation, with the messages of ksqlDB's conformance cases
(formats.json, serdes.json, none.json, elements.json, group-by.json) and its sql-tests."""

from __future__ import annotations

import pytest

from headwater.engine.formats import (
    DELIMITED,
    JSON,
    KAFKA,
    NONE,
    UNWRAP_SINGLES,
    WRAP_SINGLES,
    UnsupportedFormatError,
    decoder_wrap_single,
    get_format,
    is_known,
    is_supported,
    key_features,
    key_schema_error_message,
    parse_delimiter,
    schema_id_needs_inference_message,
    validate_key_column_types,
    value_features,
)
from headwater.errors import PlanError
from headwater.parser import types as t


def test_lookup_is_case_insensitive() -> None:
    assert get_format("json") is JSON
    assert get_format("Delimited") is DELIMITED
    assert get_format("KAFKA") is KAFKA
    assert get_format("none") is NONE


def test_unknown_and_unsupported_formats_are_distinct() -> None:
    with pytest.raises(PlanError, match=r"^Unknown format: FOO$") as unknown:
        get_format("foo")
    assert not isinstance(unknown.value, UnsupportedFormatError)
    for name in ("AVRO", "protobuf", "PROTOBUF_NOSR", "json_sr"):
        with pytest.raises(UnsupportedFormatError) as caught:
            get_format(name)
        assert caught.value.format_name == name.upper()
        assert is_known(name) and not is_supported(name)
    assert is_supported("json") and not is_known("foo")


def test_kafka_columns() -> None:
    with pytest.raises(
        PlanError,
        match=r"^The 'KAFKA' format only supports a single field\. Got: \[`V0` INTEGER, `V1` STRING\]$",
    ):
        KAFKA.validate_columns([("V0", t.INT), ("V1", t.STRING)], is_key=False)
    with pytest.raises(PlanError, match=r"Got: \[`ID` INTEGER KEY, `AGE` INTEGER KEY\]"):
        KAFKA.validate_columns([("ID", t.INT), ("AGE", t.INT)], is_key=True)
    for sql_type, name in [
        (t.BOOLEAN, "BOOLEAN"),
        (t.Decimal(2, 1), "DECIMAL"),
        (t.Array(t.INT), "ARRAY"),
        (t.TIMESTAMP, "TIMESTAMP"),
    ]:
        with pytest.raises(PlanError, match=f"^The 'KAFKA' format does not support type '{name}'$"):
            KAFKA.validate_columns([("V", sql_type)], is_key=False)
    for sql_type in (t.INT, t.BIGINT, t.DOUBLE, t.STRING, t.BYTES):
        KAFKA.validate_columns([("V", sql_type)], is_key=False)
    KAFKA.validate_columns([], is_key=True)


def test_delimited_columns() -> None:
    with pytest.raises(
        PlanError, match=r"^The 'DELIMITED' format does not support type 'STRUCT', column: `ROWKEY`$"
    ):
        DELIMITED.validate_columns([("ROWKEY", t.Struct((("A", t.INT),)))], is_key=True)
    with pytest.raises(PlanError, match="format does not support type 'ARRAY'"):
        DELIMITED.validate_columns([("V0", t.Array(t.INT))], is_key=False)
    with pytest.raises(PlanError, match="format does not support type 'MAP'"):
        DELIMITED.validate_columns([("V0", t.Map(t.STRING, t.INT))], is_key=False)
    DELIMITED.validate_columns([("A", t.Decimal(4, 2)), ("B", t.BYTES), ("C", t.DATE)], is_key=False)


def test_none_columns() -> None:
    with pytest.raises(
        PlanError,
        match=r"^The 'NONE' format can only be used when no columns are defined\. Got: \[`K` STRING KEY\]$",
    ):
        NONE.validate_columns([("K", t.STRING)], is_key=True)
    with pytest.raises(PlanError, match=r"Got: \[`FOO` INTEGER\]$"):
        NONE.validate_columns([("FOO", t.INT)], is_key=False)
    NONE.validate_columns([], is_key=True)


def test_json_map_keys_must_be_strings() -> None:
    with pytest.raises(PlanError, match=r"^JSON only supports MAP types with STRING keys$"):
        JSON.validate_columns([("M", t.Array(t.Map(t.INT, t.DOUBLE)))], is_key=False)
    JSON.validate_columns([("M", t.Map(t.STRING, t.Array(t.INT)))], is_key=False)


def test_key_columns_may_not_hold_maps() -> None:
    with pytest.raises(PlanError) as caught:
        validate_key_column_types([("KSQL_COL_0", t.Struct((("F", t.Map(t.STRING, t.STRING)),)))])
    assert str(caught.value) == (
        "Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to "
        "inconsistent serialization. Key column name: `KSQL_COL_0`. Column type: STRUCT<`F` MAP<STRING, STRING>>. "
        "See https://github.com/confluentinc/ksql/issues/6621 for more."
    )


def test_format_properties() -> None:
    DELIMITED.validate_properties({"delimiter": "|"})
    with pytest.raises(PlanError, match=r"^JSON does not support the following configs: \[delimiter\]$"):
        JSON.validate_properties({"delimiter": "|"})
    with pytest.raises(
        PlanError, match=r"^delimiter cannot be empty\. Format configuration: \{delimiter= \}$"
    ):
        DELIMITED.validate_properties({"delimiter": " "})


def test_wrap_single_value_rules() -> None:
    assert value_features(JSON, 1, wrap_single_value=False) == {UNWRAP_SINGLES}
    assert value_features(JSON, 1, wrap_single_value=True) == {WRAP_SINGLES}
    assert value_features(KAFKA, 1, wrap_single_value=False) == {UNWRAP_SINGLES}
    with pytest.raises(
        PlanError, match=r"^'WRAP_SINGLE_VALUE' is only valid for single-field value schemas$"
    ):
        value_features(JSON, 2, wrap_single_value=True)
    with pytest.raises(
        PlanError, match=r"^'WRAP_SINGLE_VALUE' is only valid for single-field value schemas$"
    ):
        value_features(JSON, 2, wrap_single_value=False)
    with pytest.raises(
        PlanError, match=r"^Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'\.$"
    ):
        value_features(DELIMITED, 1, wrap_single_value=True)
    with pytest.raises(
        PlanError, match=r"^Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'\.$"
    ):
        value_features(KAFKA, 1, wrap_single_value=True)
    # the config default applies to single columns, and only where the format supports it
    assert value_features(JSON, 1, default_wrap_single_values=False) == {UNWRAP_SINGLES}
    assert value_features(JSON, 2, default_wrap_single_values=False) == frozenset()
    assert value_features(KAFKA, 1, default_wrap_single_values=True) == frozenset()
    assert value_features(JSON, 1) == frozenset()
    assert key_features(JSON, 1) == {UNWRAP_SINGLES}
    assert key_features(JSON, 2) == frozenset() and key_features(KAFKA, 1) == frozenset()
    assert decoder_wrap_single({UNWRAP_SINGLES}) is False
    assert decoder_wrap_single({WRAP_SINGLES}) is True
    assert decoder_wrap_single(set()) is None


def test_delimiters() -> None:
    assert parse_delimiter("|") == "|"
    assert parse_delimiter("TAB") == "\t"
    assert parse_delimiter("SPACE", "KEY_DELIMITER") == " "
    with pytest.raises(PlanError) as caught:
        parse_delimiter("<~>")
    assert str(caught.value).startswith(
        "Configuration VALUE_DELIMITER is invalid: Invalid delimiter value: '<~>'. Delimiter must be a single character or TAB,SPACE"
    )
    for blank in (" ", "\t", ""):
        with pytest.raises(
            PlanError, match="Delimiter cannot be empty, if you meant to have a tab or space for delimiter"
        ):
            parse_delimiter(blank)
    with pytest.raises(PlanError, match="The quoteChar character and the delimiter cannot be the same"):
        parse_delimiter('"')


def test_schema_inference_is_not_supported_by_these_formats() -> None:
    assert not any(f.supports_schema_inference for f in (JSON, DELIMITED, KAFKA, NONE))
    assert schema_id_needs_inference_message("KEY", KAFKA) == (
        "KEY_FORMAT should support schema inference when KEY_SCHEMA_ID is provided. Current format is KAFKA."
    )


def test_key_schema_error_message() -> None:
    text = key_schema_error_message(
        KAFKA, [("K1", t.INT), ("K2", t.INT)], "The 'KAFKA' format only supports a single field."
    )
    assert text == (
        "Key format does not support schema.\nformat: KAFKA\n"
        "schema: Persistence{columns=[`K1` INTEGER KEY, `K2` INTEGER KEY], features=[]}\n"
        "reason: The 'KAFKA' format only supports a single field."
    )


def test_decoders_and_encoders_validate_their_columns() -> None:
    with pytest.raises(PlanError, match="The 'DELIMITED' format does not support type 'STRUCT', column: `S`"):
        DELIMITED.decoder([("S", t.Struct((("A", t.INT),)))], is_key=False)
    with pytest.raises(PlanError, match="The 'KAFKA' format does not support type 'BOOLEAN'"):
        KAFKA.encoder([("B", t.BOOLEAN)], is_key=True)
    with pytest.raises(PlanError, match="The 'NONE' format can only be used when no columns are defined"):
        NONE.decoder([("V", t.INT)], is_key=False)
