"""The LALR(1) driver: lark's parse table and tree-builder callbacks, run by a loop of our own.

lark builds (and caches on disk) the parse table of ``grammar.lark`` and the callbacks that turn each
reduced rule into a node (our builder methods, wrapped by lark to inline helper rules). Its own driver
looks every reduction's callback up by rule object and goes through a generic lexer interface; this
loop reads a table converted once into plain dictionaries (a shift is an int, a reduction a tuple of
callback, length and goto symbol); on ksqlDB's test corpus that cut the whole parse time by a third.

The lexer cannot tell a non-reserved keyword (``KEY``, ``EMIT``, ``PARTITION``...) from a name on its
own, so words arrive unclassified and the driver decides, word by word, with the table: the keyword
or a name, whichever can continue the statement, and when both can, whichever still fits the token
after it (``FROM s EMIT CHANGES`` against ``FROM s emit;``). Reserved keywords are always keywords.

Example:
    >>> tables = parser_tables()
    >>> tables.terminals >= {"SELECT", "IDENTIFIER", "$END"}
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lark import Lark
from lark.lexer import Lexer
from lark.parsers.lalr_analysis import Shift

from headwater.parser.builder import Builder
from headwater.parser.lexer import RESERVED, Token, keyword_type

__all__ = ["END", "LalrTables", "UnexpectedTokenError", "advance", "parser_tables", "run"]

END = "$END"
STARTS = ("statement_entry", "test_statement_entry", "expression_entry", "type_entry")
_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# A reduction: (callback, number of symbols popped, the rule's nonterminal for the goto).
Reduction = tuple[Callable[[list[Any]], Any], int, str]
# A row of the table: terminal or nonterminal -> shift target state (int) or Reduction.
Row = dict[str, "int | Reduction"]


class UnexpectedTokenError(Exception):
    """The parser met a token it cannot accept. ``stack`` is the state stack at that point; ``token``
    is None at the end of the statement."""

    def __init__(self, token: Token | None, stack: list[int], end_state: int) -> None:
        super().__init__(token.value if token else "<EOF>")
        self.token = token
        self.stack = stack
        self.end_state = end_state


class _NoLexer(Lexer):
    """lark wants a lexer class; tokens come from headwater.parser.lexer instead."""

    __future_interface__ = 2

    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Any]:
        raise NotImplementedError("headwater.parser.lalr drives the parse table itself")


class LalrTables:
    """lark's parse table as plain dictionaries, with the builder callbacks attached to reductions."""

    def __init__(self, grammar_text: str, builder: object) -> None:
        lark_parser = Lark(
            grammar_text,
            parser="lalr",
            lexer=_NoLexer,
            start=list(STARTS),
            transformer=builder,
            maybe_placeholders=False,
            cache=True,
        )
        lalr = lark_parser.parser.parser  # lark's LALR_Parser
        table = lalr._parse_table
        callbacks = lalr.parser.callbacks
        reductions: dict[object, Reduction] = {}
        self.rows: dict[int, Row] = {}
        for state, actions in table.states.items():
            row: Row = {}
            for symbol, (action, argument) in actions.items():
                if action is Shift:
                    row[symbol] = argument
                else:
                    reduction = reductions.get(argument)
                    if reduction is None:
                        reduction = (callbacks[argument], len(argument.expansion), argument.origin.name)
                        reductions[argument] = reduction
                    row[symbol] = reduction
            self.rows[state] = row
        self.start_states: dict[str, int] = dict(table.start_states)
        self.end_states: dict[str, int] = dict(table.end_states)
        self.terminals = frozenset(
            symbol for row in self.rows.values() for symbol in row if symbol.isupper() or symbol == END
        )


def advance(rows: dict[int, Row], end_state: int, stack: list[int], terminal: str) -> list[int] | None:
    """The state stack after reading ``terminal`` from ``stack``, or None if the parser cannot.

    Runs the reductions the terminal triggers, as the driver would, on a copy of the stack (callbacks
    are not called).
    """
    stack = list(stack)
    while True:
        action = rows[stack[-1]].get(terminal)
        if action is None:
            return None
        if action.__class__ is int:
            stack.append(action)
            return stack
        _, size, origin = action  # type: ignore[misc]
        if size:
            del stack[-size:]
        stack.append(rows[stack[-1]][origin])  # type: ignore[arg-type]
        if stack[-1] == end_state:
            return stack


def _readings(token: Token | None) -> tuple[str, ...]:
    """The terminals ``token`` may turn out to be (both readings of a non-reserved keyword)."""
    if token is None:
        return (END,)
    if token.type != "WORD":
        return (token.type,)
    keyword = keyword_type(token.value)
    if keyword is None:
        return ("IDENTIFIER",)
    if token.value.upper() in RESERVED:
        return (keyword,)
    return (keyword, "IDENTIFIER")


def _classify(rows: dict[int, Row], end_state: int, stack: list[int], tokens: list[Token], index: int) -> str:
    """Whether the word at ``tokens[index]`` is a keyword or a name, here."""
    word = tokens[index].value.upper()
    keyword = keyword_type(word)
    # A DEFINE'd variable's name may be any word, even a reserved one (ksqlDB's SyntaxErrorValidator),
    # also where the statement is EXPLAINed. Words are classified left to right, so the word before
    # is DEFINE here only when it was read as the keyword.
    if keyword is None or (index and tokens[index - 1].type in ("DEFINE", "UNDEFINE")):
        return "IDENTIFIER"
    if word in RESERVED:
        return keyword
    as_keyword = advance(rows, end_state, stack, keyword)
    as_name = advance(rows, end_state, stack, "IDENTIFIER")
    if as_keyword is None or as_name is None:
        return keyword if as_name is None else "IDENTIFIER"
    following = _readings(tokens[index + 1] if index + 1 < len(tokens) else None)
    if any(advance(rows, end_state, as_keyword, t) is not None for t in following):
        return keyword
    if any(advance(rows, end_state, as_name, t) is not None for t in following):
        return "IDENTIFIER"
    return keyword


def run(tables: LalrTables, tokens: list[Token], start: str) -> Any:
    """Parse ``tokens`` from the ``start`` rule and return what the start rule's callback built.

    Words (type ``WORD``) are classified in place as the parser reaches them.

    Raises:
        UnexpectedTokenError: at the first token (or the end) the grammar cannot accept.
        AstCheckError: from a builder callback (ksqlDB's checks while building).
    """
    rows = tables.rows
    end_state = tables.end_states[start]
    states = [tables.start_states[start]]
    values: list[Any] = []
    count = len(tokens)
    index = 0
    while True:
        if index < count:
            token: Token | None = tokens[index]
            assert token is not None
            if token.type == "WORD":
                token.type = _classify(rows, end_state, states, tokens, index)
            terminal = token.type
        else:
            token = None
            terminal = END
        while True:
            action = rows[states[-1]].get(terminal)
            if action is None:
                raise UnexpectedTokenError(token, list(states), end_state)
            if action.__class__ is int:
                states.append(action)
                values.append(token)
                break
            callback, size, origin = action  # type: ignore[misc]
            if size:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
            else:
                children = []
            values.append(callback(children))
            states.append(rows[states[-1]][origin])  # type: ignore[arg-type]
            if terminal == END and states[-1] == end_state:
                return values[-1]
        index += 1


_lock = threading.Lock()
_tables: LalrTables | None = None


def parser_tables() -> LalrTables:
    """The process-wide tables, built on first use (lark reads the parse table from its disk cache)."""
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = LalrTables(_GRAMMAR_PATH.read_text(encoding="utf-8"), Builder())
    return _tables
