"""Physical operators, one per module; :mod:`headwater.engine.operators.base` holds the interface and
:mod:`headwater.engine.planner.physical` the closed registry that maps plan nodes to operators."""
