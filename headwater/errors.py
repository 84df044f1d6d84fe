"""One error hierarchy for the whole of Headwater.

Every error a user can cause is a :class:`HeadwaterError`. Front ends (the REPL, the server, the command
line tools) catch ``HeadwaterError`` and show its message; anything else reaching them is a bug in
Headwater. Each leaf also inherits the builtin it resembles, so callers that think in builtins
(``except ValueError``) keep working.

The leaves correspond to ksqlDB's exception categories, which its test suite and its REST API expose:

=====================  ===============================================  ==============================
Headwater              ksqlDB                                           when
=====================  ===============================================  ==============================
``ParseError``         ``ParseFailedException``                         the text is not valid SQL
``PlanError``          ``KsqlStatementException``                       valid SQL that cannot run
``ExecutionError``     ``StreamsException`` / ``KsqlException``         failure while a query runs
``StorageError``       (Kafka errors)                                   the event log refused
=====================  ===============================================  ==============================

Example:
    >>> try:
    ...     raise PlanError("Unknown format: FOO", statement="CREATE STREAM ...")
    ... except HeadwaterError as e:
    ...     print(e)
    Unknown format: FOO
"""

from __future__ import annotations

__all__ = [
    "ExecutionError",
    "HeadwaterError",
    "ParseError",
    "PlanError",
    "StorageError",
]


class HeadwaterError(Exception):
    """Base of every error Headwater raises on purpose."""


class ParseError(HeadwaterError, ValueError):
    """SQL text that does not parse.

    Attributes:
        message: what is wrong, in one sentence.
        line: 1-based line of the offending token in ``source``.
        column: 1-based column of the offending token.
        token: the offending token's text ('' at end of input).
        expected: the token kinds that would have been accepted there, if known.
        source: the full text that was parsed.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int = 1,
        column: int = 1,
        token: str = "",
        expected: tuple[str, ...] = (),
        source: str = "",
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.token = token
        self.expected = tuple(expected)
        self.source = source
        super().__init__(self.render())

    @property
    def source_line(self) -> str:
        """The line of ``source`` holding the error, without its newline."""
        lines = self.source.splitlines()
        return lines[self.line - 1] if 0 < self.line <= len(lines) else ""

    def render(self) -> str:
        """The message with its position, the source line and a caret under the offending token."""
        text = f"line {self.line}:{self.column}: {self.message}"
        src = self.source_line
        if src:
            text += "\n" + src + "\n" + " " * max(self.column - 1, 0) + "^"
        return text


class PlanError(HeadwaterError, ValueError):
    """A statement that parses but cannot be executed (unknown source, type mismatch, bad property...).

    Attributes:
        statement: the statement text the error belongs to, when known.
    """

    def __init__(self, message: str, *, statement: str | None = None) -> None:
        self.message = message
        self.statement = statement
        super().__init__(message)


class ExecutionError(HeadwaterError, RuntimeError):
    """A failure while a query runs that stops it (as opposed to a bad record, which is only logged)."""


class StorageError(HeadwaterError, OSError):
    """The event log could not do what was asked (missing topic, locked partition, corrupt file...)."""
