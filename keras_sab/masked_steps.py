"""Masked steps on the fused path: run the unmasked steps left-aligned.

A masked SAB step is a no-op on the state (ALGORITHM.md §6): it keeps `h`,
`c` and the memory, and does not advance the write and truncation counts. So a
row's computation depends only on its unmasked steps, in order. Moving them to
the front of the row (a stable gather) turns any mask into right padding,
which the fused path runs with one length per row; the outputs are then
spread back: a masked step's output repeats the last unmasked step's (or the
initial `h` before any). Both moves are gathers, differentiated by TensorFlow.
"""

import tensorflow as tf


def left_aligned_order(mask):
    """The order that puts each row's unmasked steps first, and their count.

    Args:
        mask: bool `(batch, timesteps)`.

    Returns:
        `(order, lengths)`: int32 `(batch, timesteps)` step indices (the
        unmasked steps in their order, then the masked ones) and int32
        `(batch,)` the number of unmasked steps.

    Example:

    >>> order, lengths = left_aligned_order(tf.constant([[False, True, True, False]]))
    >>> order.numpy().tolist(), lengths.numpy().tolist()
    ([[1, 2, 0, 3]], [2])
    """
    masked = tf.cast(tf.logical_not(mask), tf.int32)
    order = tf.argsort(masked, axis=1, stable=True)
    return tf.cast(order, tf.int32), tf.reduce_sum(1 - masked, axis=1)


def gather_steps(sequences, order):
    """`sequences[b, order[b, t]]`, for `sequences (batch, timesteps, ...)`."""
    return tf.gather(sequences, order, axis=1, batch_dims=1)


def spread_steps(aligned, mask, before=None):
    """Puts left-aligned per-step values back at their steps.

    Step `t` of row `b` gets the value of the row's last unmasked step up to
    `t`: its own where unmasked, the one before where masked.

    Args:
        aligned: `(batch, timesteps, ...)`, values of the left-aligned steps.
        mask: bool `(batch, timesteps)`, the original mask.
        before: optional `(batch, ...)`, the value of steps before the first
            unmasked one. Defaults to `None`: zeros.

    Returns:
        A tensor of the shape of `aligned`.
    """
    index = tf.cumsum(tf.cast(mask, tf.int32), axis=1) - 1
    spread = tf.gather(aligned, tf.maximum(index, 0), axis=1, batch_dims=1)
    if before is None:
        before = tf.zeros_like(aligned[:, 0])
    started = tf.reshape(
        index >= 0, tf.concat([tf.shape(index), [1] * (len(aligned.shape) - 2)], 0)
    )
    return tf.where(started, spread, before[:, None])
