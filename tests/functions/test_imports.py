"""Importing the function library, the casts, the formats and the expression compiler stays cheap:
no module converts Python values with pyarrow at import time (pyarrow imports pandas, when it is
installed, on its first such conversion, which costs the shell's start-up about half a second)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_packages_does_not_import_pandas() -> None:
    code = (
        "import sys\n"
        "import headwater.engine.functions.catalog, headwater.engine.casts, headwater.engine.formats\n"
        "import headwater.engine.expressions, headwater.engine.types\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
