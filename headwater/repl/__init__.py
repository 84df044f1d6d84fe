"""The interactive shell, embedded on a data directory or connected to a server."""
