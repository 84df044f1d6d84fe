"""The three Nexmark event kinds as Arrow schemas and as Headwater stream declarations.

Layout: three typed topics, ``person``, ``auction`` and ``bid``, one per event kind, each with the
kind's columns as Arrow columns (the event log's fast path). Each record's ``__timestamp`` (ROWTIME)
is the event's DATETIME in milliseconds, so event time needs no TIMESTAMP property and no conversion
on read. Column names are upper case because ksqlDB upper-cases unquoted identifiers: ``SELECT price
FROM bid`` reads the column ``PRICE``. The Parquet and Arrow files for the reference systems use the
same names and types.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = ["AUCTION", "BID", "EVENT_KINDS", "PERSON", "EventKind"]

_TIMESTAMP = pa.timestamp("ms")


@dataclass(frozen=True, slots=True)
class EventKind:
    """One Nexmark event kind: its topic, its stream and its columns.

    Attributes:
        topic: the event log topic (and the file stem of its Parquet / Arrow copies).
        stream: the Headwater stream declared over the topic.
        schema: the user columns, as stored in the topic and in the files.
    """

    topic: str
    stream: str
    schema: pa.Schema

    def create_stream_sql(self) -> str:
        """``CREATE STREAM`` over the existing typed topic, with the columns in SQL types.

        The topic already exists (the loader creates it with the Arrow schema), so the statement gives no
        PARTITIONS; VALUE_FORMAT is what the records would serialise to at the boundary (printing, REST).
        """
        columns = ", ".join(f"{field.name} {_sql_type(field.type)}" for field in self.schema)
        return (f"CREATE STREAM {self.stream} ({columns}) "
                f"WITH (KAFKA_TOPIC='{self.topic}', VALUE_FORMAT='JSON');")

    def flink_columns(self) -> str:
        """The column list of a Flink SQL table over the files (identifiers quoted: some are keywords)."""
        return ", ".join(f"`{field.name}` {_flink_type(field.type)}" for field in self.schema)


def _sql_type(arrow_type: pa.DataType) -> str:
    if arrow_type == pa.int64():
        return "BIGINT"
    if arrow_type == pa.string():
        return "STRING"
    if arrow_type == _TIMESTAMP:
        return "TIMESTAMP"
    raise TypeError(f"no ksqlDB type for {arrow_type}")


def _flink_type(arrow_type: pa.DataType) -> str:
    if arrow_type == pa.int64():
        return "BIGINT"
    if arrow_type == pa.string():
        return "STRING"
    if arrow_type == _TIMESTAMP:
        return "TIMESTAMP(3)"
    raise TypeError(f"no Flink type for {arrow_type}")


PERSON = EventKind("person", "PERSON", pa.schema([
    ("ID", pa.int64()),
    ("NAME", pa.string()),
    ("EMAILADDRESS", pa.string()),
    ("CREDITCARD", pa.string()),
    ("CITY", pa.string()),
    ("STATE", pa.string()),
    ("DATETIME", _TIMESTAMP),
    ("EXTRA", pa.string()),
]))

AUCTION = EventKind("auction", "AUCTION", pa.schema([
    ("ID", pa.int64()),
    ("ITEMNAME", pa.string()),
    ("DESCRIPTION", pa.string()),
    ("INITIALBID", pa.int64()),
    ("RESERVE", pa.int64()),
    ("DATETIME", _TIMESTAMP),
    ("EXPIRES", _TIMESTAMP),
    ("SELLER", pa.int64()),
    ("CATEGORY", pa.int64()),
    ("EXTRA", pa.string()),
]))

BID = EventKind("bid", "BID", pa.schema([
    ("AUCTION", pa.int64()),
    ("BIDDER", pa.int64()),
    ("PRICE", pa.int64()),
    ("CHANNEL", pa.string()),
    ("URL", pa.string()),
    ("DATETIME", _TIMESTAMP),
    ("EXTRA", pa.string()),
]))

EVENT_KINDS: tuple[EventKind, ...] = (PERSON, AUCTION, BID)
"""The kinds in the order the generator emits them in a block of 50 events."""
