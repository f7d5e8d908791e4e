"""Cue recall: name the one marked symbol, seen at least `T` steps earlier.

Every step shows one of 8 symbols, drawn at random. Within the first
`CUE_WINDOW` steps one of them is marked (the cue); `T` steps after the
window the query step asks which symbol was marked. Everything in between is
distraction: to answer, a model must keep, across at least `T` steps, what it
saw at one step it could not know would matter. The input of a step is
`[one-hot symbol (8), cue flag, query flag]`; the query step shows no symbol.
The target is the cue's symbol, a class in `0 .. 7` (chance: 1/8).

It is the README's demonstration of SAB (`examples/sab_vs_lstm.py`): SAB
writes its state to memory every `k_att` steps, so the cue stays a few memory
links from the query, and credit travels back along those links; an LSTM must
carry the cue through every step, and gradient must travel back through all of
them.
"""

import numpy as np
import tensorflow as tf

from keras_sab import validation
from keras_sab.tasks._synthetic import synthetic_dataset

CUE_NUM_SYMBOLS = 8
CUE_WINDOW = 10
CUE_INPUT_DIM = CUE_NUM_SYMBOLS + 2


def cue_recall_arrays(timesteps, num_examples, seed=0):
    """Generates cue-recall examples as numpy arrays.

    Args:
        timesteps: `T`, the smallest distance from the cue to the query;
            sequences have `T + CUE_WINDOW` steps. An integer >= 1.
        num_examples: number of sequences. An integer >= 1.
        seed: seed of `np.random.default_rng`, an int or a sequence of ints.
            Defaults to `0`.

    Returns:
        A tuple `(x, y)`: `x` float32 `(num_examples, T + CUE_WINDOW, 10)`,
        `y` int32 `(num_examples,)`, the cue's symbol.

    Example:

    >>> x, y = cue_recall_arrays(timesteps=5, num_examples=3, seed=1)
    >>> x.shape, y.shape
    ((3, 15, 10), (3,))
    >>> cue = x[:, :, 8].argmax(axis=1)          # the marked step
    >>> bool((x[np.arange(3), cue, :8].argmax(-1) == y).all())
    True
    """
    timesteps = validation.check_int("timesteps", timesteps, 1)
    num_examples = validation.check_int("num_examples", num_examples, 1)
    rng = np.random.default_rng(seed)
    length = timesteps + CUE_WINDOW
    rows = np.arange(num_examples)
    symbols = rng.integers(0, CUE_NUM_SYMBOLS, size=(num_examples, length))
    cue = rng.integers(0, CUE_WINDOW, size=num_examples)
    x = np.zeros((num_examples, length, CUE_INPUT_DIM), np.float32)
    x[rows[:, None], np.arange(length)[None, :], symbols] = 1.0
    x[rows, cue, CUE_NUM_SYMBOLS] = 1.0
    x[:, -1] = 0.0
    x[:, -1, CUE_NUM_SYMBOLS + 1] = 1.0
    return x, symbols[rows, cue].astype(np.int32)


def cue_recall_dataset(timesteps, batch_size, num_batches=None, seed=0):
    """Cue-recall batches as a `tf.data.Dataset`.

    Batch `i` holds `cue_recall_arrays(timesteps, batch_size, seed=(seed, i))`.

    Args:
        timesteps: `T`; sequences have `T + CUE_WINDOW` steps. An integer
            >= 1.
        batch_size: examples per batch. An integer >= 1.
        num_batches: number of batches, or `None` for an endless dataset. A
            finite dataset yields the same batches on every pass. Defaults to
            `None`.
        seed: base seed, a non-negative int. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(x, y)`: `x` float32
        `(batch_size, T + CUE_WINDOW, 10)`, `y` int32 `(batch_size,)`.

    Example:

    >>> ds = cue_recall_dataset(timesteps=200, batch_size=32, num_batches=2)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), tuple(y.shape)
    ((32, 210, 10), (32,))
    """
    timesteps = validation.check_int("timesteps", timesteps, 1)
    batch_size = validation.check_int("batch_size", batch_size, 1)
    num_batches = validation.check_int("num_batches", num_batches, 1, allow_none=True)
    seed = validation.check_int("seed", seed, 0)
    length = timesteps + CUE_WINDOW
    signature = (
        tf.TensorSpec((batch_size, length, CUE_INPUT_DIM), tf.float32),
        tf.TensorSpec((batch_size,), tf.int32),
    )
    return synthetic_dataset(
        lambda index: cue_recall_arrays(timesteps, batch_size, seed=(seed, index)),
        num_batches,
        signature,
    )
