"""The engine: catalog, binder, plans, operators, runtime, persistent, push, pull and historical queries."""
