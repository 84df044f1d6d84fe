"""Statement-time rules for formats, with ksqlDB's messages.

* **Wrapping** (``WRAP_SINGLE_VALUE`` and ``ksql.persistence.wrap.single.values``): whether a single
  value column is written inside an object (``{"V": 1}``, ksqlDB's ``WRAP_SINGLES`` feature) or bare
  (``1``, ``UNWRAP_SINGLES``). :func:`value_features` applies ksqlDB's ``SerdeFeaturesFactory``: an
  explicit setting must be supported by the format (JSON supports both, KAFKA and DELIMITED only
  unwrapping) and is only valid for a single column; without one, the config default applies when
  the format supports it. :func:`key_features` gives JSON keys of one column ``UNWRAP_SINGLES``.
* **Delimiters** (``KEY_DELIMITER``, ``VALUE_DELIMITER``): one character, or ``TAB`` / ``SPACE``
  (:func:`parse_delimiter`).
* **Keys**: no MAP anywhere in a key column (:func:`validate_key_column_types`).
* **Schema inference**: none of JSON, DELIMITED, KAFKA, NONE can read columns from a registry; the
  message texts are here for the statements that would need it.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.engine.casts.rules import type_text
from headwater.engine.formats.base import Columns, Format
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "NO_COLUMNS_SUPPLIED",
    "STATEMENT_DEFINES_NO_COLUMNS",
    "UNWRAP_SINGLES",
    "WRAP_SINGLES",
    "decoder_wrap_single",
    "key_features",
    "key_schema_error_message",
    "parse_delimiter",
    "schema_id_needs_inference_message",
    "validate_key_column_types",
    "value_features",
]

WRAP_SINGLES = "WRAP_SINGLES"
UNWRAP_SINGLES = "UNWRAP_SINGLES"

NO_COLUMNS_SUPPLIED = "No columns supplied."
"""ksqlDB's error for CREATE without columns when the format cannot infer them."""
STATEMENT_DEFINES_NO_COLUMNS = "The statement does not define any columns."
"""The same error as worded by the statement validator of older ksqlDB releases."""

_NAMED_DELIMITERS = {"TAB": "\t", "SPACE": " "}


def _supports(fmt: Format, feature: str) -> bool:
    return fmt.supports_wrapping if feature == WRAP_SINGLES else fmt.supports_unwrapping


def value_features(
    fmt: Format,
    value_column_count: int,
    *,
    wrap_single_value: bool | None = None,
    default_wrap_single_values: bool | None = None,
) -> frozenset[str]:
    """The wrapping feature of a value schema (ksqlDB's ``SerdeFeaturesFactory.buildValueFeatures``).

    Args:
        fmt: the value format.
        value_column_count: how many value columns the schema has.
        wrap_single_value: the statement's ``WRAP_SINGLE_VALUE``, if given.
        default_wrap_single_values: the ``ksql.persistence.wrap.single.values`` config, if set.

    Raises:
        PlanError: ``Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'.`` or
            ``'WRAP_SINGLE_VALUE' is only valid for single-field value schemas``.
    """
    single = value_column_count == 1
    if wrap_single_value is not None:
        feature = WRAP_SINGLES if wrap_single_value else UNWRAP_SINGLES
        if not _supports(fmt, feature):
            raise PlanError(
                f"Format '{fmt.name}' does not support 'WRAP_SINGLE_VALUE' set to "
                f"'{'true' if wrap_single_value else 'false'}'."
            )
        if not single:
            raise PlanError("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
        return frozenset({feature})
    if not single or default_wrap_single_values is None:
        return frozenset()
    feature = WRAP_SINGLES if default_wrap_single_values else UNWRAP_SINGLES
    return frozenset({feature}) if _supports(fmt, feature) else frozenset()


def key_features(fmt: Format, key_column_count: int) -> frozenset[str]:
    """The wrapping feature of a key schema: a single key column is written bare by every format
    that could do either (JSON), which ksqlDB records as ``UNWRAP_SINGLES``."""
    if key_column_count == 1 and fmt.supports_wrapping and fmt.supports_unwrapping:
        return frozenset({UNWRAP_SINGLES})
    return frozenset()


def decoder_wrap_single(features: frozenset[str] | set[str]) -> bool | None:
    """The ``wrap_single`` argument of ``Format.decoder``/``encoder`` for a set of serde features."""
    if UNWRAP_SINGLES in features:
        return False
    if WRAP_SINGLES in features:
        return True
    return None


def parse_delimiter(text: str, property_name: str = "VALUE_DELIMITER") -> str:
    """A delimiter property as the one character it names (ksqlDB's ``Delimiter.parse``).

    Raises:
        PlanError: ``Configuration VALUE_DELIMITER is invalid: Invalid delimiter value: '<~>'.
            Delimiter must be a single character or TAB,SPACE`` (and the other ksqlDB texts).
    """
    prefix = f"Configuration {property_name} is invalid: "
    if not text.strip():
        raise PlanError(
            prefix
            + "Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the "
            "special values 'TAB' or 'SPACE'\nExample valid value: ';'"
        )
    if len(text) == 1:
        delimiter = text
    elif text in _NAMED_DELIMITERS:
        delimiter = _NAMED_DELIMITERS[text]
    else:
        raise PlanError(
            prefix + f"Invalid delimiter value: '{text}'. Delimiter must be a single character or "
            f"{','.join(_NAMED_DELIMITERS)}\nExample valid value: ';'"
        )
    if delimiter == '"':
        raise PlanError(prefix + "The quoteChar character and the delimiter cannot be the same ('\"')")
    return delimiter


def _contains_map(sql_type: t.SqlType) -> bool:
    if isinstance(sql_type, t.Map):
        return True
    if isinstance(sql_type, t.Array):
        return _contains_map(sql_type.element)
    if isinstance(sql_type, t.Struct):
        return any(_contains_map(ft) for _, ft in sql_type.fields)
    return False


def validate_key_column_types(columns: Columns) -> None:
    """Reject key columns holding a MAP anywhere (their bytes would not be stable).

    Raises:
        PlanError: ksqlDB's ``Map keys, including types that contain maps, are not supported ...``.
    """
    for name, sql_type in columns:
        if _contains_map(sql_type):
            raise PlanError(
                "Map keys, including types that contain maps, are not supported as they may lead to unexpected "
                f"behavior due to inconsistent serialization. Key column name: `{name}`. Column type: "
                f"{type_text(sql_type)}. See https://github.com/confluentinc/ksql/issues/6621 for more."
            )


def key_schema_error_message(
    fmt: Format, columns: Columns, reason: str, features: Sequence[str] = (), statement: str | None = None
) -> str:
    """ksqlDB's text when a key format cannot hold the key columns of a query's result."""
    cols = ", ".join(f"`{name}` {type_text(sql_type)} KEY" for name, sql_type in columns)
    text = (
        f"Key format does not support schema.\nformat: {fmt.name}\n"
        f"schema: Persistence{{columns=[{cols}], features=[{', '.join(features)}]}}\nreason: {reason}"
    )
    return text + (f"\nStatement: {statement}" if statement else "")


def schema_id_needs_inference_message(kind: str, fmt: Format) -> str:
    """``KEY_FORMAT should support schema inference when KEY_SCHEMA_ID is provided. Current format is
    KAFKA.`` (``kind`` is ``KEY`` or ``VALUE``)."""
    return (
        f"{kind}_FORMAT should support schema inference when {kind}_SCHEMA_ID is provided. "
        f"Current format is {fmt.name}."
    )
