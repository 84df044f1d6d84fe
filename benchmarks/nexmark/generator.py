"""A seeded, vectorized Nexmark event generator: Person, Auction and Bid events as Arrow batches.

The rules are Nexmark's (the public ``nexmark/nexmark`` suite); the code is ours and draws its random
numbers with numpy over whole chunks instead of one ``java.util.Random`` per event, so it produces millions
of events per second. What holds, for every event number ``e`` (0-based):

* **Kind**: ``e % 50`` is 0 for a person, 1-3 for an auction, 4-49 for a bid (1 : 3 : 46).
* **Event time**: ``base_time_ms + e * 1000 // events_per_second`` (the inter-event delay is
  ``1e6 / events_per_second`` microseconds). The default rate, 10M events/s, is the reference suite's; it
  puts a million events into 100 ms of event time, so windowed queries want a lower ``events_per_second``.
* **Ids**: the person created by event ``e`` has id ``1000 + e // 50``; the auctions of block ``b = e // 50``
  have ids ``1000 + 3b``, ``1000 + 3b + 1``, ``1000 + 3b + 2``. Categories are 10..14.
* **Bid.auction**: with probability 1/2 the hot auction, the first id of the newest block of 100 auctions
  (``last // 100 * 100``); otherwise uniform over the 100 most recent auctions plus a lead of 10 ids that
  do not exist yet (bids may arrive before their auction, as in the reference).
* **Bid.bidder** (and **Auction.seller**): with probability 3/4 the hot person of the newest block of 100
  people (the second of the block for bidders, the first for sellers, so the two do not collide); otherwise
  uniform over the 1,000 most recent people plus a lead of 10.
* **Price** (bid price, initial bid, and reserve = initial bid + another price):
  ``round(10 ** (6u) * 100)`` with ``u`` uniform in [0, 1): 100 to 100,000,000, log-uniform.
* **Channel**: with probability 1/2 one of four fixed names (Google, Facebook, Baidu, Apple) with fixed
  URLs, otherwise one of 10,000 generated channels ``channel-<n>``, each with its own URL (half of them
  carry a ``&channel_id=`` parameter).
* **Auction.expires**: ``dateTime + 1 + uniform[0, 2h)``, where ``h`` is the event time until 100 more
  auctions exist, so the average auction lives until 100 more have been created.
* **Person**: name from 11 first and 9 last names, e-mail ``<3-6 letters>@<3-4 letters>.com``, a 16-digit
  credit card in four groups, one of 10 cities and one of the states AZ, CA, ID, OR, WA, WY.
* **Extra**: padding so that the average event is 100 B (bid), 500 B (auction), 200 B (person) by the
  reference's accounting (8 bytes per number plus the string lengths); each padding is 80-120% of the
  shortfall. Its letters are windows of a seeded pool, a copy per chunk, not fresh random draws (the
  padding carries no meaning, and drawing a random byte per padding byte would dominate the cost).

Determinism: events are produced in chunks of :data:`CHUNK_EVENTS`; chunk ``c`` draws from a generator
seeded with ``(seed, c)`` and is always generated whole, then cut to ``events``. So a run's events depend
only on the seed and the rate, and the first N events are the same for any total of at least N.

Example:
    >>> gen = NexmarkGenerator(GeneratorConfig(events=100, seed=7))
    >>> chunk = next(gen.chunks())
    >>> (chunk.person.num_rows, chunk.auction.num_rows, chunk.bid.num_rows)
    (2, 6, 92)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.nexmark.schemas import AUCTION, BID, PERSON, EventKind

__all__ = [
    "CHUNK_EVENTS",
    "FIRST_AUCTION_ID",
    "FIRST_CATEGORY_ID",
    "FIRST_PERSON_ID",
    "EventChunk",
    "GeneratorConfig",
    "NexmarkGenerator",
    "kind_of_event",
]

CHUNK_EVENTS = 20_000
"""Events per generated chunk (a multiple of the 50-event block); fixed, because it defines the seeding."""

PROPORTION_PERSON, PROPORTION_AUCTION, PROPORTION_BID = 1, 3, 46
BLOCK = PROPORTION_PERSON + PROPORTION_AUCTION + PROPORTION_BID
FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5
ACTIVE_PEOPLE = 1000
IN_FLIGHT_AUCTIONS = 100
ID_LEAD = 10
HOT_BLOCK = 100
NUM_CHANNELS = 10_000
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")
AVERAGE_SIZE = {"person": 200, "auction": 500, "bid": 100}

FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris")
CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle",
          "Kent", "Cheyenne")
STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")

_PAD_POOL_BYTES = (1 << 20) + 7
_LOWER_A = ord("a")


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """What to generate.

    Attributes:
        events: total events (all kinds).
        seed: the seed; equal seeds give equal events.
        events_per_second: the event-time rate (events per second of event time).
        base_time_ms: the event time of event 0 (ms since the epoch; default 2024-01-01T00:00:00Z).
    """

    events: int
    seed: int = 0
    events_per_second: int = 10_000_000
    base_time_ms: int = 1_704_067_200_000

    def __post_init__(self) -> None:
        if self.events < 0:
            raise ValueError(f"events must be >= 0, got {self.events}")
        if self.events_per_second <= 0:
            raise ValueError(f"events_per_second must be > 0, got {self.events_per_second}")


@dataclass(frozen=True, slots=True)
class EventChunk:
    """The events ``first_event .. first_event + events - 1``, split by kind (each in event order).

    The batches hold the kinds' user columns (see :mod:`benchmarks.nexmark.schemas`); event time is their
    DATETIME column.
    """

    first_event: int
    events: int
    person: pa.RecordBatch
    auction: pa.RecordBatch
    bid: pa.RecordBatch

    def batch(self, kind: EventKind) -> pa.RecordBatch:
        """The batch of one kind."""
        return {PERSON.topic: self.person, AUCTION.topic: self.auction, BID.topic: self.bid}[kind.topic]


def kind_of_event(event_numbers: np.ndarray) -> np.ndarray:
    """0 for person, 1 for auction, 2 for bid, per event number (the 1 : 3 : 46 block rule)."""
    rem = event_numbers % BLOCK
    return np.where(rem < PROPORTION_PERSON, 0, np.where(rem < PROPORTION_PERSON + PROPORTION_AUCTION, 1, 2))


def _last_person(event_numbers: np.ndarray) -> np.ndarray:
    """0-based id of the newest person that exists at each event (the event's own, for a person)."""
    return event_numbers // BLOCK


def _last_auction(event_numbers: np.ndarray) -> np.ndarray:
    """0-based id of the newest auction that exists at each event (the event's own, for an auction)."""
    block, rem = np.divmod(event_numbers, BLOCK)
    offset = np.clip(rem - PROPORTION_PERSON, -1, PROPORTION_AUCTION - 1)
    return np.maximum(block * PROPORTION_AUCTION + offset, 0)


def _strings(lengths: np.ndarray, data: np.ndarray) -> pa.StringArray:
    """A string array whose i-th value is the next ``lengths[i]`` bytes of ``data`` (ASCII)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    assert int(offsets[-1]) == len(data)
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))


def _letters(rng: np.random.Generator, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Random lowercase letters for strings of the given lengths: (bytes, start offset of each string)."""
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    data = rng.integers(_LOWER_A, _LOWER_A + 26, size=int(starts[-1]), dtype=np.uint8)
    return data, starts[:-1]


def _random_strings(rng: np.random.Generator, count: int, max_length: int) -> pa.StringArray:
    """Nexmark's ``nextString(max)``: 3 to max-1 random lowercase letters."""
    lengths = rng.integers(3, max_length, size=count)
    data, _ = _letters(rng, lengths)
    return _strings(lengths, data)


def _prices(rng: np.random.Generator, count: int) -> np.ndarray:
    """``round(10 ** (6u) * 100)``, u uniform in [0, 1): log-uniform from 100 to 100,000,000."""
    return np.floor(np.power(10.0, rng.random(count) * 6.0) * 100.0 + 0.5).astype(np.int64)


def _recent_person(rng: np.random.Generator, last_person: np.ndarray) -> np.ndarray:
    """Uniform over the (up to) 1,000 most recent people plus a lead of 10 (0-based ids)."""
    people = last_person + 1
    active = np.minimum(people, ACTIVE_PEOPLE)
    return people - active + rng.integers(0, active + ID_LEAD)


def _extra_lengths(rng: np.random.Generator, current: np.ndarray, average: int) -> np.ndarray:
    """Padding lengths: 80-120% of the shortfall from ``average`` (none when there is none)."""
    shortfall = np.maximum(average - current, 0)
    delta = np.floor(shortfall * 0.2 + 0.5).astype(np.int64)
    spread = rng.integers(0, np.maximum(2 * delta, 1))
    return shortfall - delta + np.where(delta > 0, spread, 0)


class _Padding:
    """Padding text: windows of one seeded pool of letters, rotated per chunk (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xE87A,)))
        self.pool = rng.integers(_LOWER_A, _LOWER_A + 26, size=_PAD_POOL_BYTES, dtype=np.uint8)

    def strings(self, rng: np.random.Generator, lengths: np.ndarray) -> pa.StringArray:
        """Strings of the given lengths, cut one after another from the pool starting at a random point."""
        total = int(lengths.sum())
        phase = int(rng.integers(0, len(self.pool)))
        pieces = [self.pool[phase:phase + total]]
        remaining = total - len(pieces[0])
        while remaining > 0:
            pieces.append(self.pool[:remaining])
            remaining -= len(pieces[-1])
        data = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        return _strings(lengths, data)


def _url_segments(rng: np.random.Generator, count: int) -> pa.StringArray:
    """``count`` path segments of 3-4 characters, lowercase letters and '_' (Nexmark's URL parts)."""
    lengths = rng.integers(3, 5, size=count)
    codes = rng.integers(0, 27, size=(count, 4)).astype(np.uint8)
    chars = np.where(codes == 26, ord("_"), _LOWER_A + codes).astype(np.uint8)
    data = chars[np.arange(4) < lengths[:, None]]  # row-major: each row's first `length` characters
    return _strings(lengths, data)


def _channel_table(seed: int) -> tuple[pa.StringArray, pa.StringArray]:
    """Channel names and URLs: the four hot channels first, then ``channel-0`` .. ``channel-9999``.

    A cold channel's URL carries ``&channel_id=<|bit-reversed n|>`` half the time, as in the reference.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xC4A7,)))
    count = len(HOT_CHANNELS) + NUM_CHANNELS
    segments = [_url_segments(rng, count) for _ in range(3)]
    urls = pc.binary_join_element_wise("https://www.nexmark.com/", segments[0], "/", segments[1], "/",
                                       segments[2], "/item.htm?query=1", "")
    numbers = np.arange(NUM_CHANNELS, dtype=np.int64)
    reversed_bits = np.zeros(NUM_CHANNELS, dtype=np.int64)
    for bit in range(32):
        reversed_bits |= ((numbers >> bit) & 1) << (31 - bit)
    channel_ids = np.abs(np.where(reversed_bits >= 1 << 31, reversed_bits - (1 << 32), reversed_bits))
    with_id = np.concatenate([np.zeros(len(HOT_CHANNELS), dtype=bool), rng.random(NUM_CHANNELS) < 0.5])
    suffixes = pa.concat_arrays([pa.array([""] * len(HOT_CHANNELS), pa.string()),
                                 pc.binary_join_element_wise("&channel_id=", pc.cast(pa.array(channel_ids),
                                                                                     pa.string()), "")])
    urls = pc.if_else(pa.array(with_id), pc.binary_join_element_wise(urls, suffixes, ""), urls)
    names = pa.concat_arrays([pa.array(HOT_CHANNELS, pa.string()),
                              pc.binary_join_element_wise("channel-", pc.cast(pa.array(numbers), pa.string()), "")])
    return names, urls


class NexmarkGenerator:
    """Generates the events of a :class:`GeneratorConfig`, chunk by chunk (see the module docstring)."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self._padding = _Padding(config.seed)
        self._channel_names, self._channel_urls = _channel_table(config.seed)
        self._names = pa.array([f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES], pa.string())
        self._cities = pa.array(CITIES, pa.string())
        self._states = pa.array(STATES, pa.string())

    def chunks(self) -> Iterator[EventChunk]:
        """Every event of the configuration, in chunks of up to :data:`CHUNK_EVENTS` events."""
        total = self.config.events
        for index, first in enumerate(range(0, total, CHUNK_EVENTS)):
            yield self.chunk(index, min(CHUNK_EVENTS, total - first))

    def chunk(self, index: int, events: int = CHUNK_EVENTS) -> EventChunk:
        """Chunk ``index`` (events ``index * CHUNK_EVENTS`` onwards), cut to its first ``events`` events."""
        first = index * CHUNK_EVENTS
        rng = np.random.default_rng(np.random.SeedSequence(self.config.seed, spawn_key=(index,)))
        numbers = np.arange(first, first + CHUNK_EVENTS, dtype=np.int64)
        kinds = kind_of_event(numbers)
        times = self.config.base_time_ms + numbers * 1000 // self.config.events_per_second
        keep = numbers < first + events
        person = self._people(rng, numbers[kinds == 0], times[kinds == 0])
        auction = self._auctions(rng, numbers[kinds == 1], times[kinds == 1])
        bid = self._bids(rng, numbers[kinds == 2], times[kinds == 2])
        if events < CHUNK_EVENTS:
            person = person.slice(0, int(np.count_nonzero(keep[kinds == 0])))
            auction = auction.slice(0, int(np.count_nonzero(keep[kinds == 1])))
            bid = bid.slice(0, int(np.count_nonzero(keep[kinds == 2])))
        return EventChunk(first, events, person, auction, bid)

    # -- kinds -------------------------------------------------------------------------------------------------
    def _people(self, rng: np.random.Generator, numbers: np.ndarray, times: np.ndarray) -> pa.RecordBatch:
        n = len(numbers)
        names = self._names.take(pa.array(rng.integers(0, len(self._names), size=n)))
        local = rng.integers(3, 7, size=n)
        domain = rng.integers(3, 5, size=n)
        email_lengths = local + 1 + domain + 4
        data, starts = _letters(rng, email_lengths)
        data[starts + local] = ord("@")
        ends = starts + email_lengths
        for back, char in zip((4, 3, 2, 1), b".com"):
            data[ends - back] = char
        emails = _strings(email_lengths, data)
        cards = np.full((n, 19), ord(" "), dtype=np.uint8)
        digits = rng.integers(ord("0"), ord("9") + 1, size=(n, 16), dtype=np.uint8)
        for group in range(4):
            cards[:, group * 5: group * 5 + 4] = digits[:, group * 4: group * 4 + 4]
        credit_cards = _strings(np.full(n, 19, dtype=np.int64), cards.reshape(-1))
        cities = self._cities.take(pa.array(rng.integers(0, len(CITIES), size=n)))
        states = self._states.take(pa.array(rng.integers(0, len(STATES), size=n)))
        current = (8 + _lengths(names) + email_lengths + 19 + _lengths(cities) + _lengths(states))
        extra = self._padding.strings(rng, _extra_lengths(rng, current, AVERAGE_SIZE["person"]))
        return pa.RecordBatch.from_arrays([
            pa.array(FIRST_PERSON_ID + _last_person(numbers)),
            names, emails, credit_cards, cities, states,
            _timestamps(times), extra,
        ], schema=PERSON.schema)

    def _auctions(self, rng: np.random.Generator, numbers: np.ndarray, times: np.ndarray) -> pa.RecordBatch:
        n = len(numbers)
        last_person = _last_person(numbers)
        hot_seller = rng.random(n) < 0.75
        seller = np.where(hot_seller, last_person // HOT_BLOCK * HOT_BLOCK, _recent_person(rng, last_person))
        category = FIRST_CATEGORY_ID + rng.integers(0, NUM_CATEGORIES, size=n)
        initial_bid = _prices(rng, n)
        reserve = initial_bid + _prices(rng, n)
        events_for_auctions = IN_FLIGHT_AUCTIONS * BLOCK // PROPORTION_AUCTION
        rate = self.config.events_per_second
        horizon = (numbers + events_for_auctions) * 1000 // rate - numbers * 1000 // rate
        expires = times + 1 + rng.integers(0, np.maximum(horizon * 2, 1))
        item_names = _random_strings(rng, n, 20)
        descriptions = _random_strings(rng, n, 100)
        current = 8 + _lengths(item_names) + _lengths(descriptions) + 5 * 8
        extra = self._padding.strings(rng, _extra_lengths(rng, current, AVERAGE_SIZE["auction"]))
        return pa.RecordBatch.from_arrays([
            pa.array(FIRST_AUCTION_ID + _last_auction(numbers)),
            item_names, descriptions, pa.array(initial_bid), pa.array(reserve),
            _timestamps(times), _timestamps(expires),
            pa.array(FIRST_PERSON_ID + seller), pa.array(category), extra,
        ], schema=AUCTION.schema)

    def _bids(self, rng: np.random.Generator, numbers: np.ndarray, times: np.ndarray) -> pa.RecordBatch:
        n = len(numbers)
        last_auction = _last_auction(numbers)
        hot_auction = rng.random(n) < 0.5
        oldest = np.maximum(last_auction - IN_FLIGHT_AUCTIONS, 0)
        recent = oldest + rng.integers(0, last_auction - oldest + 1 + ID_LEAD)
        auction = np.where(hot_auction, last_auction // HOT_BLOCK * HOT_BLOCK, recent)
        last_person = _last_person(numbers)
        hot_bidder = rng.random(n) < 0.75
        bidder = np.where(hot_bidder, last_person // HOT_BLOCK * HOT_BLOCK + 1, _recent_person(rng, last_person))
        price = _prices(rng, n)
        hot_channel = rng.random(n) < 0.5
        channel = np.where(hot_channel, rng.integers(0, len(HOT_CHANNELS), size=n),
                           len(HOT_CHANNELS) + rng.integers(0, NUM_CHANNELS, size=n))
        channel_index = pa.array(channel)
        extra = self._padding.strings(rng, _extra_lengths(rng, np.full(n, 4 * 8), AVERAGE_SIZE["bid"]))
        return pa.RecordBatch.from_arrays([
            pa.array(FIRST_AUCTION_ID + auction), pa.array(FIRST_PERSON_ID + bidder), pa.array(price),
            self._channel_names.take(channel_index), self._channel_urls.take(channel_index),
            _timestamps(times), extra,
        ], schema=BID.schema)


def _lengths(strings: pa.Array) -> np.ndarray:
    return pc.binary_length(strings).to_numpy().astype(np.int64)


def _timestamps(millis: np.ndarray) -> pa.Array:
    return pa.array(millis.astype("datetime64[ms]"), pa.timestamp("ms"))
