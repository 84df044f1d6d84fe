"""q0-q8 on Headwater equal DuckDB's answers at a tiny scale, and the check itself catches differences."""

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
from benchmarks.nexmark.queries import Created, NexmarkQuery, all_queries, query
from benchmarks.nexmark.schemas import BID
from headwater.engine import Engine

EVENTS = 20_000
RATE = 1_000
"""Events per second of event time: 20,000 events span 20 s, so the windowed queries see several windows."""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Dataset]]:
    work = tmp_path_factory.mktemp("nexmark")
    engine = Engine(work / "headwater", background=False)
    dataset = load(NexmarkGenerator(GeneratorConfig(events=EVENTS, seed=9, events_per_second=RATE)), work / "files",
                   engine.log, arrow=False)
    declare_streams(engine)
    yield engine, dataset
    engine.close()


def test_the_registry_holds_the_queries_in_order_and_refuses_unknown_ids() -> None:
    assert list(all_queries()) == ["q0", "q1", "q2", "q3", "q5", "q7", "q8"]
    with pytest.raises(KeyError, match="unknown query"):
        query("q99")


def test_a_pipeline_names_what_it_creates_and_must_end_in_its_sink() -> None:
    assert query("q0").created("S") == [Created("STREAM", "S", True)]
    assert not query("q0").is_pipeline
    q5 = query("q5")
    assert q5.is_pipeline
    assert [(c.kind, c.name, c.derived) for c in q5.created("R")] == [
        ("TABLE", "R_COUNTS", True), ("STREAM", "R_COUNT_CHANGES", False), ("TABLE", "R_FINAL_COUNTS", True),
        ("TABLE", "R_MAX", True), ("TABLE", "R", True)]
    with pytest.raises(ValueError, match="must create"):
        NexmarkQuery("q9", "x", ("bid",), "CREATE TABLE {sink}_A AS SELECT 1 FROM BID;\nCREATE STREAM {sink}_B (A INT) "
                     "WITH (KAFKA_TOPIC='{sink}', VALUE_FORMAT='JSON');", "SELECT 1", "SELECT 1")
    with pytest.raises(ValueError, match="q<N>"):
        NexmarkQuery("x9", "x", ("bid",), "CREATE STREAM {sink} AS SELECT * FROM BID;", "SELECT 1", "SELECT 1")


@pytest.mark.parametrize("query_id", ["q0", "q1", "q2"])
def test_headwater_result_topic_equals_duckdb(loaded: tuple[Engine, Dataset], query_id: str) -> None:
    engine, dataset = loaded
    nexmark = query(query_id)
    sink = f"T_{query_id.upper()}"
    measured = headwater_run.run_headwater(engine, nexmark, sink, discard=False, settle_first=False)
    assert measured.events == dataset.counts["bid"] == 46 * EVENTS // 50
    result = headwater_run.read_result(engine.log, nexmark, sink)
    assert measured.output_rows == result.num_rows > 0
    con = duckdb_run.connect(dataset)
    comparison = compare_with_duckdb(con, nexmark, "headwater", result)
    assert comparison.equal, comparison.describe()
    if query_id == "q1":
        assert result.schema.field("PRICE").type == pa.decimal128(23, 3)
    if query_id == "q2":
        assert all(a % 123 == 0 for a in result.column("AUCTION").to_pylist())
    headwater_run.drop_query(engine, nexmark, sink)
    assert not engine.log.has_topic(sink)
    discarded = headwater_run.run_headwater(engine, nexmark, f"D_{query_id.upper()}", discard=True,
                                             settle_first=False)
    assert discarded.output_rows == result.num_rows
    assert sum(engine.log.topic(f"D_{query_id.upper()}").end_offsets().values()) == 0
    headwater_run.drop_query(engine, nexmark, f"D_{query_id.upper()}")
    duck = duckdb_run.run_duckdb(con, nexmark, dataset, repeat=1, settle_first=False)
    assert duck.output_rows == result.num_rows


@pytest.mark.parametrize("query_id", ["q3", "q5", "q7", "q8"])
def test_headwater_pipeline_answer_equals_duckdb(loaded: tuple[Engine, Dataset], query_id: str) -> None:
    """The stateful queries' pipelines: the final answer equals DuckDB's, the stages are timed one by one,
    and dropping the run removes every stream, table and topic it made."""
    engine, dataset = loaded
    nexmark = query(query_id)
    sink = f"P_{query_id.upper()}"
    measured = headwater_run.run_headwater(engine, nexmark, sink, discard=False, settle_first=False)
    assert measured.events == sum(dataset.counts[source] for source in nexmark.sources)
    derived = [c for c in nexmark.created(sink) if c.derived]
    assert [stage.query_id.split("_", 1)[1].rsplit("_", 1)[0] for stage in measured.stages] == [c.name for c in derived]
    assert measured.wall_s >= sum(stage.wall_s for stage in measured.stages) * 0.99
    answer = headwater_run.read_result(engine.log, nexmark, sink)
    assert answer.num_rows > 0
    comparison = compare_with_duckdb(duckdb_run.connect(dataset), nexmark, "headwater", answer)
    assert comparison.equal, comparison.describe()
    if nexmark.result.is_table:  # a table's changelog holds updates: the answer is its final state
        assert measured.output_rows >= answer.num_rows
    headwater_run.drop_query(engine, nexmark, sink)
    for created in nexmark.created(sink):
        assert not engine.log.has_topic(created.name)
    assert not any(q.sink_name.upper().startswith(sink) for q in engine.persistent_queries())


def test_the_final_state_of_a_table_is_the_latest_row_per_key_without_deleted_keys() -> None:
    changes = pa.table({"K": [1, 2, 1, 3, 2], "V": ["a", "b", "c", "d", "e"],
                        "__tombstone": [False, False, False, False, True]})
    latest = headwater_run._latest_per_key(changes, ["K"])
    assert sorted(zip(latest.column("K").to_pylist(), latest.column("V").to_pylist())) == [(1, "c"), (3, "d")]


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
    arrow_copy = load(NexmarkGenerator(GeneratorConfig(events=EVENTS, seed=9, events_per_second=RATE)), tmp_path, None, parquet=False)
    with pa.ipc.open_stream(arrow_copy.arrow(BID)) as reader:
        assert reader.read_all().equals(stored)
    with pa.ipc.open_stream(arrow_copy.arrow(BID, empty=True)) as reader:
        assert reader.read_all().num_rows == 0
