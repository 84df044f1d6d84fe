"""ksqlDB's configuration properties: the ones Headwater understands, their defaults, and SET / UNSET.

A configuration is an immutable mapping from property name to value (strings as the user wrote them, or
None for "unset"). An engine has a base configuration (its defaults overlaid with the ``config`` it was
opened with); each ``execute`` call layers the request's ``properties`` on top, and SET / UNSET inside a
script change that layer for the statements after them, as ksqlDB's REST API scopes them to one request.

Queries capture the configuration in force when they were created (it is stored with the statement in the
command topic), so a restart runs them with the same settings.

Values are validated when set: booleans must read as true or false, integers as integers, enumerations
must name a member, with Kafka's ``ConfigException`` wording ("Invalid value X for configuration Y: ...").

Example:
    >>> cfg = EngineConfig().with_overrides({"auto.offset.reset": "earliest"})
    >>> cfg.get("auto.offset.reset"), cfg.get_bool("ksql.functions.substring.legacy.args")
    ('earliest', False)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from headwater.errors import PlanError

__all__ = ["PROPERTIES", "EngineConfig", "PropertyDef", "PropertyKind"]


class PropertyKind(Enum):
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    INT = "INT"
    LONG = "LONG"
    ENUM = "ENUM"


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One known property: its type, default (None: unset), allowed values for enumerations, and the
    scope SHOW PROPERTIES reports (KSQL, STREAMS, CONSUMER...)."""

    name: str
    kind: PropertyKind
    default: str | None
    scope: str = "KSQL"
    choices: tuple[str, ...] = ()
    description: str = ""


def _p(name: str, kind: PropertyKind, default: str | None, **kw: Any) -> PropertyDef:
    return PropertyDef(name, kind, default, **kw)


_S, _B, _I, _L, _E = (
    PropertyKind.STRING,
    PropertyKind.BOOLEAN,
    PropertyKind.INT,
    PropertyKind.LONG,
    PropertyKind.ENUM,
)

PROPERTIES: dict[str, PropertyDef] = {
    p.name: p
    for p in (
        _p("ksql.service.id", _S, "default_", description="Prefix of internal topic names."),
        _p("ksql.persistence.default.format.key", _S, "KAFKA", description="Key format when none is given."),
        _p("ksql.persistence.default.format.value", _S, None, description="Value format when none is given."),
        _p("ksql.persistence.wrap.single.values", _B, None, description="Wrap single value columns."),
        _p("ksql.output.topic.name.prefix", _S, "", description="Prefix of sink topic names."),
        _p("ksql.sink.partitions", _I, None, description="Partitions of sink topics."),
        _p("ksql.sink.replicas", _I, None, description="Replicas of sink topics (accepted, unused)."),
        _p("ksql.functions.substring.legacy.args", _B, "false"),
        _p("ksql.timestamp.throw.on.invalid", _B, "false"),
        _p("ksql.create.or.replace.enabled", _B, "true"),
        _p("ksql.headers.columns.enabled", _B, "true"),
        _p("ksql.new.query.planner.enabled", _B, "false"),
        _p("ksql.nested.error.handling", _B, "true", description="A failing nested value is NULL alone."),
        _p("ksql.query.pull.table.scan.enabled", _B, "true"),
        _p("ksql.query.pull.stream.enabled", _B, "true"),
        _p("ksql.query.pull.range.scan.enabled", _B, "true"),
        _p("ksql.query.pull.interpreter.enabled", _B, "true"),
        _p("ksql.query.pull.limit.clause.enabled", _B, "true"),
        _p("ksql.query.push.v2.enabled", _B, "false"),
        _p("ksql.query.push.v2.registry.installed", _B, "false"),
        _p("ksql.functions.collect_list.limit", _I, "2147483647"),
        _p("ksql.functions.collect_set.limit", _I, "2147483647"),
        _p("ksql.windowed.session.key.legacy", _B, "false"),
        _p("ksql.schema.registry.url", _S, None),
        _p("ksql.logging.processing.stream.auto.create", _B, "false"),
        _p("ksql.logging.processing.topic.auto.create", _B, "false"),
        _p("ksql.logging.processing.stream.name", _S, "KSQL_PROCESSING_LOG"),
        _p("ksql.assert.topic.default.timeout.ms", _I, "1000"),
        _p("ksql.assert.schema.default.timeout.ms", _I, "1000"),
        _p("ksql.streams.topology.optimization", _S, "all", scope="STREAMS"),
        _p("ksql.streams.default.timestamp.extractor", _S, None, scope="STREAMS"),
        _p("auto.offset.reset", _E, "latest", scope="CONSUMER", choices=("earliest", "latest", "none")),
        _p(
            "processing.guarantee",
            _E,
            "at_least_once",
            scope="STREAMS",
            choices=("at_least_once", "exactly_once", "exactly_once_beta", "exactly_once_v2"),
        ),
        _p("cache.max.bytes.buffering", _L, "10485760", scope="STREAMS"),
        _p("commit.interval.ms", _L, "2000", scope="STREAMS"),
        _p("auto.commit.interval.ms", _L, "5000", scope="CONSUMER"),
        _p("bootstrap.servers", _S, "localhost:9092", scope="STREAMS"),
        _p("state.dir", _S, None, scope="STREAMS"),
        _p("use.exact.numeric.comparison", _B, "true"),
        _p(
            "headwater.command.topic.skip.corrupt",
            _B,
            "false",
            description="On start, replay every other command when a command topic record is damaged "
            "(each skipped record is reported; its statement is lost) instead of refusing to start.",
        ),
    )
}

_KNOWN_PREFIXES = ("ksql.", "streams.", "consumer.", "producer.", "admin.", "ksql.streams.")
_PREFIX_ALIASES = ("ksql.streams.",)


def _canonical(name: str) -> str:
    """Property names are case-sensitive in ksqlDB but written in lower case; ``ksql.streams.X`` is the
    same property as ``X`` for Streams settings, so the shorter name is the key."""
    for prefix in _PREFIX_ALIASES:
        rest = name[len(prefix) :]
        if name.startswith(prefix) and rest in PROPERTIES:
            return rest
    return name


def _validate(name: str, value: str | None) -> str | None:
    definition = PROPERTIES.get(name)
    if value is None or definition is None:
        if definition is None and not any(name.startswith(p) for p in _KNOWN_PREFIXES) and "." not in name:
            raise PlanError(f"Not recognizable as ksql, streams, consumer, or producer property: '{name}'")
        return value
    text = str(value).strip()
    if definition.kind is PropertyKind.BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise PlanError(
                f"Invalid value {value} for configuration {name}: Expected value to be either true or false"
            )
        return text.lower()
    if definition.kind in (PropertyKind.INT, PropertyKind.LONG):
        try:
            int(text)
        except ValueError:
            kind = "an int" if definition.kind is PropertyKind.INT else "a long"
            raise PlanError(
                f"Invalid value {value} for configuration {name}: Not a number of type {kind.split()[-1].upper()}"
            ) from None
        return text
    if definition.kind is PropertyKind.ENUM:
        if text.lower() not in definition.choices:
            allowed = ", ".join(definition.choices)
            raise PlanError(
                f"Invalid value {value} for configuration {name}: String must be one of: {allowed}"
            )
        return text.lower()
    return str(value)


@dataclass(frozen=True, slots=True)
class EngineConfig(Mapping[str, Any]):
    """An immutable set of property values over the defaults; ``overrides`` holds what was set.

    Mapping access (``cfg[name]``) returns the effective value (override or default) as a string or None.
    """

    overrides: tuple[tuple[str, str | None], ...] = field(default=())

    def __post_init__(self) -> None:
        for name, value in self.overrides:
            _validate(name, value)

    # Mapping protocol over every known or overridden property.
    def __getitem__(self, name: str) -> Any:
        key = _canonical(name)
        for over_name, value in reversed(self.overrides):
            if over_name == key:
                return value
        definition = PROPERTIES.get(key)
        if definition is None:
            raise KeyError(name)
        return definition.default

    def __iter__(self) -> Iterator[str]:
        seen = dict.fromkeys(PROPERTIES)
        for name, _ in self.overrides:
            seen.setdefault(name)
        return iter(seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            value = self[name]
        except KeyError:
            return default
        return default if value is None else value

    def get_bool(self, name: str) -> bool:
        """The property as a boolean (unset reads as False)."""
        return str(self.get(name, "false")).lower() == "true"

    def get_int(self, name: str) -> int | None:
        """The property as an integer, or None when unset."""
        value = self.get(name)
        return None if value is None else int(value)

    def is_set(self, name: str) -> bool:
        """Whether the property was given a value (as opposed to keeping its default)."""
        key = _canonical(name)
        return any(n == key for n, _ in self.overrides)

    def with_overrides(self, values: Mapping[str, Any] | None) -> EngineConfig:
        """A new configuration with ``values`` set on top of this one (validated).

        Raises:
            PlanError: a value that does not fit the property (Kafka's ConfigException wording).
        """
        if not values:
            return self
        added = tuple(
            (_canonical(k), _validate(_canonical(k), None if v is None else _as_text(v)))
            for k, v in values.items()
        )
        return EngineConfig(self.overrides + added)

    def without(self, name: str) -> EngineConfig:
        """A new configuration in which ``name`` has its default again (UNSET)."""
        key = _canonical(name)
        return EngineConfig(tuple((n, v) for n, v in self.overrides if n != key))

    def overridden(self) -> dict[str, str | None]:
        """The properties that differ from their defaults, latest value of each."""
        out: dict[str, str | None] = {}
        for name, value in self.overrides:
            out[name] = value
        return out

    def as_dict(self) -> dict[str, Any]:
        """Every effective value (defaults included), for kernels' ``CallContext.config``."""
        return {name: self[name] for name in self}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
