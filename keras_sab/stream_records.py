"""Credit across a stream: the records of a stateful SAB's memories.

A stream fed to a stateful `SAB` in consecutive calls is one sequence to SAB
(ALGORITHM.md §4b): a read, in the current call, of a memory written in an
earlier call sends credit into the truncation block that wrote it, and on
through that block's own reads. What that backward needs is kept per memory,
as a *record*: the inputs of the steps of its truncation block up to its
write step, the states before each of those steps, what each step read (the
memories' stream ids and weights) and the recurrent dropout mask of its call.
Its size is bounded by the memories kept, never by the stream's length.

`credited_memories` hands the carried memories to the current call as the
values they had, with a gradient that runs `records_backward`: newest memory
first, each record's steps are back-propagated (by `steps_backward`, the
fused path's step loop), and what reaches the memories the record read is
added to theirs before their turn comes.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import tensorflow as tf

from keras_sab.lstm_core import input_projection
from keras_sab.lstm_core import lstm_derivatives
from keras_sab.precision import wide_dtype
from keras_sab.sab_step import step_query
from keras_sab.steps_backward import add_step_weight_gradients
from keras_sab.steps_backward import flush_gradients
from keras_sab.steps_backward import steps_backward
from keras_sab.steps_backward import write_gradient
from keras_sab.write_schedule import memories_written
from keras_sab.write_schedule import write_step

StreamRecords = collections.namedtuple(
    "StreamRecords",
    [
        "inputs",
        "h_prev",
        "c_prev",
        "chosen",
        "chosen_w",
        "totals",
        "few",
        "valid",
        "recurrent_mask",
        "outputs",
    ],
)
StreamRecords.__doc__ = """The records of memories, one per memory slot.

Each record holds the `k_trunc` steps up to its memory's write step
(`record_length`), right-aligned; the steps before the start of the write
step's truncation block are not `valid`. Shapes, for `(batch, slots)`
records of `k_trunc` steps:

Fields:
    inputs: `(batch, slots, k_trunc, features)`, the layer's inputs (after
        input dropout).
    h_prev, c_prev: `(batch, slots, k_trunc, units)`, the states entering
        each step.
    chosen: int32 `(batch, slots, k_trunc, k)`, the stream ids of the
        memories each step read (`k = k_top`, or the memories kept in
        `"dense"`).
    chosen_w: `(batch, slots, k_trunc, k)`, their weights.
    totals, few: `(batch, slots, k_trunc, 1)`, the paper's rule's normaliser
        and few rows (see `sparse_attention.Selection`).
    valid: bool `(batch, slots, k_trunc)`.
    recurrent_mask: `(batch, slots, units)`, the recurrent dropout mask of
        the record's call (ones without).
    outputs: `(batch, slots, k_trunc, units)`, each step's output, with
        `read="projected"` only (`None` with the paper's read, whose
        outputs are the next steps' `h_prev` and, last, the memory).
"""


# The kind of each record field: `"float"` (the layer's dtype: stored in its
# variable dtype, used in its compute dtype), `"wide"` (its
# `precision.wide_dtype`: `c` and the scorer's values), or a dtype.
RECORD_KINDS = StreamRecords(
    "float", "float", "wide", "int32", "wide", "wide", "bool", "bool", "float", "float"
)


def record_shapes(batch, capacity, settings, features, units):
    """The shapes of the `StreamRecords` of `capacity` memories (their
    kinds are `RECORD_KINDS`).

    Args:
        batch: int.
        capacity: int, the memories a stream keeps (also `k` of a dense
            read).
        settings: `StepSettings`.
        features: int, the input width.
        units: int.

    Returns:
        A `StreamRecords` of shapes (`outputs` is `None` with the paper's
        read).
    """
    steps = settings.k_trunc
    k = capacity if settings.attention == "dense" else settings.k_top
    shapes = StreamRecords(
        (batch, capacity, steps, features),
        (batch, capacity, steps, units),
        (batch, capacity, steps, units),
        (batch, capacity, steps, k),
        (batch, capacity, steps, k),
        (batch, capacity, steps, 1),
        (batch, capacity, steps, 1),
        (batch, capacity, steps),
        (batch, capacity, units),
        (batch, capacity, steps, units) if settings.read == "projected" else None,
    )
    return shapes


def call_records(steps, inputs, h0, recurrent_mask, position_ids, settings, capacity):
    """The records of the memories one call wrote, from its per-step values.

    Args:
        steps: dict of the call's per-step values, time-major `(timesteps,
            batch, ...)`: `outputs`, `c_prev`, `chosen_w` and (but in
            `"dense"`) `chosen`, the buffer positions read, in
            `"sparse"` `totals` and `few`, and with `read="projected"`
            `carried`, the states carried on.
        inputs: `(batch, timesteps, features)`, the call's inputs.
        h0: `(batch, units)`, the state before the call.
        recurrent_mask: `(batch, units)` or `None`.
        position_ids: int32 `(batch, positions)`, the stream id of each
            buffer position of the call.
        settings: `StepSettings`; `k_trunc` must be set.
        capacity: int, the memories a stream keeps.

    Returns:
        `StreamRecords` of `timesteps // k_att` memories, in write order.
    """
    k_att, length = settings.k_att, settings.k_trunc
    timesteps = tf.shape(steps["outputs"])[0]
    write_steps = write_step(tf.range(memories_written(timesteps, k_att)), k_att)
    block_start = write_steps // length * length
    step = write_steps[:, None] - (length - 1) + tf.range(length)[None, :]
    valid = step >= block_start[:, None]
    step = tf.maximum(step, 0)
    batch_major = {
        name: tf.transpose(x, [1, 0, *range(2, len(x.shape))]) for name, x in steps.items()
    }
    carried = batch_major.get("carried", batch_major["outputs"])
    h_prev = tf.concat([h0[:, None], carried[:, :-1]], axis=1)

    def at_steps(x):
        return tf.gather(x, step, axis=1)

    weights = batch_major["chosen_w"]
    if "chosen" in batch_major:
        positions = batch_major["chosen"]
    else:
        # A dense read weighs every position: keep the `capacity` heaviest.
        weights, positions = tf.math.top_k(weights, k=capacity)
    batch, count = tf.shape(weights)[0], tf.shape(write_steps)[0]
    ids = tf.gather(position_ids, tf.reshape(positions, [batch, -1]), batch_dims=1)
    ones = tf.ones_like(weights[..., :1])
    mask = tf.ones_like(h0) if recurrent_mask is None else recurrent_mask
    return StreamRecords(
        inputs=at_steps(inputs),
        h_prev=at_steps(h_prev),
        c_prev=at_steps(batch_major["c_prev"]),
        chosen=at_steps(tf.reshape(ids, tf.shape(positions))),
        chosen_w=at_steps(weights),
        totals=at_steps(batch_major.get("totals", ones)),
        few=at_steps(batch_major.get("few", tf.zeros_like(ones, tf.bool))),
        valid=tf.broadcast_to(valid[None], [batch, count, length]),
        recurrent_mask=tf.broadcast_to(mask[:, None], [batch, count, tf.shape(h0)[-1]]),
        outputs=at_steps(batch_major["outputs"]) if "carried" in batch_major else None,
    )


def credited_memories(memory, keys, ids, records, weights, kernel, bias, settings):
    """The carried memories and keys, with credit for the calls that wrote them.

    The values are those given; their gradient goes, by
    `records_backward`, to the weights that wrote them.

    Args:
        memory: `(batch, slots, units)`, the kept memories, oldest first.
        keys: `(batch, slots, attention_units)`, their keys.
        ids: int32 `(batch, slots)`, their stream ids (-1: empty slot).
        records: `StreamRecords` of the kept memories.
        weights: `StepWeights` of tensors.
        kernel: `(features, 4 * units)`, the input kernel.
        bias: `(4 * units,)` or `None`.
        settings: `StepSettings`.

    Returns:
        `(memory, keys)`.
    """
    named = {"kernel": kernel, "bias": bias, **weights._asdict()}
    present = [name for name, tensor in named.items() if tensor is not None]

    @tf.custom_gradient
    def credited(memory, keys, *tensors):
        step_weights = weights._replace(
            **{name: tensor for name, tensor in zip(present, tensors) if name in weights._fields}
        )
        given = dict(zip(present, tensors))

        def gradient(d_memory, d_keys):
            weight_grads = records_backward(
                records,
                ids,
                memory,
                keys,
                d_memory,
                d_keys,
                step_weights,
                given["kernel"],
                given.get("bias"),
                settings,
            )
            return [tf.zeros_like(memory), tf.zeros_like(keys)] + [
                tf.cast(weight_grads[name], given[name].dtype) for name in present
            ]

        return (tf.identity(memory), tf.identity(keys)), gradient

    return credited(memory, keys, *[named[name] for name in present])


def records_backward(records, ids, memory, keys, d_memory, d_keys, weights, kernel, bias, settings):
    """Back-propagates the gradient of kept memories into the records.

    Newest memory first: the gradient of memory `j` (and of its key) joins
    the state at its write step and runs back through its record's steps;
    what those steps' reads send to older kept memories joins theirs. A read
    memory no longer kept gets nothing, and its score no gradient.

    Args:
        records: `StreamRecords` of the kept memories.
        ids: int32 `(batch, slots)`, the kept memories' stream ids, ascending.
        memory, keys: the kept buffers.
        d_memory, d_keys: their gradients.
        weights: `StepWeights`.
        kernel, bias: the input projection (`bias` may be `None`), in any
            float dtype: their gradients are returned in it.
        settings: `StepSettings`.

    Returns:
        Dict of the gradients of `kernel`, `bias` (if any) and every
        `StepWeights` entry present, by name.
    """
    dtype = records.h_prev.dtype
    wide = memory.dtype
    slots = memory.shape[1]
    named = {"kernel": kernel, "bias": bias, **weights._asdict()}
    weights = weights._replace(recurrent_kernel=tf.cast(weights.recurrent_kernel, dtype))
    # Summed over every record's steps: kept wide.
    weight_grads = {
        name: tf.zeros(t.shape, wide_dtype(t.dtype)) for name, t in named.items() if t is not None
    }

    def padded(buffer):
        # One more slot, all zeros, for the read memories no longer kept.
        return tf.pad(buffer, [[0, 0], [0, 1], [0, 0]])

    memory_plus, keys_plus = padded(memory), padded(keys)

    def time_major(name, field):
        """Memory `j`'s slice of a record field, steps first (the recurrent
        mask has no steps; a field the read leaves empty stays `None`)."""
        if field is None or name == "recurrent_mask":
            return field
        return tf.transpose(field, [1, 0, *range(2, len(field.shape))])

    def record(j):
        """Memory `j`'s record, time-major."""
        return StreamRecords(
            *[
                time_major(name, None if field is None else field[:, j])
                for name, field in records._asdict().items()
            ]
        )

    def body(i, d_memory, d_keys, weight_grads):
        j = slots - 1 - i  # Newest memory first.
        weight_grads = dict(weight_grads)
        rec = record(j)
        d_written = write_gradient(
            weights, weight_grads, memory[:, j], d_memory[:, j], d_keys[:, j]
        )
        inputs = tf.cast(rec.inputs, dtype)
        h_in = rec.h_prev * rec.recurrent_mask
        # As the call computed it (`SABCell.project_inputs`, `lstm_step`).
        z = input_projection(inputs, kernel, bias) + tf.matmul(h_in, weights.recurrent_kernel)
        h_hat, derivatives = lstm_derivatives(z, rec.c_prev, settings.activations)
        outputs = rec.outputs
        if outputs is None:
            outputs = tf.concat([rec.h_prev[1:], tf.cast(memory[None, :, j], dtype)], axis=0)
        # Where each read memory is kept, if it is.
        match = tf.equal(rec.chosen[..., None], ids[None, :, None, :])
        present = tf.reduce_any(match, axis=-1)
        positions = tf.where(present, tf.argmax(tf.cast(match, tf.int32), -1, tf.int32), slots)
        length = tf.shape(rec.valid)[0]
        steps = {
            "d_out": tf.tensor_scatter_nd_add(
                tf.zeros(tf.shape(h_hat), wide), [[length - 1]], d_written[None]
            ),
            "d_c_in": tf.zeros(tf.shape(h_hat), wide),
            "kept": rec.valid[:, :, None],
            "derivatives": derivatives,
            "query": step_query(weights, h_hat),
            "chosen": positions,
            "chosen_w": rec.chosen_w,
            "totals": rec.totals,
            "few": rec.few,
            "read": outputs - h_hat,
            "present": tf.cast(present, wide),
        }
        zeros = tf.zeros_like(d_written)
        _, _, run_grads, stacked = steps_backward(
            settings, weights, rec.recurrent_mask, memory_plus, keys_plus, steps, zeros, zeros
        )
        add_step_weight_gradients(weight_grads, h_in, h_hat, stacked, run_grads)
        d_z = tf.cast(stacked[0], wide)
        weight_grads["kernel"] += tf.einsum("tbf,tbv->fv", tf.cast(inputs, wide), d_z)
        if "bias" in weight_grads:
            weight_grads["bias"] += tf.reduce_sum(d_z, axis=[0, 1])
        d_memory = flush_gradients(d_memory, positions, stacked[2])
        d_keys = flush_gradients(d_keys, positions, stacked[3])
        return i + 1, d_memory, d_keys, weight_grads

    # Every slot, held or empty (an empty one adds zeros), counting up from 0:
    # a loop whose trip count XLA knows at any `max_memories`.
    _, _, _, weight_grads = tf.while_loop(
        lambda i, *_: i < slots,
        body,
        (tf.constant(0), padded(d_memory), padded(d_keys), weight_grads),
    )
    return weight_grads
