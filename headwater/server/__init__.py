"""ksqlDB's REST API over a Headwater engine, so ksqlDB's clients work unchanged.

Public API:

- :func:`main` is ``headwater server`` (``--listen``, ``--data-dir``, ``--auth-file``, ``--add-user``);
- :func:`serve` runs a server until SIGINT/SIGTERM, :func:`start_in_thread` on a background thread
  (tests and embedding), both from a :class:`ServerSettings`;
- :class:`HeadwaterApp` is the ASGI application itself;
- :mod:`headwater.server.client` is the client the shell uses to talk to a server.

The names are loaded on first use (a module ``__getattr__``): ``import headwater.server.client`` runs
this file first, and the shell connecting to a server must not pay for importing the engine, DuckDB
and Hypercorn that only the serving side needs (about 2 s of ``headwater http://host:8088 -e ...``).

See docs/server.md for the endpoints and examples.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.server.app import HeadwaterApp
    from headwater.server.runner import RunningServer, ServerSettings, main, serve, start_in_thread

__all__ = ["HeadwaterApp", "RunningServer", "ServerSettings", "main", "serve", "start_in_thread"]

_HOMES = {
    "HeadwaterApp": "headwater.server.app",
    "RunningServer": "headwater.server.runner",
    "ServerSettings": "headwater.server.runner",
    "main": "headwater.server.runner",
    "serve": "headwater.server.runner",
    "start_in_thread": "headwater.server.runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'headwater.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
