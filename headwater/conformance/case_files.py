"""What ksqlDB's QTT and RQTT test files have in common, read once for both loaders.

Both kinds of file are comment-tolerant JSON with exact decimals (:mod:`headwater.conformance.jsonc`),
an object whose ``tests`` array holds test objects, and both kinds of test object share their core:
``name``, ``statements`` (with ``{FORMAT}`` replaced per entry of the ``format`` matrix), ``inputs`` and
``outputs`` records, ``topics``, ``properties`` and ``enabled``. ksqlDB reads those through the same node
classes (``RecordNode``, ``TopicNode``) for both harnesses, so Headwater reads them here, with messages
that name the file, the test and the field. What differs stays in the loaders: QTT's expected exception,
post-conditions and config matrix (:mod:`headwater.conformance.loader`), RQTT's responses and expected
error (:mod:`headwater.conformance.rest_loader`).

Expanded names must be unique across every file of a run (ksqlDB refuses to run with duplicates);
:func:`load_unique` applies that rule to either kind of case.

Example:
    >>> fields = read_common_fields("demo.json", {
    ...     "name": "t", "format": ["JSON"], "statements": ["CREATE STREAM S WITH (value_format='{FORMAT}');"]})
    >>> fields.name, fields.formats, fields.statements_for("JSON")
    ('t', ('JSON',), ("CREATE STREAM S WITH (value_format='JSON');",))
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from headwater.conformance.jsonc import TestFileError, load_jsonc
from headwater.conformance.model import HeaderSpec, RecordSpec, TopicSpec, WindowSpec, WindowType

__all__ = [
    "FORMAT_REPLACE_ERROR",
    "CommonFields",
    "LoadResult",
    "Where",
    "boolean_field",
    "case_name",
    "expand_file",
    "find_test_files",
    "integer_field",
    "list_field",
    "load_unique",
    "object_field",
    "read_common_fields",
    "read_record",
    "read_test_nodes",
    "read_topic",
    "string_field",
]

FORMAT_REPLACE_ERROR = "To use {FORMAT} in your statements please set the 'format' test case element"
"""What ``{FORMAT}`` becomes in a test without a format matrix (ksqlDB's ``TestCaseBuilderUtil``)."""


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
# field readers with messages that say where


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
# records and topics (ksqlDB's RecordNode, WindowData and TopicNode, shared by both harnesses)


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
    """One ``inputs``/``outputs`` record: topic, key and value as written, timestamp, window, headers."""
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
    """One ``topics`` entry (one partition and one replica unless it says otherwise)."""
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


# --------------------------------------------------------------------------------------------------------
# the core of a test object


@dataclass(frozen=True, slots=True)
class CommonFields:
    """The fields every QTT and RQTT test object has, read and checked.

    Attributes:
        obj: the test object as written, for the fields only one kind of test has.
        where: the test's place, for messages about those fields.
        name: the test's ``name``.
        statements: the statements as written (``{FORMAT}`` not yet replaced).
        inputs: records to produce, in file order.
        outputs: records to expect.
        topics: the ``topics`` entries.
        properties: the ``properties`` object (empty when absent).
        formats: the ``format`` matrix; ``(None,)`` when the test has none, so a test expands at least once.
        enabled: False when the file disables the test (``"enabled": false``).
    """

    obj: Mapping[str, Any]
    where: Where
    name: str
    statements: tuple[str, ...]
    inputs: tuple[RecordSpec, ...]
    outputs: tuple[RecordSpec, ...]
    topics: tuple[TopicSpec, ...]
    properties: Mapping[str, Any] = field(default_factory=dict)
    formats: tuple[str | None, ...] = (None,)
    enabled: bool = True

    def statements_for(self, fmt: str | None) -> tuple[str, ...]:
        """The statements of the expansion for ``fmt``: ``{FORMAT}`` replaced by it, or by ksqlDB's
        message when the test has no format matrix (so a statement that needs one fails visibly)."""
        replacement = fmt if fmt is not None else FORMAT_REPLACE_ERROR
        return tuple(s.replace("{FORMAT}", replacement) for s in self.statements)


def read_common_fields(file_name: str, node: Any) -> CommonFields:
    """Read and check the fields every test object has.

    Raises:
        TestFileError: a field is missing or has the wrong shape; the message names file, test and field.
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
    statements = tuple(
        str(string_field(s, where.at(f"statements[{i}]"), required=True))
        for i, s in enumerate(raw_statements)
    )
    inputs = tuple(
        read_record(r, where.at(f"inputs[{i}]")) for i, r in enumerate(list_field(obj.get("inputs"), where))
    )
    outputs = tuple(
        read_record(r, where.at(f"outputs[{i}]")) for i, r in enumerate(list_field(obj.get("outputs"), where))
    )
    topics = tuple(
        read_topic(t, where.at(f"topics[{i}]")) for i, t in enumerate(list_field(obj.get("topics"), where))
    )
    properties = (
        object_field(obj["properties"], where.at("properties")) if obj.get("properties") is not None else {}
    )
    formats = tuple(
        str(string_field(f, where.at("format"), required=True))
        for f in list_field(obj.get("format"), where.at("format"))
    )
    return CommonFields(
        obj=obj,
        where=where,
        name=name,
        statements=statements,
        inputs=inputs,
        outputs=outputs,
        topics=topics,
        properties=dict(properties),
        formats=formats or (None,),
        enabled=boolean_field(obj.get("enabled"), where.at("enabled")) is not False,
    )


# --------------------------------------------------------------------------------------------------------
# files


class _NamedCase(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool: ...


CaseT = TypeVar("CaseT", bound=_NamedCase)


def read_test_nodes(path: Path | str, *, no_tests: str) -> list[Any]:
    """The test objects of one file, as written (comments allowed, exact decimals).

    Args:
        path: the file.
        no_tests: what to say when the ``tests`` array is missing or empty (each harness has its words).

    Raises:
        TestFileError: the file cannot be read, is not JSON, or has no ``tests``.
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
        raise where.at("tests").error(no_tests)
    return tests


def expand_file(path: Path | str, expand: Callable[[str, Any], list[CaseT]], *, no_tests: str) -> list[CaseT]:
    """Read one file and expand every test object in it with ``expand(file name, object)``, in file order.

    Raises:
        TestFileError: the file cannot be read, is not JSON, or breaks the format's rules.
    """
    path = Path(path)
    cases: list[CaseT] = []
    for node in read_test_nodes(path, no_tests=no_tests):
        cases.extend(expand(path.name, node))
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


class LoadResult(Generic[CaseT]):
    """Cases of every file that loaded, and a message per file that did not (a bad file spoils only
    itself, not the run)."""

    def __init__(self, cases: Iterable[CaseT], file_errors: Mapping[str, str]) -> None:
        self.cases = list(cases)
        self.file_errors = dict(file_errors)


def load_unique(paths: Iterable[Path | str], load_file: Callable[[Path], list[CaseT]]) -> LoadResult[CaseT]:
    """Load every test file under ``paths`` with ``load_file`` and check that enabled expanded names are
    unique across all.

    A file that fails to load is reported in ``file_errors`` (by file name) and contributes no cases. A
    duplicate name makes the later file fail the same way, as ksqlDB refuses to run with duplicates;
    disabled cases take no part (ksqlDB drops them at load time).

    Raises:
        TestFileError: a path does not exist.
    """
    cases: list[CaseT] = []
    file_errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in find_test_files(paths):
        try:
            loaded = load_file(path)
            names: dict[str, str] = {}
            for case in loaded:
                if not case.enabled:
                    continue
                if case.name in seen:
                    raise TestFileError(
                        f"{path.name}: duplicate test name {case.name!r} (also in {seen[case.name]})"
                    )
                if case.name in names:
                    raise TestFileError(f"{path.name}: duplicate test name {case.name!r}")
                names[case.name] = path.name
        except TestFileError as e:
            file_errors[path.name] = str(e)
            continue
        seen.update(names)
        cases.extend(loaded)
    return LoadResult(cases, file_errors)
