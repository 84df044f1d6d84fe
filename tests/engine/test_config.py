"""Configuration: defaults, layered overrides, validation in Kafka's wording."""

from __future__ import annotations

import pytest

from headwater.engine.config import EngineConfig
from headwater.errors import PlanError


def test_defaults_match_ksqldb() -> None:
    cfg = EngineConfig()
    assert cfg.get("ksql.persistence.default.format.key") == "KAFKA"
    assert cfg.get("ksql.persistence.default.format.value") is None
    assert cfg.get("auto.offset.reset") == "latest"
    assert cfg.get_bool("ksql.functions.substring.legacy.args") is False
    assert cfg.get_int("ksql.sink.partitions") is None


def test_overrides_layer_and_unset_restores_default() -> None:
    base = EngineConfig().with_overrides({"auto.offset.reset": "earliest"})
    request = base.with_overrides({"ksql.sink.partitions": 3, "ksql.streams.auto.offset.reset": "latest"})
    assert base.get("auto.offset.reset") == "earliest"
    assert request.get("auto.offset.reset") == "latest"
    assert request.get_int("ksql.sink.partitions") == 3
    assert request.overridden() == {"auto.offset.reset": "latest", "ksql.sink.partitions": "3"}
    assert request.without("auto.offset.reset").get("auto.offset.reset") == "latest"
    assert not request.without("auto.offset.reset").is_set("auto.offset.reset")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ksql.persistence.wrap.single.values", "maybe", "Expected value to be either true or false"),
        ("ksql.sink.partitions", "many", "Invalid value many for configuration ksql.sink.partitions"),
        ("auto.offset.reset", "middle", "String must be one of: earliest, latest, none"),
    ],
)
def test_bad_values_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        EngineConfig().with_overrides({name: value})


def test_booleans_are_normalised() -> None:
    cfg = EngineConfig().with_overrides({"ksql.timestamp.throw.on.invalid": "TRUE", "x.y": True})
    assert cfg.get("ksql.timestamp.throw.on.invalid") == "true"
    assert cfg.get("x.y") == "true"
    assert "x.y" in cfg.as_dict()
