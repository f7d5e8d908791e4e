"""`SAB`: the Sparse Attentive Backtracking layer (the whole sequence).

The layer owns the loop over time. It sizes the memory from each input's
length, so one model runs on sequences of any length, including far longer
than it was trained on (ALGORITHM.md §6).

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import keras
import tensorflow as tf

from keras_sab import validation
from keras_sab.fused_sequence import fused_sab_sequence
from keras_sab.masked_steps import gather_steps
from keras_sab.masked_steps import left_aligned_order
from keras_sab.masked_steps import spread_steps
from keras_sab.sab_cell import SABCell
from keras_sab.sab_cell import initial_sab_state
from keras_sab.sab_cell import sab_step
from keras_sab.sparse_attention import DEFAULT_ATTENTION

_CELL_ARGUMENTS = (
    "units",
    "k_top",
    "k_att",
    "k_trunc",
    "attention",
    "temperature",
    "attention_units",
    "dropout",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "attention_initializer",
    "unit_forget_bias",
    "kernel_regularizer",
    "recurrent_regularizer",
    "seed",
)


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
    """
    if isinstance(timesteps, int):
        return max(timesteps // k_att, k_top + 1)
    return tf.maximum(timesteps // k_att, k_top + 1)


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
    self-attention.

    Args:
        units: Positive integer, dimensionality of the output space.
        k_top: Integer `>= 0`, memories attended to per step (`0`: none).
            Defaults to `5`.
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
        attention_units: Integer `>= 1`, hidden width of the scoring MLP.
            Defaults to `32`.
        dropout: Float in `[0, 1)`, fraction of the input units to drop (one
            mask for all steps). Defaults to `0.0`.
        kernel_initializer: Initializer for the input kernel. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer for the recurrent kernel. Defaults
            to `"orthogonal"`.
        bias_initializer: Initializer for the LSTM bias. Defaults to `"zeros"`.
        attention_initializer: Initializer for the scorer's weights. Defaults
            to `"glorot_uniform"`.
        unit_forget_bias: Boolean, add 1 to the forget gate bias at
            initialization. Defaults to `True`.
        kernel_regularizer: Regularizer for the input kernel. Defaults to
            `None`.
        recurrent_regularizer: Regularizer for the recurrent kernel. Defaults
            to `None`.
        seed: Random seed for dropout. Defaults to `None`.
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
        use_fused: `"auto"`, `True` or `False`. `True` runs the fused,
            memory-lean path (one `tf.custom_gradient` over the whole
            sequence: activation memory linear in T, backward through the
            selected memories only); `False` the generic loop over
            `SABCell`'s step, differentiated by autodiff (activation memory
            quadratic in T). Both compute the same outputs and gradients,
            with or without a mask (the fused path runs each row's unmasked
            steps left-aligned, see `keras_sab.masked_steps`). `"auto"` is
            the fused path. Defaults to `"auto"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`; `timesteps`
            may differ from call to call.
        initial_state: Optional list `[h, c]` of `(batch, units)` tensors;
            anything else raises a `ValueError`. The memory always starts
            empty.
        mask: Optional boolean tensor `(batch, timesteps)`; a masked step is
            skipped (state unchanged, output repeated).
        training: Python boolean, whether dropout is active.

    Returns:
        The output, `(batch, timesteps, units)` with `return_sequences`, else
        `(batch, units)`; then, with `return_attention`, the weights
        `(batch, timesteps, timesteps // k_att)` (column `i` is memory slot
        `i`, written at step `(i + 1) * k_att`; zero where not selected);
        then, with `return_state`, the final `h` and `c`. A single tensor
        when nothing else is requested, a list otherwise.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((None, 8)),
    ...     keras_sab.SAB(16, k_top=3, k_att=5, k_trunc=5),
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
        k_top=5,
        k_att=10,
        k_trunc=10,
        attention=DEFAULT_ATTENTION,
        temperature=1.0,
        attention_units=32,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        attention_initializer="glorot_uniform",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        seed=None,
        return_sequences=False,
        return_state=False,
        return_attention=False,
        go_backwards=False,
        use_fused="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if use_fused not in ("auto", True, False):
            raise ValueError(
                "`use_fused` must be one of 'auto', True, False. "
                f"Received: use_fused={use_fused!r}"
            )
        self.use_fused = use_fused
        self.cell = SABCell(
            units,
            k_top=k_top,
            k_att=k_att,
            k_trunc=k_trunc,
            attention=attention,
            temperature=temperature,
            attention_units=attention_units,
            dropout=dropout,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            attention_initializer=attention_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            seed=seed,
            dtype=self.dtype_policy,
            name="sab_cell",
        )
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.return_attention = bool(return_attention)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.supports_masking = True

    def build(self, sequences_shape):
        validation.check_sequence_rank(sequences_shape, self.name)
        self.cell.build((sequences_shape[0], sequences_shape[-1]))
        self.built = True

    def _run_fused(self, inputs, state, slots, mask):
        """The fused path; returns time-major outputs, attention, h, c.

        With a mask, each row's unmasked steps run left-aligned (see
        `masked_steps`) and the outputs are spread back to their steps.
        """
        lengths = None
        if mask is not None:
            order, lengths = left_aligned_order(mask)
            inputs = tf.transpose(gather_steps(tf.transpose(inputs, [1, 0, 2]), order), [1, 0, 2])
        outputs, h, c, attention = fused_sab_sequence(
            inputs,
            state.h,
            state.c,
            self.cell.step_weights(),
            self.cell.settings,
            slots,
            return_attention=self.return_attention,
            lengths=lengths,
        )
        if mask is not None:
            outputs = tf.transpose(outputs, [1, 0, 2])
            outputs = tf.transpose(spread_steps(outputs, mask, state.h), [1, 0, 2])
            if attention is not None:
                attention = tf.transpose(attention, [1, 0, 2])
                attention = tf.where(mask[:, :, None], spread_steps(attention, mask), 0.0)
                attention = tf.transpose(attention, [1, 0, 2])
        return outputs, attention, h, c

    def _run_loop(self, inputs, state, slots, mask):
        """The generic loop of `sab_step`; returns time-major outputs,
        attention, h, c."""
        cell = self.cell
        timesteps = inputs.shape[0] or tf.shape(inputs)[0]
        weights = cell.step_weights()
        step_mask = None if mask is None else tf.transpose(mask)
        outputs = tf.TensorArray(self.compute_dtype, size=timesteps)
        attention = tf.TensorArray(self.compute_dtype, size=timesteps)

        def body(t, state, outputs, attention):
            output, state, weights_t = sab_step(
                weights,
                cell.settings,
                inputs[t],
                state,
                None if step_mask is None else step_mask[t],
            )
            weights_t = tf.stop_gradient(weights_t)
            return t + 1, state, outputs.write(t, output), attention.write(t, weights_t)

        _, state, outputs, attention = tf.while_loop(
            lambda t, *_: t < timesteps,
            body,
            (tf.constant(0), state, outputs, attention),
            maximum_iterations=timesteps,
        )
        return outputs.stack(), attention.stack(), state.h, state.c

    def call(self, sequences, initial_state=None, mask=None, training=False):
        validation.check_sequence_rank(sequences.shape, self.name)
        cell = self.cell
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
        if self.go_backwards:
            sequences = tf.reverse(sequences, [1])
            mask = None if mask is None else tf.reverse(mask, [1])
        projected = cell.project_inputs(sequences, training)
        cell.reset_dropout_mask()
        timesteps = sequences.shape[1] or tf.shape(sequences)[1]
        slots = memory_slots(timesteps, cell.k_att, cell.k_top)
        state = initial_sab_state(
            tf.shape(sequences)[0],
            slots,
            cell.units,
            cell.attention_units,
            self.compute_dtype,
        )
        if initial_state is not None:
            h, c = (
                tf.cast(s, self.compute_dtype)
                for s in validation.check_initial_state(initial_state, cell.units)
            )
            state = state._replace(h=h, c=c)
        inputs = tf.transpose(projected, [1, 0, 2])
        run = self._run_loop if self.use_fused is False else self._run_fused
        outputs, attention, h, c = run(inputs, state, slots, mask)
        outputs = tf.transpose(outputs, [1, 0, 2])
        result = [outputs if self.return_sequences else outputs[:, -1]]
        if self.return_attention:
            attention = tf.transpose(tf.cast(attention, self.compute_dtype), [1, 0, 2])
            result.append(attention[:, :, : timesteps // cell.k_att])
        if self.return_state:
            result += [h, c]
        return result[0] if len(result) == 1 else result

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, timesteps = sequences_shape[0], sequences_shape[1]
        units = self.cell.units
        shapes = [(batch, timesteps, units) if self.return_sequences else (batch, units)]
        if self.return_attention:
            slots = None if timesteps is None else timesteps // self.cell.k_att
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

    @property
    def units(self):
        return self.cell.units

    @property
    def k_top(self):
        return self.cell.k_top

    @property
    def k_att(self):
        return self.cell.k_att

    @property
    def k_trunc(self):
        return self.cell.k_trunc

    @property
    def attention(self):
        return self.cell.attention

    @property
    def temperature(self):
        return self.cell.temperature

    @property
    def attention_units(self):
        return self.cell.attention_units

    @property
    def dropout(self):
        return self.cell.dropout

    @property
    def kernel_initializer(self):
        return self.cell.kernel_initializer

    @property
    def recurrent_initializer(self):
        return self.cell.recurrent_initializer

    @property
    def bias_initializer(self):
        return self.cell.bias_initializer

    @property
    def attention_initializer(self):
        return self.cell.attention_initializer

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    @property
    def kernel_regularizer(self):
        return self.cell.kernel_regularizer

    @property
    def recurrent_regularizer(self):
        return self.cell.recurrent_regularizer

    @property
    def seed(self):
        return self.cell.seed

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {name: cell_config[name] for name in _CELL_ARGUMENTS}
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            return_attention=self.return_attention,
            go_backwards=self.go_backwards,
            use_fused=self.use_fused,
        )
        return {**super().get_config(), **config}

