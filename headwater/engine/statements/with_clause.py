"""WITH clauses of CREATE statements: which properties exist, their values, and ksqlDB's checks.

ksqlDB knows a fixed set of properties per statement kind (its ``CreateConfigs`` and
``CreateAsConfigs``); a name outside the set is refused with "Invalid config variable(s) in the WITH
clause: ...". Values are literals; names are upper case (the parser upper-cases them).

Example:
    >>> from headwater.parser import ast
    >>> from headwater.parser import expressions as pe
    >>> props = WithClause.parse((ast.Property("KAFKA_TOPIC", pe.StringLiteral("t")),
    ...                           ast.Property("PARTITIONS", pe.IntegerLiteral(2))), for_create_as=False)
    >>> props.kafka_topic, props.partitions
    ('t', 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = ["CREATE_AS_PROPERTIES", "CREATE_PROPERTIES", "WithClause", "parse_duration_ms"]

CREATE_PROPERTIES = frozenset(
    {
        "KAFKA_TOPIC",
        "PARTITIONS",
        "REPLICAS",
        "RETENTION_MS",
        "CLEANUP_POLICY",
        "KEY_FORMAT",
        "VALUE_FORMAT",
        "FORMAT",
        "KEY_DELIMITER",
        "VALUE_DELIMITER",
        "WRAP_SINGLE_VALUE",
        "TIMESTAMP",
        "TIMESTAMP_FORMAT",
        "WINDOW_TYPE",
        "WINDOW_SIZE",
        "KEY_SCHEMA_ID",
        "VALUE_SCHEMA_ID",
        "KEY_SCHEMA_FULL_NAME",
        "VALUE_SCHEMA_FULL_NAME",
        "VALUE_AVRO_SCHEMA_FULL_NAME",
        "KEY_PROTOBUF_NULLABLE_REPRESENTATION",
        "VALUE_PROTOBUF_NULLABLE_REPRESENTATION",
        "SOURCE_CONNECTOR",
    }
)
"""Properties of CREATE STREAM / CREATE TABLE."""

CREATE_AS_PROPERTIES = frozenset(
    {
        "KAFKA_TOPIC",
        "PARTITIONS",
        "REPLICAS",
        "RETENTION_MS",
        "KEY_FORMAT",
        "VALUE_FORMAT",
        "FORMAT",
        "KEY_DELIMITER",
        "VALUE_DELIMITER",
        "WRAP_SINGLE_VALUE",
        "TIMESTAMP",
        "TIMESTAMP_FORMAT",
        "KEY_SCHEMA_ID",
        "VALUE_SCHEMA_ID",
        "KEY_SCHEMA_FULL_NAME",
        "VALUE_SCHEMA_FULL_NAME",
        "VALUE_AVRO_SCHEMA_FULL_NAME",
        "KEY_PROTOBUF_NULLABLE_REPRESENTATION",
        "VALUE_PROTOBUF_NULLABLE_REPRESENTATION",
    }
)
"""Properties of CREATE STREAM / TABLE AS SELECT and INSERT INTO."""

_UNITS = {
    "MILLISECOND": 1,
    "MILLISECONDS": 1,
    "SECOND": 1_000,
    "SECONDS": 1_000,
    "MINUTE": 60_000,
    "MINUTES": 60_000,
    "HOUR": 3_600_000,
    "HOURS": 3_600_000,
    "DAY": 86_400_000,
    "DAYS": 86_400_000,
}


def parse_duration_ms(text: str, property_name: str) -> int:
    """A duration such as ``'10 SECONDS'`` in milliseconds (WINDOW_SIZE), with ksqlDB's messages.

    Example:
        >>> parse_duration_ms("30 seconds", "WINDOW_SIZE")
        30000
    """
    match = re.fullmatch(r"\s*(\d+)\s+(\S+)\s*", text)
    prefix = f"Configuration {property_name} is invalid: Invalid duration: '{text}'. "
    if match is None:
        raise PlanError(prefix + "Expected format: <number> <unit>, e.g. '10 SECONDS'")
    unit = match.group(2).upper()
    if unit not in _UNITS:
        raise PlanError(prefix + f"Unknown time unit: '{unit}'")
    return int(match.group(1)) * _UNITS[unit]


def _literal(prop: ast.Property) -> object:
    value = prop.value
    if isinstance(value, pe.StringLiteral):
        return value.value
    if isinstance(value, pe.IntegerLiteral):
        return value.value
    if isinstance(value, pe.BooleanLiteral):
        return value.value
    if isinstance(value, pe.DecimalLiteral):
        return value.value
    if isinstance(value, pe.DoubleLiteral):
        return value.value
    if isinstance(value, pe.NullLiteral):
        return None
    if isinstance(value, pe.ArithmeticUnary) and isinstance(value.operand, pe.IntegerLiteral):
        return -value.operand.value if value.negative else value.operand.value
    raise PlanError(f"Invalid value for property {prop.name}: expected a literal")


@dataclass(frozen=True, slots=True)
class WithClause:
    """The properties of one WITH clause, by upper-case name, with typed accessors."""

    values: tuple[tuple[str, object], ...]

    @staticmethod
    def parse(properties: tuple[ast.Property, ...], *, for_create_as: bool) -> WithClause:
        """Read a WITH clause, refusing unknown names as ksqlDB does.

        Raises:
            PlanError: "Invalid config variable(s) in the WITH clause: X,Y".
        """
        allowed = CREATE_AS_PROPERTIES if for_create_as else CREATE_PROPERTIES
        unknown = [p.name for p in properties if p.name.upper() not in allowed]
        if unknown:
            raise PlanError("Invalid config variable(s) in the WITH clause: " + ",".join(unknown))
        values = tuple((p.name.upper(), _literal(p)) for p in properties)
        clause = WithClause(values)
        clause._validate()
        return clause

    def get(self, name: str) -> object:
        for key, value in self.values:
            if key == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.values)

    def _string(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value)

    def _int(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise PlanError(f"Invalid value {value} for property {name}: expected an integer")
        try:
            return int(str(value))
        except ValueError:
            raise PlanError(f"Invalid value {value} for property {name}: expected an integer") from None

    def _validate(self) -> None:
        if self.has("FORMAT") and self.has("KEY_FORMAT"):
            raise PlanError(
                "Cannot supply both 'KEY_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value "
                "formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'."
            )
        if self.has("FORMAT") and self.has("VALUE_FORMAT"):
            raise PlanError(
                "Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and "
                "value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'."
            )
        partitions = self._int("PARTITIONS")
        if partitions is not None and partitions <= 0:
            raise PlanError("Invalid number of partitions in WITH clause: " + str(partitions))
        window_type = self.window_type
        if window_type is not None:
            if window_type not in ("TUMBLING", "HOPPING", "SESSION"):
                raise PlanError(
                    f"Invalid value {window_type} for property WINDOW_TYPE: String must be one of: "
                    "SESSION, HOPPING, TUMBLING"
                )
            if window_type == "SESSION" and self.has("WINDOW_SIZE"):
                raise PlanError("'WINDOW_SIZE' should not be set for SESSION windows.")
            if window_type != "SESSION" and not self.has("WINDOW_SIZE"):
                raise PlanError(f"WINDOW_SIZE required for {window_type} windows.")
        elif self.has("WINDOW_SIZE"):
            raise PlanError("'WINDOW_SIZE' should only be set for windowed sources.")
        self.window_size_ms  # noqa: B018  (validates the duration text)

    # -- accessors ---------------------------------------------------------------------------------------
    @property
    def kafka_topic(self) -> str | None:
        return self._string("KAFKA_TOPIC")

    @property
    def partitions(self) -> int | None:
        return self._int("PARTITIONS")

    @property
    def replicas(self) -> int | None:
        return self._int("REPLICAS")

    @property
    def key_format(self) -> str | None:
        value = self._string("KEY_FORMAT") or self._string("FORMAT")
        return None if value is None else value.upper()

    @property
    def value_format(self) -> str | None:
        value = self._string("VALUE_FORMAT") or self._string("FORMAT")
        return None if value is None else value.upper()

    @property
    def key_delimiter(self) -> str | None:
        return self._string("KEY_DELIMITER")

    @property
    def value_delimiter(self) -> str | None:
        return self._string("VALUE_DELIMITER")

    @property
    def wrap_single_value(self) -> bool | None:
        value = self.get("WRAP_SINGLE_VALUE")
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise PlanError(
                f"Invalid value {value} for property WRAP_SINGLE_VALUE: Expected value to be either true or false"
            )
        return text == "true"

    @property
    def timestamp_column(self) -> str | None:
        value = self._string("TIMESTAMP")
        if value is None:
            return None
        text = value.strip()
        if len(text) >= 2 and text[0] == text[-1] == "`":
            return text[1:-1]
        return text.upper()

    @property
    def timestamp_format(self) -> str | None:
        return self._string("TIMESTAMP_FORMAT")

    @property
    def window_type(self) -> str | None:
        value = self._string("WINDOW_TYPE")
        return None if value is None else value.strip().upper()

    @property
    def window_size_ms(self) -> int | None:
        value = self._string("WINDOW_SIZE")
        return None if value is None else parse_duration_ms(value, "WINDOW_SIZE")

    @property
    def schema_ids(self) -> tuple[int | None, int | None]:
        return self._int("KEY_SCHEMA_ID"), self._int("VALUE_SCHEMA_ID")
