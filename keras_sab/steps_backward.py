"""The backward of a run of consecutive SAB steps, and the math its callers share.

`steps_backward` back-propagates through a run of steps, last to first, in
one loop whose trip count XLA knows. Two callers run it: the fused op's
backward (`fused_sequence.py`), once per block of `k_att` steps, and a
stream's records (`stream_records.records_backward`), once per kept
memory's truncation block. Around it they share the rest of a run's
backward: the gradient a written memory and its key send to the state at
the write step (`write_gradient`), the run's share of the recurrent
weights' gradients (`add_step_weight_gradients`), and the read memories'
gradients added into the buffers (`flush_gradients`).

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf

from keras_sab.attention_scorer import key_gradients
from keras_sab.attention_scorer import query_gradient
from keras_sab.attention_scorer import query_slopes
from keras_sab.lstm_core import lstm_backward
from keras_sab.sab_step import SELECTION_STEPS
from keras_sab.sab_step import gather_slots
from keras_sab.sab_step import null_keys
from keras_sab.sparse_attention import Selection
from keras_sab.sparse_attention import null_score_gradient
from keras_sab.sparse_attention import scores_gradient


def read_gradient_weights(d_h, selection, read_m, weighted_sum=None, present=None):
    """The gradient of each read memory's attention weight, `g_j = ∂L/∂h ·
    m_j`, and `Σ_j w_j g_j` (see `sparse_attention.scores_gradient`).

    Args:
        d_h: `(batch, units)`, the gradient of the step's `h`.
        selection: the step's `Selection`.
        read_m: `(batch, k, units)`, the memories it read.
        weighted_sum: optional `(batch, 1)`, `Σ_j w_j g_j` taken as
            `∂L/∂h · (h − ĥ)`, for reads of memories whose values are
            unknown. Defaults to `None`.
        present: optional float `(batch, k)`, 0 for the read memories whose
            values are unknown (a stream's memory no longer kept). Defaults
            to `None`: all known.

    Returns:
        `(g, weighted_sum)`, in the scorer's dtype (`weighted_sum` is `None`
        when not given).
    """
    d_w = tf.cast(tf.reduce_sum(read_m * d_h[:, None, :], axis=-1), selection.weights.dtype)
    if weighted_sum is not None and present is not None:
        # `h − ĥ` carries the rounding of `h` (in a 16-bit compute dtype, far
        # more than the memories' own): where every read memory is known,
        # the sum is taken from them.
        known = tf.reduce_all(present > 0, axis=-1, keepdims=True)
        from_memories = tf.reduce_sum(selection.weights * d_w, axis=-1, keepdims=True)
        weighted_sum = tf.where(known, from_memories, tf.cast(weighted_sum, d_w.dtype))
    return d_w, weighted_sum


def _per_step_slots(buffer, chosen, steps):
    """`buffer (batch, slots, ...)` at the slots each step chose, `chosen
    (steps, batch, k)`: `(steps, batch, k, ...)`; the whole buffer at every
    step when `chosen` is `None`."""
    if chosen is None:
        return tf.broadcast_to(buffer[None], tf.concat([[steps], tf.shape(buffer)], 0))
    gathered = gather_slots(buffer, tf.transpose(chosen, [1, 0, 2]))
    return tf.transpose(gathered, [1, 0, *range(2, len(gathered.shape))])


def steps_backward(settings, weights, recurrent_mask, memory, keys, steps, d_h, d_c):
    """Back-propagates through a run of consecutive steps, last to first.

    The step loop of the fused backward (a block of `k_att` steps) and of a
    stream's records (a memory's truncation block): per step, the gradient
    from outside joins, the attention read and the LSTM are
    back-propagated, and the recurrent gradient passes to the step before
    unless a cut stops it. What does not depend on the gradient (the read
    memories and keys, the scorer's slopes) is computed for the whole run
    before the loop, and what the loop does not need (the memories' and
    keys' gradients, the scorer vector's) after it, so that each step runs
    only what the recurrence needs.

    Args:
        settings: `StepSettings`.
        weights: `StepWeights`.
        recurrent_mask: `(batch, units)` recurrent dropout mask, or `None`.
        memory, keys: the buffers the steps read.
        steps: dict of per-step tensors `(n, batch, ...)`: `d_out`, the
            outputs' gradients, `d_c_in` and optionally `d_h_in`, those of the
            carried states, arriving from outside; `kept` (bool,
            whether the gradient from the next step passes into this one;
            `None`: always), `active` (bool; `None`: all; an inactive step
            passes its gradient on unchanged and back-propagates nothing),
            `derivatives` (`lstm_derivatives`), and with attention `query`,
            the `Selection` fields `chosen`, `chosen_w`, `totals`, `few`,
            and optionally `read` (`h - ĥ`, for a `weighted_sum`) and
            `present` (see `read_gradient_weights`).
        d_h, d_c: `(batch, units)`, the gradients arriving from the step
            after the run, in the compute dtype's `wide_dtype`, as are the
            `d_out`, `d_c_in` and `derivatives` and the memory: the
            gradients carried from step to step stay wide.

    Returns:
        `(d_h, d_c, weight_grads, stacked)`: the gradients passed to the
        step before the run, the run's gradients (wide) of the weights the
        loop does not see per step, by name (`attention_vector` with the MLP
        scorer, `attention_bias` with it and `null_slot`, `read_projection`
        with `read="projected"`), and the per-step
        `[d_z]` (in the compute dtype, that of the recurrent kernel), then
        with attention `d_query`, `d_read_m`, `d_read_k` (wide), each `(n,
        batch, ...)`.
    """
    attend = settings.k_top > 0
    dtype = d_h.dtype
    compute = weights.recurrent_kernel.dtype
    projection = None
    if attend and weights.read_projection is not None:
        projection = tf.cast(weights.read_projection, dtype)
    n = steps["d_out"].shape[0] or tf.shape(steps["d_out"])[0]
    array_dtypes = [compute]
    if attend:
        chosen = steps.get("chosen")
        read_m = _per_step_slots(memory, chosen, n)
        read_k = _per_step_slots(keys, chosen, n)
        # An empty memory's score moves with the query, `b` and `v` (the
        # dot-product scorer gives it 0 whatever the query): it is scored
        # as one more key, after the memories'.
        null_scored = settings.null_slot and weights.attention_vector is not None
        if null_scored:
            read_k = tf.concat(
                [read_k, tf.cast(null_keys(weights, steps["query"]), read_k.dtype)], axis=2
            )
        slopes, hidden = query_slopes(steps["query"], read_k, weights.attention_vector)
        # `d_query`, the read's gradient, the scores' gradient, and with
        # `read="projected"` the carried state's gradient.
        array_dtypes += [slopes.dtype, dtype, slopes.dtype]
        if projection is not None:
            array_dtypes.append(dtype)
    arrays = [tf.TensorArray(d, size=n) for d in array_dtypes]

    def step(name, t):
        x = steps.get(name)
        return None if x is None else tf.gather(x, t)

    def inner(i, d_h, d_c, arrays):
        t = n - 1 - i  # The steps run last to first.
        zeros = tf.zeros_like(d_h)
        kept, active = step("kept", t), step("active", t)
        if kept is not None:
            d_h = tf.where(kept, d_h, zeros)
            d_c = tf.where(kept, d_c, zeros)
        d_h_in = step("d_h_in", t)
        if d_h_in is not None:
            d_h += d_h_in
        # `d_h`, the carried state's gradient, and the output's join in `ĥ`.
        d_carried = d_h
        d_h += step("d_out", t)
        d_c += step("d_c_in", t)
        d_h_kept, d_c_kept = d_h, d_c
        if active is not None:
            d_h = tf.where(active, d_h, zeros)
            d_c = tf.where(active, d_c, zeros)
            d_carried = tf.where(active, d_carried, zeros)
        outputs = []
        if attend:
            d_read = d_h
            if projection is not None:
                # The read enters the output as it is, the carried state
                # through `A`.
                d_read = d_h - d_carried + tf.matmul(d_carried, projection, transpose_b=True)
            selection = Selection(*[step(name, t) for name in SELECTION_STEPS])
            read = step("read", t)
            weighted_sum = None
            if read is not None:
                weighted_sum = tf.reduce_sum(tf.cast(read, dtype) * d_read, axis=-1, keepdims=True)
            present = step("present", t)
            d_w, weighted_sum = read_gradient_weights(
                d_read, selection, tf.gather(read_m, t), weighted_sum, present
            )
            if null_scored and weighted_sum is None:
                weighted_sum = tf.reduce_sum(selection.weights * d_w, axis=-1, keepdims=True)
            d_scores = scores_gradient(
                d_w, selection, settings.k_top, settings.attention, settings.temperature,
                weighted_sum, settings.null_slot,
            )
            if present is not None:
                d_scores *= present
            if null_scored:
                d_null = null_score_gradient(selection.weights, weighted_sum, settings.temperature)
                d_scores = tf.concat([d_scores, d_null], axis=-1)
            d_query = query_gradient(d_scores, tf.gather(slopes, t))
            outputs = [d_query, d_read, d_scores]
            if projection is not None:
                outputs.append(d_carried)
            d_h += tf.cast(tf.matmul(d_query, weights.query_kernel, transpose_b=True), dtype)
        d_z, d_c = lstm_backward(d_h, d_c, [tf.gather(x, t) for x in steps["derivatives"]])
        d_z = tf.cast(d_z, compute)
        d_h = tf.matmul(d_z, weights.recurrent_kernel, transpose_b=True)
        if recurrent_mask is not None:
            d_h *= recurrent_mask
        d_h = tf.cast(d_h, dtype)
        if active is not None:
            d_h = tf.where(active, d_h, d_h_kept)
            d_c = tf.where(active, d_c, d_c_kept)
        arrays = [a.write(t, v) for a, v in zip(arrays, [d_z] + outputs)]
        return i + 1, d_h, d_c, arrays

    # Counting up from 0, so that XLA knows the trip count at any length.
    _, d_h, d_c, arrays = tf.while_loop(
        lambda i, *_: i < n, inner, (tf.constant(0), d_h, d_c, arrays)
    )
    stacked = [a.stack() for a in arrays]
    if not attend:
        return d_h, d_c, {}, stacked
    d_z, d_query, d_read, d_scores = stacked[:4]
    chosen_w = tf.cast(steps["chosen_w"], dtype)
    d_read_m = chosen_w[..., None] * d_read[:, :, None, :]
    d_read_k, d_vector = key_gradients(
        d_scores, steps["query"], slopes, hidden, weights.attention_vector
    )
    weight_grads = {}
    if d_vector is not None:
        weight_grads["attention_vector"] = d_vector
    if null_scored:
        # The empty memory's key is `b`.
        weight_grads["attention_bias"] = tf.reduce_sum(d_read_k[:, :, -1], axis=[0, 1])
        d_read_k = d_read_k[:, :, :-1]
    if projection is not None:
        # `∂L/∂A = Σ_t s_tᵀ ∂L/∂h_t`, with the reads `s_t = Σ_j w_j m_j`
        # (given as `read` where some read memories are unknown).
        if "read" in steps:
            reads = tf.cast(steps["read"], dtype)
        else:
            reads = tf.einsum("tbk,tbku->tbu", chosen_w, read_m)
        weight_grads["read_projection"] = tf.einsum("tbu,tbv->uv", reads, stacked[4])
    return d_h, d_c, weight_grads, [d_z, d_query, d_read_m, d_read_k]


def write_gradient(weights, weight_grads, memory, d_memory, d_keys):
    """The gradient a written memory and its key send to the state `h` at
    the write step, `(batch, units)`; adds the key's share to the memory
    kernel's (and bias's) gradient in `weight_grads`.

    Args:
        weights: `StepWeights`.
        weight_grads: dict of weight gradients, updated in place.
        memory: `(batch, units)`, the written memories.
        d_memory: `(batch, units)`, their gradient.
        d_keys: `(batch, attention_units)`, their keys' gradient.
    """
    weight_grads["memory_kernel"] += tf.matmul(
        tf.cast(memory, d_keys.dtype), d_keys, transpose_a=True
    )
    if "attention_bias" in weight_grads:
        weight_grads["attention_bias"] += tf.reduce_sum(d_keys, axis=0)
    return d_memory + tf.cast(
        tf.matmul(d_keys, weights.memory_kernel, transpose_b=True), d_memory.dtype
    )


def add_step_weight_gradients(weight_grads, h_in, h_hat, stacked, run_grads):
    """Adds a run of steps' share to the recurrent weights' gradients.

    Args:
        weight_grads: dict of weight gradients (wide), updated in place.
        h_in: `(n, batch, units)`, `h_{t-1}` as it entered the recurrent
            product (after recurrent dropout).
        h_hat: `(n, batch, units)`, the LSTM's provisional states.
        stacked, run_grads: what `steps_backward` returned.
    """
    weight_grads["recurrent_kernel"] += tf.cast(
        tf.einsum("tbu,tbv->uv", h_in, stacked[0]), weight_grads["recurrent_kernel"].dtype
    )
    if len(stacked) > 1:
        d_query = stacked[1]
        weight_grads["query_kernel"] += tf.einsum(
            "tbu,tba->ua", tf.cast(h_hat, d_query.dtype), d_query
        )
    for name, grad in run_grads.items():
        weight_grads[name] += tf.cast(grad, weight_grads[name].dtype)


def flush_gradients(buffer, chosen, values):
    """Adds per-step gradients `values (n, B, K, D)` for the slots `chosen
    (n, B, K)` into `buffer (B, M, D)` (every slot in order when `chosen` is
    `None`)."""
    if chosen is None:
        return tf.ensure_shape(buffer + tf.reduce_sum(values, axis=0), buffer.shape)
    shape = tf.shape(chosen)
    batch_index = tf.broadcast_to(tf.range(shape[1])[None, :, None], shape)
    indices = tf.stack([batch_index, chosen], axis=-1)
    flushed = tf.tensor_scatter_nd_add(
        buffer,
        tf.reshape(indices, [-1, 2]),
        tf.reshape(values, [-1, tf.shape(values)[-1]]),
    )
    return tf.ensure_shape(flushed, buffer.shape)
