"""SET, UNSET, DEFINE, UNDEFINE: change the configuration or the variables for what follows."""

from __future__ import annotations

from headwater.engine.entities import Entity, StatementApplied, WarningEntity
from headwater.engine.statements.context import StatementContext
from headwater.parser import ast

__all__ = ["define", "set_property", "undefine", "unset_property"]


def set_property(ctx: StatementContext, stmt: ast.SetProperty) -> Entity:
    """SET 'name' = 'value': the statements after it in the same request see the new value."""
    before = ctx.config.get(stmt.name)
    ctx.config = ctx.config.with_overrides({stmt.name: stmt.value})
    message = f"Successfully changed local property '{stmt.name}'"
    message += f" from '{before}' to '{stmt.value}'." if before is not None else f" to '{stmt.value}'."
    return StatementApplied(stmt.text, message=message)


def unset_property(ctx: StatementContext, stmt: ast.UnsetProperty) -> Entity:
    """UNSET 'name': back to the engine's value."""
    ctx.config = ctx.config.without(stmt.name)
    return StatementApplied(stmt.text, message=f"Successfully unset local property '{stmt.name}'.")


def define(ctx: StatementContext, stmt: ast.DefineVariable) -> Entity:
    """DEFINE name = 'value': substituted as ``${name}`` in later statements."""
    ctx.variables[stmt.name] = stmt.value
    ctx.engine.variables[stmt.name] = stmt.value
    return StatementApplied(stmt.text, message=f"Defined variable {stmt.name}.")


def undefine(ctx: StatementContext, stmt: ast.UndefineVariable) -> Entity:
    """UNDEFINE name; warns when the variable was never defined, as ksqlDB does."""
    known = stmt.name in ctx.variables or stmt.name in ctx.engine.variables
    ctx.variables.pop(stmt.name, None)
    ctx.engine.variables.pop(stmt.name, None)
    if not known:
        return WarningEntity(
            stmt.text, message=f"Cannot undefine variable '{stmt.name}' which was never defined"
        )
    return StatementApplied(stmt.text, message=f"Undefined variable {stmt.name}.")
