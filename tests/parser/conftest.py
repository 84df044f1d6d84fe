"""Makes the parser fixtures importable (``import corpus``): tests run with --import-mode=importlib."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "parser"))
