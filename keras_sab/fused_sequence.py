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

from keras_sab.attention_scorer import memory_keys
from keras_sab.attention_scorer import memory_scores_gradient
from keras_sab.attention_scorer import scorer_dtype
from keras_sab.lstm_core import lstm_step
from keras_sab.sab_cell import StepWeights
from keras_sab.sab_cell import attend
from keras_sab.sab_cell import score_memories
from keras_sab.sparse_attention import dense_attention_weights
from keras_sab.sparse_attention import scores_gradient
from keras_sab.sparse_attention import sparse_top_k
from keras_sab.sparse_attention import top_k_softmax


def fused_sab_sequence(
    projected, h0, c0, memory, weights, settings, return_attention=False, lengths=None
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
            empty memory). Those memories, from earlier calls, are readable
            from the first step and constants for differentiation; this
            call's memories follow them.
        weights: `StepWeights` of tensors (not variables).
        settings: `StepSettings`.
        return_attention: whether to assemble the attention weights.
            Defaults to `False`.
        lengths: optional int32 `(batch,)`: row `b` runs its first
            `lengths[b]` steps; the later ones are masked (the state is kept,
            nothing is written, the output repeats `h`), as right padding.
            Defaults to `None` (every step runs).

    Returns:
        `(outputs, h, c, attention, memory)`: the time-major outputs
        `(timesteps, batch, units)`, the final `h` and `c`, the attention
        weights `(timesteps, batch, slots)` (in the scorer's dtype, without
        gradient) or `None` unless `return_attention`, and the final
        `(memory, keys, written)` (without gradient).
    """
    memory = [tf.stop_gradient(part) for part in memory]
    slots = memory[0].shape[1] or tf.shape(memory[0])[1]
    sequence = _FusedSequence(settings, slots, tf.shape(projected)[1], lengths, memory[2])
    present = [weights.recurrent_kernel]
    if sequence.attend:
        present += [w for w in weights[1:] if w is not None]
    outputs, h, c, chosen, chosen_w, final_memory, final_keys = tf.custom_gradient(
        lambda *args: sequence.forward(*memory[:2], *args)
    )(projected, h0, c0, *present)
    attention = None
    if return_attention:
        if sequence.dense:
            attention = chosen_w
        else:
            one_hot = tf.one_hot(chosen, slots, dtype=chosen_w.dtype)
            attention = tf.einsum("tbk,tbkm->tbm", chosen_w, one_hot)
        attention = tf.stop_gradient(attention)
    timesteps = tf.shape(projected)[0]
    run = timesteps if lengths is None else lengths
    written = memory[2] + (run // settings.k_att if settings.k_top > 0 else 0)
    final = tuple(tf.stop_gradient(part) for part in (final_memory, final_keys, written))
    return outputs, h, c, attention, final


# What the forward loop keeps per step: the output, `c_{t-1}` and, with
# attention, the selected slots (not in "dense", which weighs every slot), their
# weights and ("sparse" only) the top-k normaliser; `None` where not kept.
_PER_STEP = ("outputs", "c_prev", "chosen", "chosen_w", "totals")
# What the backward gets: the initial `h`, the per-step tensors, then the final
# memory and keys, and the projected inputs.
_Saved = collections.namedtuple("_Saved", ["h0", *_PER_STEP, "memory", "keys", "projected"])


def _gates(projected, h_prev, c_prev, recurrent_kernel):
    """LSTM gates and states for many steps at once (all arguments `(n, ...)`)."""
    z = projected + tf.einsum("tbu,uv->tbv", h_prev, recurrent_kernel)
    z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
    i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_g), tf.sigmoid(z_o)
    c = f * c_prev + i * g
    tanh_c = tf.tanh(c)
    return (i, f, g, o), tanh_c, o * tanh_c


def _lstm_derivatives(gates, tanh_c, c_prev):
    """The local derivatives of LSTM steps, computed for many steps at once
    (all arguments `(n, ...)`), so that `_lstm_backward` only multiplies:
    `∂c_t/∂h_t`, `∂z_{i,f,g}/∂c_t` (concatenated), `∂z_o/∂h_t` and `f`."""
    i, f, g, o = gates
    return (
        o * (1.0 - tanh_c * tanh_c),
        tf.concat([g * i * (1.0 - i), c_prev * f * (1.0 - f), i * (1.0 - g * g)], axis=-1),
        tanh_c * o * (1.0 - o),
        f,
    )


def _lstm_backward(d_h, d_c, derivatives):
    """Gradients of one LSTM step, given its `_lstm_derivatives`:
    pre-activations `dz` and `dc_{t-1}`."""
    dc_dh, dz_dc, dz_dh, f = derivatives
    d_c = d_c + d_h * dc_dh
    d_z = tf.concat([tf.tile(d_c, [1, 3]) * dz_dc, d_h * dz_dh], axis=-1)
    return d_z, d_c * f


class _FusedSequence:
    """The forward and backward loops of `fused_sab_sequence`."""

    def __init__(self, settings, slots, batch, lengths, written):
        self.k_top = settings.k_top
        self.k_att = settings.k_att
        self.k_trunc = settings.k_trunc
        self.temperature = settings.temperature
        self.attend = self.k_top > 0
        self.attention = settings.attention
        self.dense = settings.attention == "dense"
        self.softmax = settings.attention == "sparse_softmax"
        self.slots = slots
        self.batch = batch
        self.lengths = None if lengths is None else lengths[:, None]
        # Memories written before the first step, per row.
        self.written = written

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
        # dot-product scorer.
        padding = [None] * (len(StepWeights._fields) - 1 - len(attention_tensors))
        weights = StepWeights(recurrent_kernel, *attention_tensors, *padding)
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        dtype = projected.dtype
        score_dtype = scorer_dtype(dtype)
        kept = self.slots if self.dense else self.k_top
        # What each step saves, by name: the selected slots unless every slot
        # is weighed ("dense"), and the normaliser of the paper's rule only.
        names = ["outputs", "c_prev"]
        if self.attend:
            names += ["chosen_w"] if self.dense else ["chosen", "chosen_w"]
            names += ["totals"] if self.attention == "sparse" else []
        array_dtypes = {"chosen": tf.int32, "chosen_w": score_dtype, "totals": score_dtype}
        arrays = {
            name: tf.TensorArray(array_dtypes.get(name, dtype), size=timesteps)
            for name in names
        }

        def step(t, h, c, arrays, readable, memory, keys):
            h_hat, c_new = lstm_step(tf.gather(projected, t), h, c, recurrent_kernel)
            h_new, saved = h_hat, {"c_prev": c}
            if self.dense:
                h_new, saved["chosen_w"] = attend(
                    weights, h_hat, memory, keys,
                    lambda s: dense_attention_weights(s, readable, self.temperature),
                )
            elif self.attend:
                scores = score_memories(weights, h_hat, keys)
                if self.softmax:
                    chosen, chosen_w = top_k_softmax(
                        scores, readable, self.k_top, self.temperature
                    )
                else:
                    top = sparse_top_k(scores, readable, self.k_top)
                    chosen, chosen_w, saved["totals"] = top.indices, top.weights, top.total
                h_new = h_hat + tf.reduce_sum(
                    tf.cast(chosen_w, dtype)[:, :, None] * self.gather(memory, chosen),
                    axis=1,
                )
                saved.update(chosen=chosen, chosen_w=chosen_w)
            saved["outputs"] = h_new
            active = self.active(t)
            if active is not None:
                # A masked step keeps the state; its output repeats `h`. It
                # may write its kept state to a slot: no later step of the
                # row reads it (the row's steps run left-aligned).
                h_new = tf.where(active, h_new, h)
                c_new = tf.where(active, c_new, c)
                saved["outputs"] = h_new
            arrays = {name: a.write(t, saved[name]) for name, a in arrays.items()}
            return h_new, c_new, arrays

        def block_body(block, h, c, memory, keys, arrays):
            start = block * self.k_att
            stop = tf.minimum(start + self.k_att, timesteps)
            readable = self.readable(block)

            def inner(t, h, c, arrays):
                h, c, arrays = step(t, h, c, arrays, readable, memory, keys)
                return t + 1, h, c, arrays

            _, h, c, arrays = tf.while_loop(
                lambda t, *_: t < stop, inner, (start, h, c, arrays),
                maximum_iterations=self.k_att,
            )
            if self.attend:
                memory, keys = tf.cond(
                    stop - start == self.k_att,
                    lambda: (
                        _write_slot(memory, self.slot(block), h),
                        _write_slot(
                            keys,
                            self.slot(block),
                            memory_keys(
                                tf.cast(h, score_dtype),
                                weights.memory_kernel,
                                weights.attention_bias,
                            ),
                        ),
                    ),
                    lambda: (memory, keys),
                )
            return block + 1, h, c, memory, keys, arrays

        blocks = (timesteps + self.k_att - 1) // self.k_att
        _, h, c, memory, keys, arrays = tf.while_loop(
            lambda block, *_: block < blocks,
            block_body,
            (tf.constant(0), h0, c0, memory, keys, arrays),
            maximum_iterations=blocks,
        )
        stacked = {name: a.stack() for name, a in arrays.items()}
        saved = _Saved(
            h0, memory=memory, keys=keys, projected=projected,
            **{name: stacked.get(name) for name in _PER_STEP},
        )
        outputs = stacked["outputs"]
        chosen = stacked.get("chosen", tf.zeros([timesteps, self.batch, 0], tf.int32))
        chosen_w = stacked.get("chosen_w", tf.zeros([timesteps, self.batch, kept], score_dtype))

        def backward(d_outputs, d_h, d_c, *_):
            return self.backward(weights, saved, d_outputs, d_h, d_c)

        return (outputs, h, c, chosen, chosen_w, memory, keys), backward

    def attention_backward(self, weights, d_h, query, memory, keys, chosen,
                           chosen_w, total, few):
        """Gradients of `h = ĥ + Σ_j w_j m_j` for one step.

        Returns `(d_h_hat, d_query, d_read_memories, d_read_keys, d_vector)`,
        the memory and key gradients for the read slots only; `d_vector` is
        `None` with the dot-product scorer, which has no vector. Everything from
        the weights' gradient on is in the scorer's dtype.
        """
        dtype = d_h.dtype
        if self.dense:
            read_m, read_k = memory, keys
        else:
            read_m = self.gather(memory, chosen)
            read_k = self.gather(keys, chosen)
        d_read_m = tf.cast(chosen_w, dtype)[:, :, None] * d_h[:, None, :]
        if self.k_top == 1 and not self.dense:
            # The lone weight is a constant (see `sparse_top_k`; a softmax of
            # one score is 1): scores get no gradient.
            zeros = tf.zeros_like(read_k)
            d_vector = None if weights.attention_vector is None else zeros[0, 0]
            return d_h, tf.zeros_like(query), d_read_m, zeros, d_vector
        d_w = tf.cast(tf.reduce_sum(read_m * d_h[:, None, :], axis=-1), query.dtype)
        d_scores = scores_gradient(
            d_w, chosen_w, self.attention, self.temperature, total=total, few=few
        )
        d_query, d_read_k, d_vector = memory_scores_gradient(
            d_scores, query, read_k, weights.attention_vector
        )
        d_h_hat = d_h + tf.cast(
            tf.matmul(d_query, weights.query_kernel, transpose_b=True), dtype
        )
        return d_h_hat, d_query, d_read_m, d_read_k, d_vector

    def backward(self, weights, saved, d_outputs, d_h_final, d_c_final):
        """The gradients of the inputs of `forward`, in its order: the
        projected inputs, `h0`, `c0`, then the weights present."""
        attend, k_att = self.attend, self.k_att
        memory, keys, projected = saved.memory, saved.keys, saved.projected
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        blocks = (timesteps + k_att - 1) // k_att
        d_outputs, d_h_final, d_c_final = [
            tf.zeros_like(like) if grad is None else grad
            for grad, like in (
                (d_outputs, saved.outputs), (d_h_final, saved.h0), (d_c_final, saved.h0)
            )
        ]
        per_step = {"projected": projected, "c_prev": saved.c_prev, "d_out": d_outputs}
        per_step.update(
            (name, getattr(saved, name))
            for name in ("chosen", "chosen_w", "totals")
            if getattr(saved, name) is not None
        )
        dtype = projected.dtype
        score_dtype = scorer_dtype(dtype)
        units = saved.h0.shape[-1]

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
            return pieces

        def block_body(block, d_h, d_c, d_memory, d_keys, d_projected, d_weights):
            start = block * k_att
            pieces = block_slices(block)
            h_prev_b, c_prev_b, d_out_b = pieces["h_prev"], pieces["c_prev"], pieces["d_out"]
            gates, tanh_c, h_hat = _gates(
                pieces["projected"], h_prev_b, c_prev_b, weights.recurrent_kernel
            )
            derivatives = _lstm_derivatives(gates, tanh_c, c_prev_b)
            d_weights = dict(d_weights)
            written = start + k_att <= timesteps
            kept_b, d_c_in_b = pieces["kept"], pieces["d_c_in"]
            zeros = tf.zeros_like(d_h)
            if attend:
                query = tf.einsum(
                    "tbu,ua->tba", tf.cast(h_hat, score_dtype), weights.query_kernel
                )
                chosen_b, chosen_w_b, totals_b = (
                    pieces.get(name) for name in ("chosen", "chosen_w", "totals")
                )
                few = (self.written + block <= self.k_top)[:, None]
                slot = self.slot(block)

                def at_slot(buffer):
                    return tf.gather(buffer, slot, axis=1, batch_dims=1)

                key_grad = tf.where(written, at_slot(d_keys), tf.zeros_like(d_keys[:, 0]))
                extra = tf.where(written, at_slot(d_memory), zeros) + tf.cast(
                    tf.matmul(key_grad, weights.memory_kernel, transpose_b=True), dtype
                )
                d_weights["memory_kernel"] += tf.matmul(
                    tf.cast(at_slot(memory), score_dtype), key_grad, transpose_a=True
                )
                if "attention_bias" in d_weights:
                    d_weights["attention_bias"] += tf.reduce_sum(key_grad, axis=0)
                # The memory's gradient joins the state at the block's write step.
                d_out_b = tf.tensor_scatter_nd_add(d_out_b, [[k_att - 1]], extra[None])
            # The MLP scorer's vector's gradient, summed over the block's steps.
            d_vector = (
                tf.zeros_like(d_weights["attention_vector"])
                if "attention_vector" in d_weights
                else tf.zeros([], dtype)
            )
            # d_z, then with attention d_query, d_read_m and d_read_k.
            array_dtypes = [dtype, score_dtype, dtype, score_dtype] if attend else [dtype]
            arrays = [tf.TensorArray(d, size=k_att) for d in array_dtypes]

            def step(x, i):
                return None if x is None else tf.gather(x, i)

            def inner(i, d_h, d_c, d_vector, arrays):
                active = self.active(start + i)
                if kept_b is not None:
                    kept = step(kept_b, i)
                    d_h = tf.where(kept, d_h, zeros)
                    d_c = tf.where(kept, d_c, zeros)
                d_h += step(d_out_b, i)
                d_c += step(d_c_in_b, i)
                d_h_kept, d_c_kept = d_h, d_c
                if active is not None:
                    # A masked step passes its gradient on unchanged and
                    # back-propagates nothing into the step itself.
                    d_h = tf.where(active, d_h, tf.zeros_like(d_h))
                    d_c = tf.where(active, d_c, tf.zeros_like(d_c))
                outputs = []
                if attend:
                    d_h, d_query, d_read_m, d_read_k, d_v = self.attention_backward(
                        weights, d_h, step(query, i), memory, keys, step(chosen_b, i),
                        step(chosen_w_b, i), step(totals_b, i), few,
                    )
                    if d_v is not None:
                        d_vector += d_v
                    outputs = [d_query, d_read_m, d_read_k]
                d_z, d_c = _lstm_backward(d_h, d_c, [step(x, i) for x in derivatives])
                d_h = tf.matmul(d_z, weights.recurrent_kernel, transpose_b=True)
                if active is not None:
                    d_h = tf.where(active, d_h, d_h_kept)
                    d_c = tf.where(active, d_c, d_c_kept)
                arrays = [a.write(i, v) for a, v in zip(arrays, [d_z] + outputs)]
                return i - 1, d_h, d_c, d_vector, arrays

            _, d_h, d_c, d_vector, arrays = tf.while_loop(
                lambda i, *_: i >= 0,
                inner,
                (tf.constant(k_att - 1), d_h, d_c, d_vector, arrays),
                maximum_iterations=k_att,
            )
            stacked = [a.stack() for a in arrays]
            d_z = stacked[0]
            d_weights["recurrent_kernel"] += tf.einsum("tbu,tbv->uv", h_prev_b, d_z)
            if attend:
                d_query, d_read_m, d_read_k = stacked[1:]
                d_weights["query_kernel"] += tf.einsum(
                    "tbu,tba->ua", tf.cast(h_hat, score_dtype), d_query
                )
                if "attention_vector" in d_weights:
                    d_weights["attention_vector"] += d_vector
                d_memory = self.flush(d_memory, chosen_b, d_read_m)
                d_keys = self.flush(d_keys, chosen_b, d_read_k)
            return (block - 1, d_h, d_c, d_memory, d_keys,
                    d_projected.write(block, d_z), d_weights)

        present = {name: w for name, w in weights._asdict().items() if w is not None}
        d_h = tf.zeros([self.batch, units], dtype)
        _, d_h0, d_c0, _, _, d_projected, d_weights = tf.while_loop(
            lambda block, *_: block >= 0,
            block_body,
            (
                blocks - 1,
                d_h,
                tf.zeros_like(d_h),
                tf.zeros_like(memory),
                tf.zeros_like(keys),
                tf.TensorArray(dtype, size=blocks),
                {name: tf.zeros_like(w) for name, w in present.items()},
            ),
            maximum_iterations=blocks,
        )
        d_projected = tf.reshape(
            d_projected.stack(), [blocks * k_att, self.batch, 4 * units]
        )[:timesteps]
        return [d_projected, d_h0, d_c0] + [d_weights[name] for name in present]

    def gather(self, buffer, chosen):
        """`buffer[b, chosen[b, j]]` for `buffer (B, M, D)`, `chosen (B, K)`."""
        return tf.gather(buffer, chosen, axis=1, batch_dims=1)

    def flush(self, buffer, chosen, values):
        """Adds a block's per-step gradients `values (k_att, B, K, D)` for the
        slots `chosen (k_att, B, K)` into `buffer (B, M, D)`."""
        if self.dense:
            return tf.ensure_shape(buffer + tf.reduce_sum(values, axis=0), buffer.shape)
        batch_index = tf.broadcast_to(tf.range(self.batch)[None, :, None], tf.shape(chosen))
        indices = tf.stack([batch_index, chosen], axis=-1)
        flushed = tf.tensor_scatter_nd_add(
            buffer,
            tf.reshape(indices, [-1, 2]),
            tf.reshape(values, [-1, tf.shape(values)[-1]]),
        )
        return tf.ensure_shape(flushed, buffer.shape)


def _write_slot(buffer, slot, value):
    """`buffer[b, slot[b]] = value[b]` for every row `b`."""
    batch = tf.shape(buffer)[0]
    indices = tf.stack([tf.range(batch), slot], axis=-1)
    return tf.tensor_scatter_nd_update(buffer, indices, value)
