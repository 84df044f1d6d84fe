"""Historical reads of damaged or out-of-range input: each is a HeadwaterError that says what is wrong
and where (a damaged topic is not reported as missing; a bound beyond 64-bit milliseconds is a PlanError,
not an OverflowError from inside the rendering of the query)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import headwater
from headwater.api import Client
from headwater.engine.historical.render import literal_sql
from headwater.errors import PlanError, StorageError
from headwater.parser import types as t


def _fill(data: Path) -> None:
    with headwater.connect(data, background=False) as hw:
        hw.sql(
            "CREATE STREAM CLICKS (USER STRING KEY, PAGE STRING) "
            "WITH (KAFKA_TOPIC='clicks', PARTITIONS=1, VALUE_FORMAT='JSON');"
        )
        hw.sql("INSERT INTO CLICKS (ROWTIME, USER, PAGE) VALUES (1000, 'u1', '/a');")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    _fill(tmp_path / "data")
    with headwater.connect(tmp_path / "data", background=False) as hw:
        yield hw


@pytest.mark.parametrize("bound", [10**30, -(10**30), "99999999999999999999999999", "-9999999999999999999999"])
@pytest.mark.parametrize("option", ["since", "until"])
def test_a_bound_beyond_64_bit_milliseconds_is_a_plan_error(client: Client, option: str, bound: int | str) -> None:
    with pytest.raises(PlanError, match=rf"Invalid {option}: -?\d+ is outside the range of a timestamp"):
        if option == "since":
            client.read("CLICKS", since=bound)
        else:
            client.read("CLICKS", until=bound)


def test_the_largest_64_bit_bound_still_reads(client: Client) -> None:
    assert client.read("CLICKS", since=-(2**63), until=2**63 - 1).num_rows == 1


def test_a_literal_that_does_not_fit_its_type_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match=r"does not fit the type BIGINT"):
        literal_sql(2**70, t.BIGINT)


def test_a_topic_without_its_configuration_is_reported_as_damaged_not_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    (data / "log" / "topics" / "clicks" / "topic.json").unlink()
    with headwater.connect(data, background=False) as hw:
        with pytest.raises(StorageError, match=r"Topic 'clicks' is damaged: .* has no topic.json"):
            hw.read("CLICKS")
        with pytest.raises(StorageError, match=r"Topic 'clicks' is damaged"):
            hw.sql("SELECT * FROM CLICKS;")
    assert (data / "log" / "topics" / "clicks" / "0").is_dir()  # the records are left where they were

