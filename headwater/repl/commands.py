"""The shell's own commands, as ksqlDB's CLI has them: help, clear, exit, history, output, server, version,
run script, spool, set cli.

They are typed like statements but need no ``;`` (one is allowed), run in the shell, never reach the
engine, and take their arguments split at spaces (a single-quoted argument may hold spaces). A line is
a command when its first words name one, case-insensitively: ``EXIT``, ``run script 'my file.sql'``,
``set cli wrap off``. Wrong argument counts get ksqlDB's "Too few parameters" / "Too many parameters"
and the command's help. The help texts follow ksqlDB's, with Headwater's names.

Example:
    >>> parse_command("run script 'my file.sql';")
    CommandLine(name='run script', arguments=('my file.sql',))
    >>> parse_command("SET 'auto.offset.reset'='earliest';") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import HeadwaterError
from headwater.repl.backend import Backend
from headwater.repl.cli_properties import CliPropertyError
from headwater.repl.console import Console
from headwater.repl.session import OUTPUT_FORMATS, Session

__all__ = ["COMMANDS", "CommandError", "CommandLine", "ShellState", "parse_command", "run_command"]


class CommandError(HeadwaterError, ValueError):
    """A shell command that cannot be carried out (wrong arguments, a file that cannot be read...)."""


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A shell command as typed: its name (lower case, one or two words) and its arguments."""

    name: str
    arguments: tuple[str, ...]


@dataclass
class ShellState:
    """What the commands act on besides the session.

    Attributes:
        session: runs statements; its backend is what ``server`` switches.
        history: the entries of the shell's history, oldest first.
        clear_screen: clears the terminal.
        set_editing_mode: switches the line editor's key bindings (``EMACS`` or ``VI``).
        connect: opens the backend for ``server <address>`` (a URL, or ``local`` for the embedded engine).
        on_backend_change: called after ``server`` switched (completion looks at the new catalog).
        leave: set by ``exit``.
    """

    session: Session
    history: Callable[[], Sequence[str]] = lambda: ()
    clear_screen: Callable[[], None] = lambda: None
    set_editing_mode: Callable[[str], None] = lambda mode: None
    connect: Callable[[str], Backend] | None = None
    on_backend_change: Callable[[], None] = lambda: None
    leave: bool = False

    @property
    def console(self) -> Console:
        return self.session.console


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its name, its help text (ksqlDB's layout), its argument bounds and its action."""

    name: str
    help: str
    min_arguments: int
    max_arguments: int
    run: Callable[[ShellState, tuple[str, ...]], None]


def _split_arguments(text: str) -> list[str]:
    """Words of ``text`` split at unquoted whitespace; a ``'...'`` word loses its quotes (``''`` is a
    quote inside), as ksqlDB's ``splitByUnquotedWhitespace`` and its SPOOL's quote cleaning do."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "'":
            if quoted and index + 1 < len(text) and text[index + 1] == "'":
                current.append("'")
                index += 2
                continue
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
        index += 1
    if started:
        words.append("".join(current))
    return words


def parse_command(text: str) -> CommandLine | None:
    """The shell command ``text`` is, if it is one (a single line; a trailing ``;`` is allowed)."""
    stripped = text.strip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    if not stripped or "\n" in stripped:
        return None
    words = _split_arguments(stripped)
    lowered = [word.lower() for word in words]
    for command in COMMANDS:
        parts = command.name.split()
        if lowered[: len(parts)] == parts:
            # ``SET 'x'='y'`` is SQL: the two-word commands need their second word unquoted and alone.
            if len(parts) > 1 and stripped.split(None, len(parts))[len(parts) - 1].lower() != parts[-1]:
                continue
            return CommandLine(command.name, tuple(words[len(parts) :]))
    if lowered[0] == "quit":
        return CommandLine("exit", tuple(words[1:]))
    return None


def run_command(line: CommandLine, state: ShellState) -> None:
    """Run a parsed command.

    Raises:
        CommandError: wrong arguments, or the command failed (the message says why).
    """
    command = _BY_NAME[line.name]
    if len(line.arguments) < command.min_arguments:
        raise CommandError(f"Too few parameters\n{command.help}")
    if len(line.arguments) > command.max_arguments:
        raise CommandError(f"Too many parameters\n{command.help}")
    command.run(state, line.arguments)


# -- the commands -------------------------------------------------------------------------------------


def _help(state: ShellState, arguments: tuple[str, ...]) -> None:
    from headwater.repl.sql_help import find_topics, overview_lines, topic_lines

    console = state.console
    if arguments:
        topics = find_topics(" ".join(arguments))
        command = _BY_NAME.get(" ".join(arguments).lower())
        if not topics and command is None:
            raise CommandError(
                f"No help for '{' '.join(arguments)}'. Type 'help' for the statements and commands there are."
            )
        lines: list[str] = []
        if command is not None:
            lines += [command.help, ""]
        for topic in topics:
            lines += [*topic_lines(topic), ""]
        console.lines(lines[:-1])
        return
    lines = [
        "",
        "Description:",
        "\tThe Headwater shell runs ksqlDB's SQL on an engine in this process, or on a server "
        "(headwater http://host:8088). Statements end with ';' and may span several lines; the shell's "
        "own commands below need no ';'.",
        "",
        "SQL statements (type 'help <statement>' for its syntax, e.g. 'help create stream'):",
        "",
        *overview_lines(),
        "",
        "Shell commands:",
        "",
    ]
    for command in COMMANDS:
        lines += [command.help, ""]
    lines += [
        "Keyboard shortcuts:",
        "",
        "CTRL+D:",
        "\tEnd your Headwater session (on an empty line).",
        "CTRL+C:",
        "\tStop the running query, or clear the line being typed.",
        "CTRL+R:",
        "\tSearch your command history.",
        "Up and Down arrow keys:",
        "\tScroll up or down through your command history.",
        "Tab:",
        "\tComplete keywords, functions, streams, tables, topics and columns.",
        "Alt+Enter:",
        "\tStart a new line even where Enter would run the statement.",
        "",
        "Default behavior:",
        "",
        "    Lines are read one at a time and are run as SQL unless one of the following is true:",
        "",
        "    1. The line is empty or entirely whitespace. In this case, nothing is run.",
        "",
        "    2. The line is not a shell command and does not end with a semi-colon. In this case, the shell "
        "enters multi-line mode where lines are read until one ends the statement with a semi-colon; "
        "the lines read are run together as SQL.",
        "",
    ]
    console.lines(lines)


def _clear(state: ShellState, arguments: tuple[str, ...]) -> None:
    state.clear_screen()


def _exit(state: ShellState, arguments: tuple[str, ...]) -> None:
    state.leave = True


def _history(state: ShellState, arguments: tuple[str, ...]) -> None:
    lines = []
    for index, entry in enumerate(state.history(), start=1):
        first, *rest = entry.split("\n")
        lines.append(f"{index:4d}: {first}")
        lines.extend(f"      {more}" for more in rest)
    state.console.lines(lines)


def _output(state: ShellState, arguments: tuple[str, ...]) -> None:
    session = state.session
    if not arguments:
        state.console.line(f"Current output format: {session.output_format}")
        return
    wanted = arguments[0].upper()
    if wanted not in OUTPUT_FORMATS:
        valid = ", ".join(f"'{name}'" for name in OUTPUT_FORMATS)
        raise CommandError(f"Invalid output format: '{arguments[0]}' (valid formats: {valid})")
    session.output_format = wanted
    state.console.line(f"Output format set to {wanted}")


def _server(state: ShellState, arguments: tuple[str, ...]) -> None:
    session = state.session
    if not arguments:
        state.console.line(session.backend.where)
        return
    if state.connect is None:
        raise CommandError("This shell cannot switch servers.")
    backend = state.connect(arguments[0])
    session.backend = backend
    session.catalog_changed = True
    state.console.line(f"Server now: {backend.where}")
    state.on_backend_change()


def _version(state: ShellState, arguments: tuple[str, ...]) -> None:
    state.console.line(f"Version: {state.session.backend.version()}")


def _run_script(state: ShellState, arguments: tuple[str, ...]) -> None:
    path = Path(arguments[0]).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"Failed to read file: {path} (no such file)") from None
    except UnicodeDecodeError as error:
        raise CommandError(f"Failed to read file: {path} (not UTF-8 text, byte {error.start})") from None
    except OSError as error:
        raise CommandError(f"Failed to read file: {path} ({error.strerror})") from None
    state.session.run_text(text)


def _spool(state: ShellState, arguments: tuple[str, ...]) -> None:
    console = state.console
    if arguments[0].upper() == "OFF":
        path = console.stop_spool()
        if path is not None:
            console.line(f"Spool written to {path}")
        return
    path = Path(arguments[0]).expanduser().absolute()
    try:
        console.start_spool(path)
    except OSError as error:
        raise CommandError(f"Cannot SPOOL to file: {path} ({error.strerror})") from None
    console.line(f"Session will be spooled to {path}")
    console.line("Enter SPOOL OFF to disable")


def _set_cli(state: ShellState, arguments: tuple[str, ...]) -> None:
    session = state.session
    if not arguments:
        cli = session.cli
        state.console.lines(
            [
                f"WRAP         {'ON' if cli.wrap else 'OFF'}",
                f"COLUMN-WIDTH {cli.column_width}",
                f"PAGER        {'ON' if cli.pager else 'OFF'}",
                f"EDITING-MODE {cli.editing_mode}",
            ]
        )
        return
    if len(arguments) != 2:
        raise CommandError(f"Too {'few' if len(arguments) < 2 else 'many'} parameters\n{_BY_NAME['set cli'].help}")
    try:
        session.cli = session.cli.with_value(arguments[0], arguments[1])
    except CliPropertyError as error:
        raise CommandError(str(error)) from None
    if arguments[0].upper() == "EDITING-MODE":
        state.set_editing_mode(session.cli.editing_mode)


COMMANDS: tuple[Command, ...] = (
    Command("help", "help [<statement>]:\n\tShow this message, or the syntax of a SQL statement.", 0, 4, _help),
    Command("clear", "clear:\n\tClear the current terminal.", 0, 0, _clear),
    Command("exit", "exit:\n\tExit the shell (also: quit, or Ctrl-D on an empty line).", 0, 0, _exit),
    Command(
        "history",
        "history:\n\tShow previous lines entered, in this and earlier sessions. You can use up and down "
        "arrow keys to view previous lines.",
        0,
        0,
        _history,
    ),
    Command(
        "output",
        "output:\n\tView the current output format.\n\noutput <format>;\n\n\tSet the output format to "
        "<format> (valid formats: 'JSON', 'TABULAR')\n\n\tFor example: \"output JSON;\"",
        0,
        1,
        _output,
    ),
    Command(
        "server",
        "server:\n\tShow the current server (or the embedded engine's data directory)\n\nserver <server>:"
        "\n\tChange the current server to <server>\n\t example: \"server http://my.server.com:8088;\"; "
        "\"server local\" goes back to the embedded engine",
        0,
        1,
        _server,
    ),
    Command("version", "version:\n\tGet the current Headwater version.", 0, 0, _version),
    Command(
        "run script",
        "run script <path_to_sql_file>:\n\tLoad and run the statements in the supplied file.\n\tNote: "
        "the file must be UTF-8 encoded.",
        1,
        1,
        _run_script,
    ),
    Command(
        "spool",
        "spool [<path_to_file>|OFF]: \n\tStores issued commands and their results into a file. Only one "
        "spool may \n\tbe active at a time and can be closed by issuing ``SPOOL OFF``. Commands are \n\t "
        "prefixed with ``headwater> `` to differentiate from output.",
        1,
        1,
        _spool,
    ),
    Command(
        "set cli",
        "set cli <property> <value>:\n\tSets a shell property: WRAP (ON|OFF), COLUMN-WIDTH (0: sized from "
        "the data), PAGER (ON|OFF), EDITING-MODE (EMACS|VI). NOTE that this differs from setting a "
        "property with \"SET 'property'='value'\" in that it does not affect the engine.",
        0,
        2,
        _set_cli,
    ),
)
_BY_NAME = {command.name: command for command in COMMANDS}
