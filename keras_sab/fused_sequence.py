"""The fused, memory-lean SAB sequence op (ALGORITHM.md §7).

Autodiff through a loop that carries the memory as state saves the whole
memory buffer at every step: activation memory grows quadratically in the
sequence length. This op runs the whole sequence behind one
`tf.custom_gradient`. Its forward loop keeps, per step, only what the backward
needs: `c_{t-1}` (`h_{t-1}` is the previous output, or with
`read="projected"` the carried state, saved beside it), the selected slots,
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

from keras_sab.lstm_core import lstm_derivatives
from keras_sab.lstm_core import lstm_step
from keras_sab.memory_buffer import write_memory
from keras_sab.precision import wide_dtype
from keras_sab.sab_step import SELECTION_STEPS
from keras_sab.sab_step import StepWeights
from keras_sab.sab_step import memory_read
from keras_sab.sab_step import read_into_state
from keras_sab.sab_step import saved_per_step
from keras_sab.sab_step import skipped_read
from keras_sab.sab_step import step_query
from keras_sab.sab_step import step_values
from keras_sab.steps_backward import add_step_weight_gradients
from keras_sab.steps_backward import flush_gradients
from keras_sab.steps_backward import steps_backward
from keras_sab.steps_backward import write_gradient
from keras_sab.write_schedule import memories_written
from keras_sab.write_schedule import write_step

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
            nothing is written, the output repeats the previous one), as right padding.
            Defaults to `None` (every step runs).
        recurrent_mask: optional `(batch, units)` recurrent dropout mask,
            the same at every step. Defaults to `None`.

    Returns:
        A `FusedRun`.
    """
    memory_in, keys_in, written = memory
    written = tf.stop_gradient(written)
    slots = memory_in.shape[1] or tf.shape(memory_in)[1]
    # The weights the op differentiates, in `StepWeights` order.
    present = {
        name: w
        for name, w in weights._asdict().items()
        if w is not None and (settings.k_top > 0 or name == "recurrent_kernel")
    }
    sequence = _FusedSequence(
        settings, slots, tf.shape(projected)[1], lengths, written, projected.dtype,
        list(present), recurrent_mask,
    )
    outputs, h, c, final_memory, final_keys, *steps = tf.custom_gradient(sequence.forward)(
        memory_in, keys_in, projected, h0, c0, *present.values()
    )
    if settings.k_top > 0:
        run_lengths = sequence.run_lengths(tf.shape(projected)[0])
        written = written + memories_written(run_lengths, settings.k_att)
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
# `_FusedSequence.saved`; `carried` is `None` with the paper's read), then the
# final memory and keys, and the projected inputs.
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
        "carried",
        "memory",
        "keys",
        "projected",
    ],
)


class _FusedSequence:
    """The forward and backward loops of `fused_sab_sequence`."""

    def __init__(
        self, settings, slots, batch, lengths, written, dtype, weight_names, recurrent_mask=None
    ):
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
        # The `StepWeights` fields `forward` is given, in order.
        self.weight_names = weight_names
        # What each step saves, by name, with its dtype.
        self.saved = saved_per_step(settings, dtype)

    def active(self, t):
        """`(batch, 1)` bool, the rows that run step `t`; `None` without lengths."""
        return None if self.lengths is None else t < self.lengths

    def run_lengths(self, timesteps):
        """`(batch,)`, the steps each row runs."""
        if self.lengths is None:
            return tf.fill([self.batch], timesteps)
        return self.lengths[:, 0]

    def writes(self, block, timesteps):
        """`(batch,)` bool, the rows that write a memory at the end of block
        `block` (`write_schedule.write_step`): those that run its last step."""
        return write_step(block, self.k_att) < self.run_lengths(timesteps)

    def readable(self, block):
        """`(batch, slots)`, the slots readable in block `block`: those
        written before it."""
        return tf.range(self.slots)[None, :] < (self.written + block)[:, None]

    def slot(self, block):
        """`(batch,)`, the slot that block `block` writes."""
        return tf.minimum(self.written + block, self.slots - 1)

    def forward(self, memory, keys, projected, h0, c0, *weight_tensors):
        # The `StepWeights` present, named by `weight_names`. The recurrent
        # kernel is used in the compute dtype; its gradient, summed wide, is
        # returned in its own.
        given_dtypes = [w.dtype for w in weight_tensors]
        weights = StepWeights(
            **{**dict.fromkeys(StepWeights._fields), **dict(zip(self.weight_names, weight_tensors))}
        )
        recurrent_kernel = tf.cast(weights.recurrent_kernel, projected.dtype)
        weights = weights._replace(recurrent_kernel=recurrent_kernel)
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

        def step(t, h, c, output, arrays, readable, memory, keys):
            h_hat, c_new = lstm_step(
                tf.gather(projected, tf.minimum(t, timesteps - 1)),
                h,
                c,
                recurrent_kernel,
                settings.activations,
                self.recurrent_mask,
            )
            output_new = h_new = h_hat
            selection = None
            if self.attend:
                read, selection = memory_read(weights, settings, h_hat, memory, keys, readable)
                output_new, h_new = read_into_state(weights, h_hat, read)
            active = self.active(t) if self.lengths is not None else t < timesteps
            if ragged:
                # A masked step keeps the state; its output repeats the
                # previous one. It may write that output to a slot: no
                # later step of the row reads it (the row's steps run
                # left-aligned).
                h_new = tf.where(active, h_new, h)
                c_new = tf.where(active, c_new, c)
                output_new = tf.where(active, output_new, output)
                selection = skipped_read(selection, active)
            saved = step_values(output_new, c, selection, h_new if "carried" in arrays else None)
            arrays = {name: a.write(t, saved[name]) for name, a in arrays.items()}
            return h_new, c_new, output_new, arrays

        def block_body(block, h, c, output, memory, keys, arrays):
            start = block * self.k_att
            readable = self.readable(block)

            def inner(i, h, c, output, arrays):
                h, c, output, arrays = step(
                    start + i, h, c, output, arrays, readable, memory, keys
                )
                return i + 1, h, c, output, arrays

            _, h, c, output, arrays = tf.while_loop(
                lambda i, *_: i < self.k_att, inner, (tf.constant(0), h, c, output, arrays)
            )
            if self.attend:
                memory, keys = write_memory(
                    memory,
                    keys,
                    self.slot(block),
                    output,
                    weights.memory_kernel,
                    weights.attention_bias,
                    self.writes(block, timesteps),
                )
            return block + 1, h, c, output, memory, keys, arrays

        # Before the first step, the output is the initial state (a row
        # that runs no step outputs `h0`).
        _, h, c, _, memory_out, keys_out, arrays = tf.while_loop(
            lambda block, *_: block < blocks,
            block_body,
            (tf.constant(0), h0, c0, h0, memory, keys, arrays),
        )
        stacked = {name: a.stack()[:timesteps] for name, a in arrays.items()}
        saved = _Saved(
            h0,
            memory=memory_out,
            keys=keys_out,
            projected=projected,
            **{name: stacked.get(name) for name in _Saved._fields[1:8]},
        )

        def backward(d_outputs, d_h, d_c, *_):
            return self.backward(weights, given_dtypes, saved, d_outputs, d_h, d_c)

        results = (stacked["outputs"], h, c, memory_out, keys_out)
        return results + tuple(stacked[name] for name in list(self.saved)[1:]), backward

    def gathered_output_gradients(self, d_outputs, timesteps):
        """The outputs' gradients `(timesteps, batch, units)` with those of
        each row's masked steps moved to the output they repeat: the row's
        last step that ran, or `h0` before any. Returns them and `h0`'s
        share `(batch, units)`."""
        steps = tf.range(timesteps)[:, None, None]
        lengths = self.lengths[None]
        repeated = tf.reduce_sum(
            tf.where(steps >= lengths, d_outputs, tf.zeros_like(d_outputs)), axis=0
        )
        d_outputs = tf.where(steps < lengths, d_outputs, tf.zeros_like(d_outputs))
        d_outputs += tf.where(steps == lengths - 1, repeated[None], tf.zeros_like(d_outputs))
        return d_outputs, tf.where(self.lengths == 0, repeated, tf.zeros_like(repeated))

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
        d_h0_outputs = None
        if self.lengths is not None:
            d_outputs, d_h0_outputs = self.gathered_output_gradients(d_outputs, timesteps)
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
            (`d_out`, and `d_h_in`, `d_c_in`: the final states' at step T-1) and `kept`,
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
            pieces["d_out"] = tf.where(real, pieces["d_out"], zeros)
            d_h_in = tf.where(last, d_h_final, zeros)
            if saved.carried is None:
                # The paper's read carries its output: one gradient.
                pieces["d_out"] += d_h_in
            else:
                pieces["d_h_in"] = d_h_in
            pieces["d_c_in"] = tf.where(last, d_c_final, zeros)
            carried = saved.outputs if saved.carried is None else saved.carried
            h_prev = tf.gather(carried, tf.maximum(clamped - 1, 0))
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

        def block_body(i, d_h, d_c, d_memory, d_keys, d_projected, weight_grads):
            block = blocks - 1 - i  # The blocks run last to first.
            pieces = block_slices(block)
            h_prev_b, c_prev_b, d_out_b = pieces["h_prev"], pieces["c_prev"], pieces["d_out"]
            h_in_b = h_prev_b if mask is None else h_prev_b * mask
            z = pieces["projected"] + tf.einsum("tbu,uv->tbv", h_in_b, weights.recurrent_kernel)
            h_hat, derivatives = lstm_derivatives(z, c_prev_b, self.settings.activations)
            weight_grads = dict(weight_grads)
            written = self.writes(block, timesteps)[:, None]
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
            d_h, d_c, extra, stacked = steps_backward(
                self.settings, weights, mask, memory, keys, pieces, d_h, d_c
            )
            add_step_weight_gradients(weight_grads, h_in_b, h_hat, stacked, extra)
            if attend:
                chosen_b = pieces.get("chosen")
                d_memory = flush_gradients(d_memory, chosen_b, stacked[2])
                d_keys = flush_gradients(d_keys, chosen_b, stacked[3])
            d_z = stacked[0]
            return (
                i + 1,
                d_h,
                d_c,
                d_memory,
                d_keys,
                d_projected.write(block, d_z),
                weight_grads,
            )

        present = {name: getattr(weights, name) for name in self.weight_names}
        d_h = tf.zeros([self.batch, units], wide)
        # Counting up from 0, so that XLA knows the trip count at any length.
        _, d_h0, d_c0, d_memory, d_keys, d_projected, weight_grads = tf.while_loop(
            lambda i, *_: i < blocks,
            block_body,
            (
                tf.constant(0),
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
        if d_h0_outputs is not None:
            d_h0 += d_h0_outputs
        return [d_memory, d_keys, d_projected, tf.cast(d_h0, dtype), d_c0] + [
            tf.cast(weight_grads[name], given) for name, given in zip(present, given_dtypes)
        ]

