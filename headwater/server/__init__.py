"""ksqlDB's REST API over a Headwater engine, so ksqlDB's clients work unchanged.

Public API:

- :func:`main` is ``headwater server`` (``--listen``, ``--data-dir``, ``--auth-file``, ``--add-user``);
- :func:`serve` runs a server until SIGINT/SIGTERM, :func:`start_in_thread` on a background thread
  (tests and embedding), both from a :class:`ServerSettings`;
- :class:`HeadwaterApp` is the ASGI application itself;
- :mod:`headwater.server.client` is the client the shell uses to talk to a server.

See docs/server.md for the endpoints and examples.
"""

from __future__ import annotations

from headwater.server.app import HeadwaterApp
from headwater.server.runner import RunningServer, ServerSettings, main, serve, start_in_thread

__all__ = ["HeadwaterApp", "RunningServer", "ServerSettings", "main", "serve", "start_in_thread"]
