"""The examples in the docstrings of the shell, the command line and the server run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import headwater.repl
import headwater.server

MODULES = sorted(
    [
        "headwater.cli",
        *(name for _, name, _ in pkgutil.iter_modules(headwater.repl.__path__, "headwater.repl.")),
        *(name for _, name, _ in pkgutil.iter_modules(headwater.server.__path__, "headwater.server.")),
    ]
)


@pytest.mark.parametrize("module_name", [m for m in MODULES if not m.endswith("__main__")])
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
