"""The memory buffer: how many slots, how a memory is written.

SAB's memory is a fixed buffer of slots (a loop's state keeps its shape) with
a count of the memories written; a memory and its key are written together,
once, and never change afterwards.
"""

import tensorflow as tf

from keras_sab.attention_scorer import memory_keys
from keras_sab.write_schedule import memories_written


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
    written = memories_written(timesteps, k_att)
    if isinstance(timesteps, int):
        return max(written, k_top + 1)
    return tf.maximum(written, k_top + 1)


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
        memory: `(batch, slots, units)`, in any float dtype (`h` is cast).
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


# The ways a stateful layer chooses the memories it keeps (see `kept_positions`).
KEEP_POLICIES = ("latest", "most_read")
# `"most_read"`: the attention a memory has received fades by this factor at
# every call.
USAGE_DECAY = 0.9


def kept_positions(ids, usage, capacity, keep):
    """Which memories a stream keeps: their positions, in the order written.

    Args:
        ids: int32 `(batch, positions)`, each position's stream id (the count
            of memories written before it; -1 for an empty position).
        usage: `(batch, positions)`, the attention each memory received
            (decayed), for `"most_read"`.
        capacity: Python int `<= positions`, the memories kept.
        keep: `"latest"`: the most recently written. `"most_read"`: the
            `capacity // 2` most recently written (so that a new memory can
            be read before it competes), and of the older ones those with
            the most usage (the newest first among equals).

    Returns:
        `(positions, count)`: int32 `(batch, capacity)`, the kept positions
        by ascending id (the unused ones last), and int32 `(batch,)`, how
        many are used.

    Example:

    >>> ids = tf.constant([[0, 1, 2, 3, -1]])
    >>> usage = tf.constant([[5.0, 0.1, 1.0, 0.0, 0.0]])
    >>> kept_positions(ids, usage, 3, "most_read")[0].numpy().tolist()
    [[0, 2, 3]]
    >>> kept_positions(ids, usage, 3, "latest")[0].numpy().tolist()
    [[1, 2, 3]]
    """
    valid = ids >= 0
    recent = capacity // 2 if keep == "most_read" else capacity
    # Newest first, by id (empty positions last)...
    ranking = tf.argsort(tf.where(valid, ids, -1), axis=-1, direction="DESCENDING", stable=True)
    if recent < capacity:
        # ... then, but for the `recent` newest, by usage: a stable sort
        # keeps the newest first among equal usage, at any magnitude.
        newest = tf.range(tf.shape(ids)[1])[None, :] < recent
        ranked_usage = tf.gather(usage, ranking, batch_dims=1)
        ranked_valid = tf.gather(valid, ranking, batch_dims=1)
        key = tf.where(newest, usage.dtype.max, ranked_usage)
        key = tf.where(ranked_valid, key, usage.dtype.min)
        ranking = tf.gather(
            ranking,
            tf.argsort(key, axis=-1, direction="DESCENDING", stable=True),
            batch_dims=1,
        )
    chosen = ranking[:, :capacity]
    chosen_valid = tf.gather(valid, chosen, batch_dims=1)
    by_id = tf.where(chosen_valid, tf.gather(ids, chosen, batch_dims=1), ids.dtype.max)
    positions = tf.gather(chosen, tf.argsort(by_id, axis=-1), batch_dims=1)
    return positions, tf.reduce_sum(tf.cast(chosen_valid, tf.int32), axis=-1)
