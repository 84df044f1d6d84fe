"""``python -m benchmarks.nexmark``: see :mod:`benchmarks.nexmark.runner`."""

from __future__ import annotations

from benchmarks.nexmark.runner import main

raise SystemExit(main())
