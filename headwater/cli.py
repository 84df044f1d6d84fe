"""The ``headwater`` command: the shell by default, and subcommands for topics, producing and printing."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``headwater`` console script."""
    from headwater.repl.main import main as repl_main

    return repl_main(sys.argv[1:] if argv is None else argv)
