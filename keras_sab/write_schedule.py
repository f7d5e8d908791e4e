"""When SAB writes its memories, and which memories a call leaves.

The rule, stated once (ALGORITHM.md §2): a run counts only the steps it runs
(a masked step does not count, on every path), and the memory of index `i`
(0-based, counted from the start of the run) is written at the end of the
run's step `(i + 1) * k_att - 1`. A run of `n` steps therefore writes
`n // k_att` memories. A call of a stateful layer is a run: its memories
follow the ones carried from earlier calls and take the stream ids after
theirs.

Every path reads the rule from here: the cell's step, the fused loops, the
size of the memory buffer, a stream's state and records, and the columns of
the attention weights.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf


def memories_written(steps_run, k_att):
    """How many memories a run of `steps_run` steps writes.

    Args:
        steps_run: int, or int32 tensor of any shape (e.g. per row), the
            steps the run ran (masked steps excluded).
        k_att: int, steps between memory writes.

    Returns:
        `steps_run // k_att`, of the type of `steps_run`.

    Example:

    >>> memories_written(25, 10)
    2
    """
    return steps_run // k_att


def write_step(index, k_att):
    """The step of a run (0-based, counting the steps it ran) at whose end
    memory `index` of the run is written.

    Args:
        index: int or int32 tensor, the memory's index within the run.
        k_att: int.

    Returns:
        `(index + 1) * k_att - 1`.

    Example:

    >>> write_step(0, 10), write_step(2, 10)
    (9, 29)
    """
    return (index + 1) * k_att - 1


def writes_now(steps_since_write, k_att):
    """Whether a step writes, given the steps run since the last write,
    this one included (the counter form of `write_step`, for a cell that
    sees one step at a time).

    Example:

    >>> writes_now(10, 10), writes_now(3, 10)
    (True, False)
    """
    return steps_since_write >= k_att


def call_memory_ids(carried, written, next_id, positions):
    """The stream id of every position of a call's memory buffer.

    A stateful call's buffer holds the `carried` memories of earlier calls
    (with `carried_ids`), then the ones the call wrote, in the order
    written.

    Args:
        carried: int32 `(batch,)`, the memories carried in.
        written: int32 `(batch,)`, the memories the call wrote
            (`memories_written` of the steps each row ran).
        next_id: int32 `(batch,)`, the id of the next memory of the stream
            (the count of memories it ever wrote).
        positions: int, the positions of the buffer.

    Returns:
        `(new, ids)`: bool `(batch, positions)`, the positions the call
        wrote, and int32 `(batch, positions)`, the ids of those positions
        (`next_id + i` for the call's memory `i`; other positions `-1`).

    Example:

    >>> new, ids = call_memory_ids(tf.constant([1]), tf.constant([2]), tf.constant([7]), 4)
    >>> ids.numpy().tolist()
    [[-1, 7, 8, -1]]
    """
    offset = tf.range(positions)[None, :] - carried[:, None]
    new = (offset >= 0) & (offset < written[:, None])
    return new, tf.where(new, next_id[:, None] + offset, -1)
