"""`SABCell`: one step of Sparse Attentive Backtracking.

A step (ALGORITHM.md §2) runs the LSTM, lets its provisional state `ĥ_t` attend to the
memory of past states, keeps the `k_top` best memories, adds their weighted
sum to the state, and every `k_att` steps appends the state to the memory.
Gradients (ALGORITHM.md §4) cross from one step to the next except at truncation
boundaries (every `k_trunc` steps), and reach the memories only through the
selected links. The step is written once, as the pure function `sab_step`,
and serves both `keras.layers.RNN(SABCell(...))` and the `SAB` layer's loop.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import keras
import tensorflow as tf
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from keras_sab import validation
from keras_sab.attention_scorer import DEFAULT_SCORER
from keras_sab.attention_scorer import memory_keys
from keras_sab.attention_scorer import memory_scores
from keras_sab.attention_scorer import scorer_dtype
from keras_sab.lstm_core import lstm_step
from keras_sab.sparse_attention import DEFAULT_ATTENTION
from keras_sab.sparse_attention import attention_weights

SABState = collections.namedtuple(
    "SABState", ["h", "c", "memory", "keys", "counters"]
)
SABState.__doc__ = """The recurrent state of SAB.

Fields:
    h: `(batch, units)` hidden state carried to the next step.
    c: `(batch, units)` LSTM cell state.
    memory: `(batch, slots, units)` fixed buffer of written states `h`.
    keys: `(batch, slots, attention_units)` their keys `W_m m + b`, in the
        scorer's dtype (`scorer_dtype`; `keras.layers.RNN` casts it to the
        compute dtype between steps).
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
    ],
)
StepWeights.__doc__ = """The weights one step uses (the input projection is
applied beforehand); the four attention weights are `None` when `k_top=0`,
and of the scorer's dtype (`scorer_dtype`) otherwise, but for
`attention_bias` and `attention_vector`, which are `None` with the
dot-product scorer (see `keras_sab.attention_scorer.memory_scores`)."""

StepSettings = collections.namedtuple(
    "StepSettings", ["k_top", "k_att", "k_trunc", "attention", "temperature"]
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


def initial_sab_state(batch_size, slots, units, attention_units, dtype):
    """Zero state with an empty memory of `slots` slots.

    Args:
        batch_size: int or scalar tensor.
        slots: int or scalar tensor, memory capacity.
        units: int, state width.
        attention_units: int, key width.
        dtype: dtype of `h`, `c` and the memory; the keys are of
            `scorer_dtype(dtype)`, the counters `int32`.

    Returns:
        A `SABState`.
    """
    return SABState(
        h=tf.zeros([batch_size, units], dtype),
        c=tf.zeros([batch_size, units], dtype),
        memory=tf.zeros([batch_size, slots, units], dtype),
        keys=tf.zeros([batch_size, slots, attention_units], scorer_dtype(dtype)),
        counters=tf.zeros([batch_size, 3], tf.int32),
    )


def score_memories(weights, h_hat, keys):
    """Scores of every memory against `ĥ_t`, `(batch, slots)`, in the scorer's
    dtype: `vᵀ tanh(W_q ĥ_t + key_i)`, or `(W_q ĥ_t) · key_i / √attention_units`
    when `weights.attention_vector` is `None`."""
    dtype = weights.query_kernel.dtype
    query = tf.matmul(tf.cast(h_hat, dtype), weights.query_kernel)
    return memory_scores(query, tf.cast(keys, dtype), weights.attention_vector)


def attend(weights, h_hat, memory, keys, weigh):
    """Adds the attention read of `memory` to the provisional state `ĥ_t`.

    Args:
        weights: `StepWeights`.
        h_hat: `(batch, units)`, the LSTM's provisional state.
        memory: `(batch, slots, units)`, the memories that may be read.
        keys: `(batch, slots, attention_units)`, their keys.
        weigh: function mapping scores `(batch, slots)` to weights.

    Returns:
        `(h, attention)`: `h = ĥ + Σ_i w_i m_i` and the weights `w` (in the
        scorer's dtype; the read is in the dtype of `memory`).
    """
    attention = weigh(score_memories(weights, h_hat, keys))
    read = tf.matmul(tf.cast(attention, memory.dtype)[:, None, :], memory)[:, 0]
    return h_hat + read, attention


def sab_step(weights, settings, projected_input, state, mask=None):
    """One SAB step with its gradient routing, as a pure function.

    Args:
        weights: `StepWeights`.
        settings: `StepSettings` (`k_top`, `k_att`, `k_trunc`, `attention`).
        projected_input: `(batch, 4 * units)`, `x_t W + b`.
        state: `SABState`; `counters` may be of any numeric dtype and is
            returned in the same dtype.
        mask: optional bool `(batch,)`; where `False` the step is skipped:
            the state is carried unchanged and the output repeats `h`.

    Returns:
        A tuple `(output, new_state, weights)`: the step's output `h_t`
        `(batch, units)`, the `SABState` to carry to the next step, and the
        attention weights `(batch, slots)` (zeros where not selected).
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
    h_hat, c = lstm_step(projected_input, h_in, c_in, weights.recurrent_kernel)
    slots = tf.shape(state.memory)[1]
    if settings.k_top > 0:
        readable = tf.range(slots)[None, :] < written[:, None]
        h, scorer_attention = attend(
            weights,
            h_hat,
            state.memory,
            state.keys,
            lambda scores: attention_weights(
                scores,
                readable,
                settings.k_top,
                settings.attention,
                settings.temperature,
            ),
        )
        attention = tf.cast(scorer_attention, h.dtype)
    else:
        attention = tf.zeros([tf.shape(h_hat)[0], slots], h_hat.dtype)
        h = h_hat

    since_write += 1
    write = since_write >= settings.k_att
    since_write = tf.where(write, 0, since_write)
    memory, keys = state.memory, state.keys
    if settings.k_top > 0:
        slot = tf.one_hot(written, slots, dtype=h.dtype)
        slot *= tf.cast(write, h.dtype)[:, None]
        memory = memory + slot[:, :, None] * h[:, None, :]
        new_keys = memory_keys(
            tf.cast(h, weights.memory_kernel.dtype),
            weights.memory_kernel,
            weights.attention_bias,
        )
        key_slot = tf.cast(slot, keys.dtype)[:, :, None]
        keys = keys + key_slot * tf.cast(new_keys, keys.dtype)[:, None, :]
    # Held at the capacity (a write to a full memory is dropped), so that the
    # count stays within what a float16 state holds exactly.
    written = tf.minimum(written + tf.cast(write, tf.int32), slots)

    counters = tf.stack([since_write, since_cut, written], axis=-1)
    new_state = SABState(
        h,
        c,
        memory,
        keys,
        tf.cast(counters, state.counters.dtype),
    )
    if mask is not None:
        new_state = SABState(
            *[
                tf.where(
                    tf.reshape(mask, [-1] + [1] * (len(new.shape) - 1)), new, old
                )
                for new, old in zip(new_state, state)
            ]
        )
        h = tf.where(mask[:, None], h, state.h)
        attention = tf.where(mask[:, None], attention, tf.zeros_like(attention))
    return h, new_state, attention


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
        max_memories: Integer `>= 1`, memory capacity. Required when the cell
            is used in `keras.layers.RNN`; `SAB` sets it per call. Defaults
            to `None`.
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
        k_top=5,
        k_att=10,
        k_trunc=10,
        attention=DEFAULT_ATTENTION,
        temperature=1.0,
        attention_units=32,
        scorer=DEFAULT_SCORER,
        max_memories=None,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        attention_initializer="glorot_uniform",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
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
        self.attention_units = validation.check_int(
            "attention_units", attention_units, 1
        )
        self.scorer = validation.check_scorer(scorer)
        self.max_memories = validation.check_int(
            "max_memories", max_memories, 1, allow_none=True
        )
        if self.max_memories is not None:
            validation.check_exact_counts(
                self.compute_dtype,
                k_att=self.k_att,
                k_trunc=self.k_trunc,
                max_memories=self.max_memories,
            )
        self.dropout = validation.check_rate("dropout", dropout)
        self.recurrent_dropout = 0.0
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.attention_initializer = keras.initializers.get(attention_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.output_size = self.units

    @property
    def settings(self):
        """The `StepSettings` of the cell's current hyper-parameters."""
        return StepSettings(
            self.k_top, self.k_att, self.k_trunc, self.attention, self.temperature
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
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )
        if self.unit_forget_bias:

            def bias_initializer(_, *args, **kwargs):
                return keras.ops.concatenate(
                    [
                        self.bias_initializer((self.units,), *args, **kwargs),
                        keras.initializers.get("ones")((self.units,), *args, **kwargs),
                        self.bias_initializer(
                            (self.units * 2,), *args, **kwargs
                        ),
                    ]
                )

        else:
            bias_initializer = self.bias_initializer
        self.bias = self.add_weight(
            shape=(4 * self.units,), name="bias", initializer=bias_initializer
        )
        if self.k_top > 0:
            # The scorer's weights are never autocast to a mixed policy's
            # compute dtype: the scorer runs in `scorer_dtype`.
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
        self.built = True

    def step_weights(self):
        """The recurrent weights as `StepWeights`: the recurrent kernel in the
        compute dtype, the scorer's weights in `scorer_dtype`."""

        def value(name):
            if name == "recurrent_kernel":
                return tf.cast(self.recurrent_kernel, self.compute_dtype)
            mlp_only = name in ("attention_bias", "attention_vector")
            if self.k_top == 0 or (mlp_only and self.scorer == "dot"):
                return None
            tensor = tf.cast(getattr(self, name), scorer_dtype(self.compute_dtype))
            return tensor[:, 0] if name == "attention_vector" else tensor

        return StepWeights(*[value(name) for name in StepWeights._fields])

    def project_inputs(self, inputs, training=False):
        """`x W + b` for a step `(batch, features)` or a sequence
        `(batch, timesteps, features)`, with the cell's input dropout."""
        inputs = tf.cast(inputs, self.compute_dtype)
        if training and self.dropout > 0:
            step_input = inputs if len(inputs.shape) == 2 else inputs[:, 0]
            # Keras may have made the mask from the uncast inputs.
            mask = tf.cast(self.get_dropout_mask(step_input), inputs.dtype)
            inputs *= mask if len(inputs.shape) == 2 else mask[:, None, :]
        kernel = tf.cast(self.kernel, self.compute_dtype)
        bias = tf.cast(self.bias, self.compute_dtype)
        return tf.matmul(inputs, kernel) + bias

    def call(self, inputs, states, training=False):
        state = SABState(*states)
        output, new_state, _ = sab_step(
            self.step_weights(),
            self.settings,
            self.project_inputs(inputs, training),
            state,
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
        config = {
            "units": self.units,
            "k_top": self.k_top,
            "k_att": self.k_att,
            "k_trunc": self.k_trunc,
            "attention": self.attention,
            "temperature": self.temperature,
            "attention_units": self.attention_units,
            "scorer": self.scorer,
            "max_memories": self.max_memories,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "recurrent_initializer": keras.initializers.serialize(
                self.recurrent_initializer
            ),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "attention_initializer": keras.initializers.serialize(
                self.attention_initializer
            ),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
            "recurrent_regularizer": keras.regularizers.serialize(
                self.recurrent_regularizer
            ),
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
