"""Loading ksqlDB's QTT files and expanding them into runnable cases (FORMAT.md §2, §3, §4).

Loading follows ksqlDB's ``JsonTestLoader`` and ``TestCaseBuilder``: unknown keys are ignored at every
level, the required fields are checked with a message naming the file and the test, and each test object
expands into one case per entry of its ``format`` list (outer loop) and ``config`` list (inner loop).
Expanded names must be unique across every file of a run.

Tests written with ``"enabled": false`` are kept, marked disabled, so that a report can list them as
skipped instead of losing them silently; ksqlDB drops them at load time, so they take no part in the
duplicate-name check.

Example:
    >>> cases = expand_test_object("demo.json", {
    ...     "name": "t", "format": ["JSON", "DELIMITED"],
    ...     "statements": ["CREATE STREAM S (A INT) WITH (kafka_topic='s', value_format='{FORMAT}');"],
    ...     "inputs": [{"topic": "s", "value": "1"}]})
    >>> [c.name for c in cases]
    ['demo - t - JSON', 'demo - t - DELIMITED']
    >>> cases[1].statements[0]
    "CREATE STREAM S (A INT) WITH (kafka_topic='s', value_format='DELIMITED');"
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from headwater.conformance.jsonc import TestFileError, load_jsonc
from headwater.conformance.model import (
    ExpectedException,
    HeaderSpec,
    KeyFormatCondition,
    PostConditions,
    RecordSpec,
    SourceCondition,
    TestCase,
    TopicCondition,
    TopicSpec,
    WindowSpec,
    WindowType,
)

__all__ = [
    "FORMAT_REPLACE_ERROR",
    "LoadResult",
    "Where",
    "boolean_field",
    "case_name",
    "expand_test_object",
    "find_test_files",
    "integer_field",
    "list_field",
    "load_paths",
    "load_test_file",
    "object_field",
    "read_record",
    "read_topic",
    "string_field",
]

FORMAT_REPLACE_ERROR = "To use {FORMAT} in your statements please set the 'format' test case element"
"""What ``{FORMAT}`` becomes in a test without a format matrix (ksqlDB's ``TestCaseBuilderUtil``)."""

_CONFIG_PLACEHOLDER = "{CONFIG}"


def case_name(
    file_name: str, test_name: str, fmt: str | None = None, config: tuple[str, str] | None = None
) -> str:
    """The expanded name ksqlDB gives a case: ``<file stem> - <name>[ - <format>][ - <key>=<value>]``.

    Example:
        >>> case_name("formats.json", "x", None, ("ksql.new.query.planner.enabled", "true"))
        'formats - x - ksql.new.query.planner.enabled=true'
    """
    stem = Path(file_name).name
    if stem.endswith(".json"):
        stem = stem[: -len(".json")]
    name = f"{stem} - {test_name}"
    if fmt:
        name += f" - {fmt}"
    if config:
        name += f" - {config[0]}={config[1]}"
    return name


# --------------------------------------------------------------------------------------------------------
# field readers with messages that say where (shared with the RQTT loader)


class Where:
    """Names the place of a field in error messages: file, test and path inside the test."""

    def __init__(self, file: str, test: str | None = None, path: str = "") -> None:
        self.file = file
        self.test = test
        self.path = path

    def at(self, path: str) -> Where:
        return Where(self.file, self.test, f"{self.path}.{path}" if self.path else path)

    def error(self, message: str) -> TestFileError:
        where = self.file
        if self.test is not None:
            where += f", test {self.test!r}"
        if self.path:
            where += f", {self.path}"
        return TestFileError(f"{where}: {message}")


def string_field(value: Any, where: Where, *, required: bool = False) -> str | None:
    """A string field (None when absent, unless required)."""
    if value is None:
        if required:
            raise where.error("is required")
        return None
    if not isinstance(value, str):
        raise where.error(f"must be a string, not {_json_kind(value)}")
    return value


def integer_field(value: Any, where: Where) -> int | None:
    """An integer field; an integral decimal such as ``2.0`` is accepted, as Jackson accepts it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise where.error(f"must be an integer, not {_json_kind(value)}")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise where.error(f"must be an integer, not {value}")
        return int(value)
    return value


def boolean_field(value: Any, where: Where) -> bool | None:
    """A boolean field; ``"true"``/``"false"`` strings are accepted, as Jackson coerces them."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise where.error(f"must be a boolean, not {_json_kind(value)}")


def list_field(value: Any, where: Where) -> list[Any]:
    """An array field (empty when absent)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"must be an array, not {_json_kind(value)}")
    return value


def object_field(value: Any, where: Where) -> dict[str, Any]:
    """An object field (required)."""
    if not isinstance(value, dict):
        raise where.error(f"must be an object, not {_json_kind(value)}")
    return value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --------------------------------------------------------------------------------------------------------
# records, topics, expectations, post-conditions


def _read_window(node: Any, where: Where) -> WindowSpec:
    obj = object_field(node, where)
    start = integer_field(obj.get("start"), where.at("start"))
    end = integer_field(obj.get("end"), where.at("end"))
    kind = string_field(obj.get("type"), where.at("type"), required=True)
    if start is None or end is None:
        raise where.error("needs both start and end")
    assert kind is not None
    try:
        window_type = WindowType(kind.upper())
    except ValueError:
        raise where.at("type").error(f"must be TIME or SESSION, not {kind!r}") from None
    return WindowSpec(start, end, window_type)


def _read_headers(node: Any, where: Where) -> tuple[HeaderSpec, ...]:
    headers = []
    for i, item in enumerate(list_field(node, where)):
        at = where.at(f"[{i}]")
        obj = object_field(item, at)
        key = string_field(obj.get("KEY"), at.at("KEY"), required=True)
        raw = string_field(obj.get("VALUE"), at.at("VALUE"))
        value = None
        if raw is not None:
            try:
                value = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise at.at("VALUE").error(f"is not base64: {raw!r}") from None
        assert key is not None
        headers.append(HeaderSpec(key, value))
    return tuple(headers)


def read_record(node: Any, where: Where) -> RecordSpec:
    obj = object_field(node, where)
    topic = string_field(obj.get("topic"), where.at("topic"), required=True)
    assert topic is not None
    if topic != topic.strip():
        raise where.at("topic").error(f"must not start or end with whitespace: {topic!r}")
    if "value" not in obj:
        raise where.at("value").error("is required (write null for a tombstone)")
    window = _read_window(obj["window"], where.at("window")) if obj.get("window") is not None else None
    headers = _read_headers(obj["headers"], where.at("headers")) if obj.get("headers") is not None else None
    return RecordSpec(
        topic=topic,
        key=obj.get("key"),
        value=obj["value"],
        timestamp=integer_field(obj.get("timestamp"), where.at("timestamp")),
        window=window,
        headers=headers,
    )


def read_topic(node: Any, where: Where) -> TopicSpec:
    obj = object_field(node, where)
    name = string_field(obj.get("name"), where.at("name"), required=True)
    assert name is not None
    partitions = integer_field(obj.get("partitions"), where.at("partitions"))
    replicas = integer_field(obj.get("replicas"), where.at("replicas"))
    return TopicSpec(
        name=name,
        partitions=1 if partitions is None else partitions,
        replicas=1 if replicas is None else replicas,
        key_format=string_field(obj.get("keyFormat"), where.at("keyFormat")),
        value_format=string_field(obj.get("valueFormat"), where.at("valueFormat")),
        has_key_schema=obj.get("keySchema") is not None,
        has_value_schema=obj.get("valueSchema") is not None,
        key_schema_id=integer_field(obj.get("keySchemaId"), where.at("keySchemaId")),
        value_schema_id=integer_field(obj.get("valueSchemaId"), where.at("valueSchemaId")),
    )


def _read_expected_exception(node: Any, where: Where) -> ExpectedException:
    obj = object_field(node, where)
    expected = ExpectedException(
        type=string_field(obj.get("type"), where.at("type")),
        message=string_field(obj.get("message"), where.at("message")),
        cause=string_field(obj.get("cause"), where.at("cause")),
        cause_message=string_field(obj.get("causeMessage"), where.at("causeMessage")),
    )
    if expected.type is None and expected.message is None:
        raise where.error("needs a type or a message")
    if expected.cause_message is not None and expected.cause is None:
        raise where.error("causeMessage needs cause")
    return expected


def _features(node: Any, where: Where) -> frozenset[str] | None:
    if node is None:
        return None
    return frozenset(str(string_field(f, where)) for f in list_field(node, where))


def _read_source_condition(node: Any, where: Where) -> SourceCondition:
    obj = object_field(node, where)
    name = string_field(obj.get("name"), where.at("name"), required=True)
    kind = string_field(obj.get("type"), where.at("type"), required=True)
    assert name is not None and kind is not None
    if kind.lower() not in ("stream", "table"):
        raise where.at("type").error(f"must be stream or table, not {kind!r}")
    key_format = None
    if obj.get("keyFormat") is not None:
        kf = object_field(obj["keyFormat"], where.at("keyFormat"))
        key_format = KeyFormatCondition(
            format=string_field(kf.get("format"), where.at("keyFormat.format")),
            window_type=string_field(kf.get("windowType"), where.at("keyFormat.windowType")),
            window_size=integer_field(kf.get("windowSize"), where.at("keyFormat.windowSize")),
        )
    return SourceCondition(
        name=name,
        type=kind.lower(),
        schema=string_field(obj.get("schema"), where.at("schema")),
        key_format=key_format,
        value_format=string_field(obj.get("valueFormat"), where.at("valueFormat")),
        key_features=_features(obj.get("keyFeatures"), where.at("keyFeatures")),
        value_features=_features(obj.get("valueFeatures"), where.at("valueFeatures")),
        is_source=boolean_field(obj.get("isSource"), where.at("isSource")),
    )


def _read_topic_condition(node: Any, where: Where) -> TopicCondition:
    obj = object_field(node, where)
    name = string_field(obj.get("name"), where.at("name"), required=True)
    assert name is not None
    key_format = (
        object_field(obj["keyFormat"], where.at("keyFormat")) if obj.get("keyFormat") is not None else None
    )
    value_format = (
        object_field(obj["valueFormat"], where.at("valueFormat"))
        if obj.get("valueFormat") is not None
        else None
    )
    return TopicCondition(
        name=name,
        key_format=key_format,
        value_format=value_format,
        partitions=integer_field(obj.get("partitions"), where.at("partitions")),
        key_schema_id=integer_field(obj.get("keySchemaId"), where.at("keySchemaId")),
        value_schema_id=integer_field(obj.get("valueSchemaId"), where.at("valueSchemaId")),
        has_key_schema=obj.get("keySchema") is not None,
        has_value_schema=obj.get("valueSchema") is not None,
    )


def _read_post(node: Any, where: Where) -> PostConditions:
    obj = object_field(node, where)
    sources = tuple(
        _read_source_condition(s, where.at(f"sources[{i}]"))
        for i, s in enumerate(list_field(obj.get("sources"), where))
    )
    blacklist = None
    topics: tuple[TopicCondition, ...] = ()
    if obj.get("topics") is not None:
        topics_node = object_field(obj["topics"], where.at("topics"))
        blacklist = string_field(topics_node.get("blacklist"), where.at("topics.blacklist"))
        topics = tuple(
            _read_topic_condition(t, where.at(f"topics.topics[{i}]"))
            for i, t in enumerate(list_field(topics_node.get("topics"), where.at("topics.topics")))
        )
    return PostConditions(sources=sources, blacklist=blacklist, topics=topics)


# --------------------------------------------------------------------------------------------------------
# expansion


def expand_test_object(file_name: str, node: Any) -> list[TestCase]:
    """Validate one test object and expand it into cases (FORMAT.md §3.1).

    Raises:
        TestFileError: a required field is missing or has the wrong shape.
    """
    where = Where(file_name)
    obj = object_field(node, where)
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise where.error("a test has no name")
    where = Where(file_name, name)

    raw_statements = list_field(obj.get("statements"), where.at("statements"))
    if not raw_statements:
        raise where.at("statements").error("is required and must not be empty")
    statements = [
        str(string_field(s, where.at(f"statements[{i}]"), required=True))
        for i, s in enumerate(raw_statements)
    ]

    inputs = tuple(
        read_record(r, where.at(f"inputs[{i}]")) for i, r in enumerate(list_field(obj.get("inputs"), where))
    )
    outputs = tuple(
        read_record(r, where.at(f"outputs[{i}]")) for i, r in enumerate(list_field(obj.get("outputs"), where))
    )
    expected = (
        _read_expected_exception(obj["expectedException"], where.at("expectedException"))
        if obj.get("expectedException") is not None
        else None
    )
    if expected is None and not inputs and not outputs:
        raise where.error("Invalid test case: no inputs, outputs or expectedException provided")
    topics = tuple(
        read_topic(t, where.at(f"topics[{i}]")) for i, t in enumerate(list_field(obj.get("topics"), where))
    )
    properties = (
        object_field(obj["properties"], where.at("properties")) if obj.get("properties") is not None else {}
    )
    post = _read_post(obj["post"], where.at("post")) if obj.get("post") is not None else None
    enabled = boolean_field(obj.get("enabled"), where.at("enabled"))

    formats: list[str | None] = [
        str(string_field(f, where.at("format"), required=True))
        for f in list_field(obj.get("format"), where.at("format"))
    ] or [None]
    configs: list[str | None] = [
        str(string_field(c, where.at("config"), required=True))
        for c in list_field(obj.get("config"), where.at("config"))
    ] or [None]
    overwrite_key = None
    if configs != [None]:
        placeholders = [
            k
            for k, v in properties.items()
            if isinstance(v, str) and v.lower() == _CONFIG_PLACEHOLDER.lower()
        ]
        if len(placeholders) != 1:
            raise where.at("properties").error(
                f"a config matrix needs exactly one property whose value is {_CONFIG_PLACEHOLDER}, "
                f"found {len(placeholders)}"
            )
        overwrite_key = placeholders[0]

    cases = []
    for fmt in formats:
        for config in configs:
            props = dict(properties)
            config_pair = None
            if config is not None and overwrite_key is not None:
                props[overwrite_key] = config
                config_pair = (overwrite_key, config)
            replacement = fmt if fmt is not None else FORMAT_REPLACE_ERROR
            cases.append(
                TestCase(
                    file=Path(file_name).name,
                    test=name,
                    name=case_name(file_name, name, fmt, config_pair),
                    statements=tuple(s.replace("{FORMAT}", replacement) for s in statements),
                    inputs=inputs,
                    outputs=outputs,
                    topics=topics,
                    properties=props,
                    format=fmt,
                    expected_exception=expected,
                    post=post,
                    enabled=enabled is not False,
                )
            )
    return cases


def load_test_file(path: Path | str) -> list[TestCase]:
    """Read one QTT file and expand every test object in it, in file order.

    Raises:
        TestFileError: the file cannot be read, is not JSON, or breaks the format's rules.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TestFileError(f"{path}: cannot be read: {e.strerror or e}") from None
    document = load_jsonc(text, source=str(path))
    where = Where(path.name)
    if not isinstance(document, dict):
        raise where.error("the top level must be an object with a 'tests' array")
    tests = list_field(document.get("tests"), where.at("tests"))
    if not tests:
        raise where.at("tests").error("is required and must not be empty")
    cases: list[TestCase] = []
    for node in tests:
        cases.extend(expand_test_object(path.name, node))
    return cases


def find_test_files(paths: Iterable[Path | str]) -> list[Path]:
    """The ``.json`` files named by ``paths``: files as given, directories searched (sorted, not recursive).

    Raises:
        TestFileError: a path does not exist.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise TestFileError(f"{path}: no such file or directory")
    return found


class LoadResult:
    """Cases of every file that loaded, and a message per file that did not (a bad file spoils only
    itself, not the run)."""

    def __init__(self, cases: Sequence[TestCase], file_errors: Mapping[str, str]) -> None:
        self.cases = list(cases)
        self.file_errors = dict(file_errors)


def load_paths(paths: Iterable[Path | str]) -> LoadResult:
    """Load every test file under ``paths`` and check that enabled expanded names are unique across all.

    A file that fails to load is reported in ``file_errors`` (by file name) and contributes no cases. A
    duplicate name makes the later file fail the same way, as ksqlDB refuses to run with duplicates.

    Raises:
        TestFileError: a path does not exist.
    """
    cases: list[TestCase] = []
    file_errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in find_test_files(paths):
        try:
            loaded = load_test_file(path)
            for case in loaded:
                if not case.enabled:
                    continue
                if case.name in seen:
                    raise TestFileError(
                        f"{path.name}: duplicate test name {case.name!r} (also in {seen[case.name]})"
                    )
            batch_names: dict[str, str] = {}
            for case in loaded:
                if case.enabled:
                    if case.name in batch_names:
                        raise TestFileError(f"{path.name}: duplicate test name {case.name!r}")
                    batch_names[case.name] = path.name
        except TestFileError as e:
            file_errors[path.name] = str(e)
            continue
        seen.update(batch_names)
        cases.extend(loaded)
    return LoadResult(cases, file_errors)
