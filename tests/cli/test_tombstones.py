"""A table row deleted while a push query watches shows ``<TOMBSTONE>``, as in ksqlDB's CLI, whether the
engine runs in the shell's process or on a server (the server's ``"tombstone": true``)."""

from __future__ import annotations

import json

import pytest

HAVING_TABLE = (
    "CREATE STREAM INPUT (K INT KEY, VAL INT) WITH (KAFKA_TOPIC='input', PARTITIONS=1, VALUE_FORMAT='JSON');"
    "CREATE TABLE POSITIVE AS SELECT K, SUM(VAL) AS TOTAL FROM INPUT GROUP BY K HAVING SUM(VAL) > 0;"
    "INSERT INTO INPUT (K, VAL) VALUES (11, 10);"
    "INSERT INTO INPUT (K, VAL) VALUES (11, -20);"
    "INSERT INTO INPUT (K, VAL) VALUES (11, 21);"
    "SET 'auto.offset.reset'='earliest';"
)
QUERY = "SELECT * FROM POSITIVE EMIT CHANGES LIMIT 3;"


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_a_deleted_row_shows_as_a_tombstone(headwater, request: pytest.FixtureRequest, where: str) -> None:
    """HAVING drops K=11 when its sum turns negative, and K=11 comes back when it turns positive."""
    target = [request.getfixturevalue("server").url] if where == "server" else []
    run = headwater(*target, "-e", HAVING_TABLE + QUERY)
    assert run.status == 0, run.err
    rows = [cells(line) for line in run.out.splitlines() if line.startswith("|") and "TOTAL" not in line]
    assert rows == [["11", "10"], ["11", "<TOMBSTONE>"], ["11", "11"]], run.out
    assert "Limit Reached" in run.out


def test_json_output_keeps_the_tombstone_flag(headwater) -> None:
    run = headwater("--output", "JSON", "-e", HAVING_TABLE + QUERY)
    assert run.status == 0, run.err
    rows = [json.loads(line)["row"] for line in run.out.splitlines() if line.startswith('{"row"')]
    assert rows == [{"columns": [11, 10]}, {"columns": [11, None], "tombstone": True}, {"columns": [11, 11]}]
