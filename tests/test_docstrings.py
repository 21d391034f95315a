"""Every docstring example in the library runs and prints what it claims (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import nnaudio_plugins
import numpy as np
import pytest
import torch

import nnaudio_core


def _modules() -> list[str]:
    names = []
    for package in (nnaudio_core, nnaudio_plugins):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {"np": np, "torch": torch, **vars(module)}
    examples = 0
    for test in finder.find(module, module_name, globs=dict(globs)):
        examples += len(test.examples)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {examples} docstring examples in {module_name} failed (see output)"
