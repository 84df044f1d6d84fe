"""The ``headwater`` command: the SQL shell by default, and subcommands for topics, producing and printing.

Flags follow ksqlDB's CLI where it has one (``-e/--execute``, ``-f/--file``, ``--output TABULAR|JSON``,
``-d/--define``), and kcat's spirit for the topic tools. Every command runs on one data directory:
``--data-dir``, else ``$HEADWATER_DATA_DIR``, else ``./headwater-data``. ``--data-dir`` is accepted before
or after a subcommand, so ``headwater --data-dir d topic list`` and ``headwater topic list --data-dir d``
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
import sys
import warnings
from pathlib import Path

from headwater import __version__

__all__ = ["DATA_DIR_ENV", "DEFAULT_DATA_DIR", "build_parser", "main", "resolve_data_dir"]

DATA_DIR_ENV = "HEADWATER_DATA_DIR"
DEFAULT_DATA_DIR = "headwater-data"
DEBUG_ENV = "HEADWATER_DEBUG"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def resolve_data_dir(given: str | None) -> Path:
    """The data directory to use: the flag, else the environment variable, else ``./headwater-data``."""
    if given:
        return Path(given)
    from_env = os.environ.get(DATA_DIR_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_DATA_DIR)


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


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def build_parser() -> argparse.ArgumentParser:
    """The full command line, subcommands included."""
    data_dir_help = f"the data directory (default: ${DATA_DIR_ENV}, else ./{DEFAULT_DATA_DIR})"
    # Subcommands repeat --data-dir with SUPPRESS so that a value given before the subcommand is kept.
    data_dir_parent = argparse.ArgumentParser(add_help=False)
    data_dir_parent.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)

    parser = argparse.ArgumentParser(
        prog="headwater",
        description="Headwater: a streaming SQL engine that speaks ksqlDB's SQL. Without a subcommand, "
        "opens the interactive SQL shell.",
        epilog="See docs/cli.md for examples.",
    )
    parser.add_argument("--version", action="version", version=f"headwater {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", default=None, help=data_dir_help)
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
        default="TABULAR",
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``headwater`` console script: parse the command line and run it.

    Returns:
        the process exit status.
    """
    from headwater.errors import HeadwaterError

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not os.environ.get(DEBUG_ENV):
        # Library warnings (a DuckDB deprecation...) mean nothing to a user of the shell.
        warnings.simplefilter("ignore")
    data_dir = resolve_data_dir(args.data_dir)
    try:
        if args.command == "topic":
            from headwater.repl.topics import run_topic_command

            return run_topic_command(args, data_dir)
        if args.command == "produce":
            from headwater.repl.produce import run_produce_command

            return run_produce_command(args, data_dir)
        if args.command == "print":
            from headwater.repl.print_topic import run_print_command

            return run_print_command(args, data_dir)
        from headwater.repl.main import run_shell_command

        return run_shell_command(args, data_dir)
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
    except Exception as error:  # a bug in Headwater: one line for the user, the trace only on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"Internal error ({type(error).__name__}): {error}. This is a bug in Headwater; "
            f"run again with {DEBUG_ENV}=1 to see where it happened.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
