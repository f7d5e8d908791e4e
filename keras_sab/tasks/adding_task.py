"""The adding problem, a classic long-term-dependency benchmark (ALGORITHM.md §9).

Each of the `timesteps` steps carries two features: a value drawn uniformly
from `[0, 1)` and a marker. The marker is `1.0` at exactly two steps, one in
the first half of the sequence (`t < timesteps // 2`) and one in the second
half, and `0.0` elsewhere. The target is the sum of the two marked values.
"""

import numpy as np
import tensorflow as tf

from keras_sab import validation
from keras_sab.tasks._synthetic import synthetic_dataset


def adding_arrays(timesteps, num_examples, seed=0):
    """Generates adding-problem examples as numpy arrays.

    Args:
        timesteps: sequence length. An integer >= 2.
        num_examples: number of sequences. An integer >= 1.
        seed: seed of `np.random.default_rng`, an int or a sequence of ints.
            Defaults to `0`.

    Returns:
        A tuple `(x, y)`: `x` float32 of shape `(num_examples, timesteps, 2)`
        (value, marker), `y` float32 of shape `(num_examples, 1)`.

    Example:

    >>> x, y = adding_arrays(timesteps=50, num_examples=3, seed=1)
    >>> x.shape, y.shape
    ((3, 50, 2), (3, 1))
    >>> np.allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1))
    True
    """
    timesteps = validation.check_int("timesteps", timesteps, 2)
    num_examples = validation.check_int("num_examples", num_examples, 1)
    rng = np.random.default_rng(seed)
    values = rng.random((num_examples, timesteps), dtype=np.float32)
    half = timesteps // 2
    rows = np.arange(num_examples)
    first = rng.integers(0, half, size=num_examples)
    second = rng.integers(half, timesteps, size=num_examples)
    markers = np.zeros((num_examples, timesteps), dtype=np.float32)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y


def adding_dataset(timesteps, batch_size, num_batches=None, seed=0):
    """Adding-problem batches as a `tf.data.Dataset`.

    Batch `i` holds the examples of
    `adding_arrays(timesteps, batch_size, seed=(seed, i))`.

    Args:
        timesteps: sequence length. An integer >= 2.
        batch_size: examples per batch. An integer >= 1.
        num_batches: number of batches, or `None` for an endless dataset.
            A finite dataset yields the same batches on every pass. Defaults
            to `None`.
        seed: base seed, a non-negative int. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(x, y)`: `x` float32 of shape
        `(batch_size, timesteps, 2)`, `y` float32 of shape `(batch_size, 1)`.

    Example:

    >>> ds = adding_dataset(timesteps=200, batch_size=32, num_batches=5)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), tuple(y.shape)
    ((32, 200, 2), (32, 1))
    """
    timesteps = validation.check_int("timesteps", timesteps, 2)
    batch_size = validation.check_int("batch_size", batch_size, 1)
    num_batches = validation.check_int(
        "num_batches", num_batches, 1, allow_none=True
    )
    seed = validation.check_int("seed", seed, 0)
    signature = (
        tf.TensorSpec((batch_size, timesteps, 2), tf.float32),
        tf.TensorSpec((batch_size, 1), tf.float32),
    )
    return synthetic_dataset(
        lambda index: adding_arrays(timesteps, batch_size, seed=(seed, index)),
        num_batches,
        signature,
    )
