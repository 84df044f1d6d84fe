"""The Nexmark generator: determinism, proportions, id ranges, distributions and sizes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmarks.nexmark.generator import (
    CHUNK_EVENTS,
    HOT_CHANNELS,
    STATES,
    GeneratorConfig,
    NexmarkGenerator,
    kind_of_event,
)
from benchmarks.nexmark.schemas import AUCTION, BID, PERSON

EVENTS = 5 * CHUNK_EVENTS


def _tables(config: GeneratorConfig) -> dict[str, pa.Table]:
    chunks = list(NexmarkGenerator(config).chunks())
    return {kind.topic: pa.Table.from_batches([c.batch(kind) for c in chunks], schema=kind.schema)
            for kind in (PERSON, AUCTION, BID)}


@pytest.fixture(scope="module")
def events() -> dict[str, pa.Table]:
    return _tables(GeneratorConfig(events=EVENTS, seed=11))


def _np(table: pa.Table, column: str) -> np.ndarray:
    values = table.column(column)
    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.int64())
    return values.to_numpy()


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = _tables(GeneratorConfig(events=5_000, seed=3))
    again = _tables(GeneratorConfig(events=5_000, seed=3))
    other = _tables(GeneratorConfig(events=5_000, seed=4))
    for topic in first:
        assert first[topic].equals(again[topic])
    assert not first[BID.topic].column("PRICE").equals(other[BID.topic].column("PRICE"))
    assert not first[PERSON.topic].column("NAME").equals(other[PERSON.topic].column("NAME"))


def test_a_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    short = _tables(GeneratorConfig(events=CHUNK_EVENTS + 777, seed=5))
    long = _tables(GeneratorConfig(events=CHUNK_EVENTS + 5_000, seed=5))
    for topic, table in short.items():
        assert table.num_rows > 0
        assert long[topic].slice(0, table.num_rows).equals(table)


def test_proportions_are_1_3_46_in_every_block(events: dict[str, pa.Table]) -> None:
    assert (events[PERSON.topic].num_rows, events[AUCTION.topic].num_rows, events[BID.topic].num_rows) == (
        EVENTS // 50, 3 * EVENTS // 50, 46 * EVENTS // 50)
    kinds = kind_of_event(np.arange(50 * 7))
    for block in kinds.reshape(7, 50):
        assert list(block[:4]) == [0, 1, 1, 1]
        assert np.all(block[4:] == 2)


def test_a_partial_block_keeps_the_event_order() -> None:
    chunk = NexmarkGenerator(GeneratorConfig(events=53, seed=1)).chunk(0, 53)
    # events 0..52: person 0, auctions 1-3, bids 4-49, person 50, auctions 51-52
    assert (chunk.person.num_rows, chunk.auction.num_rows, chunk.bid.num_rows) == (2, 5, 46)


def test_person_and_auction_ids_are_dense_from_1000(events: dict[str, pa.Table]) -> None:
    people = _np(events[PERSON.topic], "ID")
    auctions = _np(events[AUCTION.topic], "ID")
    assert np.array_equal(people, 1000 + np.arange(len(people)))
    assert np.array_equal(auctions, 1000 + np.arange(len(auctions)))


def test_bids_refer_to_recent_auctions_and_people(events: dict[str, pa.Table]) -> None:
    bids = events[BID.topic]
    numbers = np.flatnonzero(kind_of_event(np.arange(EVENTS)) == 2)
    block = numbers // 50
    last_auction = 1000 + block * 3 + 2
    last_person = 1000 + block
    auction, bidder = _np(bids, "AUCTION"), _np(bids, "BIDDER")
    assert np.all(auction >= np.maximum(1000, last_auction - 100))
    assert np.all(auction <= last_auction + 10)  # the lead: bids may name auctions about to exist
    assert np.all(bidder >= np.maximum(1000, last_person - 1000))
    assert np.all(bidder <= last_person + 10)
    hot_auction = (last_auction - 1000) // 100 * 100 + 1000
    share = np.mean(auction == hot_auction)
    assert 0.49 < share < 0.53  # 1/2 hot, plus the uniform draws that land on it
    hot_bidder = (last_person - 1000) // 100 * 100 + 1 + 1000
    assert 0.74 < np.mean(bidder == hot_bidder) < 0.77


def test_auctions_have_sellers_categories_and_expiry(events: dict[str, pa.Table]) -> None:
    auctions = events[AUCTION.topic]
    category = _np(auctions, "CATEGORY")
    assert set(np.unique(category)) == {10, 11, 12, 13, 14}
    seller = _np(auctions, "SELLER")
    assert np.all((seller >= 1000) & (seller <= 1000 + EVENTS // 50 + 10))
    assert np.all(_np(auctions, "EXPIRES") > _np(auctions, "DATETIME"))
    assert np.all(_np(auctions, "RESERVE") > _np(auctions, "INITIALBID"))


def test_prices_are_log_uniform_from_100_to_100_million(events: dict[str, pa.Table]) -> None:
    price = _np(events[BID.topic], "PRICE")
    assert price.min() >= 100 and price.max() <= 100_000_000
    u = np.log10(price / 100.0) / 6.0  # the generator's uniform draw, recovered
    deciles = np.quantile(u, np.linspace(0.1, 0.9, 9))
    assert np.allclose(deciles, np.linspace(0.1, 0.9, 9), atol=0.01)
    # the median price is 10^3 x 100 = 100,000 (log-uniform), far below the mean
    assert 90_000 < np.median(price) < 110_000
    assert price.mean() > 5 * np.median(price)


def test_event_time_follows_the_rate() -> None:
    config = GeneratorConfig(events=1_000, seed=2, events_per_second=1_000)
    tables = _tables(config)
    numbers = np.arange(1_000)
    kinds = kind_of_event(numbers)
    expected = config.base_time_ms + numbers * 1000 // 1000
    for kind_index, kind in enumerate((PERSON, AUCTION, BID)):
        assert np.array_equal(_np(tables[kind.topic], "DATETIME"), expected[kinds == kind_index])


def test_channels_states_and_padding(events: dict[str, pa.Table]) -> None:
    bids = events[BID.topic]
    channel = bids.column("CHANNEL")
    hot = pc.is_in(channel, value_set=pa.array(HOT_CHANNELS)).to_numpy(zero_copy_only=False)
    assert 0.49 < hot.mean() < 0.51
    cold = pc.filter(channel, pc.invert(pa.array(hot))).to_pylist()
    assert all(name.startswith("channel-") and 0 <= int(name[8:]) < 10_000 for name in cold[:1000])
    assert len(set(cold)) > 5_000
    # one URL per channel
    pairs = pa.table({"c": channel, "u": bids.column("URL")}).group_by("c").aggregate([("u", "count_distinct")])
    assert pc.max(pairs.column("u_count_distinct")).as_py() == 1
    assert set(events[PERSON.topic].column("STATE").to_pylist()) == set(STATES)
    # reference accounting: 8 bytes per number plus the strings' lengths, padded to the average size
    extra = pc.binary_length(bids.column("EXTRA")).to_numpy()
    assert abs((32 + extra).mean() - 100) < 1.5
    people = events[PERSON.topic]
    person_size = 8 + sum(pc.binary_length(people.column(c)).to_numpy()
                          for c in ("NAME", "EMAILADDRESS", "CREDITCARD", "CITY", "STATE", "EXTRA"))
    assert abs(person_size.mean() - 200) < 3
    auctions = events[AUCTION.topic]
    auction_size = 48 + sum(pc.binary_length(auctions.column(c)).to_numpy()
                            for c in ("ITEMNAME", "DESCRIPTION", "EXTRA"))
    assert abs(auction_size.mean() - 500) < 5
    emails = people.column("EMAILADDRESS").to_pylist()[:500]
    assert all(e.endswith(".com") and e.count("@") == 1 for e in emails)
    cards = people.column("CREDITCARD").to_pylist()[:500]
    assert all(len(c) == 19 and c.replace(" ", "").isdigit() for c in cards)


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="events"):
        GeneratorConfig(events=-1)
    with pytest.raises(ValueError, match="events_per_second"):
        GeneratorConfig(events=10, events_per_second=0)
