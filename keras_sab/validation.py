"""Argument checks shared by `SABCell` and `SAB`.

Every check raises a `ValueError` that names the argument and says what is
allowed (ALGORITHM.md §6), so that a bad setting never surfaces as a TensorFlow
traceback or as a silently wrong model.
"""

import numbers

import keras
import tensorflow as tf

from keras_sab.attention_scorer import SCORERS
from keras_sab.sparse_attention import ATTENTION_MODES


def is_integer(value):
    """Whether `value` is an integer (a `bool` is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value):
    """Whether `value` is a real number (a bool is not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name, value, minimum, allow_none=False):
    """Returns `value` as a Python int if it is an integer `>= minimum`.

    Args:
        name: argument name, quoted in the error.
        value: the value to check.
        minimum: smallest allowed value.
        allow_none: whether `None` is accepted (and returned as is).
            Defaults to `False`.

    Returns:
        `int(value)`, or `None`.

    Raises:
        ValueError: naming `name` and the allowed values.
    """
    if value is None and allow_none:
        return None
    if not is_integer(value) or value < minimum:
        allowed = f"an integer >= {minimum}"
        if allow_none:
            allowed += " or None"
        raise ValueError(f"`{name}` must be {allowed}. Received: {name}={value!r}")
    return int(value)


def check_rate(name, value):
    """Returns `value` as a float if it lies in `[0, 1)`, else raises."""
    if (
        not is_real(value)
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_read_gain(value, read, name="read_gain"):
    """Returns `value` (`None`, or a finite float) if it is a valid
    `read_gain` for `read`: the paper's read (`"add"`) has no matrix to start,
    so it takes only `None`, and a setting is never silently ignored. `name`
    is the argument (or flag) quoted in the error."""
    if value is None:
        return None
    if (
        not is_real(value)
        or not abs(value) < float("inf")
    ):
        raise ValueError(f"`{name}` must be None or a finite float. Received: {name}={value!r}")
    if read != "projected":
        raise ValueError(
            f"`{name}` starts the matrix of read='projected' only: leave it unset "
            f"with read={read!r}. Received: {name}={value!r}"
        )
    return float(value)


def check_attention(value):
    """Returns `value` if it is one of the attention modes, else raises."""
    if value not in ATTENTION_MODES:
        raise ValueError(
            f"`attention` must be one of {ATTENTION_MODES}. "
            f"Received: attention={value!r}"
        )
    return value


READ_MODES = ("add", "projected")


def check_read(value):
    """Returns `value` if it is one of the ways the read enters the state,
    else raises."""
    if value not in READ_MODES:
        raise ValueError(f"`read` must be one of {READ_MODES}. Received: read={value!r}")
    return value


def check_null_slot(value, attention):
    """Returns `value` if it is a bool that `attention` allows, else raises:
    the empty memory shares a softmax, which the paper's rule (`"sparse"`)
    does not have."""
    if not isinstance(value, bool):
        raise ValueError(f"`null_slot` must be True or False. Received: null_slot={value!r}")
    if value and attention == "sparse":
        raise ValueError(
            "`null_slot=True` needs softmax weights: `attention` must be 'sparse_softmax' or "
            f"'dense'. Received: attention={attention!r}, null_slot=True"
        )
    return value


# Keras activations that are not element-wise: the LSTM's gates need
# element-wise ones (the fused backward multiplies by their derivatives).
_NOT_ELEMENTWISE = ("softmax", "log_softmax")


def check_activation(name, value):
    """Returns the Keras activation function `value` names (`None`: linear),
    if it is element-wise, else raises naming `name`."""
    try:
        function = keras.activations.get(value)
    except ValueError:
        function = None
    rejected = [getattr(keras.activations, a) for a in _NOT_ELEMENTWISE]
    if function is None or not callable(function) or function in rejected:
        raise ValueError(
            f"`{name}` must be an element-wise activation: a Keras activation "
            f"name or function other than {_NOT_ELEMENTWISE}, or None (linear). "
            f"Received: {name}={value!r}"
        )
    return function


def check_scorer(value):
    """Returns `value` if it is one of the scorers, else raises."""
    if value not in SCORERS:
        raise ValueError(f"`scorer` must be one of {SCORERS}. Received: scorer={value!r}")
    return value


def check_temperature(value, attention, name="temperature"):
    """Returns `value` as a float if it is a valid temperature for `attention`.

    The softmax modes take any finite float `> 0`; `"sparse"` has no
    temperature and takes only `1.0`, so that a setting is never silently
    ignored. `name` is the argument (or flag) quoted in the error.
    """
    if (
        not is_real(value)
        or not 0.0 < value < float("inf")
    ):
        raise ValueError(
            f"`{name}` must be a finite float > 0. Received: {name}={value!r}"
        )
    if attention == "sparse" and value != 1.0:
        raise ValueError(
            f"`{name}` applies to attention='sparse_softmax' and 'dense'; "
            f"attention='sparse' has none and requires {name}=1.0. "
            f"Received: {name}={value!r}"
        )
    return float(value)


# The largest integer up to which every count is exact, per float dtype.
EXACT_COUNT_LIMITS = {"float16": 2048, "bfloat16": 256}


def check_exact_counts(dtype, **counts):
    """Raises unless every count fits the integers `dtype` holds exactly.

    `keras.layers.RNN` casts every state of a cell to the compute dtype,
    `SABCell`'s step counters included, which never exceed `k_att`, `k_trunc`
    and `max_memories`. In bfloat16 (float16) the integers are exact only up
    to 256 (2048): beyond, a counter stops and memory writes or truncation
    silently stop with it.

    Args:
        dtype: the compute dtype, a string.
        **counts: the bounds to check, by argument name (`None` is skipped).

    Raises:
        ValueError: naming the first argument over the limit.
    """
    limit = EXACT_COUNT_LIMITS.get(dtype)
    for name, value in counts.items():
        if limit is not None and value is not None and value > limit:
            raise ValueError(
                f"`{name}` must be <= {limit} when a SABCell computes in "
                f"{dtype}: keras.layers.RNN casts the cell's step counters to "
                f"{dtype}, which counts exactly only up to {limit}. "
                f"Received: {name}={value}. Use keras_sab.SAB, whose counters "
                "are int32, or a float32 policy."
            )


def check_sequence_rank(shape, layer_name):
    """Raises unless `shape` is `(batch, timesteps, features)` with known features."""
    if shape is None or len(shape) != 3:
        raise ValueError(
            f"Input 0 of layer {layer_name!r} must be rank 3, "
            f"(batch, timesteps, features). Received: input shape={shape}"
        )
    if shape[-1] is None:
        raise ValueError(
            f"The last dimension (features) of the input to {layer_name!r} "
            f"must be known. Received: input shape={shape}"
        )


def stream_batch_message(layer_name, expected, received):
    """The error for a batch of a size other than a stateful layer's."""
    return (
        f"A stateful layer {layer_name!r} carries one stream per batch row and "
        f"was built for batches of {expected} (row b continues row b of the "
        f"previous batch). Received a batch of {received}. Feed batches of "
        f"exactly {expected} rows: with `model.fit` on arrays, a number of "
        f"samples divisible by `batch_size`; with tf.data, "
        f"`.batch({expected}, drop_remainder=True)`. For another batch size, "
        "build a new model with `keras.Input(batch_size=...)` and copy the "
        "weights with `set_weights`."
    )


def sequence_checks(sequences, layer_name, batch_size=None):
    """Checks that `sequences` has steps (and the batch size given).

    A sequence needs at least one step; a stateful layer needs its batch
    size. Sizes known when the call is traced (always, when eager) are
    checked at once and raise a `ValueError`; sizes known only when a graph
    runs (`model.fit` traces with an unknown batch size, so that its last
    batch may be smaller) are checked by the ops returned, with the same
    message, for the call to run after (XLA drops them, see ALGORITHM.md §6).

    Args:
        sequences: `(batch, timesteps, features)` tensor.
        layer_name: the layer's name, quoted in the error.
        batch_size: optional int, the batch size required. Defaults to
            `None`: any.

    Returns:
        A list of assertion ops (empty when eager or every size is known).

    Raises:
        ValueError: for a size known to be wrong.
    """
    shape = sequences.shape
    length_message = (
        f"The input to {layer_name!r} must have at least one step (timesteps "
        ">= 1). Received: "
    )
    if shape[1] == 0:
        raise ValueError(length_message + f"input shape={tuple(shape)}")
    if batch_size is not None and shape[0] is not None and shape[0] != batch_size:
        raise ValueError(stream_batch_message(layer_name, batch_size, shape[0]))
    checks = []
    if shape[1] is None:
        checks.append(
            tf.debugging.assert_positive(tf.shape(sequences)[1], length_message + "0 steps")
        )
    if batch_size is not None and shape[0] is None:
        checks.append(
            tf.debugging.assert_equal(
                tf.shape(sequences)[0],
                batch_size,
                stream_batch_message(layer_name, batch_size, "another size"),
            )
        )
    return checks


def check_initial_state(initial_state, units):
    """Returns `(h, c)` if `initial_state` is a list `[h, c]` of
    `(batch, units)` tensors, else raises naming `initial_state`."""
    if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
        received = (
            f"a list of {len(initial_state)}"
            if isinstance(initial_state, (list, tuple))
            else f"a {type(initial_state).__name__}"
        )
        raise ValueError(
            "`initial_state` must be a list `[h, c]` of two (batch, units) "
            f"tensors. Received: {received}"
        )
    for name, state in zip("hc", initial_state):
        shape = getattr(state, "shape", None)
        if shape is None or len(shape) != 2 or shape[-1] not in (None, units):
            raise ValueError(
                f"`initial_state` must be `[h, c]`, each of shape (batch, "
                f"{units}). Received: {name} of shape {shape}"
            )
    return tuple(initial_state)
