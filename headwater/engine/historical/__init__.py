"""Historical analysis: every stream and table as a DuckDB relation over its segments.

Entry points:

* :func:`run_select` runs a SELECT without EMIT CHANGES on DuckDB and returns a
  :class:`HistoricalResult` (a ``QueryStream`` stand-in with the whole Arrow table and read statistics);
* :class:`HistoricalSession` is one prepared DuckDB connection (views, Headwater functions);
* :func:`explain_select` shows DuckDB's plan and the segments a query reads;
* :func:`export` writes a stream or table to Parquet (``headwater export``).

docs/historical.md is the user's guide; each module documents its part.
"""

from __future__ import annotations

from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.historical.explain import explain_select
from headwater.engine.historical.plan import HistoricalPlan, RelationMode, RelationRequest, ResultColumn
from headwater.engine.historical.result import HistoricalResult, QueryStats, SourceStats
from headwater.engine.historical.session import HistoricalSession, looks_like_query, run_select

__all__ = [
    "UNBOUNDED",
    "HistoricalPlan",
    "HistoricalResult",
    "HistoricalSession",
    "QueryStats",
    "RelationMode",
    "RelationRequest",
    "ResultColumn",
    "ScanBounds",
    "SourceStats",
    "explain_select",
    "looks_like_query",
    "run_select",
]
