"""Checking Headwater against ksqlDB's own functional tests.

ksqlDB ships thousands of query-validation tests (QTT): JSON files of statements, input records and the
exact output records, post-conditions or errors ksqlDB produces. This package runs them against Headwater
exactly as ksqlDB's test harness runs them against ksqlDB (the rules are in
``../shared/conformance/FORMAT.md``), runs ksqlDB's REST tests (RQTT) through the engine's API or a real
server over HTTP, and runs ksqlDB's KsqlTester SQL scripts too.

Modules, in the order a case flows through them:

- :mod:`~.jsonc`, :mod:`~.case_files`, :mod:`~.loader`, :mod:`~.model`: reading files (what QTT and RQTT
  files share is in case_files) and expanding format/config matrices;
- :mod:`~.skips`: the only cases not run (AVRO, PROTOBUF, JSON_SR, schema registry);
- :mod:`~.executor`, :mod:`~.engine_io`, :mod:`~.serde`, :mod:`~.functions`: running a case on a fresh
  engine, with ksqlDB's test-only functions, producing and reading records as the harness does;
- :mod:`~.comparator`, :mod:`~.expected_errors`, :mod:`~.post_conditions`: the verdict;
- :mod:`~.pool`, :mod:`~.runner`, :mod:`~.results`, :mod:`~.slices`, :mod:`~.cli`: running many cases
  and reporting, with the measures the issues set (the stateless slice, the RQTT shares);
- :mod:`~.rest_model`, :mod:`~.rest_loader`, :mod:`~.rest_executor`, :mod:`~.rest_transports`,
  :mod:`~.rest_compare`: RQTT cases (``/ksql`` and ``/query`` requests, responses compared);
- :mod:`~.sql_scripts`: KsqlTester scripts (``--@test:`` blocks with ``ASSERT VALUES``).

Run it with ``python -m headwater.conformance ../shared/conformance/qtt``; docs/conformance.md has the
current results.
"""

from __future__ import annotations

from headwater.conformance.executor import run_case
from headwater.conformance.loader import load_paths
from headwater.conformance.results import CaseResult, Status
from headwater.conformance.runner import RunOptions, run_qtt, run_rqtt

__all__ = ["CaseResult", "RunOptions", "Status", "load_paths", "run_case", "run_qtt", "run_rqtt"]
