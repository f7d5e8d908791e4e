"""The fused, memory-lean SAB sequence op (SPEC §7).

Autodiff through a loop that carries the memory as state saves the whole
memory buffer at every step: activation memory grows quadratically in the
sequence length. This op runs the whole sequence behind one
`tf.custom_gradient`. Its forward loop keeps, per step, only what the backward
needs: `(h_{t-1}, c_{t-1})`, the selected slots and their weights, and the
top-k threshold; plus the final memory and key buffers (a slot is written
once, so the final buffer holds every memory's value). Its backward is a
reverse loop that recomputes each step from those, back-propagates into the
selected memories only, adds each memory's accumulated gradient to the state
at its write step, and drops the recurrent gradient at truncation
boundaries. Memory then grows linearly in T, like a plain LSTM.

The step math is the same code as `SABCell`'s (`lstm_step`, `read_memory`,
the sparsifier); only the loop and the bookkeeping are here.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf

from keras_sab.attention_scorer import memory_keys
from keras_sab.lstm_core import lstm_step
from keras_sab.sab_cell import StepWeights
from keras_sab.sab_cell import attend
from keras_sab.sparse_attention import attention_weights
from keras_sab.sparse_attention import dense_attention_weights
from keras_sab.sparse_attention import top_k_threshold
from keras_sab.sparse_attention import weights_from_threshold


def _gather_slots(buffer, slots):
    """`buffer[b, slots[b, j]]` for `buffer (B, M, D)`, `slots (B, K)`."""
    return tf.gather(buffer, slots, batch_dims=1)


def _scatter_add_slots(buffer, slots, values):
    """Adds `values (B, K, D)` into `buffer (B, M, D)` at `slots (B, K)`."""
    one_hot = tf.one_hot(slots, tf.shape(buffer)[1], dtype=buffer.dtype)
    return tf.ensure_shape(
        buffer + tf.einsum("bkm,bkd->bmd", one_hot, values), buffer.shape
    )


def _write_slot(buffer, slot, value):
    """`buffer[:, slot] = value` for a scalar `slot`."""
    batch = tf.shape(buffer)[0]
    indices = tf.stack([tf.range(batch), tf.fill([batch], slot)], axis=-1)
    return tf.tensor_scatter_nd_update(buffer, indices, value)


def _zero_unless(condition, tensor):
    return tf.where(condition, tensor, tf.zeros_like(tensor))


def fused_sab_sequence(
    projected, h0, c0, weights, settings, slots, return_attention=False
):
    """Runs SAB over a whole sequence with the memory-lean gradient.

    Args:
        projected: `(timesteps, batch, 4 * units)`, time-major `x W + b`.
        h0: `(batch, units)` initial hidden state.
        c0: `(batch, units)` initial cell state.
        weights: `StepWeights` of tensors (not variables).
        settings: `StepSettings`.
        slots: Python int or scalar tensor, memory capacity, `>= k_top + 1`
            (see `memory_slots`).
        return_attention: whether to assemble the attention weights.
            Defaults to `False`.

    Returns:
        `(outputs, h, c, attention)`: the time-major outputs
        `(timesteps, batch, units)`, the final `h` and `c`, and the attention
        weights `(timesteps, batch, slots)` (without gradient), or `None`
        unless `return_attention`.
    """
    k_top, k_att, k_trunc, mode = settings
    if k_top == 0:
        weights = StepWeights(weights.recurrent_kernel, *[None] * 4)
    sequence = _FusedSequence(
        k_top, k_att, k_trunc, mode, slots, tf.shape(projected)[1]
    )
    present = [w for w in weights if w is not None]
    outputs, h, c, chosen, chosen_w = tf.custom_gradient(sequence.forward)(
        projected, h0, c0, *present
    )
    attention = None
    if return_attention:
        one_hot = tf.one_hot(chosen, slots, dtype=chosen_w.dtype)
        attention = tf.stop_gradient(tf.einsum("tbk,tbkm->tbm", chosen_w, one_hot))
    return outputs, h, c, attention


class _FusedSequence:
    """The forward and backward loops of `fused_sab_sequence`."""

    def __init__(self, k_top, k_att, k_trunc, mode, slots, batch):
        self.k_top, self.k_att, self.k_trunc = k_top, k_att, k_trunc
        self.attend = k_top > 0
        self.dense = mode == "dense"
        self.mode = mode
        self.slots = slots
        self.batch = batch

    def readable_at(self, t):
        """Slots readable at (0-based) step `t`, `(batch, slots)`."""
        readable = tf.range(self.slots) < t // self.k_att
        return tf.broadcast_to(readable, [self.batch, self.slots])

    def forward(self, projected, h0, c0, recurrent_kernel, *attention_weights_):
        weights = StepWeights(recurrent_kernel, *(attention_weights_ or [None] * 4))
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        dtype = projected.dtype
        key_units = weights.memory_kernel.shape[-1] if self.attend else 1
        memory = tf.zeros([self.batch, self.slots, h0.shape[-1]], dtype)
        keys = tf.zeros([self.batch, self.slots, key_units], dtype)
        kept = self.slots if self.dense else self.k_top
        arrays = (
            [tf.TensorArray(dtype, size=timesteps) for _ in range(3)]
            + [tf.TensorArray(tf.int32, size=timesteps)]
            + [tf.TensorArray(dtype, size=timesteps) for _ in range(2)]
        )

        def body(t, h, c, memory, keys, arrays):
            h_hat, c_new = lstm_step(projected[t], h, c, recurrent_kernel)
            chosen = tf.zeros([self.batch, kept], tf.int32)
            chosen_w = tf.zeros([self.batch, kept], dtype)
            threshold = tf.zeros([self.batch, 1], dtype)
            h_new = h_hat
            if self.attend:
                readable = self.readable_at(t)
                h_new, attention, scores = attend(
                    weights,
                    h_hat,
                    memory,
                    keys,
                    lambda s: attention_weights(s, readable, self.k_top, self.mode),
                )
                if self.dense:
                    chosen_w = attention
                    chosen += tf.range(self.slots)
                else:
                    chosen_w, chosen = tf.math.top_k(attention, k=self.k_top)
                    threshold, _ = top_k_threshold(scores, readable, self.k_top)
                memory, keys = self.write(t, h_new, memory, keys, weights)
            saved = (h_new, h, c, chosen, chosen_w, threshold)
            arrays = [a.write(t, v) for a, v in zip(arrays, saved)]
            return t + 1, h_new, c_new, memory, keys, arrays

        _, h, c, memory, keys, arrays = tf.while_loop(
            lambda t, *_: t < timesteps,
            body,
            (tf.constant(0), h0, c0, memory, keys, arrays),
            maximum_iterations=timesteps,
        )
        outputs, h_prev, c_prev, chosen, chosen_w, thresholds = [
            a.stack() for a in arrays
        ]
        saved = (projected, h_prev, c_prev, chosen, chosen_w, thresholds, memory, keys)

        def backward(d_outputs, d_h, d_c, *_):
            return self.backward(weights, saved, d_outputs, d_h, d_c)

        return (outputs, h, c, chosen, chosen_w), backward

    def write(self, t, h, memory, keys, weights):
        """Writes `h` and its key into the memory at write steps."""
        slot = (t + 1) // self.k_att - 1
        key = memory_keys(h, weights.memory_kernel, weights.attention_bias)
        return tf.cond(
            (t + 1) % self.k_att == 0,
            lambda: (_write_slot(memory, slot, h), _write_slot(keys, slot, key)),
            lambda: (memory, keys),
        )

    def recomputed_weights(self, t, chosen_w, threshold):
        """The weights of step `t` as a function of the chosen slots' scores,
        differentiable exactly as in the forward pass."""
        if self.dense:
            readable = self.readable_at(t)
            return lambda scores: dense_attention_weights(scores, readable)
        if self.k_top == 1:
            return lambda scores: chosen_w
        few = t // self.k_att <= self.k_top
        everything = tf.ones_like(chosen_w, tf.bool)
        return lambda scores: tf.where(
            few, chosen_w, weights_from_threshold(scores, threshold, everything)
        )

    def backward(self, weights, saved, d_outputs, d_h, d_c):
        projected, h_prev, c_prev, chosen, chosen_w, thresholds, memory, keys = saved
        timesteps = projected.shape[0] or tf.shape(projected)[0]
        trainable = [w for w in weights if w is not None]
        # Gradients of W_m and b enter at write steps, not through the tape.
        taped = [0, 1, 4] if self.attend else [0]

        def body(t, d_h, d_c, d_memory, d_keys, d_projected, d_weights):
            if self.k_trunc is not None:
                kept = (t + 1) % self.k_trunc != 0
                d_h, d_c = _zero_unless(kept, d_h), _zero_unless(kept, d_c)
            d_h += d_outputs[t]
            d_weights = list(d_weights)
            if self.attend:
                write = (t + 1) % self.k_att == 0
                slot = tf.maximum((t + 1) // self.k_att - 1, 0)
                key_grad = _zero_unless(write, d_keys[:, slot])
                d_h += _zero_unless(write, d_memory[:, slot]) + tf.matmul(
                    key_grad, weights.memory_kernel, transpose_b=True
                )
                d_weights[2] += tf.matmul(memory[:, slot], key_grad, transpose_a=True)
                d_weights[3] += tf.reduce_sum(key_grad, axis=0)
            with tf.GradientTape() as tape:
                sources = [projected[t], h_prev[t], c_prev[t]]
                sources += [trainable[i] for i in taped]
                if self.attend:
                    sources += [
                        _gather_slots(memory, chosen[t]),
                        _gather_slots(keys, chosen[t]),
                    ]
                tape.watch(sources)
                h_new, c_new = lstm_step(*sources[:3], sources[3])
                if self.attend:
                    step_weights = weights._replace(
                        query_kernel=sources[4], attention_vector=sources[5]
                    )
                    h_new, _, _ = attend(
                        step_weights,
                        h_new,
                        sources[6],
                        sources[7],
                        self.recomputed_weights(t, chosen_w[t], thresholds[t]),
                    )
            grads = tape.gradient(
                [h_new, c_new],
                sources,
                output_gradients=[d_h, d_c],
                unconnected_gradients=tf.UnconnectedGradients.ZERO,
            )
            d_x, d_h, d_c = grads[:3]
            for i, g in zip(taped, grads[3 : 3 + len(taped)]):
                d_weights[i] += g
            if self.attend:
                d_memory = _scatter_add_slots(d_memory, chosen[t], grads[-2])
                d_keys = _scatter_add_slots(d_keys, chosen[t], grads[-1])
            return t - 1, d_h, d_c, d_memory, d_keys, d_projected.write(t, d_x), d_weights

        d_h = tf.zeros_like(h_prev[0]) if d_h is None else d_h
        d_c = tf.zeros_like(c_prev[0]) if d_c is None else d_c
        _, d_h0, d_c0, _, _, d_projected, d_weights = tf.while_loop(
            lambda t, *_: t >= 0,
            body,
            (
                timesteps - 1,
                d_h,
                d_c,
                tf.zeros_like(memory),
                tf.zeros_like(keys),
                tf.TensorArray(projected.dtype, size=timesteps),
                [tf.zeros_like(w) for w in trainable],
            ),
            maximum_iterations=timesteps,
        )
        return [d_projected.stack(), d_h0, d_c0] + list(d_weights)
