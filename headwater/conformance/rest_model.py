"""The model of ksqlDB's REST query-validation tests (RQTT), after loading and expansion (FORMAT.md §12).

An RQTT case is a QTT-like case sent to a server: the statements before the first ``SELECT `` are
*admin* statements, posted to ``/ksql`` in one request; the rest are *queries*, posted to ``/query`` one
by one. The case expects a list of responses (``admin`` entities, ``query`` row lists, ``queryProto``
row lists), records on topics (``outputs``), or an error response (``expectedError``).

Expected responses stay as written (dicts and lists with exact decimals); the comparison rules live in
:mod:`headwater.conformance.rest_compare`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.conformance.model import CaseCore, TestCase

__all__ = [
    "KSQL_ERROR_MESSAGE",
    "KSQL_STATEMENT_ERROR_MESSAGE",
    "QUERY_PREFIX",
    "ErrorResponse",
    "ExpectedError",
    "RestTestCase",
]

QUERY_PREFIX = "SELECT "
"""A statement that begins with exactly this text is a query (``RestTestExecutor.splitStatements``)."""

KSQL_ERROR_MESSAGE = "io.confluent.ksql.rest.entity.KsqlErrorMessage"
"""ksqlDB's error body (``"@type": "generic_error"``)."""

KSQL_STATEMENT_ERROR_MESSAGE = "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage"
"""ksqlDB's error body for a failing statement (``"@type": "statement_error"``, with ``statementText``);
a subclass of :data:`KSQL_ERROR_MESSAGE`."""


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """``expectedError``: the error body's class (``instanceof``), a substring of its message, the HTTP
    status. For a statement error the body's statement text must also contain the case's last
    statement."""

    type: str | None = None
    message: str | None = None
    status: int | None = None

    def describe(self) -> str:
        """A one-line description, for failure messages."""
        parts = [self.type or "an error"]
        if self.message is not None:
            parts.append(f"message containing {self.message!r}")
        if self.status is not None:
            parts.append(f"status {self.status}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """An error response as the harness sees it (ksqlDB's ``KsqlErrorMessage`` family).

    Attributes:
        status: the HTTP status.
        statement_error: True for a ``KsqlStatementErrorMessage`` (``statement_error``).
        message: the body's message.
        statement_text: the failing statement (statement errors only).
        error_code: ksqlDB's error code.
    """

    status: int
    statement_error: bool
    message: str
    statement_text: str | None = None
    error_code: int | None = None

    @property
    def class_name(self) -> str:
        return KSQL_STATEMENT_ERROR_MESSAGE if self.statement_error else KSQL_ERROR_MESSAGE

    def describe(self) -> str:
        text = f"{self.class_name} ({self.status}): {self.message}"
        if self.statement_text is not None:
            text += f" [statement: {self.statement_text}]"
        return text


@dataclass(frozen=True, slots=True)
class RestTestCase(CaseCore):
    """One expanded RQTT case: the core fields every case has (:class:`~headwater.conformance.model.
    CaseCore`, its ``properties`` being request properties, which ksqlDB sets on its REST client) and
    RQTT's own.

    Attributes:
        responses: the expected responses, each a one-key dict (``admin``, ``query``, ``queryProto``).
        expected_error: set for negative cases.
        wait_for_active_push_query: ``inputConditions.waitForActivePushQuery``.
        verify_order: ``outputConditions.verifyOrder`` (rows compared in order rather than as a multiset).
        proto_output: ``testPullWithProtoFormat`` (queries also run with protobuf output).
        enabled: False for tests the file disables.
    """

    __test__ = False  # not a pytest test class despite the name

    responses: tuple[Mapping[str, Any], ...] = ()
    expected_error: ExpectedError | None = None
    wait_for_active_push_query: bool = False
    verify_order: bool = False
    proto_output: bool = False
    enabled: bool = True

    @property
    def admin_statements(self) -> tuple[str, ...]:
        """The statements before the first query."""
        return self.statements[: self._first_query()]

    @property
    def queries(self) -> tuple[str, ...]:
        """The queries: every statement from the first ``SELECT `` on."""
        return self.statements[self._first_query() :]

    def _first_query(self) -> int:
        return next(
            (i for i, s in enumerate(self.statements) if s.startswith(QUERY_PREFIX)), len(self.statements)
        )

    def as_qtt(self) -> TestCase:
        """The fields a QTT case shares with this one (for the skip rules, which are the same)."""
        return TestCase(
            file=self.file,
            test=self.test,
            name=self.name,
            statements=self.statements,
            inputs=self.inputs,
            outputs=self.outputs,
            topics=self.topics,
            properties=self.properties,
            format=self.format,
            enabled=self.enabled,
        )
