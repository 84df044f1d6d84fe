"""The demo behind ``make run``: a stream of page views that grows while the shell is open.

A newcomer should see a push query print live rows within a minute of typing ``make run``. So
``headwater --demo`` makes sure the stream ``PAGEVIEWS`` exists (created on the first start, with a
handful of past events so that historical queries have something to show), and runs a producer thread
that inserts a few page views a second until the shell closes. The banner names the stream and two
statements to try.

The producer goes through the engine's own ``INSERT INTO ... VALUES``, the same path a user's insert
takes, so the demo exercises the real write path and never competes with the engine for a partition's
write lock. Page views are drawn from a seeded generator, so two runs tell the same story.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEMO_STREAM", "Demo", "start_demo"]

DEMO_STREAM = "PAGEVIEWS"
DEMO_TOPIC = "pageviews"
CREATE_STATEMENT = (
    f"CREATE STREAM {DEMO_STREAM} (PAGEID STRING KEY, VIEWTIME BIGINT, USERID STRING) "
    f"WITH (KAFKA_TOPIC='{DEMO_TOPIC}', VALUE_FORMAT='JSON', PARTITIONS=1);"
)
SUGGESTED_STATEMENTS = (
    f"SELECT * FROM {DEMO_STREAM.lower()} EMIT CHANGES LIMIT 5;",
    f"SELECT pageid, userid, TIMESTAMPTOSTRING(viewtime, 'HH:mm:ss', 'UTC') AS seen_at "
    f"FROM {DEMO_STREAM.lower()} WHERE userid = 'User_2' EMIT CHANGES;",
)
EVENTS_PER_SECOND = 3.0
SEED_EVENTS = 20
_USERS = tuple(f"User_{n}" for n in range(1, 10))
_PAGES = tuple(f"Page_{n}" for n in range(10, 100))


def _insert_statement(rng: random.Random, viewtime_ms: int) -> str:
    """One page view as an INSERT statement (names come from fixed lists: nothing needs escaping)."""
    return (
        f"INSERT INTO {DEMO_STREAM} (PAGEID, VIEWTIME, USERID) "
        f"VALUES ('{rng.choice(_PAGES)}', {viewtime_ms}, '{rng.choice(_USERS)}');"
    )


def _stream_exists(engine: Any, name: str) -> bool:
    entities = engine.execute("SHOW STREAMS;")
    return any(stream.name.upper() == name for entity in entities for stream in getattr(entity, "streams", ()))


@dataclass
class Demo:
    """The running demo: its producer thread and what it has done.

    Attributes:
        created: whether this start created the stream (the first start on a data directory).
        produced: page views inserted by the producer so far.
        failure: why the producer stopped early, if it did (the shell keeps working without it).
    """

    engine: Any
    engine_lock: threading.Lock
    created: bool
    rng: random.Random
    produced: int = 0
    failure: str | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def banner_lines(self) -> list[str]:
        """What the shell's banner says about the demo."""
        return [
            "",
            f"Demo: the stream {DEMO_STREAM} (topic '{DEMO_TOPIC}') receives about "
            f"{EVENTS_PER_SECOND:.0f} page views a second while this shell is open.",
            "Try:",
            *(f"  {statement}" for statement in SUGGESTED_STATEMENTS),
            "",
        ]

    def insert(self, count: int = 1, *, spacing_ms: int = 0) -> None:
        """Insert ``count`` page views ending now, ``spacing_ms`` apart."""
        now = int(time.time() * 1000)
        for index in range(count):
            statement = _insert_statement(self.rng, now - (count - 1 - index) * spacing_ms)
            with self.engine_lock:
                self.engine.execute(statement)
            self.produced += 1

    def _produce(self) -> None:
        interval = 1.0 / EVENTS_PER_SECOND
        while not self.stopping.wait(interval):
            try:
                self.insert()
            except Exception as error:  # the engine closed or refused: stop producing, keep the shell
                self.failure = f"{type(error).__name__}: {error}"
                return

    def start(self) -> None:
        """Start the producer thread."""
        self.thread = threading.Thread(target=self._produce, name="headwater-demo-producer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the producer and wait for it, before the engine closes."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def start_demo(engine: Any, engine_lock: threading.Lock, *, seed: int | None = None) -> Demo:
    """Create the demo stream if it is missing, and start its producer.

    Args:
        engine: the shell's engine.
        engine_lock: the lock the shell holds around ``execute``, shared so that statements do not
            interleave.
        seed: the page view generator's seed (default: the current time, so restarts do not repeat).
    """
    with engine_lock:
        created = not _stream_exists(engine, DEMO_STREAM)
        if created:
            engine.execute(CREATE_STATEMENT)
    demo = Demo(engine, engine_lock, created, random.Random(seed if seed is not None else time.time_ns()))
    if created:
        demo.insert(SEED_EVENTS, spacing_ms=1000)
    demo.start()
    return demo
