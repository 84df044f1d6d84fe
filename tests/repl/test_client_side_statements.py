"""SET, UNSET, DEFINE, UNDEFINE and SHOW VARIABLES belong to the session, as in ksqlDB's CLI: kept by the
shell, with ksqlDB's CLI messages, and applied to every statement and query sent afterwards."""

from __future__ import annotations

import json

CREATE = (
    "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)
INSERTS = (
    "INSERT INTO orders (id, item, amount) VALUES (1, 'tea', 3.5);"
    "INSERT INTO orders (id, item, amount) VALUES (2, 'cake', 12.0);"
)


def data_rows(out: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith("|") and not line.startswith("|ID")
    ]


def test_set_and_unset_say_what_changed_and_the_property_reaches_queries(shell) -> None:
    shell.run(CREATE + INSERTS)
    out, err = shell.run("SET 'auto.offset.reset'='earliest';")
    assert out == (
        "Successfully changed local property 'auto.offset.reset' to 'earliest'. "
        "Use the UNSET command to revert your change.\n"
    )
    assert shell.session.properties == {"auto.offset.reset": "earliest"}
    # With earliest, a push query sees the rows already there.
    out, err = shell.run("SELECT id FROM orders EMIT CHANGES LIMIT 2;")
    assert err == ""
    assert sorted(data_rows(out)) == [["1"], ["2"]]
    out, _ = shell.run("SET 'auto.offset.reset'='latest';")
    assert out == "Successfully changed local property 'auto.offset.reset' from 'earliest' to 'latest'.\n"
    out, _ = shell.run("UNSET 'auto.offset.reset';")
    assert out == "Successfully unset local property 'auto.offset.reset' (value was 'latest').\n"
    assert shell.session.properties == {}


def test_unset_of_a_property_never_set_fails(shell) -> None:
    out, err = shell.run("UNSET 'auto.offset.reset';")
    assert (out, err) == ("", "Cannot unset local property 'auto.offset.reset' which was never set in the first place\n")
    assert shell.session.run_text("UNSET 'auto.offset.reset';").failed


def test_set_of_an_invalid_value_is_refused_by_the_engine_and_not_kept(shell) -> None:
    out, err = shell.run("SET 'ksql.functions.substring.legacy.args'='maybe';")
    assert out == ""
    assert "ksql.functions.substring.legacy.args" in err
    assert shell.session.properties == {}


def test_define_is_silent_and_substitutes_into_statements_and_queries(shell) -> None:
    shell.run(CREATE + INSERTS)
    out, err = shell.run("DEFINE Wanted = 'cake';")
    assert (out, err) == ("", "")
    out, err = shell.run("SELECT id FROM orders WHERE item = '${wanted}';")  # names are case-insensitive
    assert err == "" and data_rows(out) == [["2"]]
    out, _ = shell.run("SHOW VARIABLES;")
    assert " Variable Name | Value" in out and " Wanted        | cake" in out
    out, err = shell.run("UNDEFINE WANTED;")
    assert (out, err) == ("", "")
    out, err = shell.run("UNDEFINE wanted;")
    assert out == "Cannot undefine variable 'wanted' which was never defined.\n" and err == ""


def test_variables_are_not_substituted_when_the_session_turns_substitution_off(shell) -> None:
    shell.run(CREATE + INSERTS)
    shell.run("DEFINE wanted = 'cake';")
    shell.run("SET 'ksql.variable.substitution.enable'='false';")
    out, err = shell.run("SELECT id FROM orders WHERE item = '${wanted}';")
    assert err == "" and data_rows(out) == []


def test_define_flag_values_are_session_variables(shell) -> None:
    shell.session.define({"topic": "orders"})
    shell.run(CREATE)
    out, _ = shell.run("SHOW VARIABLES;")
    assert " topic         | orders" in out


def test_show_variables_in_json_is_ksqldbs_entity(shell) -> None:
    shell.session.output_format = "JSON"
    shell.session.define({"a": "1"})
    out, _ = shell.run("LIST VARIABLES;")
    document = json.loads(out)
    assert document == [
        {"@type": "variables", "statementText": "LIST VARIABLES", "variables": [{"name": "a", "value": "1"}], "warnings": []}
    ]


def test_a_parse_error_in_a_client_side_statement_has_its_caret(shell) -> None:
    _, err = shell.run("SHOW TOPICS;\nDEFINE = 'x';")
    assert "line 2:" in err and err.rstrip().endswith("^")
