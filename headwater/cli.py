"""The ``headwater`` command: the SQL shell by default, and subcommands for topics, producing and printing.

Flags follow ksqlDB's ``ksql`` where it has one: ``-e/--execute``, ``-f/--file``, ``-d/--define``,
``--output TABULAR|JSON``, ``--query-row-limit``, ``--query-timeout``, ``-u/--user``, ``-p/--password``,
``--config-file``, and the server's address as the argument (``headwater http://host:8088``, or
``--server URL``); the topic tools follow kcat's spirit. Without a server the shell runs an engine in
this process on the data directory: ``--data-dir``, else ``$HEADWATER_DATA_DIR``, else the config
file's ``data-dir``, else ``./headwater-data``. Every setting resolves the same way, flag over
environment over config file (:mod:`headwater.repl.settings`). ``--data-dir`` is accepted before or
after a subcommand, so ``headwater --data-dir d topic list`` and ``headwater topic list --data-dir d``
both work.

Exit status: 0 on success, 1 when a statement or a tool fails (the message goes to stderr, never a
traceback; ``HEADWATER_DEBUG=1`` shows the traceback of an internal error), 2 for a command line that
does not parse, 130 when interrupted.

Example:
    >>> parser = build_parser()
    >>> args = parser.parse_args(["topic", "create", "orders", "--partitions", "4"])
    >>> (args.command, args.topic_command, args.name, args.partitions)
    ('topic', 'create', 'orders', 4)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Sequence

from headwater import __version__

__all__ = ["DATA_DIR_ENV", "DEFAULT_DATA_DIR", "build_parser", "console_main", "lift_server_address", "main"]

DATA_DIR_ENV = "HEADWATER_DATA_DIR"
DEFAULT_DATA_DIR = "headwater-data"  # as headwater.repl.settings.DEFAULT_DATA_DIR
DEBUG_ENV = "HEADWATER_DEBUG"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {value}")
    return value


def _server_url(text: str) -> str:
    from headwater.repl.settings import parse_server_url

    try:
        return parse_server_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


def lift_server_address(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``argv`` with a server address given as an argument (``headwater http://host:8088``, as ksqlDB's
    ``ksql`` takes it) turned into ``--server ADDRESS``.

    argparse cannot have an optional positional argument before subcommands, so the address is found
    here: the first argument that looks like a URL and is not the value of a flag that takes one.

    Example:
        >>> lift_server_address(["-e", "SHOW TOPICS;", "http://h:8088"], build_parser())
        ['-e', 'SHOW TOPICS;', '--server', 'http://h:8088']
    """
    takes_value = _takes_value(parser)
    out: list[str] = []
    lifted = False
    expecting_value = False
    for argument in argv:
        if expecting_value:
            out.append(argument)
            expecting_value = False
            continue
        if argument == "--":
            lifted = True  # everything after -- is left to argparse
        if not lifted and _URL.match(argument):
            out.extend(["--server", argument])
            lifted = True
            continue
        out.append(argument)
        expecting_value = argument in takes_value
    return out


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


class _IntermixedParser(argparse.ArgumentParser):
    """A subcommand's parser that takes options between its positional arguments.

    argparse's plain parsing hands positionals out in runs: in ``produce TOPIC --format json FILE`` the
    run before ``--format`` fills TOPIC *and* the optional FILE (with nothing), so FILE is then
    "unrecognized". Intermixed parsing collects every positional first, so options may come before,
    between or after them, as users of kcat-style tools expect. A parser with subcommands of its own
    (``topic``) cannot be parsed intermixed and keeps argparse's plain parsing.
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        has_subcommands = any(isinstance(action, argparse._SubParsersAction) for action in self._actions)
        if self._intermixing or has_subcommands:
            return super().parse_known_args(args, namespace)
        self._intermixing = True  # parse_known_intermixed_args calls back into parse_known_args
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    """The full command line, subcommands included."""
    data_dir_help = f"the data directory (default: ${DATA_DIR_ENV}, else ./{DEFAULT_DATA_DIR})"
    # Subcommands repeat --data-dir with SUPPRESS so that a value given before the subcommand is kept.
    data_dir_parent = _IntermixedParser(add_help=False)
    data_dir_parent.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)

    parser = argparse.ArgumentParser(
        prog="headwater",
        usage="%(prog)s [options] [http://host:8088]\n       %(prog)s COMMAND ...",
        description="Headwater: a streaming SQL engine that speaks ksqlDB's SQL. Without a subcommand, "
        "opens the interactive SQL shell, on an engine in this process, or on the server whose address "
        "is given (as ksqlDB's ksql does).",
        epilog="Settings resolve flag first, then HEADWATER_* environment variables (HEADWATER_SERVER, "
        "HEADWATER_OUTPUT, HEADWATER_USER, HEADWATER_PASSWORD, HEADWATER_QUERY_ROW_LIMIT, "
        "HEADWATER_QUERY_TIMEOUT, HEADWATER_DATA_DIR, HEADWATER_CONFIG_FILE, HEADWATER_EDITING_MODE, "
        "HEADWATER_HISTORY_FILE), then the config file. See docs/cli.md for examples.",
    )
    parser.add_argument("--version", action="version", version=f"headwater {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", default=None, help=data_dir_help)
    parser.add_argument(
        "--server",
        metavar="URL",
        type=_server_url,
        help="run statements on the server at URL (e.g. http://localhost:8088) instead of an engine in "
        "this process; the URL may also be given as the argument",
    )
    parser.add_argument("-u", "--user", metavar="USER", help="the user name, when the server requires credentials")
    parser.add_argument(
        "-p",
        "--password",
        metavar="PASSWORD",
        nargs="?",
        const="",
        help="the password for --user (asked for on the terminal when omitted)",
    )
    parser.add_argument(
        "--config-file",
        metavar="FILE",
        help="a properties file of settings (server, output, ...) and ksqlDB properties sent with every "
        "statement (default: $HEADWATER_CONFIG_FILE)",
    )
    parser.add_argument(
        "--query-row-limit",
        metavar="N",
        type=_positive_int,
        help="stop every query after N rows",
    )
    parser.add_argument(
        "--query-timeout",
        metavar="MS",
        type=_positive_int,
        help="stop every query after MS milliseconds",
    )
    run = parser.add_mutually_exclusive_group()
    run.add_argument("-e", "--execute", metavar="SQL", help="run these statements, print the results and exit")
    run.add_argument("-f", "--file", metavar="FILE", help="run the statements in FILE and exit")
    run.add_argument(
        "--demo",
        action="store_true",
        help="open the shell on a demo stream of page views that grows while the shell is open",
    )
    parser.add_argument(
        "--output",
        type=str.upper,
        choices=["TABULAR", "JSON"],
        default=None,
        help="how results are printed (default: TABULAR)",
    )
    parser.add_argument(
        "-d",
        "--define",
        metavar="NAME=VALUE",
        type=_assignment,
        action="append",
        default=[],
        help="define a variable for ${NAME} substitution (repeatable)",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_IntermixedParser, prog="headwater"
    )

    topic = commands.add_parser("topic", help="create, list, describe and delete topics")
    topic_commands = topic.add_subparsers(dest="topic_command", metavar="ACTION", required=True)
    create = topic_commands.add_parser("create", parents=[data_dir_parent], help="create a topic")
    create.add_argument("name", help="the topic name ([a-zA-Z0-9._-], at most 249 characters)")
    create.add_argument("-p", "--partitions", type=_positive_int, default=1, help="number of partitions (default 1)")
    create.add_argument(
        "-c",
        "--config",
        metavar="KEY=VALUE",
        type=_assignment,
        action="append",
        default=[],
        help="topic configuration: retention.ms, retention.bytes, cleanup.policy, segment.bytes, segment.ms, "
        "delete.retention.ms (repeatable)",
    )
    create.add_argument("--if-not-exists", action="store_true", help="succeed quietly if the topic exists")
    topic_commands.add_parser("list", parents=[data_dir_parent], help="list topics")
    describe = topic_commands.add_parser(
        "describe", parents=[data_dir_parent], help="show a topic's configuration, partitions and offsets"
    )
    describe.add_argument("name")
    delete = topic_commands.add_parser("delete", parents=[data_dir_parent], help="delete a topic and its data")
    delete.add_argument("name")
    delete.add_argument("--if-exists", action="store_true", help="succeed quietly if the topic does not exist")

    produce = commands.add_parser(
        "produce",
        parents=[data_dir_parent],
        help="append records to a topic, one per input line",
        description="Append one record per input line (stdin, or FILE). For a raw topic the value is the "
        "line's bytes; for a typed topic the line is converted to the topic's columns. Blank lines are "
        "skipped. A bad line is reported with its line number; by default it rejects the whole load "
        "(nothing is written), with --skip-bad-lines it is left out and the rest is written.",
    )
    produce.add_argument("topic")
    produce.add_argument("input", nargs="?", metavar="FILE", help="read FILE instead of stdin")
    produce.add_argument("--format", type=str.lower, choices=["json", "csv"], required=True, help="the input format")
    produce.add_argument("-k", "--key", metavar="FIELD", help="take each record's key from this field")
    produce.add_argument(
        "--key-format",
        type=str.upper,
        choices=["KAFKA", "JSON", "DELIMITED"],
        default="KAFKA",
        help="how --key is serialised (default KAFKA)",
    )
    produce.add_argument(
        "--key-type",
        type=str.upper,
        choices=["STRING", "INT", "BIGINT", "DOUBLE", "BOOLEAN"],
        default="STRING",
        help="the SQL type of --key (default STRING)",
    )
    produce.add_argument(
        "--header", action="store_true", help="csv: the first line names the fields and is not a record"
    )
    produce.add_argument("--delimiter", default=",", metavar="CHAR", help="csv: the field delimiter (default ',')")
    produce.add_argument(
        "--skip-bad-lines", action="store_true", help="leave bad lines out (each is reported) instead of rejecting the load"
    )
    produce.add_argument("--partition", type=_non_negative_int, help="write every record to this partition")
    produce.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress bar on stderr: auto shows it on a terminal for large input",
    )

    print_command = commands.add_parser(
        "print",
        parents=[data_dir_parent],
        help="print a topic's records, as ksqlDB's PRINT does",
        description="Print records as they arrive (from the end, or --from-beginning) until Ctrl-C, --limit "
        "records, or with --exit-at-end the current end of the topic.",
    )
    print_command.add_argument("topic")
    print_command.add_argument("--from-beginning", action="store_true", help="start at the first record")
    print_command.add_argument("--limit", type=_positive_int, help="stop after this many records")
    print_command.add_argument(
        "--exit-at-end", action="store_true", help="stop at the end of the topic instead of waiting for more"
    )
    print_command.add_argument("--partition", type=_non_negative_int, help="print only this partition")

    # Commands whose own parsers live with their code (and whose modules are slow to import) are listed
    # here for --help only; main() hands their arguments to those parsers (see _delegated_command).
    for name, summary in DELEGATED_COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


# Subcommands parsed by their owners' parsers, built only when the command runs: importing them pulls in
# DuckDB and the engine, which every other command (and --help) should not pay for.
DELEGATED_COMMANDS = {
    "server": "serve ksqlDB's REST API over the data directory (see headwater server --help)",
    "export": "write a stream or table to a Parquet file (--to PATH.parquet [--since T] [--until T] [--where EXPR])",
}


# Commands that work on the data directory in this process (the server checks its own, which may be
# given after the subcommand): the directory is checked before anything opens it.
_LOCAL_COMMANDS = frozenset({"topic", "produce", "print"})


def _takes_value(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings of ``parser`` that are followed by a value."""
    return {
        option
        for action in parser._actions
        if action.nargs is None and action.option_strings and not isinstance(action, argparse._StoreConstAction)
        for option in action.option_strings
    }


def _delegated_command(argv: list[str], parser: argparse.ArgumentParser) -> tuple[str, list[str], list[str]] | None:
    """``(command, arguments before it, arguments after it)`` when the subcommand is a delegated one."""
    takes_value = _takes_value(parser)
    expecting_value = False
    for index, argument in enumerate(argv):
        if expecting_value:
            expecting_value = False
            continue
        if argument.startswith("-"):
            expecting_value = argument in takes_value
            continue
        if argument in DELEGATED_COMMANDS:
            return argument, argv[:index], argv[index + 1 :]
        return None
    return None


def _export_arguments(arguments: list[str]) -> argparse.Namespace:
    from headwater.engine.historical.export import add_export_parser

    data_dir_parent = argparse.ArgumentParser(add_help=False)
    data_dir_parent.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="headwater")
    add_export_parser(parser.add_subparsers(dest="command"), parents=[data_dir_parent])
    return parser.parse_args(["export", *arguments])


class _NoPandas:
    """An import hook that reports pandas as not installed (see :func:`_keep_pandas_out`)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (not used by the headwater command)", name=name)
        return None


def _keep_pandas_out() -> None:
    """Stop pandas from being imported in this process.

    pyarrow imports pandas, when it is installed, the first time ``pa.array`` is given a Python list, only
    to ask whether the list is a pandas object. Headwater never uses pandas, and that import alone is
    more than a third of ``headwater -e "SHOW STREAMS;"``'s run time (0.5 s of 1.4 s measured; see
    docs/cli.md). An import hook at the front of ``sys.meta_path`` makes ``import pandas`` fail at once,
    which pyarrow and DuckDB take as "pandas is not installed". ``HEADWATER_ALLOW_PANDAS=1`` turns this off.
    """
    if "pandas" not in sys.modules and not os.environ.get("HEADWATER_ALLOW_PANDAS"):
        sys.meta_path.insert(0, _NoPandas())


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run it (the console script runs this through :func:`console_main`).

    Returns:
        the process exit status.
    """
    from headwater.errors import HeadwaterError

    parser = build_parser()
    arguments = lift_server_address(list(sys.argv[1:] if argv is None else argv), parser)
    delegated = _delegated_command(arguments, parser)
    command_args: argparse.Namespace | None = None
    if delegated is None:
        args = parser.parse_args(arguments)
    else:
        name, before, after = delegated
        args = parser.parse_args(before)
        args.command = name
        command_args = _export_arguments(after) if name == "export" else argparse.Namespace(arguments=after)
    if not os.environ.get(DEBUG_ENV):
        # Library warnings (a DuckDB deprecation...) mean nothing to a user of the shell.
        warnings.simplefilter("ignore")
    _keep_pandas_out()
    try:
        from headwater.repl.settings import resolve_settings

        settings = resolve_settings(args, config_file=args.config_file)
        data_dir = settings.data_dir
        if args.command in _LOCAL_COMMANDS or (args.command is None and settings.server is None):
            from headwater.storage.directories import prepare_directory

            prepare_directory(data_dir, "data directory")
        if args.command == "topic":
            from headwater.repl.topics import run_topic_command

            return run_topic_command(args, data_dir)
        if args.command == "produce":
            from headwater.repl.produce import run_produce_command

            return run_produce_command(args, data_dir)
        if args.command == "print":
            from headwater.repl.print_topic import run_print_command

            return run_print_command(args, data_dir)
        if args.command == "server":
            from headwater.server import main as server_main

            assert command_args is not None
            given = command_args.arguments
            has_data_dir = any(a == "--data-dir" or a.startswith("--data-dir=") for a in given)
            return server_main(given if has_data_dir else ["--data-dir", str(data_dir), *given])
        if args.command == "export":
            from headwater.engine.historical.export import run_export_command

            assert command_args is not None
            return run_export_command(command_args, getattr(command_args, "data_dir", None) or data_dir)
        from headwater.repl.main import run_shell_command

        return run_shell_command(args, settings)
    except HeadwaterError as error:
        print(f"Error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`headwater print t | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except RecursionError:  # the input's doing (an expression nested thousands deep), not a bug
        if os.environ.get(DEBUG_ENV):
            raise
        from headwater.repl.session import NESTED_TOO_DEEPLY

        print(f"Error: {NESTED_TOO_DEEPLY}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # a bug in Headwater: one line for the user, the trace only on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"Internal error ({type(error).__name__}): {error}. This is a bug in Headwater; "
            f"run again with {DEBUG_ENV}=1 to see where it happened.",
            file=sys.stderr,
        )
        return EXIT_FAILED


def console_main() -> None:
    """Entry point of the ``headwater`` console script: :func:`main`, then an exit that skips native
    teardown, which can abort a finished process (:mod:`headwater.process_exit`)."""
    from headwater.process_exit import run_and_exit

    run_and_exit(main)


if __name__ == "__main__":
    console_main()
