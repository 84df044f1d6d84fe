"""Listing and result tables: widths come from the data, and rows print as they arrive."""

from __future__ import annotations

from headwater.repl.table import MAX_CELL_WIDTH, RowTable, listing


def test_listing_sizes_columns_from_the_widest_cell() -> None:
    lines = listing(["Name", "Partitions"], [["orders", "4"], ["a", "12"]])
    assert lines == [
        " Name   | Partitions",
        "---------------------",
        " orders | 4",
        " a      | 12",
        "---------------------",
    ]


def test_listing_separator_never_exceeds_the_terminal() -> None:
    lines = listing(["Message"], [["x" * 50]], max_width=20)
    assert lines[1] == "-" * 20 and lines[-1] == "-" * 20


def test_listing_lays_out_multi_line_cells_line_by_line() -> None:
    lines = listing(["A", "B"], [["one\ntwo", "x"]])
    assert lines[2:4] == [" one | x", " two |"]


def test_row_table_prints_header_with_the_first_rows_sized_from_them() -> None:
    table = RowTable(["ID", "NAME"])
    assert table.add_rows([["1", "tea"], ["22222", "b"]]) == [
        "+-----+----+",
        "|ID   |NAME|",
        "+-----+----+",
        "|1    |tea |",
        "|22222|b   |",
    ]


def test_row_table_prints_later_rows_alone_while_they_fit() -> None:
    table = RowTable(["ID"])
    table.add_rows([["1"]])
    assert table.add_rows([["2"], ["3"]]) == ["|2   |", "|3   |"]


def test_row_table_widens_a_column_and_repeats_the_header_for_a_wider_row() -> None:
    table = RowTable(["ID"])
    table.add_rows([["1"]])
    assert table.add_rows([["123456"]]) == ["+------+", "|ID    |", "+------+", "|123456|"]
    assert table.footer_line() == "+------+"


def test_row_table_wraps_values_longer_than_the_widest_column() -> None:
    table = RowTable(["V"])
    value = "x" * (MAX_CELL_WIDTH + 10)
    lines = table.add_rows([[value]])
    body = lines[3:]
    assert body == ["|" + "x" * MAX_CELL_WIDTH + "|", "|" + "x" * 10 + " " * (MAX_CELL_WIDTH - 10) + "|"]
    # Nothing of the value is lost.
    assert "".join(line.strip("| ") for line in body) == value


def test_row_table_header_alone_when_no_rows_arrived() -> None:
    table = RowTable(["PAGEID", "N"])
    assert table.header_lines() == ["+------+----+", "|PAGEID|N   |", "+------+----+"]
