"""`SAB`: the Sparse Attentive Backtracking layer (the whole sequence).

The layer owns the loops over time: the fused path (`fused_sequence.py`) and
the generic loop of `sab_step`. It sizes the memory from each input's length,
so one model runs on sequences of any length, including far longer than it
was trained on (ALGORITHM.md §6), and, when stateful, carries the state and
the memory from call to call.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import keras
import tensorflow as tf
from keras.src.utils import tracking

from keras_sab import defaults
from keras_sab import validation
from keras_sab.fused_sequence import fused_sab_sequence
from keras_sab.masked_steps import gather_steps
from keras_sab.masked_steps import left_aligned_order
from keras_sab.masked_steps import spread_steps
from keras_sab.memory_buffer import KEEP_POLICIES
from keras_sab.memory_buffer import memory_slots
from keras_sab.sab_cell import CELL_ARGUMENTS
from keras_sab.sab_cell import SABCell
from keras_sab.sab_step import SABState
from keras_sab.sab_step import initial_sab_state
from keras_sab.sab_step import sab_step
from keras_sab.sab_step import saved_per_step
from keras_sab.sab_step import step_values
from keras_sab.sparse_attention import Selection
from keras_sab.sparse_attention import selection_weights
from keras_sab.stream_state import StreamState
from keras_sab.stream_state import block_counters
from keras_sab.write_schedule import memories_written


@keras.saving.register_keras_serializable(package="keras_sab")
class SAB(keras.layers.Layer):
    """Sparse Attentive Backtracking: an LSTM with sparse memory attention.

    At each step the LSTM's provisional state attends to a memory of past
    states (one every `k_att` steps), keeps the `k_top` best-scoring
    memories and adds their weighted sum to its state. Gradients flow back
    only within blocks of `k_trunc` steps and through the selected memory
    links, so credit reaches far-away steps by "reminding" rather than by
    back-propagating through every step in between.

    The paper's baselines come from the same layer: `k_trunc=None` is full
    BPTT, `k_top=0` a plain LSTM with truncated BPTT (with `k_trunc=None`, an
    LSTM matching `keras.layers.LSTM` given the same weights), and
    `attention="dense", k_att=1, k_trunc=None` an LSTM with full
    self-attention. Every argument of `keras.layers.LSTM` is accepted with
    the LSTM's meaning, so `SAB` drops into a pipeline built for it.

    Args:
        units: Positive integer, dimensionality of the output space.
        k_top: Integer `>= 0`, memories attended to per step (`0`: none).
            With `1` the lone memory's weight is constant in the sparse
            modes, so the scorer gets no gradient: use 2 or more. Defaults
            to `5`.
        k_att: Integer `>= 1`, a state is written to memory every `k_att`
            steps. Defaults to `10`.
        k_trunc: Integer `>= 1` or `None`, length of the truncation blocks
            (`None`: no truncation). Defaults to `10`.
        attention: `"sparse_softmax"` (the `k_top` best memories, weighted
            by a softmax of their scores), `"sparse"` (the same memories,
            weighted by the paper's piecewise-linear rule) or `"dense"`
            (softmax over all memories); see `SABCell`. Defaults to
            `"sparse_softmax"`.
        temperature: Float `> 0`, the softmax modes' temperature (`1.0` with
            `attention="sparse"`). Defaults to `1.0`.
        attention_units: Integer `>= 1`, width of the scorer's queries and
            keys (the scoring MLP's hidden width). Defaults to `32`.
        scorer: `"mlp"` (the paper's additive scorer) or `"dot"` (a scaled
            dot product of query and key, cheaper: on a CPU under XLA it
            removes most of the cost that grows with T; not shown to learn as
            well); see `SABCell`. Defaults to `"mlp"`.
        read: `"add"` (the paper's step: the read is added to the state
            that is output, written to memory and carried on) or
            `"projected"` (the output and the memory get the read, the
            carried state gets it through a learned matrix that starts at
            `read_gain` times the identity); see `SABCell`. With
            `"projected"`, `return_state` returns the carried `h`, which
            differs from the last output. Defaults to `"add"`.
        read_gain: with `read="projected"`, the share of the read the
            carried state gets at the start (the matrix starts at
            `read_gain` times the identity; `None` or `0`: the LSTM's
            recurrence, `1`: the paper's step); see `SABCell`. Defaults to
            `None`.
        null_slot: whether an empty memory shares the read's softmax, so
            that a step can read less than a whole memory, or nothing; see
            `SABCell`. Defaults to `False`.
        activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, unit_forget_bias,
            kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint,
            dropout, recurrent_dropout, seed: as in `keras.layers.LSTM`, on
            both paths (see `SABCell`). The activations must be element-wise
            (every Keras activation but `"softmax"` and `"log_softmax"`).
        attention_initializer: Initializer for the scorer's weights. Defaults
            to `"glorot_uniform"`.
        activity_regularizer: Regularizer of the layer's output, as in
            `keras.layers.LSTM`. Defaults to `None`.
        return_sequences: Boolean, return the output of every step rather
            than only the last. Defaults to `False`.
        return_state: Boolean, also return the final `h` and `c`. Defaults
            to `False`.
        return_attention: Boolean, also return the attention weights. They
            are for inspection and carry no gradient, on both paths.
            Defaults to `False`.
        go_backwards: Boolean, process the sequence backwards and return
            the reversed sequence (as `keras.layers.LSTM`; what
            `keras.layers.Bidirectional` sets on its backward copy).
            Defaults to `False`.
        stateful: Boolean, carry the final `h`, `c` and the memory of each
            call over to the next, for a long stream cut into consecutive
            segments (row `b` of a batch continues row `b` of the previous
            one; the batch size is fixed when the layer is built: a batch of
            another size raises a `ValueError` when its size is known as the
            call is traced, an `InvalidArgumentError` with the same message
            when only the running graph knows it, e.g. `model.fit`'s smaller
            last batch; under `jit_compile=True`, XLA drops that check and
            reports its own shape error). A step can read memories
            written in earlier segments. Each call starts a new write and
            truncation block (the recurrent gradient stops at the call
            boundary, as at a truncation cut). `reset_state()` empties the
            state. Defaults to `False`.
        max_memories: Integer `>= 1`, with `stateful=True` (and only then,
            where it is required): the memories carried from call to call.
            When a call leaves more, `keep` chooses. Defaults to `None`.
        stream_credit: `"auto"`, `True` or `False`, with `stateful=True`: a
            read of a memory written in an earlier call sends credit back into
            the truncation block that wrote it, into the weights, and on
            through the memories that block read while they are kept: the
            stream is trained as one sequence (ALGORITHM.md §4b). With the
            weights unchanged between calls, every memory kept and calls a
            multiple of `k_att` and `k_trunc` long, the weight gradients
            summed over the calls are those of the whole sequence in one
            call. The layer keeps a record per memory (the inputs of its
            block's `k_trunc` steps, the states entering them and what they
            read), as non-trainable state: `max_memories * k_trunc *
            (features + 2 * units + 2 * k + 2)` numbers per row, `k = k_top`
            (or `max_memories` with `"dense"`), whatever the stream's length;
            the backward of a call walks at most `max_memories * k_trunc`
            more steps. Credit stops at a memory no longer kept, and at the
            inputs of past calls (layers below get none for them). `True`
            requires `k_trunc` (when `k_top > 0`) and refuses a mask;
            `False`: earlier memories are constants, and masks are taken.
            `"auto"`: credit wherever there is some to carry (`k_top > 0`
            and `k_trunc` set), none otherwise (with `k_top=0` a stateful
            SAB is a stateful LSTM). Credit learns on cue recall across
            calls what constants cannot
            (docs/results/stateful_stream/README.md), at 1.4-1.9x the
            training time there. Defaults to `"auto"`.
        keep: Which memories a stateful layer keeps when it holds more than
            `max_memories`: `"latest"`, the most recent (nothing older than
            `max_memories * k_att` steps can be read), or `"most_read"`: the
            `max_memories // 2` most recent, and of the older ones those that
            received the most attention (summed over the steps of each call,
            decayed by 0.9 per call). Defaults to `"latest"`.
        zero_output_for_mask: Boolean, with a mask, output zeros at masked
            steps instead of repeating the last output (as
            `keras.layers.LSTM`). Defaults to `False`.
        unroll: Boolean, as in `keras.layers.LSTM`: unroll the loop over
            `SABCell`'s step in Python (static sequence length only; fast
            for short sequences, memory-hungry for long ones). An unrolled
            layer runs the cell loop, not the fused path. Defaults to
            `False`.
        use_cudnn: `"auto"` or `False`. SAB has no cuDNN kernel (its memory
            read sits between two LSTM steps): both run TensorFlow ops, and
            `True` raises a `ValueError`. Accepted so that an LSTM's
            arguments carry over. Defaults to `"auto"`.
        use_fused: `"auto"`, `True` or `False`. `True` runs the fused,
            memory-lean path (one `tf.custom_gradient` over the whole
            sequence: activation memory linear in T, backward through the
            selected memories only); `False` the generic loop over
            `SABCell`'s step, differentiated by autodiff (activation memory
            quadratic in T). Both compute the same outputs and gradients,
            with or without a mask (the fused path runs each row's unmasked
            steps left-aligned, see `keras_sab.masked_steps`). `"auto"`: the
            fused path, but the cell loop when `unroll=True`. Defaults to
            `"auto"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`; `timesteps`
            may differ from call to call.
        initial_state: Optional list `[h, c]` of `(batch, units)` tensors;
            anything else raises a `ValueError`. It replaces the `h` and `c`
            the call starts from; the memory starts empty, but for a stateful
            layer, which keeps the memories carried from earlier calls
            (`reset_state()` empties them).
        mask: Optional boolean tensor `(batch, timesteps)`; a masked step is
            skipped (state unchanged, output repeated, or zero with
            `zero_output_for_mask`): it neither writes a memory nor counts
            towards the next write or cut. A stateful layer given a call whose
            steps are all masked is left exactly as it was, and a segment
            padded at its end carries on as the segment cut before its
            padding.
        training: Python boolean, whether dropout is active.

    Returns:
        The output, `(batch, timesteps, units)` with `return_sequences`, else
        `(batch, units)`; then, with `return_attention`, the weights
        `(batch, timesteps, timesteps // k_att)` (column `i` is memory slot
        `i`, written at step `(i + 1) * k_att`; zero where not selected;
        under a mask, counting only the unmasked steps). A stateful layer
        has `max_memories` more columns: column `i` is the `i`-th memory
        the call can read, first the `n` carried in (oldest first), then
        the call's own from column `n` (the last `max_memories - n` columns
        stay zero);
        then, with `return_state`, the final `h` and `c`. A single tensor
        when nothing else is requested, a list otherwise.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((None, 8)),
    ...     keras_sab.SAB(16, k_top=3, k_att=5, k_trunc=5, recurrent_dropout=0.1),
    ...     keras.layers.Dense(10),
    ... ])
    >>> model.predict(np.zeros((2, 40, 8)), verbose=0).shape
    (2, 10)

    References:
        Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
        Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
    """

    def __init__(
        self,
        units,
        k_top=defaults.K_TOP,
        k_att=defaults.K_ATT,
        k_trunc=defaults.K_TRUNC,
        attention=defaults.ATTENTION,
        temperature=defaults.TEMPERATURE,
        attention_units=defaults.ATTENTION_UNITS,
        scorer=defaults.SCORER,
        read=defaults.READ,
        read_gain=defaults.READ_GAIN,
        null_slot=defaults.NULL_SLOT,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        attention_initializer="glorot_uniform",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        return_attention=False,
        go_backwards=False,
        stateful=False,
        max_memories=None,
        stream_credit="auto",
        keep=defaults.KEEP,
        zero_output_for_mask=False,
        unroll=False,
        use_cudnn="auto",
        use_fused="auto",
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if use_fused not in ("auto", True, False):
            raise ValueError(
                f"`use_fused` must be one of 'auto', True, False. Received: use_fused={use_fused!r}"
            )
        if use_cudnn not in ("auto", False):
            raise ValueError(
                "`use_cudnn` must be 'auto' or False: SAB has no cuDNN kernel "
                "(its memory read sits between two LSTM steps), both run "
                f"TensorFlow ops. Received: use_cudnn={use_cudnn!r}"
            )
        self.unroll = bool(unroll)
        if self.unroll and use_fused is True:
            raise ValueError(
                "`unroll=True` runs the cell loop unrolled, which is not the "
                "fused path: use use_fused='auto' or False with it. Received: "
                "use_fused=True, unroll=True"
            )
        self.use_fused = use_fused
        self.use_cudnn = use_cudnn
        cell_arguments = dict(locals())
        self.cell = SABCell(
            **{name: cell_arguments[name] for name in CELL_ARGUMENTS},
            dtype=self.dtype_policy,
            name="sab_cell",
        )
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.return_attention = bool(return_attention)
        self.go_backwards = bool(go_backwards)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.stateful = bool(stateful)
        self.max_memories = validation.check_int("max_memories", max_memories, 1, allow_none=True)
        if self.stateful and self.max_memories is None:
            raise ValueError(
                "`max_memories` must be an integer >= 1 with stateful=True: it "
                "bounds the memory carried from call to call. Received: "
                "max_memories=None"
            )
        if not self.stateful and self.max_memories is not None:
            raise ValueError(
                "`max_memories` applies to stateful=True only (a layer that is "
                "not stateful sizes its memory from each input). Received: "
                f"max_memories={max_memories!r} with stateful=False"
            )
        if stream_credit not in ("auto", True, False):
            raise ValueError(
                "`stream_credit` must be one of 'auto', True, False. Received: "
                f"stream_credit={stream_credit!r}"
            )
        self.stream_credit = stream_credit
        if keep not in KEEP_POLICIES:
            raise ValueError(f"`keep` must be one of {KEEP_POLICIES}. Received: keep={keep!r}")
        self.keep = keep
        if (
            self.stateful
            and self.stream_credit is True
            and self.cell.k_top > 0
            and self.cell.k_trunc is None
        ):
            raise ValueError(
                "`stream_credit=True` needs `k_trunc`: a memory's record holds "
                "the steps of its truncation block. Received: k_trunc=None; "
                "give k_trunc, or stream_credit=False."
            )
        self.stream = None
        self.supports_masking = True

    def build(self, sequences_shape):
        validation.check_sequence_rank(sequences_shape, self.name)
        self.cell.build((sequences_shape[0], sequences_shape[-1]))
        if self.stateful and self.stream is None:
            if sequences_shape[0] is None:
                raise ValueError(
                    "A stateful SAB needs a static batch size (row b of each "
                    "batch continues row b of the previous one): give "
                    "`keras.Input(batch_size=...)` or call it on a batch. "
                    f"Received: input shape={sequences_shape}"
                )
            self._create_stream(sequences_shape[0], sequences_shape[-1])
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: sequences_shape[-1]})
        self.built = True

    @property
    def _credits_stream(self):
        """Whether calls back-propagate into earlier calls' records: with
        attention, when asked (`"auto"`: when there are truncation blocks to
        record)."""
        if not self.stateful or self.cell.k_top == 0 or self.stream_credit is False:
            return False
        return self.stream_credit is True or self.cell.k_trunc is not None

    @tracking.no_automatic_dependency_tracking
    def _create_stream(self, batch_size, features):
        """The `StreamState` of a stateful layer, its variables under the
        layer's name (outside its weights)."""
        with keras.name_scope(self.name, caller=self):
            self.stream = StreamState(
                self.cell, batch_size, features, self.max_memories, self.keep,
                self._credits_stream, self.variable_dtype,
            )

    @property
    def states(self):
        """The carried state of a stateful layer: a `SABState` of variables
        whose `counters` is the number of memories kept (`None` until built,
        or when not stateful)."""
        return None if self.stream is None else self.stream.states

    def reset_state(self):
        """Empties the carried state of a stateful layer: zero `h` and `c`, no
        memories, no records."""
        if self.stream is not None:
            self.stream.reset()

    def reset_states(self):
        """Alias of `reset_state`, as in `keras.layers.RNN`."""
        self.reset_state()

    def _run_fused(self, projected, state, mask, recurrent_mask):
        """The fused path over `projected` `(batch, timesteps, 4 * units)`;
        returns the outputs, batch-major, the per-step values (time-major,
        see `fused_sequence.FusedRun`, with the `outputs`; left-aligned
        under a mask) and the final `SABState`.

        With a mask, each row's unmasked steps run left-aligned (see
        `masked_steps`) and the outputs are spread back to their steps.
        """
        lengths = None
        if mask is not None:
            order, lengths = left_aligned_order(mask)
            projected = gather_steps(projected, order)
        run = fused_sab_sequence(
            tf.transpose(projected, [1, 0, 2]),
            state.h,
            state.c,
            (state.memory, state.keys, state.counters[:, 2]),
            self.cell.step_weights(),
            self.cell.settings,
            lengths=lengths,
            recurrent_mask=recurrent_mask,
        )
        outputs = tf.transpose(run.outputs, [1, 0, 2])
        if mask is not None:
            outputs = spread_steps(outputs, mask, state.h)
        steps = {"outputs": tf.stop_gradient(run.outputs), **run.steps}
        final = SABState(run.h, run.c, run.memory, run.keys, block_counters(run.written))
        return outputs, steps, final

    def _run_loop(self, projected, state, mask, recurrent_mask):
        """The generic loop of `sab_step` over `projected` `(batch,
        timesteps, 4 * units)` (in Python when `unroll`); returns what
        `_run_fused` returns (the per-step values at their steps)."""
        cell = self.cell
        inputs = tf.transpose(projected, [1, 0, 2])
        weights = cell.step_weights()
        step_mask = None if mask is None else tf.transpose(mask)
        initial_h = state.h
        saved_dtypes = saved_per_step(cell.settings, self.compute_dtype)

        def step(t, state):
            output, new_state, selection = sab_step(
                weights,
                cell.settings,
                inputs[t],
                state,
                None if step_mask is None else step_mask[t],
                recurrent_mask,
            )
            carried = new_state.h if "carried" in saved_dtypes else None
            saved = step_values(output, state.c, selection, carried)
            return output, new_state, {name: tf.stop_gradient(x) for name, x in saved.items()}

        if self.unroll:
            timesteps = inputs.shape[0]
            if timesteps is None:
                raise ValueError(
                    "`unroll=True` needs a static sequence length (the loop is "
                    f"unrolled in Python). Received: input shape={projected.shape}"
                )
            outputs, per_step = [], []
            for t in range(timesteps):
                output, state, saved = step(t, state)
                outputs.append(output)
                per_step.append(saved)
            outputs = tf.stack(outputs)
            steps = {name: tf.stack([saved[name] for saved in per_step]) for name in per_step[0]}
        else:
            timesteps = inputs.shape[0] or tf.shape(inputs)[0]
            arrays = {name: tf.TensorArray(d, size=timesteps) for name, d in saved_dtypes.items()}
            outputs = tf.TensorArray(self.compute_dtype, size=timesteps)

            def body(t, state, outputs, arrays):
                output, state, saved = step(t, state)
                arrays = {name: a.write(t, saved[name]) for name, a in arrays.items()}
                return t + 1, state, outputs.write(t, output), arrays

            _, state, outputs, arrays = tf.while_loop(
                lambda t, *_: t < timesteps,
                body,
                (tf.constant(0), state, outputs, arrays),
                maximum_iterations=timesteps,
            )
            outputs = outputs.stack()
            steps = {name: a.stack() for name, a in arrays.items()}
        outputs = tf.transpose(outputs, [1, 0, 2])
        if mask is not None:
            # A masked step's output repeats the previous output (`sab_step`
            # gives the carried state, which `read="projected"` makes differ).
            order, _ = left_aligned_order(mask)
            outputs = spread_steps(gather_steps(outputs, order), mask, initial_h)
        return outputs, steps, state

    def _attention(self, steps, slots, mask):
        """The attention weights `(batch, timesteps, slots)` from a run's
        per-step values (spread back to their steps under a mask on the
        fused path)."""
        shape = tf.shape(steps["outputs"])
        if self.cell.k_top == 0:
            return tf.zeros([shape[1], shape[0], slots], self.compute_dtype)
        flat = {
            name: tf.reshape(steps[name], [shape[0] * shape[1], -1])
            for name in ("chosen", "chosen_w")
            if name in steps
        }
        selection = Selection(flat.get("chosen"), flat["chosen_w"], None, None)
        attention = tf.reshape(selection_weights(selection, slots), [shape[0], shape[1], slots])
        attention = tf.cast(tf.transpose(attention, [1, 0, 2]), self.compute_dtype)
        if mask is not None and self._runs_fused:
            attention = tf.where(mask[:, :, None], spread_steps(attention, mask), 0.0)
        return attention

    @property
    def _runs_fused(self):
        return self.use_fused is True or (self.use_fused == "auto" and not self.unroll)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        validation.check_sequence_rank(sequences.shape, self.name)
        checks = validation.sequence_checks(
            sequences, self.name, self.stream.batch_size if self.stateful else None
        )
        # Nothing of the call runs before the sizes are checked.
        with tf.control_dependencies(checks):
            return self._checked_call(sequences, initial_state, mask, training)

    def _checked_call(self, sequences, initial_state, mask, training):
        cell = self.cell
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
            if self._credits_stream:
                raise ValueError(
                    "A mask is not supported with stateful=True and stream credit "
                    f"(stream_credit={self.stream_credit!r}; a memory's record "
                    "assumes every step of its block ran). Use stream_credit=False "
                    "to feed padded segments, or feed unpadded segments."
                )
        if self.go_backwards:
            sequences = tf.reverse(sequences, [1])
            mask = None if mask is None else tf.reverse(mask, [1])
        inputs = cell.dropped_inputs(sequences, training)
        projected = cell.project_inputs(inputs)
        timesteps = sequences.shape[1] or tf.shape(sequences)[1]
        slots = memory_slots(timesteps, cell.k_att, cell.k_top)
        state = initial_sab_state(
            tf.shape(sequences)[0],
            slots,
            cell.units,
            cell.attention_units,
            self.compute_dtype,
        )
        if self.stateful:
            state = self.stream.carried_state(state)
        if initial_state is not None:
            h, c = validation.check_initial_state(initial_state, cell.units)
            state = state._replace(h=tf.cast(h, state.h.dtype), c=tf.cast(c, state.c.dtype))
        recurrent_mask = cell.recurrent_mask(state.h, training)
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
        run = self._run_fused if self._runs_fused else self._run_loop
        outputs, steps, final = run(projected, state, mask, recurrent_mask)
        if self.stateful:
            if mask is None:
                steps_run = tf.fill([tf.shape(sequences)[0]], timesteps)
            else:
                steps_run = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
            self.stream.carry_over(
                final, steps, inputs, tf.stop_gradient(state.h), recurrent_mask, steps_run
            )
        if mask is not None and self.zero_output_for_mask:
            outputs = tf.where(mask[:, :, None], outputs, tf.zeros_like(outputs))
        result = [outputs if self.return_sequences else outputs[:, -1]]
        if self.return_attention:
            attention = self._attention(
                steps, state.memory.shape[1] or tf.shape(state.memory)[1], mask
            )
            result.append(attention[:, :, : self._attention_columns(timesteps)])
        if self.return_state:
            result += [final.h, tf.cast(final.c, self.compute_dtype)]
        return result[0] if len(result) == 1 else result

    def _attention_columns(self, timesteps):
        """The attention weights' columns: the carried memories of a stateful
        layer, then this call's `timesteps // k_att` slots."""
        carried = self.max_memories if self.stateful else 0
        return carried + memories_written(timesteps, self.cell.k_att)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, timesteps = sequences_shape[0], sequences_shape[1]
        units = self.cell.units
        shapes = [(batch, timesteps, units) if self.return_sequences else (batch, units)]
        if self.return_attention:
            slots = None if timesteps is None else self._attention_columns(timesteps)
            shapes.append((batch, timesteps, slots))
        if self.return_state:
            shapes += [(batch, units), (batch, units)]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_mask(self, sequences, mask=None):
        output_mask = mask if self.return_sequences else None
        masks = [output_mask]
        if self.return_attention:
            masks.append(mask)
        if self.return_state:
            masks += [None, None]
        return masks[0] if len(masks) == 1 else masks

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {name: cell_config[name] for name in CELL_ARGUMENTS}
        config.update(
            activity_regularizer=keras.regularizers.serialize(self.activity_regularizer),
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            return_attention=self.return_attention,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            max_memories=self.max_memories,
            stream_credit=self.stream_credit,
            keep=self.keep,
            zero_output_for_mask=self.zero_output_for_mask,
            unroll=self.unroll,
            use_cudnn=self.use_cudnn,
            use_fused=self.use_fused,
        )
        return {**super().get_config(), **config}


def _cell_property(name):
    return property(
        lambda layer: getattr(layer.cell, name),
        doc=f"The cell's `{name}` (see `SABCell`).",
    )


# The cell's hyper-parameters, read through the layer (as `keras.layers.LSTM`
# exposes its cell's).
for _name in CELL_ARGUMENTS:
    setattr(SAB, _name, _cell_property(_name))
