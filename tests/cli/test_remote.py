"""``headwater http://host:port``: the same statements and output against a real ``headwater server``."""

from __future__ import annotations

import json
from typing import Any

CREATE = (
    "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)
INSERTS = (
    "INSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);"
    "INSERT INTO orders (id, item, amount) VALUES (2, 'cake', 12.0);"
)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_statements_and_queries_run_on_the_server(headwater, server: Any) -> None:
    run = headwater(server.url, "-e", CREATE + INSERTS + "SHOW STREAMS; SELECT item, amount FROM orders;")
    assert run.status == 0, run.err
    assert "Stream created" in run.out
    assert [cells(line) for line in run.out.splitlines() if line.startswith(" ORDERS")] == [
        ["ORDERS", "orders", "KAFKA", "JSON", "false"]
    ]
    rows = sorted(cells(line) for line in run.out.splitlines() if line.startswith("|") and "ITEM" not in line)
    assert rows == [["cake", "12.0"], ["tea", "3.5"]]
    assert "Query terminated" in run.out
    # The stream lives on the server: its data directory has the topic, the client's has nothing.
    assert (server.data_dir / "log").is_dir()


def setup(headwater, server: Any) -> None:
    created = headwater(server.url, "-e", CREATE + INSERTS)
    assert created.status == 0, (created.out, created.err, server_log(server))


def server_log(server: Any) -> str:
    """What the server process wrote (for a failure's message)."""
    log = server.data_dir.parent / f"{server.data_dir.name}-server.log"
    return log.read_text(errors="replace") if log.exists() else ""


def test_session_properties_and_variables_are_kept_by_the_client(headwater, server: Any) -> None:
    setup(headwater, server)
    run = headwater(
        server.url,
        "-d",
        "wanted=cake",
        "-e",
        "SET 'auto.offset.reset'='earliest'; SELECT id FROM orders WHERE item = '${wanted}' EMIT CHANGES LIMIT 1;",
    )
    assert run.status == 0, run.err
    assert "Successfully changed local property 'auto.offset.reset' to 'earliest'." in run.out
    assert [cells(line) for line in run.out.splitlines() if line.startswith("|") and "ID" not in line] == [["2"]]
    assert "Limit Reached" in run.out and run.out.rstrip().endswith("Query terminated")


def test_errors_from_the_server_are_one_message_with_the_caret(headwater, server: Any) -> None:
    run = headwater(server.url, "-e", "SHOW STREAMS;\nSELECT * FRM orders;")
    assert run.status == 1
    assert "mismatched input 'FRM'" in run.err
    assert "^" in run.err and "Traceback" not in run.err
    assert "Stream Name" in run.out  # the statement before ran


def test_json_output_is_the_servers_json(headwater, server: Any) -> None:
    setup(headwater, server)
    run = headwater(server.url, "--output", "JSON", "-e", "SHOW STREAMS;")
    assert run.status == 0, (run.out, run.err)
    assert [s["name"] for s in json.loads(run.out)[0]["streams"]] == ["ORDERS"], run.out
    rows = headwater(server.url, "--output", "JSON", "-e", "SELECT id FROM orders;")
    assert rows.status == 0, (rows.out, rows.err)
    messages = [json.loads(line) for line in rows.out.splitlines() if line.strip()]
    assert "header" in messages[0], rows.out
    assert sorted(m["row"]["columns"][0] for m in messages if "row" in m) == [1, 2], (rows.out, server_log(server))
    assert messages[-1] == {"finalMessage": "Query Completed"}, rows.out
