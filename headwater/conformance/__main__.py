"""``python -m headwater.conformance``: see :mod:`headwater.conformance.cli`."""

from __future__ import annotations

from headwater.conformance.cli import main
from headwater.process_exit import run_and_exit

run_and_exit(main)
