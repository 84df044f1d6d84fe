"""The examples in the conformance runner's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import headwater.conformance as package

MODULES = sorted(name for _, name, _ in pkgutil.iter_modules(package.__path__, package.__name__ + "."))


@pytest.mark.parametrize("module_name", [m for m in MODULES if not m.endswith("__main__")])
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
