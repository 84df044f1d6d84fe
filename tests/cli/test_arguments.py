"""The command line: ksqlDB's flags, the server address as the argument, settings by precedence, and the
commands whose parsers live with their code (server, export)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater.cli import _delegated_command, build_parser, lift_server_address

CREATE = (
    "CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)


def test_a_url_argument_becomes_the_server_flag() -> None:
    parser = build_parser()
    assert lift_server_address(["http://h:8088"], parser) == ["--server", "http://h:8088"]
    assert lift_server_address(["--output", "JSON", "https://h", "-e", "x"], parser) == [
        "--output",
        "JSON",
        "--server",
        "https://h",
        "-e",
        "x",
    ]
    # A URL that is a flag's value stays that value.
    assert lift_server_address(["-e", "http://not-a-server"], parser) == ["-e", "http://not-a-server"]
    assert lift_server_address(["--server", "http://a", "http://b"], parser) == ["--server", "http://a", "--server", "http://b"]


def test_the_flags_parse_as_ksqldb_spells_them() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["--server", "http://h:8088", "-u", "alice", "-p", "pw", "--query-row-limit", "3", "--query-timeout", "500",
         "--config-file", "c.properties", "-d", "a=1", "--output", "json"]
    )  # fmt: skip
    assert (args.server, args.user, args.password, args.query_row_limit, args.query_timeout) == (
        "http://h:8088",
        "alice",
        "pw",
        3,
        500,
    )
    assert (args.config_file, args.define, args.output) == ("c.properties", [("a", "1")], "JSON")
    assert parser.parse_args(["-u", "alice", "-p"]).password == ""  # -p alone: ask for it


def test_server_and_export_are_handed_to_their_own_parsers() -> None:
    parser = build_parser()
    assert _delegated_command(["--data-dir", "d", "server", "--listen", "0.0.0.0:1"], parser) == (
        "server",
        ["--data-dir", "d"],
        ["--listen", "0.0.0.0:1"],
    )
    assert _delegated_command(["export", "S", "--to", "x.parquet"], parser) == ("export", [], ["S", "--to", "x.parquet"])
    assert _delegated_command(["-e", "server", "topic"], parser) is None  # a flag's value is not a command
    assert _delegated_command(["topic", "list"], parser) is None


@pytest.mark.parametrize(
    "arguments",
    [
        ["produce", "t", "--format", "json", "in.jsonl"],
        ["produce", "t", "in.jsonl", "--format", "json"],
        ["produce", "--format", "json", "t", "in.jsonl"],
        ["produce", "t", "--key", "id", "--format", "json", "in.jsonl", "--skip-bad-lines"],
        ["produce", "t", "--data-dir", "d", "--format", "json", "in.jsonl"],
    ],
)
def test_produce_takes_options_before_between_and_after_its_arguments(arguments: list[str]) -> None:
    args = build_parser().parse_args(arguments)
    assert (args.command, args.topic, args.input, args.format) == ("produce", "t", "in.jsonl", "json")


def test_print_and_topic_options_go_anywhere_too() -> None:
    parser = build_parser()
    printed = parser.parse_args(["print", "--limit", "2", "t", "--from-beginning"])
    assert (printed.topic, printed.limit, printed.from_beginning) == ("t", 2, True)
    created = parser.parse_args(["topic", "create", "--partitions", "3", "t", "-c", "retention.ms=5"])
    assert (created.name, created.partitions, created.config) == ("t", 3, [("retention.ms", "5")])
    without_file = parser.parse_args(["produce", "t", "--format", "csv"])
    assert (without_file.topic, without_file.input) == ("t", None)


def test_subcommand_usage_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["produce", "t", "a", "b", "--format", "json"])
    assert exited.value.code == 2
    assert "error: unrecognized arguments: b" in capsys.readouterr().err
    with pytest.raises(SystemExit) as helped:
        build_parser().parse_args(["produce", "--help"])
    assert helped.value.code == 0
    assert capsys.readouterr().out.startswith("usage: headwater produce [-h]")


def test_a_bad_server_address_is_a_usage_error(headwater) -> None:
    run = headwater("--server", "localhost:8088", "-e", "SHOW TOPICS;")
    assert run.status == 2
    assert "Server URL must begin with protocol" in run.err


def test_an_unreachable_server_is_one_message(headwater) -> None:
    run = headwater("http://127.0.0.1:9", "-e", "SHOW TOPICS;")
    assert run.status == 1
    assert run.err.startswith("Error: Cannot connect to the server at http://127.0.0.1:9")
    assert "Traceback" not in run.err


def test_credentials_need_a_server(headwater) -> None:
    run = headwater("-u", "alice", "-p", "pw", "-e", "SHOW TOPICS;")
    assert run.status == 1
    assert "--user and --password are for a server" in run.err


def test_a_missing_password_without_a_terminal_is_asked_for_by_name(headwater) -> None:
    run = headwater("http://127.0.0.1:9", "-u", "alice", "-e", "SHOW TOPICS;")
    assert run.status == 1
    assert "A password is needed for user 'alice'" in run.err


def test_environment_settings_apply_and_flags_override_them(headwater, run_sql) -> None:
    run_sql(CREATE)
    as_json = headwater("-e", "SHOW STREAMS;", env={"HEADWATER_OUTPUT": "JSON"})
    assert as_json.status == 0, as_json.err
    assert json.loads(as_json.out)[0]["@type"] == "streams"
    tabular = headwater("--output", "TABULAR", "-e", "SHOW STREAMS;", env={"HEADWATER_OUTPUT": "JSON"})
    assert tabular.out.lstrip().startswith("Stream Name")
    bad = headwater("-e", "SHOW STREAMS;", env={"HEADWATER_OUTPUT": "yaml"})
    assert bad.status == 1
    assert bad.err.strip() == "Error: environment variable HEADWATER_OUTPUT: Invalid output format: 'yaml' (valid formats: TABULAR, JSON)"


def test_config_file_properties_are_sent_with_every_statement(headwater, tmp_path: Path) -> None:
    config = tmp_path / "cli.properties"
    config.write_text("output=JSON\nauto.offset.reset=earliest\n")
    run = headwater("--config-file", str(config), "-e", "SHOW PROPERTIES;")
    assert run.status == 0, run.err
    document = json.loads(run.out)[0]
    assert "auto.offset.reset" in document["overwrittenProperties"]
    value = next(p["value"] for p in document["properties"] if p["name"] == "auto.offset.reset")
    assert value == "earliest"


def test_the_data_dir_comes_from_the_config_file_for_topic_tools_too(headwater, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    config = tmp_path / "cli.properties"
    config.write_text(f"data-dir={elsewhere}\n")
    # The fixture passes --data-dir; a flag beats the config file, so run without it through the env.
    import os
    import subprocess
    import sys

    command = [str(Path(sys.executable).parent / "headwater"), "--config-file", str(config), "topic", "create", "t1"]
    env = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "log").is_dir()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_new_flags_and_commands(headwater, flag: str) -> None:
    run = headwater(flag)
    assert run.status == 0
    for word in ("--server", "--user", "--password", "--config-file", "--query-row-limit", "--query-timeout",
                 "HEADWATER_SERVER", "server", "export"):  # fmt: skip
        assert word in run.out
