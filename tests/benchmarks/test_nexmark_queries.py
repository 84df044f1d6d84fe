"""q0-q2 on Headwater equal DuckDB's answers at a tiny scale, and the check itself catches differences."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks.nexmark import duckdb_run, headwater_run
from benchmarks.nexmark.equality import compare_with_duckdb
from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.loader import Dataset, declare_streams, load
from benchmarks.nexmark.queries import PLANNED, all_queries, query
from benchmarks.nexmark.schemas import BID
from headwater.engine import Engine

EVENTS = 20_000


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Dataset]]:
    work = tmp_path_factory.mktemp("nexmark")
    engine = Engine(work / "headwater", background=False)
    dataset = load(NexmarkGenerator(GeneratorConfig(events=EVENTS, seed=9)), work / "files", engine.log,
                   arrow=False)
    declare_streams(engine)
    yield engine, dataset
    engine.close()


def test_the_registry_has_q0_to_q2_and_names_what_the_others_need() -> None:
    assert list(all_queries()) == ["q0", "q1", "q2"]
    for planned in PLANNED:
        with pytest.raises(KeyError, match="not available yet"):
            query(planned)
    with pytest.raises(KeyError, match="unknown query"):
        query("q99")


@pytest.mark.parametrize("query_id", ["q0", "q1", "q2"])
def test_headwater_result_topic_equals_duckdb(loaded: tuple[Engine, Dataset], query_id: str) -> None:
    engine, dataset = loaded
    nexmark = query(query_id)
    sink = f"T_{query_id.upper()}"
    measured = headwater_run.run_headwater(engine, nexmark, sink, discard=False, settle_first=False)
    assert measured.events == dataset.counts["bid"] == 46 * EVENTS // 50
    result = headwater_run.read_topic(engine.log, sink)
    assert measured.output_rows == result.num_rows > 0
    con = duckdb_run.connect(dataset)
    comparison = compare_with_duckdb(con, nexmark, "headwater", result)
    assert comparison.equal, comparison.describe()
    if query_id == "q1":
        assert result.schema.field("PRICE").type == pa.decimal128(23, 3)
    if query_id == "q2":
        assert all(a % 123 == 0 for a in result.column("AUCTION").to_pylist())
    headwater_run.drop_query(engine, sink)
    assert not engine.log.has_topic(sink)
    discarded = headwater_run.run_headwater(engine, nexmark, f"D_{query_id.upper()}", discard=True,
                                             settle_first=False)
    assert discarded.output_rows == result.num_rows
    assert sum(engine.log.topic(f"D_{query_id.upper()}").end_offsets().values()) == 0
    headwater_run.drop_query(engine, f"D_{query_id.upper()}")
    duck = duckdb_run.run_duckdb(con, nexmark, dataset, repeat=1, settle_first=False)
    assert duck.output_rows == result.num_rows


def test_the_check_finds_a_changed_value_a_lost_row_and_a_wrong_decimal_type(
        loaded: tuple[Engine, Dataset]) -> None:
    _, dataset = loaded
    con = duckdb_run.connect(dataset)
    q1 = query("q1")
    expected = con.sql(q1.duckdb_sql).to_arrow_table()
    result = expected.cast(pa.schema([f.with_type(pa.timestamp("ms")) if f.name == "DATETIME" else f
                                      for f in expected.schema]))
    assert compare_with_duckdb(con, q1, "copy", result).equal
    prices = result.column("PRICE").to_pylist()
    prices[7] = prices[7] + Decimal("0.001")
    changed = result.set_column(2, "PRICE", pa.array(prices, pa.decimal128(23, 3)))
    outcome = compare_with_duckdb(con, q1, "changed", changed)
    assert (outcome.equal, outcome.missing, outcome.unexpected) == (False, 1, 1)
    lost = compare_with_duckdb(con, q1, "lost", result.slice(1))
    assert (lost.equal, lost.missing, lost.unexpected) == (False, 1, 0)
    duplicated = compare_with_duckdb(con, q1, "duplicated", pa.concat_tables([result, result.slice(0, 1)]))
    assert (duplicated.equal, duplicated.missing, duplicated.unexpected) == (False, 0, 1)
    widened = result.set_column(2, "PRICE", result.column("PRICE").cast(pa.decimal128(24, 3)))
    mistyped = compare_with_duckdb(con, q1, "mistyped", widened)
    assert not mistyped.equal and mistyped.missing == 0 and "DECIMAL(24,3)" in mistyped.problems[0]
    reordered = compare_with_duckdb(con, q1, "reordered", result.take(pa.array(range(result.num_rows - 1, -1, -1))))
    assert reordered.equal


def test_files_hold_the_same_events_as_the_topics(loaded: tuple[Engine, Dataset], tmp_path: Path) -> None:
    engine, dataset = loaded
    stored = headwater_run.read_topic(engine.log, "bid")
    con = duckdb_run.connect(dataset)
    assert con.sql("SELECT * FROM bid").to_arrow_table().cast(stored.schema).equals(stored)
    arrow_copy = load(NexmarkGenerator(GeneratorConfig(events=EVENTS, seed=9)), tmp_path, None, parquet=False)
    with pa.ipc.open_stream(arrow_copy.arrow(BID)) as reader:
        assert reader.read_all().equals(stored)
    with pa.ipc.open_stream(arrow_copy.arrow(BID, empty=True)) as reader:
        assert reader.read_all().num_rows == 0
