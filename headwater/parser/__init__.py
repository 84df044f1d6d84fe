"""The ksqlDB statement language: text -> statement objects (:mod:`headwater.parser.ast`) and back.

Public API:

- :func:`parse` a script into statements, :func:`parse_statement` exactly one,
  :func:`parse_expression`, :func:`parse_type`;
- :func:`to_sql` prints any statement, expression or type as canonical SQL that parses back to an
  equal object;
- :func:`split_statements` cuts a script into statement texts (for the shell).

Errors are :class:`headwater.errors.ParseError`, with line, column, offending token and caret.

Example:
    >>> from headwater.parser import parse, to_sql
    >>> to_sql(parse("select a as b from s where x>1 emit changes")[0])
    'SELECT A AS B FROM S WHERE (X > 1) EMIT CHANGES'
"""

from __future__ import annotations

from headwater.parser.lexer import split_statements
from headwater.parser.parser import parse, parse_expression, parse_statement, parse_type
from headwater.parser.printer import to_sql

__all__ = ["parse", "parse_expression", "parse_statement", "parse_type", "split_statements", "to_sql"]
