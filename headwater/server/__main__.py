"""``python -m headwater.server``: the same as ``headwater server``."""

from __future__ import annotations

from headwater.process_exit import run_and_exit
from headwater.server.runner import main

if __name__ == "__main__":
    run_and_exit(main)
