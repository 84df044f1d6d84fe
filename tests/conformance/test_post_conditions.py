"""Post-conditions (FORMAT.md §9): sources, the topic blacklist, topic formats; internal topics excepted."""

from __future__ import annotations

import pytest

from headwater.conformance.model import KeyFormatCondition, PostConditions, SourceCondition, TopicCondition
from headwater.conformance.post_conditions import (
    ObservedTopic,
    PostConditionFailure,
    check_post_conditions,
    is_internal_topic,
    parse_schema,
)
from headwater.engine.catalog import DataSource, FormatSpec, SourceType, WindowInfo, WindowType
from headwater.engine.schema import Column, LogicalSchema, Namespace
from headwater.parser import types as t

SCHEMA = LogicalSchema(
    (Column("ID", t.BIGINT, Namespace.KEY), Column("name", t.STRING), Column("V", t.Decimal(4, 2)))
)


def _source(**kw: object) -> DataSource:
    fields: dict[str, object] = {
        "name": "OUTPUT",
        "kind": SourceType.TABLE,
        "schema": SCHEMA,
        "topic": "OUTPUT",
        "key_format": FormatSpec("KAFKA"),
        "value_format": FormatSpec("JSON"),
    }
    fields.update(kw)
    return DataSource(**fields)  # type: ignore[arg-type]


def _check(
    post: PostConditions,
    sources: list[DataSource] | None = None,
    topics: dict[str, ObservedTopic] | None = None,
) -> None:
    check_post_conditions(post, sources if sources is not None else [_source()], topics or {})


def _fails(what: str, post: PostConditions, **kw: object) -> PostConditionFailure:
    with pytest.raises(PostConditionFailure) as info:
        _check(post, **kw)  # type: ignore[arg-type]
    assert info.value.what == what
    return info.value


def test_schema_text_parses_with_quoting_and_key_namespaces() -> None:
    assert parse_schema("ID BIGINT KEY, `name` VARCHAR, V DECIMAL(4, 2)") == SCHEMA
    parsed = parse_schema("K STRING PRIMARY KEY, H ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>> HEADERS")
    assert [c.namespace for c in parsed] == [Namespace.KEY, Namespace.HEADERS]


def test_matching_source_passes_and_unlisted_sources_are_ignored() -> None:
    other = _source(name="OTHER", kind=SourceType.STREAM)
    _check(
        PostConditions(
            sources=(SourceCondition("OUTPUT", "table", "ID BIGINT KEY, `name` STRING, V DECIMAL(4,2)"),)
        ),
        sources=[_source(), other],
    )


def test_source_must_exist() -> None:
    failure = _fails("source missing", PostConditions(sources=(SourceCondition("NOPE", "table"),)))
    assert "OUTPUT" in str(failure)


@pytest.mark.parametrize(
    ("condition", "what"),
    [
        (SourceCondition("OUTPUT", "stream"), "source type differs"),
        (
            SourceCondition("OUTPUT", "table", "ID BIGINT KEY, NAME STRING, V DECIMAL(4, 2)"),
            "source schema differs",
        ),
        (
            SourceCondition("OUTPUT", "table", "ID BIGINT, `name` STRING, V DECIMAL(4, 2)"),
            "source schema differs",
        ),
        (
            SourceCondition("OUTPUT", "table", "`name` STRING, ID BIGINT KEY, V DECIMAL(4, 2)"),
            "source schema differs",
        ),
        (
            SourceCondition("OUTPUT", "table", "ID BIGINT KEY, `name` STRING, V DECIMAL(4, 3)"),
            "source schema differs",
        ),
        (SourceCondition("OUTPUT", "table", "ID BIGINT KEY, `name` STRING"), "source schema differs"),
        (
            SourceCondition("OUTPUT", "table", key_format=KeyFormatCondition("JSON")),
            "source key format differs",
        ),
        (
            SourceCondition("OUTPUT", "table", key_format=KeyFormatCondition(window_type="HOPPING")),
            "source key format differs",
        ),
        (SourceCondition("OUTPUT", "table", value_format="DELIMITED"), "source value format differs"),
        (
            SourceCondition("OUTPUT", "table", key_features=frozenset({"UNWRAP_SINGLES"})),
            "source key features differs",
        ),
        (
            SourceCondition("OUTPUT", "table", value_features=frozenset({"WRAP_SINGLES"})),
            "source value features differs",
        ),
        (SourceCondition("OUTPUT", "table", is_source=True), "source isSource differs"),
    ],
)
def test_each_source_property_is_checked(condition: SourceCondition, what: str) -> None:
    _fails(what, PostConditions(sources=(condition,)))


def test_key_format_window_is_exact_once_given() -> None:
    windowed = _source(window=WindowInfo(WindowType.HOPPING, 30000))
    good = KeyFormatCondition("KAFKA", "HOPPING", 30000)
    _check(PostConditions(sources=(SourceCondition("OUTPUT", "table", key_format=good),)), sources=[windowed])
    for bad in (
        KeyFormatCondition("KAFKA"),
        KeyFormatCondition(window_type="HOPPING"),
        KeyFormatCondition(window_type="TUMBLING", window_size=30000),
    ):
        _fails(
            "source key format differs",
            PostConditions(sources=(SourceCondition("OUTPUT", "table", key_format=bad),)),
            sources=[windowed],
        )
    session = _source(window=WindowInfo(WindowType.SESSION))
    _check(
        PostConditions(
            sources=(
                SourceCondition("OUTPUT", "table", key_format=KeyFormatCondition(window_type="session")),
            )
        ),
        sources=[session],
    )


def test_features_compare_as_sets() -> None:
    source = _source(value_format=FormatSpec("JSON", features=frozenset({"WRAP_SINGLES"})))
    _check(
        PostConditions(
            sources=(SourceCondition("OUTPUT", "table", value_features=frozenset({"WRAP_SINGLES"})),)
        ),
        sources=[source],
    )


def test_blacklist_is_a_substring_search_over_every_known_topic() -> None:
    topics = {n: ObservedTopic(n, 1) for n in ("OUTPUT", "x-repartition-y")}
    failure = _fails("topic matches the blacklist", PostConditions(blacklist=".*-repartition"), topics=topics)
    assert "x-repartition-y" in str(failure)
    _check(PostConditions(blacklist="-repartition$"), topics=topics)


def test_topic_formats_and_partitions() -> None:
    observed = {"OUTPUT": ObservedTopic("OUTPUT", 4, FormatSpec("KAFKA"), FormatSpec("JSON"))}
    good = TopicCondition("OUTPUT", {"format": "KAFKA"}, {"format": "JSON", "features": []}, partitions=4)
    _check(PostConditions(topics=(good,)), topics=observed)
    _fails(
        "topic partitions differs",
        PostConditions(topics=(TopicCondition("OUTPUT", partitions=1),)),
        topics=observed,
    )
    _fails(
        "topic key format differs",
        PostConditions(
            topics=(TopicCondition("OUTPUT", {"format": "KAFKA", "features": ["UNWRAP_SINGLES"]}),)
        ),
        topics=observed,
    )
    _fails(
        "topic value format differs",
        PostConditions(topics=(TopicCondition("OUTPUT", value_format={"format": "DELIMITED"}),)),
        topics=observed,
    )
    _fails("topic missing", PostConditions(topics=(TopicCondition("ELSEWHERE"),)), topics=observed)
    _fails(
        "topic schema ids differs",
        PostConditions(topics=(TopicCondition("OUTPUT", value_schema_id=1),)),
        topics=observed,
    )


def test_internal_kafka_streams_topics_are_not_checked() -> None:
    name = (
        "_confluent-ksql-some.ksql.service.idquery_CSAS_OUTPUT_0-KSTREAM-JOINTHIS-0000000008-store-changelog"
    )
    assert is_internal_topic(name) and not is_internal_topic("OUTPUT")
    _check(PostConditions(topics=(TopicCondition(name, {"format": "KAFKA"}),)))
