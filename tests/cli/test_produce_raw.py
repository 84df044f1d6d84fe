"""``headwater produce`` into raw topics: JSON and CSV lines, keys, bad lines in both modes, progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.storage import EventLog, murmur2_bytes


def stored(data_dir: Path, topic_name: str) -> list[tuple[int, bytes | None, bytes]]:
    """(partition, key, value) of every record, in partition then offset order."""
    out: list[tuple[int, bytes | None, bytes]] = []
    with EventLog.open(data_dir / "log") as log:
        topic = log.topic(topic_name)
        for partition in range(topic.num_partitions):
            for batch in topic.partition(partition).read(0).batches:
                out.extend((partition, k, v) for k, v in zip(batch.column("__key").to_pylist(), batch.column("__value").to_pylist()))
    return out


JSON_INPUT = (
    '{"id": 1, "item": "tea"}\n'
    "\n"
    '{"id": 2, "item": "cake"}\n'
    "{not json\n"
    "[1, 2]\n"
    '{"id": {"nested": true}}\n'
    '{"id": "3", "item": "jam"}\r\n'
)


def test_json_lines_become_records_with_the_line_as_value_and_the_field_as_key(headwater, data_dir: Path, make_topic) -> None:
    make_topic("orders", 4)
    good = '{"id": 1, "item": "tea"}\n{"id": 22, "item": "cake"}\n{"id": "x", "item": 3}\n'
    run = headwater("produce", "orders", "--format", "json", "--key", "id", stdin=good)
    assert run.status == 0, run.err
    assert run.err.strip() == "3 records written to topic orders."
    records = stored(data_dir, "orders")
    assert sorted((k, v) for _, k, v in records) == sorted(
        [(b"1", b'{"id": 1, "item": "tea"}'), (b"22", b'{"id": 22, "item": "cake"}'), (b"x", b'{"id": "x", "item": 3}')]
    )
    # Kafka's default partitioner: murmur2 of the key bytes.
    for partition, key, _ in records:
        assert key is not None
        assert partition == (murmur2_bytes(key) & 0x7FFFFFFF) % 4


def test_a_bad_json_line_rejects_the_whole_load_by_default(headwater, data_dir: Path, make_topic) -> None:
    make_topic("orders")
    run = headwater("produce", "orders", "--format", "json", "--key", "id", stdin=JSON_INPUT)
    assert run.status == 1
    lines = run.err.splitlines()
    assert lines[0].startswith("line 4: not valid JSON")
    assert lines[1] == "line 5: not a JSON object, so it has no field 'id' for the key"
    assert lines[2] == "line 6: the key field 'id' holds a JSON object, not a single value"
    assert lines[3].startswith("Nothing written to topic orders: 3 bad line(s)")
    assert stored(data_dir, "orders") == []


def test_skip_bad_lines_writes_the_good_ones_and_lists_the_bad(headwater, data_dir: Path, make_topic) -> None:
    make_topic("orders")
    run = headwater("produce", "orders", "--format", "json", "--key", "id", "--skip-bad-lines", stdin=JSON_INPUT)
    assert run.status == 0
    assert [line.split(":")[0] for line in run.err.splitlines()[:3]] == ["line 4", "line 5", "line 6"]
    assert run.err.splitlines()[-1] == "3 records written to topic orders; 3 bad line(s) skipped; 1 blank line(s) ignored."
    assert [(k, v) for _, k, v in stored(data_dir, "orders")] == [
        (b"1", b'{"id": 1, "item": "tea"}'),
        (b"2", b'{"id": 2, "item": "cake"}'),
        (b"3", b'{"id": "3", "item": "jam"}'),
    ]


def test_without_a_key_any_json_document_is_a_value(headwater, data_dir: Path, make_topic) -> None:
    make_topic("values")
    run = headwater("produce", "values", "--format", "json", stdin='1\n"text"\n{"a": [1, 2]}\nnull\n')
    assert run.status == 0, run.err
    assert [(k, v) for _, k, v in stored(data_dir, "values")] == [
        (None, b"1"), (None, b'"text"'), (None, b'{"a": [1, 2]}'), (None, b"null"),
    ]


def test_two_documents_on_one_line_are_a_bad_line(headwater, data_dir: Path, make_topic) -> None:
    make_topic("values")
    run = headwater("produce", "values", "--format", "json", stdin='{"a": 1}\n{"a": 2} {"a": 3}\n')
    assert run.status == 1 and run.err.startswith("line 2: not valid JSON")


CSV_INPUT = (
    "id,name,amount\n"
    "1,tea,3.5\n"
    '2,"cake, large",12\n'
    "3,short\n"
    "\n"
    '4,"unbalanced,1\n'
    "5,x,1,extra\n"
    '6,"say ""hi""",2\r\n'
)


def test_csv_with_header_keys_by_field_name(headwater, data_dir: Path, make_topic) -> None:
    make_topic("csv")
    run = headwater("produce", "csv", "--format", "csv", "--header", "--key", "name", "--skip-bad-lines", stdin=CSV_INPUT)
    assert run.status == 0, run.err
    assert run.err.splitlines() == [
        "line 4: has 2 fields, 3 expected",
        "line 6: unbalanced quote (a field that starts with '\"' must end with '\"')",
        "line 7: has 4 fields, 3 expected",
        "3 records written to topic csv; 3 bad line(s) skipped; 1 blank line(s) ignored.",
    ]
    assert [(k, v) for _, k, v in stored(data_dir, "csv")] == [
        (b"tea", b"1,tea,3.5"),
        (b"cake, large", b'2,"cake, large",12'),
        (b'say "hi"', b'6,"say ""hi""",2'),
    ]


def test_csv_bad_lines_reject_the_load_by_default(headwater, data_dir: Path, make_topic) -> None:
    make_topic("csv")
    run = headwater("produce", "csv", "--format", "csv", "--header", stdin=CSV_INPUT)
    assert run.status == 1
    assert run.err.splitlines()[-1].startswith("Nothing written to topic csv: 3 bad line(s)")
    assert stored(data_dir, "csv") == []


def test_csv_without_header_counts_fields_from_the_first_line_and_keys_by_position(headwater, data_dir: Path, make_topic) -> None:
    make_topic("csv")
    # With the default ',' delimiter these lines have one field each: there is no field 2.
    run = headwater("produce", "csv", "--format", "csv", "--key", "2", stdin="a|b|c\nd|e|f\n")
    assert run.status == 1
    assert run.err.strip() == "Error: --key 2: no field '2' in the CSV input (fields: positions 1 to 1)"
    run = headwater("produce", "csv", "--format", "csv", "--key", "2", "--delimiter", "|", stdin="a|b|c\nd|e|f\ng|h\n")
    assert run.status == 1 and run.err.splitlines()[0] == "line 3: has 2 fields, 3 expected"
    run = headwater("produce", "csv", "--format", "csv", "--key", "2", "--delimiter", "|", stdin="a|b|c\nd|e|f\n")
    assert run.status == 0, run.err
    assert [(k, v) for _, k, v in stored(data_dir, "csv")] == [(b"b", b"a|b|c"), (b"e", b"d|e|f")]


def test_unknown_key_field_names_the_fields(headwater, make_topic) -> None:
    make_topic("csv")
    run = headwater("produce", "csv", "--format", "csv", "--header", "--key", "nope", stdin="a,b\n1,2\n")
    assert run.status == 1
    assert run.err.strip() == "Error: --key nope: no field 'nope' in the CSV input (fields: a, b)"


def test_producing_to_a_missing_topic_says_how_to_create_it(headwater) -> None:
    run = headwater("produce", "nope", "--format", "json", stdin="{}\n")
    assert run.status == 1
    assert run.err.strip() == "Error: Topic 'nope' does not exist; create it first: headwater topic create nope"


def test_partition_flag_sends_everything_to_one_partition(headwater, data_dir: Path, make_topic) -> None:
    make_topic("p", 3)
    run = headwater("produce", "p", "--format", "json", "--key", "k", "--partition", "2",
                    stdin="".join(f'{{"k": {i}}}\n' for i in range(10)))
    assert run.status == 0, run.err
    assert {partition for partition, _, _ in stored(data_dir, "p")} == {2}
    assert headwater("produce", "p", "--format", "json", "--partition", "3", stdin="{}\n").status == 1


def test_input_file_argument_and_progress_bar(headwater, data_dir: Path, tmp_path: Path, make_topic) -> None:
    make_topic("big", 2)
    source = tmp_path / "big.jsonl"
    count = 200_000
    source.write_text("".join(f'{{"id": {i}, "name": "user_{i % 97}", "score": {i * 0.5}}}\n' for i in range(count)))
    run = headwater("produce", "big", "--format", "json", str(source), "--key", "id", "--progress", "always")
    assert run.status == 0, run.err
    final_bar, summary = run.err.split("\r")[-1].splitlines()
    assert final_bar.startswith("[####################] 100%")
    assert f"{count:,} records" in final_bar
    assert summary == f"{count:,} records written to topic big."
    assert len(stored(data_dir, "big")) == count


@pytest.mark.parametrize("flag", ["--header"])
def test_header_only_for_csv(headwater, flag: str, make_topic) -> None:
    make_topic("t")
    run = headwater("produce", "t", "--format", "json", flag, stdin="{}\n")
    assert run.status == 1 and "--header applies to --format csv only" in run.err


def test_empty_input_writes_nothing_and_succeeds(headwater, data_dir: Path, make_topic) -> None:
    make_topic("t")
    for fmt in ("json", "csv"):
        run = headwater("produce", "t", "--format", fmt, stdin="\n\n")
        assert run.status == 0, run.err
    assert stored(data_dir, "t") == []
