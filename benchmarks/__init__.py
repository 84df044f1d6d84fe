"""Benchmarks of Headwater (run as modules, e.g. ``python -m benchmarks.nexmark``)."""
