"""EXPLAIN of a historical SELECT: which segments it reads, the DuckDB SQL, and DuckDB's plan.

Nothing is read to explain a query: the views are registered empty (``dry_run``), while segment
selection runs exactly as it would, so the counts are the real ones::

    Historical query (DuckDB)
    Sources:
      ORDERS (stream, topic orders, stored columns): 2 of 14 segments (ROWTIME in [1714521600000, +inf])
    DuckDB SQL:
      SELECT ... FROM "__hw_from_0" AS "ORDERS" WHERE ...
    DuckDB plan:
      ┌───────────────────────────┐
      ...

Example::

    print(explain_select(engine, "SELECT * FROM ORDERS WHERE ROWTIME >= 1714521600000;"))
"""

from __future__ import annotations

from typing import Any

from headwater.engine.historical.session import HistoricalSession
from headwater.errors import ExecutionError
from headwater.parser import ast

__all__ = ["explain_select"]


def explain_select(engine: Any, statement_text: str, query: ast.Query | None = None, config: Any = None) -> str:
    """The text EXPLAIN shows for a historical SELECT (see the module docstring).

    Args:
        engine: the engine.
        statement_text: the SELECT (without the EXPLAIN keyword).
        query: the parsed query when the statement is in ksqlDB's grammar.
        config: the statement's configuration.

    Raises:
        HeadwaterError: the statement cannot be planned.
    """
    with HistoricalSession(engine, config, dry_run=True) as session:
        plan = session.plan(statement_text, query)
        try:
            rows = session.connection.sql("EXPLAIN " + plan.sql).fetchall()
        except Exception as error:
            raise ExecutionError(f"DuckDB cannot explain the query: {str(error).splitlines()[0]}") from None
        lines = ["Historical query (DuckDB)" + (", SQL extension" if plan.extension else "")]
        lines.append("Sources:")
        for scan in session.registrar.scans:
            how = "decoded" if scan.decoded else "stored columns"
            kind = scan.mode.value
            lines.append(
                f"  {scan.source.name} ({kind}, topic {scan.source.topic}, {how}): "
                f"{scan.segments_selected} of {scan.segments_total} segments ({scan.bounds.describe()})"
            )
        lines.append("Result: " + plan.schema_text)
        lines.append("DuckDB SQL:")
        lines.append("  " + plan.sql)
        lines.append("DuckDB plan:")
        for row in rows:
            text = str(row[-1])
            lines.extend("  " + line for line in text.rstrip("\n").splitlines())
        return "\n".join(lines)
