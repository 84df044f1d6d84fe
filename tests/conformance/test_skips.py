"""Skips: only cases that need AVRO, PROTOBUF, PROTOBUF_NOSR, JSON_SR or a schema registry."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from headwater.conformance.loader import load_paths
from headwater.conformance.model import PostConditions, TestCase, TopicCondition, TopicSpec
from headwater.conformance.skips import skip_reason


def _case(*statements: str, **fields: object) -> TestCase:
    return TestCase("f.json", "t", "f - t", statements, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (_case("CREATE STREAM S (A INT) WITH (kafka_topic='s', value_format='JSON');"), None),
        (
            _case("CREATE STREAM S (A INT) WITH (kafka_topic='s', value_format='JSON');", format="PROTOBUF"),
            "needs PROTOBUF",
        ),
        (
            _case("CREATE STREAM S (A INT) WITH (kafka_topic='s', VALUE_FORMAT = 'protobuf_nosr');"),
            "needs PROTOBUF_NOSR",
        ),
        (_case("CREATE STREAM S (A INT) WITH (kafka_topic='s', format='JSON_SR');"), "needs JSON_SR"),
        (
            _case("CREATE STREAM S (A INT) WITH (kafka_topic='s', key_format='avro', value_format='JSON');"),
            "needs AVRO",
        ),
        (_case("SELECT 'value_format=''AVRO''' FROM S;"), None),
        (
            _case(
                "CREATE STREAM S (A INT) WITH (kafka_topic='s');",
                properties={"ksql.persistence.default.format.value": "AVRO"},
            ),
            "needs AVRO",
        ),
        (
            _case("CREATE STREAM S WITH (kafka_topic='s', value_format='JSON', value_schema_id=1);"),
            "needs a schema registry",
        ),
        (_case("x", topics=(TopicSpec("s", value_format="AVRO"),)), "needs AVRO"),
        (_case("x", topics=(TopicSpec("s", has_value_schema=True),)), "needs a schema registry"),
        (_case("x", topics=(TopicSpec("s", partitions=4),)), None),
        (
            _case("x", post=PostConditions(topics=(TopicCondition("o", value_schema_id=2),))),
            "needs a schema registry",
        ),
        (_case("x", enabled=False), "disabled in its test file (enabled: false)"),
    ],
)
def test_skip_reasons(case: TestCase, reason: str | None) -> None:
    assert skip_reason(case) == reason


def test_corpus_skips_only_for_unsupported_formats(qtt_dir: Path) -> None:
    reasons = Counter(skip_reason(c) for c in load_paths([qtt_dir]).cases)
    allowed = {
        None,
        "needs AVRO",
        "needs PROTOBUF",
        "needs PROTOBUF_NOSR",
        "needs JSON_SR",
        "needs a schema registry",
    }
    assert set(reasons) - allowed == {"disabled in its test file (enabled: false)"}
    assert reasons[None] > 1000
