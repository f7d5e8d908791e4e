"""The memory buffer: how many slots, how a memory is written.

SAB's memory is a fixed buffer of slots (a loop's state keeps its shape) with
a count of the memories written; a memory and its key are written together,
once, and never change afterwards.
"""

import tensorflow as tf

from keras_sab.attention_scorer import memory_keys


def memory_slots(timesteps, k_att, k_top):
    """Memory capacity for a sequence of `timesteps` steps.

    `timesteps // k_att` slots hold every memory the sequence writes; the
    buffer has at least `k_top + 1` slots so that the top-k threshold is
    always defined (the extra slots are never readable).

    Args:
        timesteps: int or scalar int tensor.
        k_att: int, steps between memory writes.
        k_top: int, memories kept per step.

    Returns:
        The number of slots, of the type of `timesteps`.

    Example:

    >>> memory_slots(100, 10, 5), memory_slots(20, 10, 5)
    (10, 6)
    """
    if isinstance(timesteps, int):
        return max(timesteps // k_att, k_top + 1)
    return tf.maximum(timesteps // k_att, k_top + 1)


def write_slot(buffer, slot, value, write=None):
    """`buffer[b, slot[b]] = value[b]` for every row `b` where `write[b]`.

    Args:
        buffer: `(batch, slots, ...)`.
        slot: int32 `(batch,)`, a valid slot per row.
        value: `(batch, ...)`.
        write: optional bool `(batch,)`. Defaults to `None`: every row.

    Returns:
        The updated buffer.
    """
    batch = tf.shape(buffer)[0]
    indices = tf.stack([tf.range(batch), slot], axis=-1)
    if write is not None:
        kept = tf.gather(buffer, slot, axis=1, batch_dims=1)
        write = tf.reshape(write, [-1] + [1] * (len(value.shape) - 1))
        value = tf.where(write, tf.cast(value, buffer.dtype), kept)
    return tf.tensor_scatter_nd_update(buffer, indices, tf.cast(value, buffer.dtype))


def write_memory(memory, keys, slot, h, memory_kernel, attention_bias, write=None):
    """Writes the state `h` and its key `W_m h (+ b)` to slot `slot`.

    Args:
        memory: `(batch, slots, units)`.
        keys: `(batch, slots, attention_units)`, in the scorer's dtype.
        slot: int32 `(batch,)`.
        h: `(batch, units)`.
        memory_kernel: `(units, attention_units)`, in the scorer's dtype.
        attention_bias: `(attention_units,)` or `None`.
        write: optional bool `(batch,)`, the rows that write. Defaults to
            `None`: every row.

    Returns:
        The updated `(memory, keys)`.
    """
    key = memory_keys(tf.cast(h, memory_kernel.dtype), memory_kernel, attention_bias)
    return write_slot(memory, slot, h, write), write_slot(keys, slot, key, write)
def keep_latest_memories(memory, keys, written, capacity):
    """The `capacity` most recent memories of each row, oldest first.

    The eviction rule of a stateful `SAB`: when a call leaves more than
    `capacity` memories, the oldest are dropped.

    Args:
        memory: `(batch, slots, units)`; row `b` holds `written[b]`
            memories in its first slots, in the order they were written.
        keys: `(batch, slots, attention_units)`, their keys.
        written: int32 `(batch,)`.
        capacity: Python int, the slots kept.

    Returns:
        `(memory, keys, written)` with `capacity` slots; the unused ones are
        zeros, and `written` is at most `capacity`.

    Example:

    >>> memory = tf.reshape(tf.range(1.0, 5.0), (1, 4, 1))
    >>> kept, _, count = keep_latest_memories(memory, memory, tf.constant([3]), 2)
    >>> kept[0, :, 0].numpy().tolist(), count.numpy().tolist()
    ([2.0, 3.0], [2])
    """
    start = tf.maximum(written - capacity, 0)
    source = start[:, None] + tf.range(capacity)[None, :]
    valid = source < written[:, None]
    source = tf.minimum(source, tf.shape(memory)[1] - 1)

    def gather(buffer):
        kept = tf.gather(buffer, source, axis=1, batch_dims=1)
        return tf.where(valid[:, :, None], kept, tf.zeros_like(kept))

    return gather(memory), gather(keys), tf.minimum(written, capacity)
