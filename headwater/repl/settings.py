"""The shell's settings and where each comes from: flags, then ``HEADWATER_*`` variables, then a config file.

ksqlDB's ``ksql`` takes its settings from flags and a ``--config-file`` of properties; Headwater adds
environment variables between the two, so a setting can be fixed for a whole terminal session
(``export HEADWATER_SERVER=http://host:8088``) and still be overridden for one command. For each setting
the first of these that gives a value wins:

1. the command line flag (``--server``, ``--output``, ...);
2. the environment variable (``HEADWATER_SERVER``, ``HEADWATER_OUTPUT``, ...);
3. the config file (``--config-file FILE``, else ``$HEADWATER_CONFIG_FILE``), key ``server``, ``output``, ...;
4. the default.

The config file is a Java properties file, as ksqlDB's is: one ``key=value`` (or ``key: value``) per line,
``#`` and ``!`` start comments. Keys without a dot are the settings below; keys with a dot are ksqlDB
properties (``auto.offset.reset=earliest``) that the shell sends with every statement, as ksqlDB's CLI
sends the properties of its config file. A value that does not parse is reported with the place it came
from (the flag, the variable, or the file and line), never silently ignored.

Example:
    >>> settings = resolve_settings({"output": None}, environ={"HEADWATER_OUTPUT": "json"})
    >>> settings.output, settings.origin["output"]
    ('JSON', 'environment variable HEADWATER_OUTPUT')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError

__all__ = [
    "CONFIG_FILE_ENV",
    "DEFAULT_DATA_DIR",
    "SETTINGS",
    "Setting",
    "SettingsError",
    "ShellSettings",
    "load_config_file",
    "parse_server_url",
    "resolve_settings",
]

DEFAULT_DATA_DIR = "headwater-data"
CONFIG_FILE_ENV = "HEADWATER_CONFIG_FILE"
OUTPUT_FORMATS = ("TABULAR", "JSON")
EDITING_MODES = ("EMACS", "VI")


class SettingsError(HeadwaterError, ValueError):
    """A setting whose value cannot be used, or a config file that cannot be read; the message names
    where the value came from."""


def parse_server_url(text: str) -> str:
    """A server address as given, checked to be an HTTP URL (trailing ``/`` dropped).

    Raises:
        ValueError: ksqlDB's message for an address without a protocol.
    """
    url = text.strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise ValueError("Server URL must begin with protocol (e.g., http:// or https://)")
    return url


def _output(text: str) -> str:
    value = text.strip().upper()
    if value not in OUTPUT_FORMATS:
        raise ValueError(f"Invalid output format: '{text}' (valid formats: {', '.join(OUTPUT_FORMATS)})")
    return value


def _editing_mode(text: str) -> str:
    value = text.strip().upper()
    if value not in EDITING_MODES:
        raise ValueError(f"Invalid editing mode: '{text}' (valid modes: emacs, vi)")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1 (row limits and timeouts), with a message for anything else."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise ValueError(f"expected a number of at least 1, got {value}")
    return value


def _text(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its config-file key, its environment variable, its flag's attribute on the parsed
    command line, and how a text value becomes the setting's value."""

    key: str
    env: str
    attribute: str
    parse: Callable[[str], Any]
    default: Any = None


SETTINGS: tuple[Setting, ...] = (
    Setting("data-dir", "HEADWATER_DATA_DIR", "data_dir", _text, DEFAULT_DATA_DIR),
    Setting("server", "HEADWATER_SERVER", "server", parse_server_url),
    Setting("user", "HEADWATER_USER", "user", _text),
    Setting("password", "HEADWATER_PASSWORD", "password", _text),
    Setting("output", "HEADWATER_OUTPUT", "output", _output, "TABULAR"),
    Setting("query-row-limit", "HEADWATER_QUERY_ROW_LIMIT", "query_row_limit", positive_int),
    Setting("query-timeout", "HEADWATER_QUERY_TIMEOUT", "query_timeout", positive_int),
    Setting("editing-mode", "HEADWATER_EDITING_MODE", "editing_mode", _editing_mode),
    Setting("history-file", "HEADWATER_HISTORY_FILE", "history_file", _text),
)
_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True, slots=True)
class ShellSettings:
    """Everything the shell is started with, resolved.

    Attributes:
        data_dir: the data directory of the embedded engine (and of the topic tools).
        server: the server to connect to, or None for the embedded engine.
        user, password: HTTP Basic credentials for the server; a user without a password means the
            password must be asked for.
        output: ``TABULAR`` or ``JSON``.
        query_row_limit: stop a query after this many rows (``--query-row-limit``), or None.
        query_timeout_ms: stop a query after this many milliseconds (``--query-timeout``), or None.
        editing_mode: ``EMACS`` or ``VI`` key bindings; None to follow ``~/.inputrc`` (else Emacs).
        history_file: where the shell's history is kept; None for the default place.
        properties: ksqlDB properties from the config file, sent with every statement.
        origin: for each setting that was given, where it came from (for messages).
    """

    data_dir: Path
    server: str | None = None
    user: str | None = None
    password: str | None = None
    output: str = "TABULAR"
    query_row_limit: int | None = None
    query_timeout_ms: int | None = None
    editing_mode: str | None = None
    history_file: Path | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs_password(self) -> bool:
        """A user was given without a password: it must be asked for (ksqlDB's CLI prompts too)."""
        return bool(self.user) and not self.password


def load_config_file(path: Path) -> list[tuple[int, str, str]]:
    """The ``(line number, key, value)`` entries of a properties file.

    Raises:
        SettingsError: the file cannot be read, or a line is neither a comment nor ``key=value``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"Config file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise SettingsError(f"Config file {path} is not UTF-8 text (byte {error.start}).") from None
    except OSError as error:
        raise SettingsError(f"Cannot read config file {path}: {error.strerror}") from None
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        separators = [index for index in (line.find("="), line.find(":")) if index > 0]
        if not separators:
            raise SettingsError(f"Config file {path}, line {number}: expected key=value, got {line!r}")
        split = min(separators)
        entries.append((number, line[:split].strip(), line[split + 1 :].strip()))
    return entries


def _parse(setting: Setting, text: str, origin: str) -> Any:
    try:
        return setting.parse(text)
    except ValueError as error:
        raise SettingsError(f"{origin}: {error}") from None


def resolve_settings(
    flags: Mapping[str, Any] | Any,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> ShellSettings:
    """Resolve every setting by precedence: flag, environment variable, config file, default.

    Args:
        flags: the parsed command line (an ``argparse.Namespace`` or a mapping); an attribute that is
            missing or None means the flag was not given. Flag values are already checked by argparse.
        environ: the environment (default ``os.environ``).
        config_file: the config file named on the command line; else ``$HEADWATER_CONFIG_FILE``, if set.

    Raises:
        SettingsError: a value from the environment or the config file that does not parse, an unknown
            setting in the config file, or a config file that cannot be read.
    """
    env = os.environ if environ is None else environ
    given = flags if isinstance(flags, Mapping) else vars(flags)
    file_values: dict[str, tuple[str, str]] = {}
    properties: dict[str, str] = {}
    path_text = config_file or env.get(CONFIG_FILE_ENV)
    if path_text:
        path = Path(path_text).expanduser()
        for number, key, value in load_config_file(path):
            where = f"config file {path}, line {number}"
            if "." in key:
                properties[key] = value
            elif key.lower() in _BY_KEY:
                file_values[key.lower()] = (value, where)
            else:
                names = ", ".join(_BY_KEY)
                raise SettingsError(
                    f"{where}: unknown setting '{key}' (settings: {names}; ksqlDB properties have dotted names)"
                )
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for setting in SETTINGS:
        flag_value = given.get(setting.attribute)
        if flag_value is not None:
            values[setting.key] = flag_value
            origin[setting.key] = "command line"
        elif env.get(setting.env):
            where = f"environment variable {setting.env}"
            values[setting.key] = _parse(setting, env[setting.env], where)
            origin[setting.key] = where
        elif setting.key in file_values:
            text, where = file_values[setting.key]
            values[setting.key] = _parse(setting, text, where)
            origin[setting.key] = where
        else:
            values[setting.key] = setting.default
    history = values["history-file"]
    return ShellSettings(
        data_dir=Path(values["data-dir"]).expanduser(),
        server=values["server"],
        user=values["user"] or None,
        password=values["password"] or None,
        output=str(values["output"]).upper(),
        query_row_limit=values["query-row-limit"],
        query_timeout_ms=values["query-timeout"],
        editing_mode=values["editing-mode"],
        history_file=Path(history).expanduser() if history else None,
        properties=properties,
        origin=origin,
    )
