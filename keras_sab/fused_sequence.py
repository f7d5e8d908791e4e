"""The fused, memory-lean SAB sequence op (ALGORITHM.md §7).

Autodiff through a loop that carries the memory as state saves the whole
memory buffer at every step: activation memory grows quadratically in the
sequence length. This op runs the whole sequence behind one
`tf.custom_gradient`. Its forward loop keeps, per step, only what the backward
needs: `c_{t-1}` (`h_{t-1}` is the previous output), the selected slots,
their weights and the top-k normaliser; plus the final memory and key
buffers (a slot is written once, so the final buffer holds every memory's
value). Its backward is a reverse loop
that recomputes each step, back-propagates into the selected memories only,
adds each memory's accumulated gradient to the state at its write step, and
drops the recurrent gradient at truncation boundaries. Activation memory then
grows linearly in T, like a plain LSTM's.

Both loops run over blocks of `k_att` steps, the unit in which SAB writes
its memory: within a block the memory is loop-invariant, the number of
readable slots is fixed, the LSTM gates are recomputed for the whole block
with one matrix product, memory gradients are flushed to the buffer once,
and the weight gradients are one matrix product per block.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import tensorflow as tf

from keras_sab.attention_scorer import key_gradients
from keras_sab.attention_scorer import query_gradient
from keras_sab.attention_scorer import query_slopes
from keras_sab.lstm_core import lstm_backward
from keras_sab.lstm_core import lstm_derivatives
from keras_sab.lstm_core import lstm_step
from keras_sab.memory_buffer import write_memory
from keras_sab.precision import wide_dtype
from keras_sab.sab_step import SELECTION_STEPS
from keras_sab.sab_step import StepWeights
from keras_sab.sab_step import gather_slots
from keras_sab.sab_step import read_memories
from keras_sab.sab_step import saved_per_step
from keras_sab.sab_step import step_query
from keras_sab.sab_step import step_values
from keras_sab.sparse_attention import Selection
from keras_sab.sparse_attention import scores_gradient

FusedRun = collections.namedtuple(
    "FusedRun", ["outputs", "h", "c", "memory", "keys", "written", "steps"]
)
FusedRun.__doc__ = """What `fused_sab_sequence` returns.

Fields:
    outputs: `(timesteps, batch, units)`, time-major outputs.
    h, c: `(batch, units)`, the final states.
    memory, keys, written: the final buffers and memory count (no gradient).
    steps: dict of the per-step values the forward saved, time-major and
        without gradient: `c_prev`, and with attention the step's
        `Selection` fields `chosen` (but in `"dense"`), `chosen_w`, and in
        `"sparse"` `totals` and `few`.
"""


def fused_sab_sequence(
    projected, h0, c0, memory, weights, settings, lengths=None, recurrent_mask=None
):
    """Runs SAB over a whole sequence with the memory-lean gradient.

    Args:
        projected: `(timesteps, batch, 4 * units)`, time-major `x W + b`.
        h0: `(batch, units)` initial hidden state.
        c0: `(batch, units)` initial cell state.
        memory: `(memory, keys, written)`: the buffers `(batch, slots,
            units)` and `(batch, slots, attention_units)` (the scorer's
            dtype), `slots >= k_top + 1` (see `memory_slots`), and int32
            `(batch,)` the number of memories they already hold (zeros for an
            empty memory). Those memories, from earlier calls of a stream,
            are readable from the first step; the gradient that reaches them
            is passed on to the buffers (a stream's records turn it into
            credit for the calls that wrote them). This call's memories
            follow them.
        weights: `StepWeights` of tensors (not variables).
        settings: `StepSettings`.
        lengths: optional int32 `(batch,)`: row `b` runs its first
            `lengths[b]` steps; the later ones are masked (the state is kept,
            nothing is written, the output repeats `h`), as right padding.
            Defaults to `None` (every step runs).
        recurrent_mask: optional `(batch, units)` recurrent dropout mask,
            the same at every step. Defaults to `None`.

    Returns:
        A `FusedRun`.
    """
    memory_in, keys_in, written = memory
    written = tf.stop_gradient(written)
    slots = memory_in.shape[1] or tf.shape(memory_in)[1]
    sequence = _FusedSequence(
        settings, slots, tf.shape(projected)[1], lengths, written, projected.dtype,
        recurrent_mask,
    )
    present = [weights.recurrent_kernel]
    if sequence.attend:
        present += [w for w in weights[1:] if w is not None]
    outputs, h, c, final_memory, final_keys, *steps = tf.custom_gradient(sequence.forward)(
        memory_in, keys_in, projected, h0, c0, *present
    )
    timesteps = tf.shape(projected)[0]
    run = timesteps if lengths is None else lengths
    if settings.k_top > 0:
        written = written + run // settings.k_att
    return FusedRun(
        outputs,
        h,
        c,
        tf.stop_gradient(final_memory),
        tf.stop_gradient(final_keys),
        written,
        {name: tf.stop_gradient(x) for name, x in zip(list(sequence.saved)[1:], steps)},
    )


# What the backward gets: the initial `h`, the per-step tensors (see
# `_FusedSequence.saved`), then the final memory and keys, and the projected
# inputs.
_Saved = collections.namedtuple(
    "_Saved",
    [
        "h0",
        "outputs",
        "c_prev",
        "chosen",
        "chosen_w",
        "totals",
        "few",
        "memory",
        "keys",
        "projected",
    ],
)


class _FusedSequence:
    """The forward and backward loops of `fused_sab_sequence`."""

    def __init__(self, settings, slots, batch, lengths, written, dtype, recurrent_mask=None):
        self.settings = settings
        self.k_top = settings.k_top
        self.k_att = settings.k_att
        self.k_trunc = settings.k_trunc
        self.attend = self.k_top > 0
        self.slots = slots
        self.batch = batch
        self.lengths = None if lengths is None else lengths[:, None]
        # Memories written before the first step, per row.
        self.written = written
        self.recurrent_mask = recurrent_mask
        # What each step saves, by name, with its dtype.
        self.saved = saved_per_step(settings, dtype)

    def active(self, t):
        """`(batch, 1)` bool, the rows that run step `t`; `None` without lengths."""
        return None if self.lengths is None else t < self.lengths

    def readable(self, block):
        """`(batch, slots)`, the slots readable in block `block`: those
        written before it."""
        return tf.range(self.slots)[None, :] < (self.written + block)[:, None]

    def slot(self, block):
        """`(batch,)`, the slot that block `block` writes."""
        return tf.minimum(self.written + block, self.slots - 1)

    def forward(self, memory, keys, projected, h0, c0, recurrent_kernel, *attention_tensors):
        # The attention weights in `StepWeights` order; the last two,
        # `attention_bias` and `attention_vector`, are absent with the
        # dot-product scorer. The recurrent kernel is used in the compute
        # dtype; its gradient, summed wide, is returned in its own.
        padding = [None] * (len(StepWeights._fields) - 1 - len(attention_tensors))
        given_dtypes = [w.dtype for w in (recurrent_kernel, *attention_tensors)]
        recurrent_kernel = tf.cast(recurrent_kernel, projected.dtype)
        weights = StepWeights(recurrent_kernel, *attention_tensors, *padding)
        settings = self.settings
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        blocks = (timesteps + self.k_att - 1) // self.k_att
        # Every block runs `k_att` steps, so that XLA knows each loop's trip
        # count (a GPU then needs no host round trip per iteration); the
        # steps past the last one are masked, and dropped at the end.
        arrays = {
            name: tf.TensorArray(dtype, size=blocks * self.k_att)
            for name, dtype in self.saved.items()
        }
        ragged = self.lengths is not None or not (
            isinstance(timesteps, int) and timesteps % self.k_att == 0
        )

        def step(t, h, c, arrays, readable, memory, keys):
            h_hat, c_new = lstm_step(
                tf.gather(projected, tf.minimum(t, timesteps - 1)),
                h,
                c,
                recurrent_kernel,
                settings.activations,
                self.recurrent_mask,
            )
            h_new, selection = h_hat, None
            if self.attend:
                h_new, selection = read_memories(weights, settings, h_hat, memory, keys, readable)
            active = self.active(t) if self.lengths is not None else t < timesteps
            if ragged:
                # A masked step keeps the state; its output repeats `h`. It
                # may write its kept state to a slot: no later step of the
                # row reads it (the row's steps run left-aligned).
                h_new = tf.where(active, h_new, h)
                c_new = tf.where(active, c_new, c)
            saved = step_values(h_new, c, selection)
            arrays = {name: a.write(t, saved[name]) for name, a in arrays.items()}
            return h_new, c_new, arrays

        def block_body(block, h, c, memory, keys, arrays):
            start = block * self.k_att
            stop = tf.minimum(start + self.k_att, timesteps)
            readable = self.readable(block)

            def inner(i, h, c, arrays):
                h, c, arrays = step(start + i, h, c, arrays, readable, memory, keys)
                return i + 1, h, c, arrays

            _, h, c, arrays = tf.while_loop(
                lambda i, *_: i < self.k_att, inner, (tf.constant(0), h, c, arrays)
            )
            if self.attend:
                full = tf.fill([self.batch], stop - start == self.k_att)
                memory, keys = write_memory(
                    memory,
                    keys,
                    self.slot(block),
                    h,
                    weights.memory_kernel,
                    weights.attention_bias,
                    full,
                )
            return block + 1, h, c, memory, keys, arrays

        _, h, c, memory_out, keys_out, arrays = tf.while_loop(
            lambda block, *_: block < blocks,
            block_body,
            (tf.constant(0), h0, c0, memory, keys, arrays),
        )
        stacked = {name: a.stack()[:timesteps] for name, a in arrays.items()}
        saved = _Saved(
            h0,
            memory=memory_out,
            keys=keys_out,
            projected=projected,
            **{name: stacked.get(name) for name in _Saved._fields[1:7]},
        )

        def backward(d_outputs, d_h, d_c, *_):
            return self.backward(weights, given_dtypes, saved, d_outputs, d_h, d_c)

        results = (stacked["outputs"], h, c, memory_out, keys_out)
        return results + tuple(stacked[name] for name in list(self.saved)[1:]), backward

    def backward(self, weights, given_dtypes, saved, d_outputs, d_h_final, d_c_final):
        """The gradients of the inputs of `forward`, in its order: the
        incoming memory and keys, the projected inputs, `h0`, `c0`, then the
        weights present (in `given_dtypes`)."""
        attend, k_att = self.attend, self.k_att
        memory, keys, projected = saved.memory, saved.keys, saved.projected
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        blocks = (timesteps + k_att - 1) // k_att
        dtype = projected.dtype
        # The gradients carried back and summed are kept wide.
        wide = wide_dtype(dtype)
        d_outputs, d_h_final, d_c_final = [
            tf.zeros(like.shape, wide) if grad is None else tf.cast(grad, wide)
            for grad, like in (
                (d_outputs, saved.outputs),
                (d_h_final, saved.h0),
                (d_c_final, saved.h0),
            )
        ]
        per_step = {"projected": projected, "c_prev": saved.c_prev, "d_out": d_outputs}
        per_step.update(
            (name, getattr(saved, name))
            for name in SELECTION_STEPS
            if getattr(saved, name) is not None
        )
        units = saved.h0.shape[-1]
        mask = self.recurrent_mask

        def block_slices(block):
            """Every per-step tensor for the `k_att` steps of `block`, by name:
            the saved ones, `h_prev`, the gradients arriving from outside
            (`d_out`, and `d_c_in`: `d_c_final` at step T-1) and `kept`,
            whether the recurrent gradient passes on to the step before
            (`False` at a truncation cut; `None` without truncation). The last
            block may run past T: those steps repeat step T-1's values but
            receive no gradient, so they contribute nothing."""
            steps = block * k_att + tf.range(k_att)
            clamped = tf.minimum(steps, timesteps - 1)
            pieces = {name: tf.gather(x, clamped) for name, x in per_step.items()}
            real = (steps < timesteps)[:, None, None]
            last = (steps == timesteps - 1)[:, None, None]
            zeros = tf.zeros_like(pieces["d_out"])
            pieces["d_out"] = tf.where(real, pieces["d_out"], zeros) + tf.where(
                last, d_h_final, zeros
            )
            pieces["d_c_in"] = tf.where(last, d_c_final, zeros)
            h_prev = tf.gather(saved.outputs, tf.maximum(clamped - 1, 0))
            pieces["h_prev"] = tf.where((steps == 0)[:, None, None], saved.h0, h_prev)
            pieces["kept"] = None
            if self.k_trunc is not None:
                kept = ((steps + 1) % self.k_trunc != 0)[:, None, None]
                if self.lengths is not None:
                    # No cut before a masked step: it keeps the state.
                    kept = kept | ~self.active(steps[:, None, None] + 1)
                pieces["kept"] = kept
            pieces["active"] = self.active(steps[:, None, None])
            return pieces

        def block_body(block, d_h, d_c, d_memory, d_keys, d_projected, weight_grads):
            start = block * k_att
            pieces = block_slices(block)
            h_prev_b, c_prev_b, d_out_b = pieces["h_prev"], pieces["c_prev"], pieces["d_out"]
            h_in_b = h_prev_b if mask is None else h_prev_b * mask
            z = pieces["projected"] + tf.einsum("tbu,uv->tbv", h_in_b, weights.recurrent_kernel)
            h_hat, derivatives = lstm_derivatives(z, c_prev_b, self.settings.activations)
            weight_grads = dict(weight_grads)
            written = start + k_att <= timesteps
            zeros = tf.zeros_like(d_h)
            if attend:
                slot = self.slot(block)

                def at_slot(buffer):
                    return tf.gather(buffer, slot, axis=1, batch_dims=1)

                # The memory's gradient joins the state at the block's write step.
                d_written = write_gradient(
                    weights,
                    weight_grads,
                    at_slot(memory),
                    tf.where(written, at_slot(d_memory), zeros),
                    tf.where(written, at_slot(d_keys), tf.zeros_like(d_keys[:, 0])),
                )
                d_out_b = tf.tensor_scatter_nd_add(d_out_b, [[k_att - 1]], d_written[None])
            pieces.update(d_out=d_out_b, derivatives=derivatives)
            if attend:
                pieces["query"] = step_query(weights, h_hat)
            d_h, d_c, d_vector, stacked = steps_backward(
                self.settings, weights, mask, memory, keys, pieces, d_h, d_c
            )
            add_step_weight_gradients(weight_grads, h_in_b, h_hat, stacked, d_vector)
            if attend:
                chosen_b = pieces.get("chosen")
                d_memory = flush_gradients(d_memory, chosen_b, stacked[2])
                d_keys = flush_gradients(d_keys, chosen_b, stacked[3])
            d_z = stacked[0]
            return (
                block - 1,
                d_h,
                d_c,
                d_memory,
                d_keys,
                d_projected.write(block, d_z),
                weight_grads,
            )

        present = {name: w for name, w in weights._asdict().items() if w is not None}
        d_h = tf.zeros([self.batch, units], wide)
        _, d_h0, d_c0, d_memory, d_keys, d_projected, weight_grads = tf.while_loop(
            lambda block, *_: block >= 0,
            block_body,
            (
                blocks - 1,
                d_h,
                tf.zeros_like(d_h),
                tf.zeros_like(memory),
                tf.zeros_like(keys),
                tf.TensorArray(dtype, size=blocks),
                {name: tf.zeros(w.shape, wide_dtype(w.dtype)) for name, w in present.items()},
            ),
        )
        d_projected = tf.reshape(d_projected.stack(), [blocks * k_att, self.batch, 4 * units])[
            :timesteps
        ]
        # Only the memories held before the first step are inputs; the later
        # slots of the incoming buffers were overwritten.
        incoming = tf.range(self.slots)[None, :, None] < self.written[:, None, None]
        d_memory = tf.where(incoming, d_memory, tf.zeros_like(d_memory))
        d_keys = tf.where(incoming, d_keys, tf.zeros_like(d_keys))
        return [d_memory, d_keys, d_projected, tf.cast(d_h0, dtype), d_c0] + [
            tf.cast(weight_grads[name], given) for name, given in zip(present, given_dtypes)
        ]


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
        steps: dict of per-step tensors `(n, batch, ...)`: `d_out` and
            `d_c_in`, the gradients arriving from outside; `kept` (bool,
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
        `(d_h, d_c, d_vector, stacked)`: the gradients passed to the step
        before the run, the MLP scorer's vector's gradient (`None` without
        it), and the per-step `[d_z]` (in the compute dtype, that of the
        recurrent kernel), then with attention `d_query`, `d_read_m`,
        `d_read_k` (wide), each `(n, batch, ...)`.
    """
    attend = settings.k_top > 0
    dtype = d_h.dtype
    compute = weights.recurrent_kernel.dtype
    n = steps["d_out"].shape[0] or tf.shape(steps["d_out"])[0]
    array_dtypes = [compute]
    if attend:
        chosen = steps.get("chosen")
        read_m = _per_step_slots(memory, chosen, n)
        read_k = _per_step_slots(keys, chosen, n)
        slopes, hidden = query_slopes(steps["query"], read_k, weights.attention_vector)
        # `d_query`, the `d_h` the read received, the scores' gradient.
        array_dtypes += [slopes.dtype, dtype, slopes.dtype]
    arrays = [tf.TensorArray(d, size=n) for d in array_dtypes]

    def step(name, i):
        x = steps.get(name)
        return None if x is None else tf.gather(x, i)

    def inner(i, d_h, d_c, arrays):
        zeros = tf.zeros_like(d_h)
        kept, active = step("kept", i), step("active", i)
        if kept is not None:
            d_h = tf.where(kept, d_h, zeros)
            d_c = tf.where(kept, d_c, zeros)
        d_h += step("d_out", i)
        d_c += step("d_c_in", i)
        d_h_kept, d_c_kept = d_h, d_c
        if active is not None:
            d_h = tf.where(active, d_h, zeros)
            d_c = tf.where(active, d_c, zeros)
        outputs = []
        if attend:
            selection = Selection(*[step(name, i) for name in SELECTION_STEPS])
            read = step("read", i)
            weighted_sum = None
            if read is not None:
                weighted_sum = tf.reduce_sum(tf.cast(read, dtype) * d_h, axis=-1, keepdims=True)
            present = step("present", i)
            d_w, weighted_sum = read_gradient_weights(
                d_h, selection, tf.gather(read_m, i), weighted_sum, present
            )
            d_scores = scores_gradient(
                d_w, selection, settings.k_top, settings.attention, settings.temperature,
                weighted_sum,
            )
            if present is not None:
                d_scores *= present
            d_query = query_gradient(d_scores, tf.gather(slopes, i))
            outputs = [d_query, d_h, d_scores]
            d_h += tf.cast(tf.matmul(d_query, weights.query_kernel, transpose_b=True), dtype)
        d_z, d_c = lstm_backward(d_h, d_c, [tf.gather(x, i) for x in steps["derivatives"]])
        d_z = tf.cast(d_z, compute)
        d_h = tf.matmul(d_z, weights.recurrent_kernel, transpose_b=True)
        if recurrent_mask is not None:
            d_h *= recurrent_mask
        d_h = tf.cast(d_h, dtype)
        if active is not None:
            d_h = tf.where(active, d_h, d_h_kept)
            d_c = tf.where(active, d_c, d_c_kept)
        arrays = [a.write(i, v) for a, v in zip(arrays, [d_z] + outputs)]
        return i - 1, d_h, d_c, arrays

    _, d_h, d_c, arrays = tf.while_loop(
        lambda i, *_: i >= 0, inner, (n - 1, d_h, d_c, arrays)
    )
    stacked = [a.stack() for a in arrays]
    if not attend:
        return d_h, d_c, None, stacked
    d_z, d_query, d_h_read, d_scores = stacked
    d_read_m = tf.cast(steps["chosen_w"], dtype)[..., None] * d_h_read[:, :, None, :]
    d_read_k, d_vector = key_gradients(
        d_scores, steps["query"], slopes, hidden, weights.attention_vector
    )
    return d_h, d_c, d_vector, [d_z, d_query, d_read_m, d_read_k]


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


def add_step_weight_gradients(weight_grads, h_in, h_hat, stacked, d_vector):
    """Adds a run of steps' share to the recurrent weights' gradients.

    Args:
        weight_grads: dict of weight gradients (wide), updated in place.
        h_in: `(n, batch, units)`, `h_{t-1}` as it entered the recurrent
            product (after recurrent dropout).
        h_hat: `(n, batch, units)`, the LSTM's provisional states.
        stacked, d_vector: what `steps_backward` returned.
    """
    weight_grads["recurrent_kernel"] += tf.cast(
        tf.einsum("tbu,tbv->uv", h_in, stacked[0]), weight_grads["recurrent_kernel"].dtype
    )
    if len(stacked) > 1:
        d_query = stacked[1]
        weight_grads["query_kernel"] += tf.einsum(
            "tbu,tba->ua", tf.cast(h_hat, d_query.dtype), d_query
        )
    if d_vector is not None:
        weight_grads["attention_vector"] += d_vector


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
