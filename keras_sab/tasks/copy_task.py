"""The copy task, in the format of the SAB authors' code (ALGORITHM.md §8).

A sequence of `timesteps + 20` steps over a vocabulary of 10 values:

- steps `0 .. 9`: ten symbols drawn uniformly from `1 .. 8`;
- the next `timesteps - 1` steps: blanks (`0`);
- step `timesteps + 9`: the marker (`9`), the cue to start recalling;
- the last ten steps: blanks, during which the model must output the ten
  symbols in their original order.

The target is blank (`0`) at every step except the last ten, which hold the
ten symbols. The loss covers all steps; accuracy is reported over the last
`RECALL_STEPS` steps only (`copy_recall_accuracy`).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_sab import validation
from keras_sab.tasks._synthetic import synthetic_dataset

BLANK = 0
MARKER = 9
NUM_SYMBOLS = 8
COPY_VOCAB_SIZE = 10
RECALL_STEPS = 10


def copy_arrays(timesteps, num_examples, seed=0, one_hot=False):
    """Generates copy-task examples as numpy arrays.

    Args:
        timesteps: `T`, the delay: the marker comes `T` steps after the last
            symbol. Sequences have `T + 20` steps. An integer >= 1.
        num_examples: number of sequences. An integer >= 1.
        seed: seed of `np.random.default_rng`, an int or a sequence of ints.
            Defaults to `0`.
        one_hot: whether to return the inputs one-hot encoded. Defaults to
            `False`.

    Returns:
        A tuple `(x, y)`. `x` is int32 of shape `(num_examples, T + 20)`, or
        float32 of shape `(num_examples, T + 20, 10)` when `one_hot=True`;
        `y` is int32 of shape `(num_examples, T + 20)`.

    Example:

    >>> x, y = copy_arrays(timesteps=5, num_examples=2, seed=1)
    >>> x.shape, y.shape
    ((2, 25), (2, 25))
    >>> bool((y[:, -10:] == x[:, :10]).all())
    True
    """
    timesteps = validation.check_int("timesteps", timesteps, 1)
    num_examples = validation.check_int("num_examples", num_examples, 1)
    rng = np.random.default_rng(seed)
    symbols = rng.integers(
        1, NUM_SYMBOLS + 1, size=(num_examples, RECALL_STEPS), dtype=np.int32
    )
    length = timesteps + 2 * RECALL_STEPS
    x = np.full((num_examples, length), BLANK, dtype=np.int32)
    x[:, :RECALL_STEPS] = symbols
    x[:, RECALL_STEPS + timesteps - 1] = MARKER
    y = np.full((num_examples, length), BLANK, dtype=np.int32)
    y[:, -RECALL_STEPS:] = symbols
    if one_hot:
        x = np.eye(COPY_VOCAB_SIZE, dtype=np.float32)[x]
    return x, y


def copy_dataset(timesteps, batch_size, num_batches=None, seed=0, one_hot=True):
    """Copy-task batches as a `tf.data.Dataset`, ready for a Keras RNN.

    Batch `i` holds the examples of
    `copy_arrays(timesteps, batch_size, seed=(seed, i), one_hot=one_hot)`.

    Args:
        timesteps: `T`, the delay; sequences have `T + 20` steps. An integer
            >= 1.
        batch_size: examples per batch. An integer >= 1.
        num_batches: number of batches, or `None` for an endless dataset.
            A finite dataset yields the same batches on every pass (use it for
            validation). Defaults to `None`.
        seed: base seed, a non-negative int. Defaults to `0`.
        one_hot: whether inputs are one-hot (width 10) or the raw symbol value
            as a single float feature (width 1). Defaults to `True`.

    Returns:
        A `tf.data.Dataset` of `(x, y)`: `x` float32 of shape
        `(batch_size, T + 20, 10)` (or `(batch_size, T + 20, 1)`), `y` int32
        class ids of shape `(batch_size, T + 20)`.

    Example:

    >>> ds = copy_dataset(timesteps=100, batch_size=64, num_batches=10)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), tuple(y.shape)
    ((64, 120, 10), (64, 120))
    """
    timesteps = validation.check_int("timesteps", timesteps, 1)
    batch_size = validation.check_int("batch_size", batch_size, 1)
    num_batches = validation.check_int(
        "num_batches", num_batches, 1, allow_none=True
    )
    seed = validation.check_int("seed", seed, 0)
    length = timesteps + 2 * RECALL_STEPS
    width = COPY_VOCAB_SIZE if one_hot else 1

    def make_batch(index):
        x, y = copy_arrays(timesteps, batch_size, seed=(seed, index), one_hot=one_hot)
        return x.astype(np.float32).reshape(batch_size, length, width), y

    signature = (
        tf.TensorSpec((batch_size, length, width), tf.float32),
        tf.TensorSpec((batch_size, length), tf.int32),
    )
    return synthetic_dataset(make_batch, num_batches, signature)


@keras.saving.register_keras_serializable(package="keras_sab")
def copy_recall_accuracy(y_true, y_pred):
    """Per-example accuracy over the last `RECALL_STEPS` steps of the copy task.

    Usable as a Keras metric: `model.compile(metrics=[copy_recall_accuracy])`.
    It is a registered Keras serializable, so a model compiled with it loads
    with `keras.saving.load_model` once `keras_sab.tasks` is imported.

    Args:
        y_true: class ids of shape `(batch, T + 20)`.
        y_pred: scores (logits or probabilities) of shape
            `(batch, T + 20, 10)`.

    Returns:
        float32 tensor of shape `(batch,)`: the fraction of the ten recalled
        symbols whose highest-scoring class is the right one.

    Example:

    >>> x, y = copy_arrays(timesteps=5, num_examples=2)
    >>> perfect = np.eye(10)[y]
    >>> copy_recall_accuracy(y, perfect).numpy().tolist()
    [1.0, 1.0]
    """
    predicted = ops.cast(ops.argmax(y_pred[:, -RECALL_STEPS:], axis=-1), "int32")
    target = ops.cast(y_true[:, -RECALL_STEPS:], "int32")
    return ops.mean(ops.cast(ops.equal(predicted, target), "float32"), axis=-1)
