"""Settings: flag over environment over config file over default, and every bad value named by its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.repl.settings import SettingsError, load_config_file, parse_server_url, resolve_settings


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "headwater.properties"
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_given() -> None:
    settings = resolve_settings({}, environ={})
    assert settings.data_dir == Path("headwater-data")
    assert (settings.server, settings.output, settings.query_row_limit, settings.query_timeout_ms) == (
        None,
        "TABULAR",
        None,
        None,
    )
    assert settings.origin == {} and dict(settings.properties) == {}


def test_flag_beats_environment_beats_config_file(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "# a comment\n! another\n\nserver = http://from-file:8088\noutput: JSON\nquery-row-limit=5\n"
        "data-dir=/from/file\nauto.offset.reset=earliest\nksql.streams.num.stream.threads = 4\n",
    )
    environ = {"HEADWATER_SERVER": "http://from-env:8088", "HEADWATER_QUERY_ROW_LIMIT": "7"}
    settings = resolve_settings(
        {"server": "http://from-flag:8088", "output": None}, environ=environ, config_file=config
    )
    assert settings.server == "http://from-flag:8088"
    assert settings.query_row_limit == 7
    assert settings.output == "JSON"
    assert settings.data_dir == Path("/from/file")
    assert settings.origin["server"] == "command line"
    assert settings.origin["query-row-limit"] == "environment variable HEADWATER_QUERY_ROW_LIMIT"
    assert settings.origin["output"] == f"config file {config}, line 5"
    # Dotted keys are ksqlDB properties for every statement.
    assert dict(settings.properties) == {"auto.offset.reset": "earliest", "ksql.streams.num.stream.threads": "4"}


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    config = write_config(tmp_path, "query-timeout=2500\n")
    settings = resolve_settings({}, environ={"HEADWATER_CONFIG_FILE": str(config)})
    assert settings.query_timeout_ms == 2500


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="environment variable HEADWATER_OUTPUT: Invalid output format: 'xml'"):
        resolve_settings({}, environ={"HEADWATER_OUTPUT": "xml"})
    with pytest.raises(SettingsError, match="HEADWATER_QUERY_ROW_LIMIT: expected a number of at least 1, got 0"):
        resolve_settings({}, environ={"HEADWATER_QUERY_ROW_LIMIT": "0"})


def test_a_bad_config_line_names_the_file_and_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, "output=JSON\nserver=localhost:8088\n")
    with pytest.raises(SettingsError, match=r"line 2: Server URL must begin with protocol"):
        resolve_settings({}, environ={}, config_file=config)
    unknown = write_config(tmp_path, "colour=yes\n")
    with pytest.raises(SettingsError, match=r"line 1: unknown setting 'colour'"):
        resolve_settings({}, environ={}, config_file=unknown)
    broken = write_config(tmp_path, "output JSON\n")
    with pytest.raises(SettingsError, match=r"line 1: expected key=value, got 'output JSON'"):
        load_config_file(broken)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Config file not found"):
        resolve_settings({}, environ={}, config_file=tmp_path / "nope.properties")


def test_a_flag_value_overrides_even_an_invalid_lower_level(tmp_path: Path) -> None:
    # The environment is not read for a setting the command line gives.
    settings = resolve_settings({"output": "JSON"}, environ={"HEADWATER_OUTPUT": "xml"})
    assert settings.output == "JSON"


def test_server_urls_need_a_protocol() -> None:
    assert parse_server_url("http://host:8088/") == "http://host:8088"
    with pytest.raises(ValueError, match="must begin with protocol"):
        parse_server_url("host:8088")


def test_a_user_without_a_password_needs_one() -> None:
    assert resolve_settings({"user": "alice"}, environ={}).needs_password
    assert not resolve_settings({"user": "alice"}, environ={"HEADWATER_PASSWORD": "pw"}).needs_password
    # `-p` without a value asks for the password even when the environment has one.
    assert resolve_settings({"user": "alice", "password": ""}, environ={"HEADWATER_PASSWORD": "pw"}).needs_password
