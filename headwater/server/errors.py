"""ksqlDB's REST error bodies and codes, as one exception the request handlers raise.

ksqlDB answers every failed request with a JSON body carrying a ``@type`` discriminator, an
``error_code`` and a ``message``; statement failures on ``/ksql`` and ``/query`` add the failing
``statementText`` and the ``entities`` of the statements that ran before it. The error code is the HTTP
status times 100, plus a small number that says which kind of 4xx it is (ksqlDB's ``Errors``):

=========  ======  ================================================================
code       status  meaning
=========  ======  ================================================================
40000      400     bad request (malformed JSON, missing field, bad property)
40001      400     bad statement (does not parse, or cannot run)
40002      400     a query (SELECT, PRINT) sent to ``/ksql``
40100      401     missing or wrong credentials
40400      404     unknown endpoint, unknown command id
40500      405     method not allowed on the endpoint
41300      413     request body larger than the server accepts
50000      500     the server failed (a bug; the message names it, no stack trace)
50301      503     timed out waiting for a command sequence number
=========  ======  ================================================================

Handlers raise :class:`ApiError`; the application turns it into the response, so no handler builds an
error body by hand and no stack trace ever reaches a client.

Example:
    >>> ApiError.bad_request("Malformed JSON in request: line 1").to_json()
    {'@type': 'generic_error', 'error_code': 40000, 'message': 'Malformed JSON in request: line 1'}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headwater.errors import HeadwaterError

__all__ = [
    "BAD_REQUEST",
    "BAD_STATEMENT",
    "COMMAND_TIMEOUT",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "PAYLOAD_TOO_LARGE",
    "QUERY_ENDPOINT",
    "SERVER_ERROR",
    "UNAUTHORIZED",
    "ApiError",
]

BAD_REQUEST = 40000
BAD_STATEMENT = 40001
QUERY_ENDPOINT = 40002
UNAUTHORIZED = 40100
NOT_FOUND = 40400
METHOD_NOT_ALLOWED = 40500
PAYLOAD_TOO_LARGE = 41300
SERVER_ERROR = 50000
NESTED_TOO_DEEPLY = (
    "The statement is nested too deeply to process (thousands of nested expressions or parentheses); "
    "split it into smaller expressions"
)
COMMAND_TIMEOUT = 50301

_QUERY_ENDPOINT_MESSAGE = "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"


class ApiError(HeadwaterError):
    """A request that fails with one of ksqlDB's error bodies.

    Attributes:
        status: the HTTP status.
        error_code: ksqlDB's error code (see the module table).
        message: what went wrong, for a person.
        statement_text: the statement that failed (statement errors only).
        entities: JSON of the entities of the statements that ran before the failing one.
    """

    def __init__(
        self,
        status: int,
        error_code: int,
        message: str,
        *,
        statement_text: str | None = None,
        entities: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        self.statement_text = statement_text
        self.entities = list(entities)
        super().__init__(message)

    @property
    def is_statement_error(self) -> bool:
        return self.statement_text is not None

    def to_json(self) -> dict[str, Any]:
        """ksqlDB's ``KsqlErrorMessage`` (``generic_error``) or ``KsqlStatementErrorMessage``
        (``statement_error``)."""
        if self.statement_text is None:
            return {"@type": "generic_error", "error_code": self.error_code, "message": self.message}
        return {
            "@type": "statement_error",
            "error_code": self.error_code,
            "message": self.message,
            "statementText": self.statement_text,
            "entities": self.entities,
        }

    # -- the kinds ksqlDB sends ---------------------------------------------------------------------
    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, BAD_REQUEST, message)

    @classmethod
    def bad_statement(
        cls, message: str, statement_text: str, entities: Sequence[dict[str, Any]] = ()
    ) -> ApiError:
        return cls(400, BAD_STATEMENT, message, statement_text=statement_text, entities=entities)

    @classmethod
    def query_endpoint(cls, statement_text: str, entities: Sequence[dict[str, Any]] = ()) -> ApiError:
        """A SELECT or PRINT sent to ``/ksql``: ksqlDB's own wording, naming ``/query``."""
        return cls(
            400, QUERY_ENDPOINT, _QUERY_ENDPOINT_MESSAGE, statement_text=statement_text, entities=entities
        )

    @classmethod
    def unauthorized(cls) -> ApiError:
        return cls(401, UNAUTHORIZED, "Unauthorized")

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls(404, NOT_FOUND, message)

    @classmethod
    def method_not_allowed(cls, method: str, path: str) -> ApiError:
        return cls(405, METHOD_NOT_ALLOWED, f"Method {method} is not allowed on {path}")

    @classmethod
    def too_large(cls, limit: int) -> ApiError:
        return cls(413, PAYLOAD_TOO_LARGE, f"Request body is larger than the server accepts ({limit} bytes)")

    @classmethod
    def server_error(cls, error: BaseException, statement_text: str | None = None) -> ApiError:
        """An unexpected failure: its type and message, never its stack trace.

        A RecursionError is the request's doing, not the server's: a statement nested deeper than the
        parser and planner can walk (thousands of chained operators or parentheses). It is a 400 that says
        so, and the server is unharmed.
        """
        if isinstance(error, RecursionError):
            return cls(400, BAD_STATEMENT, NESTED_TOO_DEEPLY, statement_text=statement_text)
        message = f"Internal error ({type(error).__name__}): {error}"
        return cls(500, SERVER_ERROR, message, statement_text=statement_text)

    @classmethod
    def command_timeout(cls, sequence_number: int) -> ApiError:
        return cls(
            503,
            COMMAND_TIMEOUT,
            "Timed out while waiting for a previous command to execute. "
            f"command sequence number: {sequence_number}",
        )
