"""``python -m headwater.server``: the same as ``headwater server``."""

from __future__ import annotations

import sys

from headwater.server.runner import main

if __name__ == "__main__":
    sys.exit(main())
