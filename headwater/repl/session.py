"""Running statements for a person: answers rendered, errors shown as one clear message.

The interactive shell, ``headwater -e``, ``headwater -f``, piped statements and ``run script`` all run
text through one :class:`Session`, so a statement behaves the same whichever way it arrives, and whether
the engine runs in this process or on a server (:mod:`headwater.repl.backend`). The session

- cuts the text into statements (:mod:`headwater.repl.statements`) and runs them in order, stopping at
  the first that fails (the ones before it have taken effect, as in ksqlDB's CLI);
- handles on the client, as ksqlDB's CLI does, the statements that belong to the session rather than to
  the engine: ``SET`` and ``UNSET`` change the session's properties (sent with every later statement and
  query), ``DEFINE`` and ``UNDEFINE`` its variables (substituted as ``${name}`` into every later
  statement before it is sent), ``SHOW VARIABLES`` lists them; the messages are ksqlDB's CLI's;
- sends queries (``SELECT``, ``PRINT``) to the backend's ``stream`` and prints their rows as they arrive
  (:mod:`headwater.repl.query_output`), everything else to ``execute``, rendering each entity;
- turns every :class:`~headwater.errors.HeadwaterError` into its message (a parse error keeps its caret,
  with the line and column counted in the whole input, not just the statement), and any other exception
  into a one-line report, so the shell never shows a traceback and never dies of a bad statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.errors import HeadwaterError, ParseError
from headwater.repl.backend import Backend
from headwater.repl.cli_properties import CliProperties
from headwater.repl.console import Console
from headwater.repl.query_output import QueryOutputOptions, print_query
from headwater.repl.render import render_entity
from headwater.repl.sql_tokens import code_tokens, leading_words
from headwater.repl.statements import StatementText, split_statements
from headwater.repl.values import json_default

__all__ = [
    "OUTPUT_FORMATS",
    "RunOutcome",
    "Session",
    "SessionError",
    "StatementKind",
    "changes_catalog",
    "classify",
    "is_query",
]

OUTPUT_FORMATS = ("JSON", "TABULAR")
SUBSTITUTION_PROPERTY = "ksql.variable.substitution.enable"
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_@]*")
NESTED_TOO_DEEPLY = (
    "The statement is nested too deeply to process (thousands of nested expressions or parentheses); "
    "split it into smaller expressions"
)


class StatementKind:
    """What the session does with a statement (see :func:`classify`)."""

    PUSH_QUERY = "push query"
    FINITE_QUERY = "finite query"  # a SELECT without EMIT: historical or pull, its result ends
    PRINT = "print"
    SET = "set"
    UNSET = "unset"
    DEFINE = "define"
    UNDEFINE = "undefine"
    SHOW_VARIABLES = "show variables"
    EXPLAIN_FINITE_QUERY = "explain finite query"  # EXPLAIN SELECT ... without EMIT
    OTHER = "other"


def classify(statement: str) -> str:
    """The kind of a statement, from its leading words (comments and case do not matter).

    Example:
        >>> classify("select * from s emit changes;"), classify("/* x */ SELECT 1 FROM s;")
        ('push query', 'finite query')
        >>> classify("list variables;"), classify("EXPLAIN SELECT * FROM s;")
        ('show variables', 'explain finite query')
    """
    words = leading_words(statement, 2)
    first = words[0] if words else ""
    if first == "SELECT":
        emits = any(t.kind == "word" and t.text.upper() == "EMIT" for t in code_tokens(statement))
        return StatementKind.PUSH_QUERY if emits else StatementKind.FINITE_QUERY
    if first in ("SHOW", "LIST") and words[1:] == ["VARIABLES"]:
        return StatementKind.SHOW_VARIABLES
    if first == "EXPLAIN" and words[1:] == ["SELECT"]:
        emits = any(t.kind == "word" and t.text.upper() == "EMIT" for t in code_tokens(statement))
        return StatementKind.OTHER if emits else StatementKind.EXPLAIN_FINITE_QUERY
    return {
        "PRINT": StatementKind.PRINT,
        "SET": StatementKind.SET,
        "UNSET": StatementKind.UNSET,
        "DEFINE": StatementKind.DEFINE,
        "UNDEFINE": StatementKind.UNDEFINE,
    }.get(first, StatementKind.OTHER)


_READ_ONLY_WORDS = frozenset({"SHOW", "LIST", "DESCRIBE", "EXPLAIN", "PRINT", "SELECT", "ASSERT"})


def changes_catalog(statement: str) -> bool:
    """Whether a statement may add, drop or change streams, tables, topics or queries (so completion
    should look at the catalog again): anything but listings, descriptions and row inserts.

    Example:
        >>> changes_catalog("create stream s (a int) with (kafka_topic='s');"), changes_catalog("SHOW TOPICS;")
        (True, False)
    """
    words = leading_words(statement, 4)
    if not words or words[0] in _READ_ONLY_WORDS:
        return False
    return not (words[0] == "INSERT" and "VALUES" in {t.text.upper() for t in code_tokens(statement)})


def is_query(statement: str) -> bool:
    """Whether a statement streams rows (``SELECT``, ``PRINT``) rather than returning one entity.

    Example:
        >>> is_query("-- rows\\nselect * from s emit changes;"), is_query("EXPLAIN SELECT * FROM s;")
        (True, False)
    """
    return classify(statement) in (StatementKind.PUSH_QUERY, StatementKind.FINITE_QUERY, StatementKind.PRINT)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How running a text went: statements that succeeded, and whether one failed (it was the last run)."""

    succeeded: int
    failed: bool


class Session:
    """Runs statements on a backend and shows the results on a console.

    Args:
        backend: where statements run (the embedded engine or a server).
        console: where results and errors go.
        output_format: ``TABULAR`` (tables, as ksqlDB's CLI) or ``JSON`` (ksqlDB's REST JSON).
        properties: the session's starting properties (the config file's ksqlDB properties).
        query_row_limit: stop every query after this many rows.
        query_timeout_ms: stop every query after this long.
        interactive: a person is at a terminal: long finite results are paged.

    Attributes:
        properties: the session's local properties, sent with every statement (``SET`` / ``UNSET``).
        variables: the session's variables (``DEFINE`` / ``UNDEFINE``), by name as first defined.
        cli: the display properties (``set cli``).
    """

    def __init__(
        self,
        backend: Backend,
        console: Console,
        *,
        output_format: str = "TABULAR",
        properties: Mapping[str, str] | None = None,
        query_row_limit: int | None = None,
        query_timeout_ms: int | None = None,
        interactive: bool = False,
    ) -> None:
        self.backend = backend
        self.console = console
        self.output_format = output_format.upper()
        self.properties: dict[str, str] = dict(properties or {})
        self.variables: dict[str, str] = {}
        self.query_row_limit = query_row_limit
        self.query_timeout_ms = query_timeout_ms
        self.interactive = interactive
        self.cli = CliProperties()
        self.catalog_changed = False

    # -- variables -------------------------------------------------------------------------------------
    def define(self, variables: Mapping[str, str]) -> None:
        """Define variables (``--define``), as ``DEFINE`` does.

        Raises:
            SessionError: a name that ``DEFINE`` would not accept, so ``${name}`` could never refer to it.
        """
        for name, value in variables.items():
            if not _VARIABLE_NAME.fullmatch(name):
                raise SessionError(
                    f"Invalid variable name '{name}': a name starts with a letter or '_' and holds only "
                    "letters, digits, '_' and '@'"
                )
            self._set_variable(name, value)

    def _variable_key(self, name: str) -> str | None:
        """The stored spelling of ``name`` (names are case-insensitive, as in ksqlDB)."""
        return next((key for key in self.variables if key.upper() == name.upper()), None)

    def _set_variable(self, name: str, value: str) -> None:
        self.variables[self._variable_key(name) or name] = value

    def substitute(self, sql: str) -> str:
        """``sql`` with the session's variables substituted, unless the session turned substitution off
        (``SET 'ksql.variable.substitution.enable'='false'``)."""
        if not self.variables or self.properties.get(SUBSTITUTION_PROPERTY, "true").lower() == "false":
            return sql
        from headwater.parser.variables import normalise_variables, substitute_variables

        return substitute_variables(sql, normalise_variables(self.variables))

    # -- running ---------------------------------------------------------------------------------------
    def run_text(self, text: str) -> RunOutcome:
        """Run every statement in ``text`` in order; stop at the first that fails.

        A trailing statement without ``;`` is run too (``headwater -e "SHOW TOPICS"`` works).
        """
        statements = split_statements(text)
        show_statement = self.output_format == "TABULAR" and len(statements) > 1
        succeeded = 0
        for statement in statements:
            if not self.run_statement(statement, whole_text=text, show_text=show_statement):
                return RunOutcome(succeeded, failed=True)
            succeeded += 1
        return RunOutcome(succeeded, failed=False)

    def run_statement(
        self, statement: StatementText, *, whole_text: str | None = None, show_text: bool = False
    ) -> bool:
        """Run one statement and show its result (after a blank line, and after the statement itself
        when ``show_text``) or its error; returns whether it succeeded."""
        typed = statement.text if statement.terminated else statement.text + ";"
        heading = ["", self.console.emphasis(statement.text)] if show_text else [""]
        sql = typed
        try:
            sql = self.substitute(typed)
            kind = classify(sql)
            if kind in (StatementKind.PUSH_QUERY, StatementKind.FINITE_QUERY, StatementKind.PRINT):
                if self.output_format == "TABULAR":
                    self.console.lines(heading)
                self._run_query(sql, kind)
            elif kind == StatementKind.SET:
                self._set_property(sql)
            elif kind == StatementKind.UNSET:
                self._unset_property(sql)
            elif kind == StatementKind.DEFINE:
                self._define(sql)
            elif kind == StatementKind.UNDEFINE:
                self._undefine(sql)
            elif kind == StatementKind.SHOW_VARIABLES:
                self.show_entities([self._variables_entity(sql)], heading=heading)
            elif kind == StatementKind.EXPLAIN_FINITE_QUERY and self._explains_historical():
                self._explain_historical(sql, heading)
            else:
                entities = self.backend.execute(sql, self.properties)
                self.catalog_changed = self.catalog_changed or changes_catalog(sql)
                self.show_entities(entities, heading=heading)
            return True
        except ParseError as error:
            # Positions count in the text as typed; after a substitution they count in the substituted
            # statement, which the error then shows.
            self.console.error(str(_rebase(error, statement, whole_text if sql == typed else None)))
        except HeadwaterError as error:
            self._show_failure(error)
        except KeyboardInterrupt:
            raise
        except RecursionError:  # the statement's doing: nested deeper than the parser and planner can walk
            self.console.error(NESTED_TOO_DEEPLY)
        except Exception as error:  # a bug in Headwater: report it in one line, keep the shell alive
            self.console.error(f"Internal error ({type(error).__name__}): {error}")
        return False

    def _show_failure(self, error: HeadwaterError) -> None:
        """A failed statement: the entities of the statements that ran before it in the same request
        (a server sends them with the error, as ksqlDB's does), then the message."""
        before = getattr(error, "entities", None)
        if before:
            self.show_entities([entity for entity in before if isinstance(entity, dict)])
        self.console.error(str(error))

    def query_options(self, kind: str) -> QueryOutputOptions:
        """How a query of ``kind`` is shown in this session."""
        terminal = self.console.is_terminal
        return QueryOutputOptions(
            output_format=self.output_format,
            as_text=kind == StatementKind.PRINT,
            row_limit=self.query_row_limit,
            timeout_s=None if self.query_timeout_ms is None else self.query_timeout_ms / 1000,
            wrap=self.cli.wrap,
            column_width=self.cli.column_width,
            status=terminal,
            paged=(
                kind == StatementKind.FINITE_QUERY
                and self.interactive
                and terminal
                and self.cli.pager
                and self.output_format == "TABULAR"
            ),
        )

    def _run_query(self, sql: str, kind: str) -> None:
        stream = self.backend.stream(sql, self.properties)
        print_query(stream, self.console, self.query_options(kind))

    def _explains_historical(self) -> bool:
        """Whether EXPLAIN of a historical SELECT shows DuckDB's plan here: on the embedded engine, in
        TABULAR output (JSON output keeps the engine's EXPLAIN entity)."""
        return self.output_format == "TABULAR" and hasattr(self.backend, "explain_historical")

    def _explain_historical(self, sql: str, heading: Sequence[str]) -> None:
        """The historical plan as text, paged when it is longer than the screen."""
        select = sql.lstrip()
        tokens = code_tokens(select)
        select = select[tokens[1].start :] if len(tokens) > 1 else select
        text = self.backend.explain_historical(select, self.properties)  # type: ignore[attr-defined]
        lines = [*heading, *text.split("\n")]
        height = self.console.height
        if self.interactive and self.cli.pager and height is not None:
            from headwater.repl.pager import page_lines

            page_lines(lines, self.console, height=height)
        else:
            self.console.lines(lines)

    # -- client-side statements ------------------------------------------------------------------------
    def _parse(self, sql: str) -> Any:
        from headwater.parser import parse_statement

        return parse_statement(sql)

    def _set_property(self, sql: str) -> None:
        """``SET``: checked by the engine or server (which refuses what may not be set), then kept
        here and sent with every later statement; ksqlDB's CLI message."""
        statement = self._parse(sql)
        self.backend.execute(sql, self.properties)
        prior = self.properties.get(statement.name)
        self.properties[statement.name] = statement.value
        self.console.line(
            f"Successfully changed local property '{statement.name}'"
            + (f" from '{prior}'" if prior is not None else "")
            + f" to '{statement.value}'."
            + (" Use the UNSET command to revert your change." if prior is None else "")
        )

    def _unset_property(self, sql: str) -> None:
        statement = self._parse(sql)
        if statement.name not in self.properties:
            raise SessionError(
                f"Cannot unset local property '{statement.name}' which was never set in the first place"
            )
        prior = self.properties.pop(statement.name)
        self.console.line(f"Successfully unset local property '{statement.name}' (value was '{prior}').")

    def _define(self, sql: str) -> None:
        """``DEFINE``: silent, as in ksqlDB's CLI."""
        statement = self._parse(sql)
        self._set_variable(statement.name, statement.value)

    def _undefine(self, sql: str) -> None:
        statement = self._parse(sql)
        key = self._variable_key(statement.name)
        if key is None:
            # Only a message, not a failure, as ksqlDB's CLI (and its server) treat it.
            self.console.line(f"Cannot undefine variable '{statement.name}' which was never defined.")
            return
        del self.variables[key]

    def _variables_entity(self, sql: str) -> dict[str, Any]:
        """The ``variables`` entity ksqlDB's CLI builds from its own variables for SHOW VARIABLES (sorted by
        name, case-insensitively, as its map of variables keeps them)."""
        return {
            "@type": "variables",
            "statementText": sql.rstrip().rstrip(";"),
            "variables": [
                {"name": name, "value": self.variables[name]} for name in sorted(self.variables, key=str.upper)
            ],
            "warnings": [],
        }

    # -- output ----------------------------------------------------------------------------------------
    def show_entities(self, entities: Sequence[dict[str, Any]], *, heading: Sequence[str] = ("",)) -> None:
        """Print the results of executed statements in the session's output format; in TABULAR,
        ``heading`` goes before the first entity that shows anything (an INSERT shows nothing). A
        command status of ERROR is shown as an error, as ksqlDB's CLI does."""
        if self.output_format == "JSON":
            self.console.line(
                orjson.dumps(list(entities), default=json_default, option=orjson.OPT_INDENT_2).decode()
            )
            return
        for document in entities:
            status = document.get("commandStatus") or {}
            if document.get("@type") == "currentStatus" and status.get("status") == "ERROR":
                self.console.error(str(status.get("message", "")).split("\n", 1)[0])
                continue
            lines = render_entity(document, width=self.console.width)
            if lines:
                self.console.lines([*heading, *lines])
                heading = ("",)


class SessionError(HeadwaterError, ValueError):
    """A client-side statement that cannot be carried out (UNSET of a property never set)."""


def _rebase(error: ParseError, statement: StatementText, whole_text: str | None) -> ParseError:
    """The same parse error with its position counted in the whole input rather than the statement, so
    the line and caret match what the user typed or the file they wrote."""
    if whole_text is None or (statement.line == 1 and statement.column == 1):
        return error
    line = error.line + statement.line - 1
    column = error.column + (statement.column - 1 if error.line == 1 else 0)
    return ParseError(
        error.message, line=line, column=column, token=error.token, expected=error.expected, source=whole_text
    )
