"""Completion by context, highlighting and the forgiving scanner behind both."""

from __future__ import annotations

import threading

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from headwater.repl.backend import EmbeddedBackend
from headwater.repl.completion import CatalogSnapshot, CompletionCatalog, SqlCompleter, completions_for
from headwater.repl.highlight import styled_tokens
from headwater.repl.sql_tokens import code_tokens, scan_tokens

SNAPSHOT = CatalogSnapshot(
    streams=("ORDERS", "PAGEVIEWS"),
    tables=("TOTALS",),
    topics=("orders", "pageviews", "totals"),
    functions=("ABS", "UCASE", "ORDER_ID_FN"),
    queries=("CSAS_BIG_1",),
    columns={"ORDERS": ("ID", "ITEM", "AMOUNT"), "PAGEVIEWS": ("PAGEID", "USERID"), "TOTALS": ("ITEM", "TOTAL")},
)
KEYWORDS = ("SELECT", "FROM", "WHERE", "EMIT", "CHANGES", "ORDER")


def offered(text: str, cursor: int | None = None) -> list[str]:
    return [insert for insert, _, _ in completions_for(text, len(text) if cursor is None else cursor, SNAPSHOT, KEYWORDS)]


def test_a_statements_first_word_is_a_statement_keyword_or_a_command() -> None:
    assert offered("SE") == ["SELECT", "SET", "server", "set cli"]
    assert offered("sho") == ["show"]
    assert "exit" in offered("")


def test_sources_after_from_join_and_describe() -> None:
    assert offered("SELECT * FROM ") == ["ORDERS", "PAGEVIEWS", "TOTALS"]
    assert offered("SELECT * FROM o") == ["orders"]  # the case the user types
    assert offered("SELECT * FROM orders o JOIN T") == ["TOTALS"]
    assert offered("DESCRIBE P") == ["PAGEVIEWS"]
    assert offered("DESCRIBE FUNCTION u") == ["ucase"]
    assert offered("DROP TABLE ") == ["TOTALS"]
    assert offered("INSERT INTO ") == ["ORDERS", "PAGEVIEWS"]


def test_topics_after_print_and_in_kafka_topic() -> None:
    assert offered("PRINT p") == ["pageviews"]
    assert offered("PRINT 'to") == ["totals'"]
    assert offered("CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='or") == ["orders'"]
    assert offered("SELECT 'or") == []  # an ordinary string


def test_query_ids_after_terminate_and_explain() -> None:
    assert offered("TERMINATE ") == ["CSAS_BIG_1", "ALL"]
    assert offered("EXPLAIN C") == ["CSAS_BIG_1"]


def test_columns_of_the_sources_the_statement_names_come_first() -> None:
    choices = offered("SELECT  FROM orders;", cursor=len("SELECT "))
    assert choices[:3] == ["ID", "ITEM", "AMOUNT"]
    assert "ABS" in choices and "SELECT" in choices
    assert offered("SELECT * FROM orders WHERE am") == ["amount"]
    assert offered("SELECT * FROM orders WHERE ord") == ["order_id_fn", "order"]


def test_columns_after_an_alias_or_a_source_name_and_a_dot() -> None:
    assert offered("SELECT o. FROM orders o", cursor=len("SELECT o.")) == ["ID", "ITEM", "AMOUNT"]
    assert offered("SELECT p.U FROM orders AS o JOIN pageviews AS p ON o.id = p.pageid", cursor=len("SELECT p.U")) == [
        "USERID"
    ]
    assert offered("SELECT orders.it FROM orders", cursor=len("SELECT orders.it")) == ["item"]


def test_the_statement_around_the_cursor_is_the_one_completed() -> None:
    text = "SHOW TOPICS; SELECT * FROM p"
    assert offered(text) == ["pageviews"]
    # In the middle of a word, the part before the cursor is the prefix.
    assert offered("SELECT it FROM orders", cursor=len("SELECT it")) == ["item"]


def test_the_catalog_is_read_through_the_backend(tmp_path) -> None:
    from headwater.engine import Engine

    with Engine(tmp_path / "data") as engine:
        engine.execute(
            "CREATE STREAM orders (id INT KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
            "CREATE TABLE totals (item STRING PRIMARY KEY, n BIGINT) WITH (kafka_topic='totals', value_format='JSON', partitions=1);"
        )
        catalog = CompletionCatalog()
        catalog.refresh(EmbeddedBackend(engine, tmp_path / "data"), functions=True)
    snapshot = catalog.snapshot
    assert snapshot.streams == ("ORDERS",) and snapshot.tables == ("TOTALS",)
    assert set(snapshot.topics) >= {"orders", "totals"}
    assert snapshot.columns["ORDERS"] == ("ID", "ITEM") and snapshot.columns["TOTALS"] == ("ITEM", "N")
    assert "UCASE" in snapshot.functions


def test_a_failing_backend_keeps_what_was_known() -> None:
    class Unreachable:
        def execute(self, sql: str, properties: object) -> list[dict[str, object]]:
            raise ConnectionError("down")

    catalog = CompletionCatalog()
    catalog.snapshot = SNAPSHOT
    catalog.refresh(Unreachable())
    assert catalog.snapshot.streams == SNAPSHOT.streams and catalog.snapshot.columns == SNAPSHOT.columns


class GatedBackend:
    """A backend whose catalog has the given streams, and whose statements wait for ``gate``."""

    def __init__(self, *streams: str) -> None:
        self.gate = threading.Event()
        self.streams = list(streams)
        self.reads = 0

    def execute(self, sql: str, properties: object) -> list[dict[str, object]]:
        self.gate.wait(30)
        if sql == "DESCRIBE STREAMS;":
            self.reads += 1
            return [{"sourceDescriptions": [{"name": name, "fields": [{"name": "ID"}]} for name in self.streams]}]
        return []


def test_a_completion_waits_for_the_catalog_read_in_progress() -> None:
    """Tab right after the shell starts (or after CREATE STREAM) offers the names the catalog has even when
    reading it takes longer than typing, as it does on a busy machine."""
    backend = GatedBackend("ORDERS")
    catalog = CompletionCatalog()
    catalog.refresh_in_background(backend, functions=True)
    completer = SqlCompleter(catalog)
    offered: list[str] = []
    document = Document("DESCRIBE ord")
    typing = threading.Thread(target=lambda: offered.extend(c.text for c in completer.get_completions(document, CompleteEvent())))
    typing.start()
    typing.join(0.3)
    assert typing.is_alive() and offered == []  # waiting for the read, not answering from an empty snapshot
    backend.gate.set()
    typing.join(10)
    assert offered == ["orders"]


def test_a_refresh_asked_for_during_another_runs_after_it() -> None:
    backend = GatedBackend("ORDERS")
    catalog = CompletionCatalog()
    catalog.refresh_in_background(backend)
    backend.streams.append("PAYMENTS")  # created while the first read is under way
    catalog.refresh_in_background(backend)
    backend.gate.set()
    assert catalog.current().streams == ("ORDERS", "PAYMENTS")
    assert backend.reads == 2


def test_scanning_never_fails_and_covers_every_character() -> None:
    for text in ("SELECT 'open", 'SELECT "open', "/* open", "SELECT 'it''s' -- c\nFROM s", "€ ${v} 1.5e3 <> ->"):
        tokens = scan_tokens(text)
        assert "".join(t.text for t in tokens) == text
    assert [t.closed for t in scan_tokens("'it''") if t.kind == "string"] == [False]
    assert [t.text for t in code_tokens("a /* b */ c -- d")] == ["a", "c"]


def test_highlighting_styles_keywords_strings_numbers_comments_and_functions() -> None:
    pieces = [(piece[0], piece[1]) for piece in styled_tokens("SELECT ucase(name), 42 FROM s WHERE x = 'y' -- note") if piece[1].strip()]
    assert ("class:keyword", "SELECT") in pieces
    assert ("class:function", "ucase") in pieces
    assert ("class:number", "42") in pieces
    assert ("class:string", "'y'") in pieces
    assert ("class:comment", "-- note") in pieces
    assert ("", "name") in pieces  # a plain name is not coloured
