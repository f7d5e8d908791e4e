"""Marks for the tests that need a package of the examples' `peers` extra."""

import importlib.util

import pytest

EXTRA = 'the examples\' peers extra: pip install -e ".[peers]"'


def needs(module):
    """A mark skipping a test, with the reason, when `module` is not installed."""
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None, reason=f"{module} is not installed ({EXTRA})"
    )


# `--model transformer` is built from keras-hub's layers.
NEEDS_KERAS_HUB = needs("keras_hub")
