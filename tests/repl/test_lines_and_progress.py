"""Reading input lines in blocks, and the progress bar."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from headwater.repl.lines import read_line_blocks, split_lines
from headwater.repl.progress import ProgressBar, human_bytes


def read_all(data: bytes, block_size: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    for block in read_line_blocks(io.BytesIO(data), block_size=block_size):
        out.extend((block.line_number(i), line) for i, line in enumerate(block.lines.to_pylist()))
    return out


def test_split_lines_removes_lf_and_crlf_and_keeps_blank_lines() -> None:
    assert split_lines(b"a\r\n\nb\r\nc").to_pylist() == [b"a", b"", b"b", b"c"]
    assert split_lines(b"").to_pylist() == []
    assert split_lines(b"\r\n").to_pylist() == [b""]


def test_a_carriage_return_inside_a_line_is_kept() -> None:
    assert split_lines(b"a\rb\n").to_pylist() == [b"a\rb"]


@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")), max_size=40),
    st.integers(min_value=1, max_value=64),
    st.booleans(),
)
def test_blocks_give_every_line_once_with_its_number(lines: list[bytes], block_size: int, crlf: bool) -> None:
    terminator = b"\r\n" if crlf else b"\n"
    data = b"".join(line + terminator for line in lines)
    assert read_all(data, block_size) == [(number, line) for number, line in enumerate(lines, start=1)]


def test_last_line_without_terminator_is_read() -> None:
    assert read_all(b"x\ny", 1) == [(1, b"x"), (2, b"y")]


def test_block_byte_counts_add_up_to_the_input() -> None:
    data = b"12345\n" * 100 + b"tail"
    blocks = list(read_line_blocks(io.BytesIO(data), block_size=64))
    assert sum(block.bytes_read for block in blocks) == len(data)


def test_progress_bar_shows_fraction_records_and_rate() -> None:
    out = io.StringIO()
    ticks = iter([0.0, 0.5, 0.55, 1.0, 2.0])
    bar = ProgressBar(out, total_bytes=2048, clock=lambda: next(ticks))
    bar.update(bytes_done=1024, records=100)
    bar.update(bytes_done=1500, records=150)  # too soon after the last drawing: not drawn
    bar.update(bytes_done=2000, records=200)
    bar.finish()
    drawings = [d.rstrip() for d in out.getvalue().rstrip("\n").split("\r")[1:]]
    assert drawings[0].startswith("[##########..........]  50%  1.0 KiB  100 records")
    assert len(drawings) == 3
    assert drawings[-1] == "[####################] 100%  2.0 KiB  200 records  (100 records/s)"


def test_progress_without_a_known_size_counts_bytes_and_records() -> None:
    out = io.StringIO()
    ticks = iter([0.0, 1.0, 1.0])
    bar = ProgressBar(out, total_bytes=None, clock=lambda: next(ticks))
    bar.update(bytes_done=3 << 20, records=7)
    bar.finish()
    assert out.getvalue().split("\r")[-1].strip() == "3.0 MiB  7 records  (7 records/s)"


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 << 30)] == ["0 B", "1,023 B", "1.0 KiB", "5.0 GiB"]
