"""Every `Example:` in the package's docstrings (and the examples' harness)
runs and prints what it says."""

import doctest
import importlib
import pkgutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab

# The package's modules, and the examples' harness (`examples/experiment.py`
# and its modules, importable by name: see conftest.py).
HARNESS = [
    "experiment", "flags", "model_tuning", "model_zoo", "peer_models", "run_directory",
    "run_outputs", "train_step", "transformer_baseline",
]
MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(keras_sab.__path__, "keras_sab.")
    if name != "keras_sab.tuning"
) + HARNESS
# Harness modules whose examples build a peer: they need the `peers` extra.
NEEDS_PEERS = {"peer_models": "tcn", "transformer_baseline": "keras_hub"}


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    if module_name in NEEDS_PEERS:
        pytest.importorskip(
            NEEDS_PEERS[module_name], reason='the peers extra: pip install -e ".[peers]"'
        )
    module = importlib.import_module(module_name)
    globs = {**vars(module), "np": np, "keras": keras, "tf": tf, "keras_sab": keras_sab}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name, globs=globs):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
