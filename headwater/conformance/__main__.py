"""``python -m headwater.conformance``: see :mod:`headwater.conformance.cli`."""

from __future__ import annotations

from headwater.conformance.cli import main

raise SystemExit(main())
