"""`SABCell`: the weights of one Sparse Attentive Backtracking step.

The cell holds the weights (the LSTM's and the scorer's) and applies the pure
step `keras_sab.sab_step.sab_step`; it serves
`keras.layers.RNN(SABCell(...))`, and `keras_sab.SAB` runs its own loops with
the cell's weights.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import keras
import tensorflow as tf
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from keras_sab import defaults
from keras_sab import validation
from keras_sab.lstm_core import LSTMActivations
from keras_sab.lstm_core import input_projection
from keras_sab.precision import wide_dtype
from keras_sab.sab_step import SABState
from keras_sab.sab_step import StepSettings
from keras_sab.sab_step import StepWeights
from keras_sab.sab_step import initial_sab_state
from keras_sab.sab_step import sab_step

# The constructor arguments of `SABCell` that `SAB` exposes, in order, with
# how each is serialized.
_SERIALIZERS = {
    "initializer": keras.initializers.serialize,
    "regularizer": keras.regularizers.serialize,
    "constraint": keras.constraints.serialize,
    "activation": keras.activations.serialize,
}
CELL_ARGUMENTS = (
    "units",
    "k_top",
    "k_att",
    "k_trunc",
    "attention",
    "temperature",
    "attention_units",
    "scorer",
    "read",
    "read_gain",
    "null_slot",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "attention_initializer",
    "unit_forget_bias",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


def independent_initializer(initializer, index):
    """A copy of `initializer` whose draws are its own.

    A Keras initializer instance seeded with an integer, or unseeded (its seed
    is then fixed when it is made), returns the same values each time it is
    called with the same shape: two weights built from one instance would
    start identical. The copy is made from the instance's config: an unseeded
    one draws a fresh seed from Keras's global random state (reproducible
    under `keras.utils.set_random_seed`), an integer seed becomes
    `seed + index`. An initializer seeded with a `keras.random.SeedGenerator`
    already draws new values on every call, and a plain function has no
    state to copy: both are returned as they are.

    Args:
        initializer: a Keras initializer instance or function.
        index: int, distinct for each weight built from `initializer`.

    Returns:
        An initializer.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    config = initializer.get_config()
    seed = config.get("seed")
    if seed is not None and not validation.is_integer(seed):
        return initializer
    if seed is not None:
        config["seed"] = seed + index
    return type(initializer).from_config(config)


@keras.saving.register_keras_serializable(package="keras_sab")
class SABCell(keras.layers.Layer, DropoutRNNCell):
    """Cell class for the Sparse Attentive Backtracking layer.

    This class processes one step within the whole time sequence input,
    whereas `keras_sab.SAB` processes the whole sequence (and is the layer to
    use in a model). The cell's memory is a fixed buffer of `max_memories`
    slots; once it is full, further memories are not written. Under a mixed
    policy `keras.layers.RNN` casts the step counters to the compute dtype:
    `k_att`, `k_trunc` and `max_memories` must then be at most 256
    (bfloat16) or 2048 (float16), where those still count exactly.

    Args:
        units: Positive integer, dimensionality of the output space.
        k_top: Integer `>= 0`, number of memories each step attends to
            (`0`: no attention, a plain LSTM; `1`: the scorer gets no
            gradient in the sparse modes, see `attention`). Defaults to `5`.
        k_att: Integer `>= 1`, a state is written to memory every `k_att`
            steps. Defaults to `10`.
        k_trunc: Integer `>= 1` or `None`, gradients through the recurrent
            state are cut every `k_trunc` steps (`None`: full BPTT).
            Defaults to `10`.
        attention: How the selected memories are weighted.
            `"sparse_softmax"`: the `k_top` best-scoring memories, weighted
            by a softmax of their scores at `temperature`; `"sparse"`: the
            same `k_top` memories weighted by the paper's piecewise-linear
            rule `max(a_i - δ, 0) / Σ_j max(a_j - δ, 0)` (its gradient grows
            without bound near tied scores; it did not learn the copy task
            in docs/RESULTS.md); `"dense"`: a softmax over every memory (the
            paper's self-attention baseline; `k_top` then only switches
            attention off when `0`). All three route gradient only through
            the memories they weigh. With `k_top=1` the lone weight is 1 in
            the sparse modes, so the scorer gets no gradient and never
            learns. Defaults to `"sparse_softmax"`.
        temperature: Float `> 0`, the softmax modes' temperature `τ`
            (`exp(a_i / τ)`): below 1 sharper, above 1 flatter. Must be
            `1.0` with `attention="sparse"`, which has none. Defaults to
            `1.0`.
        attention_units: Integer `>= 1`, width of the scorer's queries and
            keys (the scoring MLP's hidden width). Defaults to `32`.
        scorer: How a memory is scored against the step's state. `"mlp"`:
            the paper's `vᵀ tanh(W_q ĥ_t + W_m m_i + b)`; `"dot"`: the scaled
            dot product `(W_q ĥ_t) · (W_m m_i) / √attention_units`, cheaper
            (no `tanh` of every memory at every step; no weights `v` and `b`:
            a bias would shift every score alike), which has not been shown
            to learn as well. Defaults to `"mlp"`.
        read: How the read `s_t` enters the state. `"add"`: the paper's
            step, `h_t = ĥ_t + s_t` is output, written to memory and carried
            on. `"projected"`: the output and the memory are `ĥ_t + s_t` as
            in `"add"`, the state carried on is `ĥ_t + s_t A`, with `A` a
            learned `units x units` matrix (the weight `read_projection`)
            that starts at `read_gain` times the identity (zero by default,
            so that the recurrence starts as the LSTM's and reads only as far
            as training finds it useful; docs/results/read_variants.md).
            Defaults to `"add"`.
        read_gain: Float or `None`, with `read="projected"` only: `A` starts
            at `read_gain` times the identity, the share of the read carried
            on at the first update (`0`: the LSTM's recurrence; `1`: the
            paper's step; `A` is learned from there). `None` is `0`.
            Defaults to `None`.
        null_slot: Whether an empty memory (a zero state, scored like any
            memory, with no weight of its own) competes for the `k_top`
            seats and shares the read's softmax, so that a step whose
            memories score below it reads less than a whole memory, or
            nothing, instead of parking on one memory (ALGORITHM.md §3b).
            Needs softmax weights (`attention` `"sparse_softmax"` or
            `"dense"`). Defaults to `False`.
        max_memories: Integer `>= 1`, memory capacity. Required when the cell
            is used in `keras.layers.RNN`; `SAB` sets it per call. Defaults
            to `None`.
        activation: Activation of the LSTM's candidate and output, as in
            `keras.layers.LSTM`; any element-wise Keras activation (not
            `"softmax"` or `"log_softmax"`), `None` for linear. Defaults to
            `"tanh"`.
        recurrent_activation: Activation of the LSTM's gates, as
            `activation`. Defaults to `"sigmoid"`.
        use_bias: Boolean, whether the LSTM has a bias. Defaults to `True`.
        kernel_initializer: Initializer for the input kernel. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer for the recurrent kernel. Defaults
            to `"orthogonal"`.
        bias_initializer: Initializer for the LSTM bias. Defaults to `"zeros"`.
        attention_initializer: Initializer for the scorer's weights. Defaults
            to `"glorot_uniform"`.
        unit_forget_bias: Boolean, add 1 to the forget gate bias at
            initialization (with `use_bias`). Defaults to `True`.
        kernel_regularizer: Regularizer for the input kernel. Defaults to
            `None`.
        recurrent_regularizer: Regularizer for the recurrent kernel. Defaults
            to `None`.
        bias_regularizer: Regularizer for the bias. Defaults to `None`.
        kernel_constraint: Constraint for the input kernel. Defaults to
            `None`.
        recurrent_constraint: Constraint for the recurrent kernel. Defaults
            to `None`.
        bias_constraint: Constraint for the bias. Defaults to `None`.
        dropout: Float in `[0, 1)`, fraction of the input units to drop (one
            mask for all steps). Defaults to `0.0`.
        recurrent_dropout: Float in `[0, 1)`, fraction of the units of `h`
            to drop where it enters the LSTM's recurrent product (one mask
            for all steps; the state carried, read and written to memory is
            not dropped). Defaults to `0.0`.
        seed: Random seed for dropout. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A 2D tensor `(batch, features)`, one step.
        states: The list `[h, c, memory, keys, counters]` (see `SABState`).
        training: Python boolean, whether dropout is active.

    Returns:
        `(h, new_states)`.

    Example:

    >>> inputs = np.random.random((4, 12, 3)).astype("float32")
    >>> rnn = keras.layers.RNN(
    ...     keras_sab.SABCell(8, k_top=2, k_att=3, k_trunc=4, max_memories=4),
    ...     return_sequences=True,
    ... )
    >>> rnn(inputs).shape
    TensorShape([4, 12, 8])

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
        max_memories=None,
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
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = validation.check_int("units", units, 1)
        self.k_top = validation.check_int("k_top", k_top, 0)
        self.k_att = validation.check_int("k_att", k_att, 1)
        self.k_trunc = validation.check_int("k_trunc", k_trunc, 1, allow_none=True)
        self.attention = validation.check_attention(attention)
        self.temperature = validation.check_temperature(temperature, self.attention)
        self.attention_units = validation.check_int("attention_units", attention_units, 1)
        self.scorer = validation.check_scorer(scorer)
        self.read = validation.check_read(read)
        self.read_gain = validation.check_read_gain(read_gain, self.read)
        self.null_slot = validation.check_null_slot(null_slot, self.attention)
        self.max_memories = validation.check_int("max_memories", max_memories, 1, allow_none=True)
        if self.max_memories is not None:
            validation.check_exact_counts(
                self.compute_dtype,
                k_att=self.k_att,
                k_trunc=self.k_trunc,
                max_memories=self.max_memories,
            )
        self.activation = validation.check_activation("activation", activation)
        self.recurrent_activation = validation.check_activation(
            "recurrent_activation", recurrent_activation
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.attention_initializer = keras.initializers.get(attention_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = validation.check_rate("dropout", dropout)
        self.recurrent_dropout = validation.check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.output_size = self.units

    @property
    def settings(self):
        """The `StepSettings` of the cell's current hyper-parameters."""
        return StepSettings(
            self.k_top,
            self.k_att,
            self.k_trunc,
            self.attention,
            self.temperature,
            LSTMActivations(self.activation, self.recurrent_activation),
            self.read,
            self.null_slot,
        )

    @property
    def state_size(self):
        if self.max_memories is None:
            raise ValueError(
                "`max_memories` must be an integer >= 1 when a SABCell is "
                "used in `keras.layers.RNN` (the state is a fixed buffer). "
                "Received: max_memories=None. Use `keras_sab.SAB` to size "
                "the memory from each input's length."
            )
        return [
            self.units,
            self.units,
            (self.max_memories, self.units),
            (self.max_memories, self.attention_units),
            3,
        ]

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, 4 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            # Cast where it is used (`lstm_core.lstm_step`, the fused loops),
            # so that its gradient sums over the steps in the variable dtype.
            autocast=False,
        )
        self.bias = None
        if self.use_bias:
            if self.unit_forget_bias:

                def bias_initializer(_, *args, **kwargs):
                    return keras.ops.concatenate(
                        [
                            self.bias_initializer((self.units,), *args, **kwargs),
                            keras.initializers.get("ones")((self.units,), *args, **kwargs),
                            self.bias_initializer((self.units * 2,), *args, **kwargs),
                        ]
                    )

            else:
                bias_initializer = self.bias_initializer
            self.bias = self.add_weight(
                shape=(4 * self.units,),
                name="bias",
                initializer=bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                autocast=False,
            )
        if self.k_top > 0:
            # The scorer's weights are never autocast to a mixed policy's
            # compute dtype: the scorer runs in `wide_dtype`.
            a = self.attention_units
            self.query_kernel = self.add_weight(
                shape=(self.units, a),
                name="query_kernel",
                initializer=independent_initializer(self.attention_initializer, 0),
                autocast=False,
            )
            self.memory_kernel = self.add_weight(
                shape=(self.units, a),
                name="memory_kernel",
                initializer=independent_initializer(self.attention_initializer, 1),
                autocast=False,
            )
            if self.scorer == "mlp":
                # A bias of the keys shifts every dot-product score alike,
                # which no weighting rule sees: only the MLP scorer has one.
                self.attention_bias = self.add_weight(
                    shape=(a,), name="attention_bias", initializer="zeros", autocast=False
                )
                self.attention_vector = self.add_weight(
                    shape=(a, 1),
                    name="attention_vector",
                    initializer=independent_initializer(self.attention_initializer, 2),
                    autocast=False,
                )
            if self.read == "projected":
                self.read_projection = self.add_weight(
                    shape=(self.units, self.units),
                    name="read_projection",
                    initializer=keras.initializers.Identity(gain=self.read_gain or 0.0),
                    autocast=False,
                )
        self.built = True

    def step_weights(self):
        """The recurrent weights as `StepWeights`: the recurrent kernel in the
        variable dtype, the scorer's weights in `wide_dtype`, the read
        projection in the compute dtype."""

        def value(name):
            if name == "recurrent_kernel":
                return tf.convert_to_tensor(self.recurrent_kernel)
            mlp_only = name in ("attention_bias", "attention_vector")
            if self.k_top == 0 or (mlp_only and self.scorer == "dot"):
                return None
            if name == "read_projection":
                if self.read != "projected":
                    return None
                return tf.cast(self.read_projection, self.compute_dtype)
            tensor = tf.cast(getattr(self, name), wide_dtype(self.compute_dtype))
            return tensor[:, 0] if name == "attention_vector" else tensor

        return StepWeights(*[value(name) for name in StepWeights._fields])

    def dropped_inputs(self, inputs, training=False):
        """`inputs` (a step `(batch, features)` or a sequence `(batch,
        timesteps, features)`) in the compute dtype, with the cell's input
        dropout mask applied when training."""
        inputs = tf.cast(inputs, self.compute_dtype)
        if training and self.dropout > 0:
            step_input = inputs if len(inputs.shape) == 2 else inputs[:, 0]
            # Keras may have made the mask from the uncast inputs.
            mask = tf.cast(self.get_dropout_mask(step_input), inputs.dtype)
            inputs *= mask if len(inputs.shape) == 2 else mask[:, None, :]
        return inputs

    def project_inputs(self, inputs):
        """`x W + b` for a step `(batch, features)` or a sequence
        `(batch, timesteps, features)` (see `dropped_inputs`)."""
        return input_projection(
            tf.cast(inputs, self.compute_dtype),
            self.kernel,
            None if self.bias is None else tf.convert_to_tensor(self.bias),
        )

    def recurrent_mask(self, h, training=False):
        """The recurrent dropout mask `(batch, units)` for state `h`, or
        `None` when there is none (not training, or no recurrent dropout)."""
        if not (training and self.recurrent_dropout > 0):
            return None
        return tf.cast(self.get_recurrent_dropout_mask(h), h.dtype)

    def call(self, inputs, states, training=False):
        state = SABState(*states)
        output, new_state, _ = sab_step(
            self.step_weights(),
            self.settings,
            self.project_inputs(self.dropped_inputs(inputs, training)),
            state,
            recurrent_mask=self.recurrent_mask(state.h, training),
        )
        return output, list(new_state)

    def get_initial_state(self, batch_size=None):
        state = initial_sab_state(
            batch_size,
            self.state_size[2][0],
            self.units,
            self.attention_units,
            self.compute_dtype,
        )
        return list(state._replace(counters=tf.cast(state.counters, self.compute_dtype)))

    def get_config(self):
        config = {}
        for name in CELL_ARGUMENTS:
            value = getattr(self, name)
            kind = next((k for k in _SERIALIZERS if name.endswith(k)), None)
            config[name] = value if kind is None else _SERIALIZERS[kind](value)
        config["max_memories"] = self.max_memories
        return {**super().get_config(), **config}
