"""Tab completion in the shell: keywords, functions, streams, tables, topics, queries and columns, by context.

What is offered depends on where the cursor is in the statement being typed:

=====================================  ==========================================================
after                                  offered
=====================================  ==========================================================
nothing (a statement's first word)     statement keywords and the shell's commands
``FROM``, ``JOIN``, ``DESCRIBE``        streams and tables (``DESCRIBE`` also FUNCTION, EXTENDED...)
``INSERT INTO``, ``DROP STREAM``        streams; ``DROP TABLE``: tables
``DESCRIBE FUNCTION``                  functions
``PRINT``, ``KAFKA_TOPIC='``            topics
``TERMINATE``, ``EXPLAIN``, ``PAUSE``  query ids
``name.`` / ``alias.``                 the columns of that source
anywhere else                          columns of the sources the statement names, functions, keywords
=====================================  ==========================================================

The names come from a :class:`CompletionCatalog`: a snapshot of the catalog read through the backend
with ordinary statements (``DESCRIBE STREAMS``, ``DESCRIBE TABLES``, ``SHOW TOPICS``, ``SHOW QUERIES``,
``SHOW FUNCTIONS``), so completion works the same on the embedded engine and on a server. It is read
when the shell starts and again, in the background, after a statement that may change the catalog.
Completion asks for the snapshot once the read in progress (if any) is over, waiting at most
:data:`REFRESH_WAIT_S`: a Tab pressed right after the shell starts, or right after ``CREATE STREAM``,
offers the names that exist, not those of an older snapshot (on a busy machine the first read can take
longer than typing a word; Tab then offered nothing). The shell runs completion on a thread of its own,
so this wait never holds up typing. Completion is a convenience: when the catalog cannot be read the
shell still completes keywords.

Names keep the case the user types: ``ord<Tab>`` offers ``orders`` for the stream ``ORDERS`` (unquoted
names are case-insensitive), ``ORD<Tab>`` offers ``ORDERS``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from headwater.repl.sql_tokens import Token, scan_tokens

__all__ = ["REFRESH_WAIT_S", "CatalogSnapshot", "CompletionCatalog", "SqlCompleter", "completions_for"]

REFRESH_WAIT_S = 10.0
"""The longest a completion waits for a catalog read in progress before using the snapshot it has."""

STATEMENT_KEYWORDS = (
    "ALTER", "ASSERT", "CREATE", "DEFINE", "DESCRIBE", "DROP", "EXPLAIN", "INSERT", "LIST", "PAUSE",
    "PRINT", "RESUME", "SELECT", "SET", "SHOW", "TERMINATE", "UNDEFINE", "UNSET",
)  # fmt: skip
SHELL_COMMANDS = ("clear", "exit", "help", "history", "output", "quit", "run script", "server", "set cli", "spool", "version")
_UNQUOTED_NAME = re.compile(r"[A-Z_][A-Z0-9_@]*")


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """The names completion offers, as the catalog had them when last read."""

    streams: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        return self.streams + self.tables


def _names(entities: list[dict[str, Any]], list_key: str, name_key: str = "name") -> tuple[str, ...]:
    return tuple(
        str(item[name_key]) for entity in entities for item in entity.get(list_key) or () if name_key in item
    )


class CompletionCatalog:
    """A snapshot of the catalog for completion, refreshed through the backend."""

    def __init__(self) -> None:
        self.snapshot = CatalogSnapshot()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._running = False  # a worker is refreshing (guarded by _lock, unlike Thread.is_alive)
        self._pending: tuple[Any, bool] | None = None  # a refresh asked for while one was running

    def refresh(self, backend: Any, *, functions: bool = False) -> None:
        """Read the catalog now (and the function list when ``functions``, which does not change while
        the shell runs). A listing that fails leaves that part of the snapshot as it was."""
        old = self.snapshot
        described: dict[str, tuple[str, ...]] = {}
        streams, tables = old.streams, old.tables
        for kind in ("STREAMS", "TABLES"):
            try:
                entities = backend.execute(f"DESCRIBE {kind};", {})
            except Exception:  # completion is best effort: keep what was known
                described.update({name: old.columns.get(name, ()) for name in (streams if kind == "STREAMS" else tables)})
                continue
            names = []
            for entity in entities:
                for source in entity.get("sourceDescriptions") or ():
                    names.append(str(source.get("name")))
                    described[str(source.get("name")).upper()] = tuple(
                        str(f.get("name")) for f in source.get("fields") or ()
                    )
            if kind == "STREAMS":
                streams = tuple(names)
            else:
                tables = tuple(names)
        topics = self._listing(backend, "SHOW TOPICS;", "topics", old.topics)
        queries = self._listing(backend, "SHOW QUERIES;", "queries", old.queries, name_key="id")
        function_names = old.functions
        if functions or not function_names:
            function_names = self._listing(backend, "SHOW FUNCTIONS;", "functions", old.functions)
        with self._lock:
            self.snapshot = CatalogSnapshot(streams, tables, topics, function_names, queries, described)

    @staticmethod
    def _listing(backend: Any, sql: str, list_key: str, fallback: tuple[str, ...], name_key: str = "name") -> tuple[str, ...]:
        try:
            return _names(backend.execute(sql, {}), list_key, name_key)
        except Exception:  # completion is best effort: keep what was known
            return fallback

    def refresh_in_background(self, backend: Any, *, functions: bool = False) -> None:
        """Refresh on a thread. Asked while a refresh runs, one more follows it (the running one may
        have read the catalog before the change that asks again)."""
        with self._lock:
            if self._running:
                self._pending = (backend, functions or (self._pending is not None and self._pending[1]))
                return
            self._running = True
            self._worker = threading.Thread(
                target=self._refresh_until_current,
                args=(backend, functions),
                name="headwater-completion",
                daemon=True,
            )
            self._worker.start()

    def _refresh_until_current(self, backend: Any, functions: bool) -> None:
        try:
            while True:
                self.refresh(backend, functions=functions)
                with self._lock:
                    if self._pending is None:
                        self._running = False
                        return
                    backend, functions = self._pending
                    self._pending = None
        finally:
            with self._lock:
                self._running = False

    def current(self, timeout: float = REFRESH_WAIT_S) -> CatalogSnapshot:
        """The snapshot once the refresh in progress, if any, is over (waiting at most ``timeout``)."""
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        return self.snapshot

    def wait(self, timeout: float = 5.0) -> None:
        """Wait for a background refresh to finish (before the engine closes)."""
        if self._worker is not None:
            self._worker.join(timeout)


def _current_statement(text: str, cursor: int) -> tuple[list[Token], list[Token], Token | None]:
    """Code tokens of the statement around ``cursor``: those wholly before it, all of it, and the word
    or open string the cursor is in or at the end of (being typed), if any. A word the cursor is in the
    middle of counts up to the cursor."""
    tokens = scan_tokens(text)
    start = 0
    end = len(tokens)
    for index, token in enumerate(tokens):
        if token.kind == "operator" and token.text == ";":
            if token.end <= cursor:
                start = index + 1
            elif end == len(tokens):
                end = index
    statement = [t for t in tokens[start:end] if t.kind not in ("space", "comment")]
    current = next(
        (
            t
            for t in statement
            if t.start < cursor <= t.end
            and (t.kind == "word" or (t.kind in ("string", "quoted") and not t.closed and t.end == cursor))
        ),
        None,
    )
    before = [t for t in statement if t.end <= cursor and t is not current]
    if current is not None and current.end > cursor:
        current = Token(current.kind, text[current.start : cursor], current.start, current.closed)
    return before, statement, current


def _referenced_sources(statement: list[Token], known: Iterable[str]) -> dict[str, str]:
    """Sources the statement names after FROM or JOIN, by their alias (and by their own name), so that
    ``o.`` completes the columns of ``orders o``."""
    known_upper = {name.upper(): name for name in known}
    found: dict[str, str] = {}
    for index, token in enumerate(statement):
        if token.kind != "word" or token.text.upper() not in ("FROM", "JOIN") or index + 1 >= len(statement):
            continue
        name_token = statement[index + 1]
        name = _identifier(name_token)
        if name is None or name.upper() not in known_upper:
            continue
        source = known_upper[name.upper()]
        found[name.upper()] = source
        following = statement[index + 2 : index + 4]
        if following and following[0].kind == "word" and following[0].text.upper() == "AS" and len(following) > 1:
            alias = _identifier(following[1])
        elif following and following[0].kind in ("word", "quoted") and following[0].text.upper() not in _CLAUSE_WORDS:
            alias = _identifier(following[0])
        else:
            alias = None
        if alias:
            found[alias.upper()] = source
    return found


_CLAUSE_WORDS = frozenset(
    {"WHERE", "GROUP", "EMIT", "LIMIT", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "ON", "WINDOW",
     "PARTITION", "HAVING", "WITHIN"}
)  # fmt: skip


def _identifier(token: Token) -> str | None:
    if token.kind == "word":
        return token.text
    if token.kind == "quoted" and token.closed:
        return token.text[1:-1]
    return None


def _fit_case(name: str, prefix: str) -> str:
    """``name`` in the case of what the user typed, when that means the same (an unquoted upper-case
    name typed in lower case)."""
    if prefix and prefix.islower() and _UNQUOTED_NAME.fullmatch(name):
        return name.lower()
    return name


def completions_for(text: str, cursor: int, snapshot: CatalogSnapshot, keywords: Iterable[str]) -> list[tuple[str, int, str]]:
    """The completions at ``cursor`` in ``text``: ``(text to insert, start position relative to the
    cursor, what it is)``, best first."""
    before, statement, current = _current_statement(text, cursor)
    prefix = ""
    in_string = False
    if current is not None:
        in_string = current.kind == "string"
        prefix = current.text[1:] if current.kind in ("string", "quoted") else current.text
    words = [t.text.upper() if t.kind == "word" else t.text for t in before]
    previous = words[-1] if words else ""
    candidates: list[tuple[str, str]] = []
    if in_string:
        # Inside a string: a topic name after KAFKA_TOPIC= or PRINT.
        if previous == "PRINT" or (len(words) >= 2 and words[-1] == "=" and words[-2] == "KAFKA_TOPIC"):
            candidates = [(topic + "'", "topic") for topic in snapshot.topics]
        return _matching(candidates, prefix, len(prefix), case_fit=False)
    if len(before) >= 2 and before[-1].text == "." and before[-1].end == cursor - len(prefix):
        qualifier = _identifier(before[-2])
        sources = _referenced_sources(statement, snapshot.sources)
        if qualifier is not None:
            source = sources.get(qualifier.upper(), qualifier.upper())
            columns = snapshot.columns.get(source.upper(), ())
            return _matching([(c, "column") for c in columns], prefix, len(prefix))
    if not words:
        candidates = [(k, "keyword") for k in STATEMENT_KEYWORDS] + [(c, "command") for c in SHELL_COMMANDS]
        return _matching(candidates, prefix, len(prefix))
    if previous in ("FROM", "JOIN"):
        candidates = [(s, "stream") for s in snapshot.streams] + [(t, "table") for t in snapshot.tables]
    elif previous == "DESCRIBE":
        candidates = [(s, "stream") for s in snapshot.streams] + [(t, "table") for t in snapshot.tables]
        candidates += [(k, "keyword") for k in ("FUNCTION", "STREAMS", "TABLES", "EXTENDED")]
    elif previous == "INTO" or words[-2:] == ["DROP", "STREAM"]:
        candidates = [(s, "stream") for s in snapshot.streams]
    elif words[-2:] == ["DROP", "TABLE"]:
        candidates = [(t, "table") for t in snapshot.tables]
    elif previous == "FUNCTION":
        candidates = [(f, "function") for f in snapshot.functions]
    elif previous == "PRINT":
        candidates = [(t, "topic") for t in snapshot.topics]
    elif previous in ("TERMINATE", "EXPLAIN", "PAUSE", "RESUME"):
        candidates = [(q, "query") for q in snapshot.queries]
        candidates += [("ALL", "keyword")] if previous != "EXPLAIN" else [("SELECT", "keyword")]
    else:
        sources = _referenced_sources(statement, snapshot.sources)
        seen: set[str] = set()
        for source in dict.fromkeys(sources.values()):
            for column in snapshot.columns.get(source.upper(), ()):
                if column not in seen:
                    seen.add(column)
                    candidates.append((column, "column"))
        candidates += [(f, "function") for f in snapshot.functions]
        candidates += [(k, "keyword") for k in sorted(keywords)]
    return _matching(candidates, prefix, len(prefix))


def _matching(
    candidates: list[tuple[str, str]], prefix: str, replace: int, *, case_fit: bool = True
) -> list[tuple[str, int, str]]:
    wanted = prefix.upper()
    out = []
    seen: set[str] = set()
    for name, kind in candidates:
        if not name.upper().startswith(wanted) or name in seen:
            continue
        seen.add(name)
        out.append((_fit_case(name, prefix) if case_fit else name, -replace, kind))
    return out


class SqlCompleter(Completer):
    """prompt_toolkit's completer over a :class:`CompletionCatalog` (see the module docstring).

    It may wait for a catalog read in progress (:meth:`CompletionCatalog.current`), so the shell runs it
    on a thread (``complete_in_thread``), never on the thread that reads keys.
    """

    def __init__(self, catalog: CompletionCatalog) -> None:
        from headwater.parser.lexer import KEYWORDS

        self.catalog = catalog
        self.keywords = tuple(sorted(KEYWORDS))

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        for text, start, kind in completions_for(
            document.text, document.cursor_position, self.catalog.current(), self.keywords
        ):
            yield Completion(text, start_position=start, display_meta=kind)
