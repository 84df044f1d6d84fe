"""Running statements for a person: the engine's answers rendered, errors shown as one clear message.

The interactive shell, ``headwater -e`` and ``headwater -f`` all run text through one :class:`Session`, so
a statement behaves the same whichever way it arrives. The session

- cuts the text into statements (:mod:`headwater.repl.statements`) and runs them in order, stopping at the
  first that fails (the ones before it have taken effect, as in ksqlDB's CLI);
- sends queries (``SELECT``, ``PRINT``) to :meth:`Engine.stream` and prints their rows as they arrive
  (:mod:`headwater.repl.query_output`), everything else to :meth:`Engine.execute`, rendering each entity;
- keeps the session's properties: ``SET`` and ``UNSET`` are checked by the engine (which answers with
  ksqlDB's message) and remembered here, and every later statement and query is sent with them, as
  ksqlDB's CLI sends its local properties with each request;
- turns every :class:`~headwater.errors.HeadwaterError` into its message (a parse error keeps its caret,
  with the line and column counted in the whole input, not just the statement), and any other exception
  into a one-line report, so the shell never shows a traceback and never dies of a bad statement.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from headwater.errors import HeadwaterError, ParseError
from headwater.repl.console import Console
from headwater.repl.query_output import print_query
from headwater.repl.render import render_entity
from headwater.repl.statements import StatementText, split_statements
from headwater.repl.values import json_default

__all__ = ["EngineLike", "OutputFormat", "RunOutcome", "Session", "is_query"]

OutputFormat = str  # "TABULAR" or "JSON", as ksqlDB's CLI spells them
OUTPUT_FORMATS = ("TABULAR", "JSON")

_QUERY_KEYWORDS = frozenset({"SELECT", "PRINT"})
_PROPERTY_KEYWORDS = frozenset({"SET", "UNSET"})


class EngineLike(Protocol):
    """What a session needs from :class:`headwater.engine.Engine` (or, later, a remote server client)."""

    def execute(
        self, sql: str, properties: dict[str, Any] | None = None, variables: dict[str, str] | None = None
    ) -> Sequence[Any]: ...

    def stream(self, sql: str, properties: dict[str, Any] | None = None) -> Any: ...


def _strip_leading_comments(text: str) -> str:
    """``text`` without the comments and whitespace before its first word."""
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            newline = text.find("\n")
            text = "" if newline < 0 else text[newline + 1 :]
        elif text.startswith("/*"):
            end = text.find("*/")
            text = "" if end < 0 else text[end + 2 :]
        else:
            return text


def _first_word(statement: str) -> str:
    words = _strip_leading_comments(statement).split(None, 1)
    return words[0].rstrip(";").upper() if words else ""


def is_query(statement: str) -> bool:
    """Whether a statement streams rows (``SELECT``, ``PRINT``) rather than returning one entity.

    Example:
        >>> is_query("-- rows\\nselect * from s emit changes;"), is_query("EXPLAIN SELECT * FROM s;")
        (True, False)
    """
    return _first_word(statement) in _QUERY_KEYWORDS


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How running a text went: statements that succeeded, and whether one failed (it was the last run)."""

    succeeded: int
    failed: bool


class Session:
    """Runs statements on an engine and shows the results on a console.

    Args:
        engine: the engine (its ``execute`` and ``stream``).
        console: where results and errors go.
        output_format: ``TABULAR`` (tables, as ksqlDB's CLI) or ``JSON`` (ksqlDB's REST JSON).
        engine_lock: held around ``execute`` calls, when another thread (the demo's producer) runs
            statements on the same engine.
    """

    def __init__(
        self,
        engine: EngineLike,
        console: Console,
        *,
        output_format: OutputFormat = "TABULAR",
        engine_lock: threading.Lock | None = None,
    ) -> None:
        self.engine = engine
        self.console = console
        self.output_format = output_format.upper()
        self.engine_lock = engine_lock or threading.Lock()
        self.properties: dict[str, str] = {}

    def define(self, variables: dict[str, str]) -> None:
        """Define variables for ``${name}`` substitution (``--define``), with the session's own
        ``DEFINE`` statement, so they apply to queries and statements alike.

        Raises:
            HeadwaterError: a name that is not a valid variable name.
        """
        for name, value in variables.items():
            quoted = value.replace("'", "''")
            with self.engine_lock:
                self.engine.execute(f"DEFINE {name} = '{quoted}';")

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
        sql = statement.text if statement.terminated else statement.text + ";"
        heading = ["", self.console.emphasis(statement.text)] if show_text else [""]
        try:
            if is_query(sql):
                if self.output_format == "TABULAR":
                    self.console.lines(heading)
                print_query(
                    self._open_stream(sql),
                    self.console,
                    output_format=self.output_format,
                    as_text=_first_word(sql) == "PRINT",
                )
            else:
                with self.engine_lock:
                    entities = self.engine.execute(sql, properties=self.properties or None)
                if _first_word(sql) in _PROPERTY_KEYWORDS:
                    self._remember_property(sql)
                self.show_entities(entities, heading=heading)
            return True
        except ParseError as error:
            self.console.error(str(_rebase(error, statement, whole_text)))
        except HeadwaterError as error:
            self.console.error(str(error))
        except KeyboardInterrupt:
            raise
        except Exception as error:  # a bug in Headwater: report it in one line, keep the shell alive
            self.console.error(f"Internal error ({type(error).__name__}): {error}")
        return False

    def _open_stream(self, sql: str) -> Any:
        with self.engine_lock:
            return self.engine.stream(sql, properties=self.properties or None)

    def _remember_property(self, sql: str) -> None:
        """Keep what a SET or UNSET the engine just accepted did, for the statements that follow."""
        from headwater.parser import ast, parse_statement

        statement = parse_statement(sql)
        if isinstance(statement, ast.SetProperty):
            self.properties[statement.name] = statement.value
        elif isinstance(statement, ast.UnsetProperty):
            self.properties.pop(statement.name, None)

    def show_entities(self, entities: Sequence[Any], *, heading: Sequence[str] = ("",)) -> None:
        """Print the results of executed statements in the session's output format; in TABULAR,
        ``heading`` goes before the first entity that shows anything (an INSERT shows nothing)."""
        documents = [entity.to_json() for entity in entities]
        if self.output_format == "JSON":
            visible = [doc for doc, entity in zip(documents, entities) if getattr(entity, "rest_visible", True)]
            self.console.line(
                orjson.dumps(visible, default=json_default, option=orjson.OPT_INDENT_2).decode()
            )
            return
        for document in documents:
            lines = render_entity(document, width=self.console.width)
            if lines:
                self.console.lines([*heading, *lines])
                heading = ("",)


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
