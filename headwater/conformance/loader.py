"""Loading ksqlDB's QTT files and expanding them into runnable cases (FORMAT.md §2, §3, §4).

Loading follows ksqlDB's ``JsonTestLoader`` and ``TestCaseBuilder``: unknown keys are ignored at every
level, the required fields are checked with a message naming the file and the test, and each test object
expands into one case per entry of its ``format`` list (outer loop) and ``config`` list (inner loop).
Expanded names must be unique across every file of a run. What QTT files share with RQTT files (the
file's layout, records, topics, the core fields of a test, the uniqueness rule) is read by
:mod:`headwater.conformance.case_files`; this module reads what only QTT has: ``expectedException``,
``post`` and the ``config`` matrix.

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

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from headwater.conformance.case_files import (
    LoadResult,
    Where,
    boolean_field,
    case_name,
    expand_file,
    integer_field,
    list_field,
    load_unique,
    object_field,
    read_common_fields,
    string_field,
)
from headwater.conformance.model import (
    ExpectedException,
    KeyFormatCondition,
    PostConditions,
    SourceCondition,
    TestCase,
    TopicCondition,
)

__all__ = ["expand_test_object", "load_paths", "load_test_file"]

_CONFIG_PLACEHOLDER = "{CONFIG}"


# --------------------------------------------------------------------------------------------------------
# expectations and post-conditions


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
    common = read_common_fields(file_name, node)
    obj, where, properties = common.obj, common.where, common.properties
    expected = (
        _read_expected_exception(obj["expectedException"], where.at("expectedException"))
        if obj.get("expectedException") is not None
        else None
    )
    if expected is None and not common.inputs and not common.outputs:
        raise where.error("Invalid test case: no inputs, outputs or expectedException provided")
    post = _read_post(obj["post"], where.at("post")) if obj.get("post") is not None else None
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
    for fmt in common.formats:
        for config in configs:
            props = dict(properties)
            config_pair = None
            if config is not None and overwrite_key is not None:
                props[overwrite_key] = config
                config_pair = (overwrite_key, config)
            cases.append(
                TestCase(
                    file=Path(file_name).name,
                    test=common.name,
                    name=case_name(file_name, common.name, fmt, config_pair),
                    statements=common.statements_for(fmt),
                    inputs=common.inputs,
                    outputs=common.outputs,
                    topics=common.topics,
                    properties=props,
                    format=fmt,
                    expected_exception=expected,
                    post=post,
                    enabled=common.enabled,
                )
            )
    return cases


def load_test_file(path: Path | str) -> list[TestCase]:
    """Read one QTT file and expand every test object in it, in file order.

    Raises:
        TestFileError: the file cannot be read, is not JSON, or breaks the format's rules.
    """
    return expand_file(path, expand_test_object, no_tests="is required and must not be empty")


def load_paths(paths: Iterable[Path | str]) -> LoadResult[TestCase]:
    """Load every QTT file under ``paths``; enabled expanded names must be unique across all of them.

    A file that fails to load is reported in ``file_errors`` (by file name) and contributes no cases. A
    duplicate name makes the later file fail the same way, as ksqlDB refuses to run with duplicates.

    Raises:
        TestFileError: a path does not exist.
    """
    return load_unique(paths, load_test_file)
