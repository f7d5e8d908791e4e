"""Turns a seeded numpy batch generator into a `tf.data.Dataset` (ALGORITHM.md §9).

The copy and adding tasks are generated, not loaded. Both build their
datasets here, so that batch `i` of a dataset is exactly what the task's numpy
function returns for the seed `(seed, i)`: one source of truth for the data
format, and batches that do not depend on how many were drawn before.
"""

import tensorflow as tf


def synthetic_dataset(make_batch, num_batches, output_signature):
    """Dataset whose batch `i` is `make_batch(i)`.

    Args:
        make_batch: function of a Python int (the batch index) returning a
            tuple of numpy arrays matching `output_signature`.
        num_batches: number of batches, or `None` for an endless dataset.
        output_signature: tuple of `tf.TensorSpec`, one per array.

    Returns:
        A `tf.data.Dataset` of tuples of tensors. A finite dataset yields the
        same batches on every pass; an endless one never repeats a seed.
    """
    if num_batches is None:
        indices = tf.data.Dataset.counter()
    else:
        indices = tf.data.Dataset.range(num_batches)
    dtypes = [spec.dtype for spec in output_signature]

    def to_tensors(index):
        tensors = tf.numpy_function(
            lambda i: make_batch(int(i)), [index], dtypes, stateful=False
        )
        for tensor, spec in zip(tensors, output_signature):
            tensor.set_shape(spec.shape)
        return tuple(tensors)

    return indices.map(to_tensors).prefetch(tf.data.AUTOTUNE)
