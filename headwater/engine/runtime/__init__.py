"""Running queries: persistent queries with exactly-once checkpoints, push queries, historical queries."""
