"""``POST /ksql``: run a request's statements on the engine, one entity per statement, ksqlDB's way.

ksqlDB scopes everything a request says to that request: ``streamsProperties`` and ``SET`` / ``UNSET``
apply to the statements after them in the same request only, and ``sessionVariables`` and
``DEFINE`` / ``UNDEFINE`` likewise (its CLI keeps a session's variables and properties itself and sends
them with every request). The server therefore keeps both per request and never lets one request's
``DEFINE`` reach another's statements: variables are substituted here, statement by statement, and
``DEFINE`` / ``UNDEFINE`` never reach the engine (whose own ``DEFINE`` lasts as long as the engine, as a
shell session needs).

The whole text is parsed before anything runs, so a syntax error anywhere runs nothing, and a query
(``SELECT``, ``PRINT``) anywhere is refused with ksqlDB's 40002 before anything runs, as ksqlDB's
validation pass does. Then the statements run in order; the first that fails stops the request with
ksqlDB's statement error, which carries the entities of the statements that ran before it.

Error bodies say what ksqlDB's say:

* ``statementText`` is the failing statement as written, through its ``;`` (ksqlDB's statement text
  is its ``singleStatement``, which ends with the ``;``);
* a syntax error's message is ``line L:C: Syntax Error``, a blank line and ``Statement: <text>``, as
  ksqlDB words it; Headwater's own detail (what was expected, the line and a caret) follows, so a
  person still sees where the error is;
* ``Line: N, Col: M`` positions in the engine's messages count from the start of the request, as
  ksqlDB's do: each statement goes to the engine at its place in the request (preceded by as many
  line breaks and spaces as came before it), so the positions the engine reports are the request's.

Entities that ksqlDB's REST API does not send (``INSERT ... VALUES``, ``SET``, ...) are dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from headwater import parser
from headwater.engine import Engine
from headwater.engine.entities import WarningEntity
from headwater.errors import HeadwaterError, ParseError
from headwater.parser import ast
from headwater.server.errors import ApiError

__all__ = ["positioned_text", "run_ksql", "string_map", "syntax_error", "written_text"]

_log = logging.getLogger("headwater.server")


def string_map(value: Any, field: str) -> dict[str, Any]:
    """A request's map field (``streamsProperties``, ``sessionVariables``...): absent or null is empty.

    Raises:
        ApiError: 400 when the field is present but not a JSON object.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError.bad_request(f"'{field}' must be a JSON object, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def variables_of(value: Any) -> dict[str, str]:
    """``sessionVariables`` as text values, as ksqlDB substitutes them."""
    out: dict[str, str] = {}
    for name, raw in string_map(value, "sessionVariables").items():
        if isinstance(raw, bool):
            out[name] = "true" if raw else "false"
        else:
            out[name] = "" if raw is None else str(raw)
    return out


_TRAILING_SPACE_AND_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def written_text(statement: ast.Statement, source: str) -> str:
    """``statement`` as written in ``source``, through the ``;`` that ends it (ksqlDB's statement text).

    The parser's ``text`` stops before the ``;``. When the statement's span does not point into
    ``source`` (variables were substituted, changing the text), its ``text`` and a ``;`` stand in.

    Example:
        >>> from headwater import parser
        >>> script = "SHOW STREAMS ; DESCRIBE  s;"
        >>> [written_text(s, script) for s in parser.parse(script)]
        ['SHOW STREAMS ;', 'DESCRIBE  s;']
    """
    text = statement.text or parser.to_sql(statement)
    span = statement.span
    if span is None or source[span.start : span.end] != text:
        return text + ";"
    gap = _TRAILING_SPACE_AND_COMMENTS.match(source, span.end)
    after = gap.end() if gap is not None else span.end
    if source[after : after + 1] == ";":
        return source[span.start : after + 1]
    return text


def positioned_text(statement: ast.Statement, statement_text: str) -> str:
    r"""``statement_text`` preceded by line breaks and spaces up to where the statement starts in its
    request, so that positions in the engine's messages ("Line: 2, Col: 13") are the request's.

    Example:
        >>> from headwater import parser
        >>> second = parser.parse("SHOW STREAMS;\n  DESCRIBE s;")[1]
        >>> positioned_text(second, "DESCRIBE s;")
        '\n  DESCRIBE s;'
    """
    span = statement.span
    if span is None:
        return statement_text
    return "\n" * (span.line - 1) + " " * (span.column - 1) + statement_text


def syntax_error(error: ParseError, statement_text: str) -> ApiError:
    r"""ksqlDB's error for text that does not parse: ``line L:C: Syntax Error``, a blank line and
    ``Statement: <text>``, then Headwater's detail (the expected tokens, the line and a caret).

    Example:
        >>> error = ParseError("Syntax Error\nmismatched input 'FRM'", line=1, column=10, source="SELECT * FRM s;")
        >>> print(syntax_error(error, "SELECT * FRM s;").message)
        line 1:10: Syntax Error
        <BLANKLINE>
        Statement: SELECT * FRM s;
        mismatched input 'FRM'
        SELECT * FRM s;
                 ^
    """
    headline, _, detail = error.message.partition("\n")
    message = f"line {error.line}:{error.column}: {headline}\n\nStatement: {statement_text}"
    rest = [line for line in detail.split("\n") if line]
    if error.source_line:
        rest += [error.source_line, " " * max(error.column - 1, 0) + "^"]
    if rest:
        message += "\n" + "\n".join(rest)
    return ApiError.bad_statement(message, statement_text)


def run_ksql(
    engine: Engine,
    text: str,
    properties: Mapping[str, Any],
    variables: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Run every statement of ``text``; the JSON of the entities ksqlDB's ``/ksql`` returns.

    Raises:
        ApiError: ksqlDB's error for the first failing statement (with the entities before it).
    """
    if not text.strip():
        raise ApiError.bad_request('"ksql" field must be populated')
    session_variables = dict(variables)
    try:
        statements = parser.parse(text, variables=session_variables or None)
    except ParseError as error:
        raise syntax_error(error, text) from None
    except HeadwaterError as error:
        raise ApiError.bad_statement(str(error), text) from None
    if not statements:
        raise ApiError.bad_request('"ksql" field must be populated')
    for statement in statements:
        if isinstance(statement, ast.SelectStatement | ast.PrintTopic):
            raise ApiError.query_endpoint(written_text(statement, text))

    request_properties: dict[str, Any] = dict(properties)
    entities: list[dict[str, Any]] = []
    for statement in statements:
        statement_text = written_text(statement, text)
        try:
            if isinstance(statement, ast.DefineVariable):
                session_variables[statement.name] = statement.value
                continue
            if isinstance(statement, ast.UndefineVariable):
                known = _pop_variable(session_variables, statement.name)
                if not known:
                    warning = WarningEntity(
                        statement_text,
                        message=f"Cannot undefine variable '{statement.name}' which was never defined",
                    )
                    entities.append(warning.to_json())
                continue
            results = engine.execute(
                positioned_text(statement, statement_text), properties=request_properties or None
            )
            if isinstance(statement, ast.SetProperty):
                request_properties[statement.name] = statement.value
            elif isinstance(statement, ast.UnsetProperty):
                request_properties.pop(statement.name, None)
            entities.extend(e.to_json() for e in results if getattr(e, "rest_visible", True))
        except ParseError as error:
            raise ApiError.bad_statement(syntax_error(error, statement_text).message, statement_text, entities) from None
        except HeadwaterError as error:
            raise ApiError.bad_statement(str(error), statement_text, entities) from None
        except Exception as error:  # a bug: ksqlDB's 500 with the statement, the trace to the log
            _log.exception("statement failed unexpectedly: %s", statement_text)
            raise ApiError.server_error(error, statement_text) from None
    return entities


def _pop_variable(variables: dict[str, str], name: str) -> bool:
    """Remove ``name`` (case-insensitively, as substitution matches); whether it was defined."""
    matches = [key for key in variables if key.upper() == name.upper()]
    for key in matches:
        del variables[key]
    return bool(matches)
