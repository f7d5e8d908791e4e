"""One SAB step, as pure functions of the state, the input and the weights.

A step (ALGORITHM.md §2) runs the LSTM, lets its provisional state `ĥ_t`
attend to the memory of past states, keeps the `k_top` best memories, adds
their weighted sum to the state, and every `k_att` steps appends the state to
the memory. Gradients (ALGORITHM.md §4) cross from one step to the next except
at truncation boundaries (every `k_trunc` steps), and reach the memories only
through the selected links. `sab_step` is the whole step, with its routing,
for autodiff (`keras.layers.RNN(SABCell(...))` and `SAB(use_fused=False)`);
the fused path (`fused_sequence.py`) runs the same `lstm_step`,
`memory_read` and `read_into_state`, and writes with the same `write_memory`.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import tensorflow as tf

from keras_sab import defaults
from keras_sab.attention_scorer import memory_scores
from keras_sab.lstm_core import LSTM_ACTIVATIONS
from keras_sab.lstm_core import lstm_step
from keras_sab.memory_buffer import write_memory
from keras_sab.precision import wide_dtype
from keras_sab.sparse_attention import select_memories
from keras_sab.write_schedule import writes_now

SABState = collections.namedtuple("SABState", ["h", "c", "memory", "keys", "counters"])
SABState.__doc__ = """The recurrent state of SAB.

Fields:
    h: `(batch, units)` hidden state carried to the next step.
    c: `(batch, units)` LSTM cell state.
    memory: `(batch, slots, units)` fixed buffer of written outputs.
    keys: `(batch, slots, attention_units)` their keys `W_m m (+ b)`.

`h` is in the compute dtype; `c`, the memory and the keys in its
`precision.wide_dtype` (`keras.layers.RNN` casts them to the compute dtype
between steps).
    counters: `(batch, 3)`: steps since the last memory write, steps since
        the last truncation, and number of memories written.
"""

StepWeights = collections.namedtuple(
    "StepWeights",
    [
        "recurrent_kernel",
        "query_kernel",
        "memory_kernel",
        "attention_bias",
        "attention_vector",
        "read_projection",
    ],
    defaults=[None],
)
StepWeights.__doc__ = """The weights one step uses (the input projection is
applied beforehand). The recurrent kernel is in the variable dtype (cast to
the compute dtype where it is used). The four attention weights are `None`
when `k_top=0`, and of the scorer's dtype (`wide_dtype`) otherwise; `attention_bias` and
`attention_vector` are `None` with the dot-product scorer (see
`keras_sab.attention_scorer.memory_scores`). `read_projection` `(units,
units)`, in the compute dtype, is the matrix `A` of `read="projected"`
(see `read_into_state`), `None` with the paper's read (`read="add"`)."""

StepSettings = collections.namedtuple(
    "StepSettings",
    [
        "k_top",
        "k_att",
        "k_trunc",
        "attention",
        "temperature",
        "activations",
        "read",
        "null_slot",
    ],
    defaults=[
        defaults.ATTENTION,
        defaults.TEMPERATURE,
        LSTM_ACTIVATIONS,
        defaults.READ,
        defaults.NULL_SLOT,
    ],
)
StepSettings.__doc__ = """The hyper-parameters of a step: `k_top`, `k_att`,
`k_trunc` (`None`: no truncation), the attention mode, its temperature, the
LSTM's `LSTMActivations`, how the read enters the state (`"add"` or
`"projected"`, see `read_into_state`) and whether an empty memory may take
the read's weight (`null_slot`, see `memory_read`)."""


# The names under which a step's `Selection` fields are saved, in its
# fields' order.
SELECTION_STEPS = ("chosen", "chosen_w", "totals", "few")


def saved_per_step(settings, dtype):
    """What a loop saves of each step, for the fused backward and a stream's
    records: name -> dtype.

    The step's output (in `dtype`) and `c_{t-1}` (in its `wide_dtype`),
    with `read="projected"` the state `h_t` it carries on, and with attention its
    `Selection`: the selected slots unless every slot is weighed
    (`"dense"`), their weights, and the paper's rule's normaliser and few
    rows (`"sparse"` only).
    """
    score = wide_dtype(dtype)
    saved = {"outputs": tf.as_dtype(dtype), "c_prev": score}
    if settings.read == "projected" and settings.k_top > 0:
        # The state carried on differs from the output.
        saved["carried"] = tf.as_dtype(dtype)
    if settings.k_top > 0:
        if settings.attention != "dense":
            saved["chosen"] = tf.int32
        saved["chosen_w"] = score
        if settings.attention == "sparse":
            saved.update(totals=score, few=tf.bool)
    return saved


def step_values(output, c_prev, selection, carried=None):
    """One step's values as `saved_per_step` names them (`carried` only
    where it differs from the output)."""
    values = {"outputs": output, "c_prev": c_prev}
    if carried is not None:
        values["carried"] = carried
    if selection is not None:
        values.update(
            (name, value) for name, value in zip(SELECTION_STEPS, selection) if value is not None
        )
    return values


def initial_sab_state(batch_size, slots, units, attention_units, dtype):
    """Zero state with an empty memory of `slots` slots.

    Args:
        batch_size: int or scalar tensor.
        slots: int or scalar tensor, memory capacity.
        units: int, state width.
        attention_units: int, key width.
        dtype: the compute dtype, that of `h`; `c`, the memory and the keys
            are of `wide_dtype(dtype)`, the counters `int32`.

    Returns:
        A `SABState`.
    """
    wide = wide_dtype(dtype)
    return SABState(
        h=tf.zeros([batch_size, units], dtype),
        c=tf.zeros([batch_size, units], wide),
        memory=tf.zeros([batch_size, slots, units], wide),
        keys=tf.zeros([batch_size, slots, attention_units], wide),
        counters=tf.zeros([batch_size, 3], tf.int32),
    )


def step_query(weights, h_hat):
    """The step's query `W_q ĥ_t`, in the scorer's dtype."""
    return tf.matmul(tf.cast(h_hat, weights.query_kernel.dtype), weights.query_kernel)


def gather_slots(buffer, indices):
    """`buffer[b, indices[b, ..., j]]` for `buffer (batch, slots, ...)` and
    int32 `indices (batch, ..., k)`; the whole buffer when `indices` is
    `None`."""
    if indices is None:
        return buffer
    return tf.gather(buffer, indices, axis=1, batch_dims=1)


def null_keys(weights, query):
    """`(..., 1, attention_units)` for queries `(..., attention_units)`: the
    key of an empty memory, `W_m 0 + b` (zeros with the dot-product scorer,
    which has no `b`)."""
    keys = tf.zeros_like(query[..., None, :])
    return keys if weights.attention_bias is None else keys + weights.attention_bias


def memory_read(weights, settings, h_hat, memory, keys, readable):
    """The sparse attention read of `memory` by the provisional state.

    With `settings.null_slot`, an empty memory (a zero state, its key
    `null_keys`) is scored beside the memories, competes for their seats and
    shares their softmax (`sparse_attention.select_memories`): the weight it
    takes reads nothing, so the step may read less than a whole memory, or
    nothing.

    Args:
        weights: `StepWeights`.
        settings: `StepSettings`.
        h_hat: `(batch, units)`, the LSTM's provisional state `ĥ_t`.
        memory: `(batch, slots, units)`.
        keys: `(batch, slots, attention_units)`, their keys.
        readable: bool `(batch, slots)`, the slots written before this step.

    Returns:
        `(read, selection)`: the read `s_t = Σ_selected w_i m_i` `(batch,
        units)`, in the memory's dtype, and the
        `sparse_attention.Selection` (in the scorer's dtype).
    """
    query = step_query(weights, h_hat)
    scores = memory_scores(query, tf.cast(keys, query.dtype), weights.attention_vector)
    null_scores = None
    if settings.null_slot:
        null_scores = memory_scores(query, null_keys(weights, query), weights.attention_vector)
    selection = select_memories(
        scores, readable, settings.k_top, settings.attention, settings.temperature, null_scores
    )
    read = tf.matmul(
        tf.cast(selection.weights, memory.dtype)[:, None, :],
        gather_slots(memory, selection.indices),
    )
    return read[:, 0], selection


def read_into_state(weights, h_hat, read):
    """The step's output and the state it carries on, from `ĥ_t` and the read.

    The output `ĥ_t + s_t` is also what the step writes to memory. With the
    paper's read (`weights.read_projection` is `None`) the step carries the
    output on; with `read="projected"` it carries `ĥ_t + s_t A`, so that the
    read reaches the next step's gates through `A` (learned; from zero, the
    recurrence starts as the LSTM's).

    Args:
        weights: `StepWeights`.
        h_hat: `(batch, units)`, the LSTM's provisional state.
        read: `(batch, units)`, the read `s_t` (see `memory_read`).

    Returns:
        `(output, carried)`, in `h_hat`'s dtype (`carried` is `output` with
        the paper's read).
    """
    read = tf.cast(read, h_hat.dtype)
    output = h_hat + read
    if weights.read_projection is None:
        return output, output
    return output, h_hat + tf.matmul(read, weights.read_projection)


def sab_step(weights, settings, projected_input, state, step_mask=None, recurrent_mask=None):
    """One SAB step with its gradient routing: `(state, input, weights) ->
    (output, state)`.

    Args:
        weights: `StepWeights`.
        settings: `StepSettings`.
        projected_input: `(batch, 4 * units)`, `x_t W + b`.
        state: `SABState`; `counters` may be of any numeric dtype and is
            returned in the same dtype.
        step_mask: optional bool `(batch,)`; where `False` the step is
            skipped: the state is carried unchanged and the output is the
            carried `h` (the previous output, with the paper's read; `SAB`
            outputs the previous output with either read). Defaults to
            `None`.
        recurrent_mask: optional `(batch, units)` recurrent dropout mask.
            Defaults to `None`.

    Returns:
        A tuple `(output, new_state, selection)`: the step's output `h_t`
        `(batch, units)`, the `SABState` to carry to the next step, and the
        memories it read, a `sparse_attention.Selection` (weights zero at a
        masked step; `None` when `k_top` is 0).
    """
    counters = tf.cast(state.counters, tf.int32)
    since_write, since_cut, written = tf.unstack(counters, axis=-1)
    h_in, c_in = state.h, state.c
    if settings.k_trunc is not None:
        # A state that has crossed `k_trunc` steps since the last cut enters
        # this step without gradient (the cut falls between two blocks).
        cut = since_cut >= settings.k_trunc
        since_cut = tf.where(cut, 0, since_cut) + 1
        h_in = tf.where(cut[:, None], tf.stop_gradient(h_in), h_in)
        c_in = tf.where(cut[:, None], tf.stop_gradient(c_in), c_in)
    h_hat, c = lstm_step(
        projected_input,
        h_in,
        c_in,
        weights.recurrent_kernel,
        settings.activations,
        recurrent_mask,
    )
    slots = tf.shape(state.memory)[1]
    memory, keys = state.memory, state.keys
    since_write += 1
    write = writes_now(since_write, settings.k_att)
    since_write = tf.where(write, 0, since_write)
    if settings.k_top > 0:
        readable = tf.range(slots)[None, :] < written[:, None]
        read, selection = memory_read(weights, settings, h_hat, memory, keys, readable)
        output, h = read_into_state(weights, h_hat, read)
        # A write to a full memory is dropped.
        memory, keys = write_memory(
            memory,
            keys,
            tf.minimum(written, slots - 1),
            output,
            weights.memory_kernel,
            weights.attention_bias,
            write & (written < slots),
        )
    else:
        output = h = h_hat
        selection = None
    # Held at the capacity, so that the count stays within what a float16
    # state holds exactly.
    written = tf.minimum(written + tf.cast(write, tf.int32), slots)
    counters = tf.stack([since_write, since_cut, written], axis=-1)
    new_state = SABState(h, c, memory, keys, tf.cast(counters, state.counters.dtype))
    if step_mask is not None:
        new_state = SABState(
            *[
                tf.where(tf.reshape(step_mask, [-1] + [1] * (len(new.shape) - 1)), new, old)
                for new, old in zip(new_state, state)
            ]
        )
        output = tf.where(step_mask[:, None], output, state.h)
        selection = skipped_read(selection, step_mask[:, None])
    return output, new_state, selection


def skipped_read(selection, active):
    """`selection` with zero weights in the rows where `active` `(batch, 1)`
    is `False`: a masked step reads nothing (`None` stays `None`)."""
    if selection is None:
        return None
    weights = tf.where(active, selection.weights, tf.zeros_like(selection.weights))
    return selection._replace(weights=weights)
