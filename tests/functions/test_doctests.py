"""The examples in the library's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import headwater.engine.functions as package

MODULES = sorted(name for _, name, _ in pkgutil.iter_modules(package.__path__, package.__name__ + "."))


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
