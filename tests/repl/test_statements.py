"""The statement splitter: semicolons end statements only outside strings, quoted names and comments."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headwater.repl.statements import ScanState, is_complete, scan, split_statements


def texts(source: str) -> list[str]:
    return [piece.text for piece in split_statements(source)]


def test_splits_at_semicolons_and_keeps_them() -> None:
    assert texts("SHOW STREAMS; SHOW TABLES;") == ["SHOW STREAMS;", "SHOW TABLES;"]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split() -> None:
    source = (
        "SELECT 'a;b', `x;y`, \"p;q\" FROM s; -- trailing; comment\n"
        "/* block; comment */ SELECT 'it''s;' FROM t;"
    )
    assert texts(source) == [
        "SELECT 'a;b', `x;y`, \"p;q\" FROM s;",
        "SELECT 'it''s;' FROM t;",
    ]


def test_comments_before_a_statement_are_not_part_of_it() -> None:
    assert texts("-- make it\nCREATE STREAM s;") == ["CREATE STREAM s;"]


def test_pieces_with_only_comments_or_whitespace_are_not_statements() -> None:
    assert texts("  ;; -- nothing\n /* still nothing */ ") == []


def test_unterminated_last_statement_is_kept_and_marked() -> None:
    pieces = split_statements("SHOW TOPICS; SHOW STREAMS")
    assert [(p.text, p.terminated) for p in pieces] == [("SHOW TOPICS;", True), ("SHOW STREAMS", False)]


def test_positions_name_the_line_and_column_where_each_statement_starts() -> None:
    pieces = split_statements("SHOW TOPICS;\n\n  SELECT *\n  FROM s;  SHOW QUERIES;")
    assert [(p.line, p.column) for p in pieces] == [(1, 1), (3, 3), (4, 12)]


def test_is_complete_needs_a_final_semicolon_outside_quotes_and_block_comments() -> None:
    assert is_complete("SELECT * FROM s;")
    assert is_complete("SELECT * FROM s;  -- done")
    assert not is_complete("SELECT * FROM s")
    assert not is_complete("SELECT 'unfinished; FROM s;")
    assert not is_complete("SELECT * FROM s; /* open comment")
    assert not is_complete("SELECT `a;")
    assert not is_complete("   ")


def test_scan_reports_what_is_left_open() -> None:
    assert scan("SELECT 'x").end_state is ScanState.STRING
    assert scan("SELECT `x").end_state is ScanState.BACKTICKED
    assert scan('SELECT "x').end_state is ScanState.DOUBLE_QUOTED
    assert scan("SELECT /* x").end_state is ScanState.BLOCK_COMMENT
    assert scan("SELECT -- x").end_state is ScanState.LINE_COMMENT


_WORDS = st.sampled_from(["SELECT", "x", "'a;b'", "'it''s'", "`c;d`", '"e;f"', "/* g; */", "1", "FROM"])


@given(st.lists(st.lists(_WORDS, min_size=1, max_size=6), min_size=1, max_size=5))
def test_splitting_joined_statements_gives_them_back(statements: list[list[str]]) -> None:
    comment = "/* g; */"
    originals = [" ".join(words) + ";" for words in statements]
    # Comments before a statement's first word are not part of it; a statement made only of comments
    # is not a statement at all.
    expected = []
    for words in statements:
        while words and words[0] == comment:
            words = words[1:]
        if words:
            expected.append(" ".join(words) + ";")
    assert texts("\n".join(originals)) == expected
    assert is_complete("\n".join(originals)) == bool(expected)
