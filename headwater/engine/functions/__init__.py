"""The SQL function library (scalar and table functions; aggregates arrive with the stateful engine)."""
