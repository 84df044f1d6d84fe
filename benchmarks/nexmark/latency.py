"""End-to-end latency of q2 at a steady event rate: from append to the result being readable in its sink.

Set-up: an engine with ``background=True`` runs q2 (auction, price of bids whose auction id is a multiple
of 123) as a persistent query over the BID stream. In the same process:

* a **producer thread** appends the generated events at ``rate`` events/s in batches of ``batch_events``
  (100 events every 10 ms at 10,000 events/s: 2 persons, 6 auctions and 92 bids), pacing itself against
  the clock; it notes the time just before each bid batch is appended;
* a **reader thread** tails the sink topic with ``read_wait`` (a blocking tail read) and notes when each
  result row becomes readable.

q2 keeps the order of its input, so the k-th result row belongs to the k-th qualifying bid, and the
producer knows which batch that bid came in (it applies q2's predicate to its own data with numpy). The
latency of a result is its read time minus its batch's append time. The first second is a warm-up and
is left out of the percentiles.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.loader import declare_streams, stored_batch
from benchmarks.nexmark.measure import note
from benchmarks.nexmark.queries import query
from benchmarks.nexmark.schemas import AUCTION, BID, EVENT_KINDS, PERSON
from headwater.engine import Engine
from headwater.storage import TopicConfig

__all__ = ["LatencyResult", "measure_latency"]

SINK = "NEXMARK_Q2_LATENCY"
WARM_UP_S = 1.0


@dataclass(frozen=True, slots=True)
class LatencyResult:
    """Latency percentiles of q2 results, in milliseconds, and what the run achieved.

    Attributes:
        rate: the target rate, events/s.
        achieved_rate: events appended per second of the producer's run.
        seconds: how long the producer ran.
        samples: result rows measured (after the warm-up).
        p50_ms, p99_ms, max_ms: percentiles of append-to-readable time.
        missing: expected result rows that never became readable within the grace period.
    """

    rate: int
    achieved_rate: float
    seconds: float
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    missing: int


def _batches(config: GeneratorConfig, batch_events: int) -> list[dict[str, pa.RecordBatch]]:
    """The events cut into producer batches of ``batch_events`` events each (a multiple of 50)."""
    tables: dict[str, list[pa.RecordBatch]] = {kind.topic: [] for kind in EVENT_KINDS}
    for chunk in NexmarkGenerator(config).chunks():
        for kind in EVENT_KINDS:
            tables[kind.topic].append(chunk.batch(kind))
    whole = {topic: pa.Table.from_batches(batches).combine_chunks() for topic, batches in tables.items()}
    per_batch = {PERSON.topic: batch_events // 50, AUCTION.topic: 3 * batch_events // 50,
                 BID.topic: 46 * batch_events // 50}
    count = config.events // batch_events
    return [{topic: stored_batch(whole[topic].slice(i * size, size).to_batches()[0])
             for topic, size in per_batch.items()} for i in range(count)]


def measure_latency(work_dir: Path, *, rate: int = 10_000, seconds: float = 20.0, batch_events: int = 100,
                    seed: int = 0) -> LatencyResult:
    """Run the set-up described in the module docstring and return the percentiles."""
    if batch_events % 50:
        raise ValueError("batch_events must be a multiple of 50 (the generator's block)")
    events = int(rate * seconds) // batch_events * batch_events
    batches = _batches(GeneratorConfig(events=events, seed=seed, events_per_second=rate), batch_events)
    qualifying = [int(np.count_nonzero(b[BID.topic].column("AUCTION").to_numpy() % 123 == 0)) for b in batches]
    owner = np.repeat(np.arange(len(batches)), qualifying)
    sent = np.zeros(len(batches))
    received = np.full(len(owner), np.nan)
    engine = Engine(work_dir, background=True)
    try:
        topics = {kind.topic: engine.log.create_topic(kind.topic, TopicConfig(partitions=1), schema=kind.schema)
                  for kind in EVENT_KINDS}
        declare_streams(engine)
        engine.execute(query("q2").headwater_statements(SINK), properties={"auto.offset.reset": "earliest"})
        sink = engine.log.topic(SINK).partition(0)
        interval = batch_events / rate
        finished = threading.Event()

        def produce() -> None:
            start = time.perf_counter()
            for i, batch in enumerate(batches):
                delay = start + i * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                topics[PERSON.topic].append(batch[PERSON.topic], partition=0)
                topics[AUCTION.topic].append(batch[AUCTION.topic], partition=0)
                sent[i] = time.perf_counter()
                topics[BID.topic].append(batch[BID.topic], partition=0)
            finished.set()

        def read() -> None:
            offset = 0
            deadline: float | None = None
            while offset < len(owner):
                result = sink.read_wait(offset, None, 0.2)
                now = time.perf_counter()
                got = result.record_count
                received[offset:offset + got] = now
                offset += got
                if finished.is_set():
                    deadline = deadline or now + 5.0
                    if now > deadline:
                        return

        producer = threading.Thread(target=produce, name="nexmark-latency-producer")
        reader = threading.Thread(target=read, name="nexmark-latency-reader")
        note(f"  latency: q2 at {rate:,} events/s for {seconds:.0f} s ({len(owner):,} results expected)")
        reader.start()
        started = time.perf_counter()
        producer.start()
        producer.join()
        elapsed = time.perf_counter() - started
        reader.join()
    finally:
        engine.close()
    latencies = (received - sent[owner]) * 1000.0
    measured = np.isfinite(latencies) & (sent[owner] - sent[0] >= WARM_UP_S)
    values = latencies[measured]
    missing = int(np.count_nonzero(~np.isfinite(received)))
    if values.size == 0:
        return LatencyResult(rate, events / elapsed, elapsed, 0, float("nan"), float("nan"), float("nan"), missing)
    return LatencyResult(rate, events / elapsed, elapsed, int(values.size), float(np.percentile(values, 50)),
                         float(np.percentile(values, 99)), float(values.max()), missing)
