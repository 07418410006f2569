"""The examples in docstrings are part of the documentation: they must run."""

import doctest
import importlib
import pkgutil

import pytest

import embeddings
import qa

MODULES = sorted(
    {m.name for m in pkgutil.walk_packages(qa.__path__, "qa.") if m.name != "qa.__main__"}
    | {f"embeddings.{m.name}" for m in pkgutil.iter_modules(embeddings.__path__)}
    | {"qa", "embeddings", "app"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
