"""The engine: catalog, binder, plans, operators, runtime, persistent, push, pull and historical queries.

``Engine`` is imported lazily so that light modules (entities, schema, catalog) load without the storage
and parser packages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Engine"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from headwater.engine.engine import Engine

        return Engine
    raise AttributeError(name)
