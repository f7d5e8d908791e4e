"""Comparison of float32 results computed along different paths."""

import numpy as np


def assert_scaled_close(actual, desired, rtol=1e-5):
    """Element-wise `|a - d| <= rtol * (|d| + max|d|)`: relative to each
    value and to the tensor's own scale (float32 sums in another order
    differ by a few ulps of the largest term). `None` counts as zeros."""
    desired = np.asarray(0.0 if desired is None else desired, np.float64)
    actual = np.asarray(0.0 if actual is None else actual, np.float64)
    scale = np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)
