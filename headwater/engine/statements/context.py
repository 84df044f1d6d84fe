"""What a statement handler sees: the engine's state, the configuration in force, and the mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine.catalog import Catalog
from headwater.engine.config import EngineConfig

if TYPE_CHECKING:
    from headwater.engine.engine import Engine

__all__ = ["StatementContext"]


@dataclass
class StatementContext:
    """One statement's execution context.

    Attributes:
        engine: the engine (catalog, log, queries, command log).
        config: the configuration for this statement (engine config + request properties + SET).
        variables: DEFINE'd variables for substitution.
        replaying: True while the command topic is replayed on start (no new commands are recorded,
            topics already exist, queries resume from their checkpoints).
    """

    engine: Engine
    config: EngineConfig
    variables: dict[str, str] = field(default_factory=dict)
    replaying: bool = False

    @property
    def catalog(self) -> Catalog:
        return self.engine.catalog

    @property
    def log(self) -> Any:
        return self.engine.log
