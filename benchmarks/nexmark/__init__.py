"""Nexmark, the streaming SQL benchmark, for Headwater against DuckDB and Flink on the same data.

Modules: ``schemas`` (event kinds, topic layout), ``generator`` (seeded, vectorized events), ``loader``
(topics, Parquet, Arrow files), ``queries/`` (one module per query), ``headwater_run``, ``duckdb_run``,
``flink_run`` / ``flink_driver`` / ``flink_jar`` (the Flink peer), ``equality`` (answers checked against
DuckDB), ``latency``, ``measure``, ``report`` and ``runner`` (``python -m benchmarks.nexmark``).
"""
