"""Mixed precision (keras_sab/precision.py): what SAB keeps wide, checked by
its values and its gradients against float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sab import SAB

T = 1000
UNITS = 4
PATHS = ("fused", "loop", "stream")
# The relative error allowed for every weight's gradient against float32: a
# few rounding steps of the compute dtype (bfloat16's is 2^-8, float16's
# 2^-11); seen: at most 0.63% and 0.13%. Summed in bfloat16, the recurrent
# kernel's gradient here is off by 1.3%; summed in float16, the bias's by 5%;
# a stream's read sums taken from `h - ĥ` put the query kernel's off by 2%.
GRADIENT_TOLERANCE = {"mixed_bfloat16": 0.01, "mixed_float16": 2**-9}


@pytest.fixture
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def _layer(path, units=UNITS, **kwargs):
    """SAB on one path: fused, the cell loop, or a stream (stateful, 100
    memories kept: none is dropped in 1,000 steps)."""
    if path == "stream":
        return SAB(units, stateful=True, max_memories=T // 10, **kwargs)
    return SAB(units, use_fused=path == "fused", **kwargs)


def _calls(path, x):
    """The calls a path makes of `x`: one, or four consecutive ones for a
    stream."""
    return np.split(x, 4, axis=1) if path == "stream" else [x]


def _counting_weights(layer):
    """Weights whose LSTM adds the same small amount to `c` at every step:
    no input, no recurrence, the input and forget gates saturated."""
    weights = layer.get_weights()
    weights[0][:] = 0.0
    weights[1][:] = 0.0
    bias = np.zeros(4 * UNITS, "float32")
    bias[: 2 * UNITS] = 10.0
    bias[2 * UNITS : 3 * UNITS] = 0.01
    weights[2][:] = bias
    layer.set_weights(weights)


def _counted(policy):
    """`c` after T steps of `_counting_weights`, from the gates as the
    compute dtype rounds them, summed in float64."""
    dtype = keras.mixed_precision.Policy(policy).compute_dtype
    gate = tf.sigmoid(tf.constant(10.0, dtype))
    added = float(gate * tf.tanh(tf.constant(0.01, dtype)))
    forget, c = float(gate), 0.0
    for _ in range(T):
        c = forget * c + added
    return c


@pytest.mark.parametrize("path", PATHS)
def test_cell_state_stays_wide_where_an_lstm_s_rounds(path, restore_policy):
    """Under mixed_bfloat16 `c` gains 0.01 per step for 1,000 steps: SAB
    keeps it to the rounding of its last cast, where `keras.layers.LSTM`,
    whose `c` is bfloat16, stops at 4 (`c + 0.01` rounds back to `c`)."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    expected = _counted("mixed_bfloat16")
    x = np.zeros((2, T, 1), "float32")
    layer = _layer(path, return_state=True, k_top=2, k_att=5, k_trunc=10)
    layer.build((2, T // 4 if path == "stream" else T, 1))
    _counting_weights(layer)
    for part in _calls(path, x):
        _, _, c = layer(part)
    assert c.dtype == "bfloat16"  # What it returns is in the compute dtype,
    np.testing.assert_allclose(c.numpy().astype("float64"), expected, rtol=2**-8)
    if path == "stream":  # and what it carries is wide.
        assert layer.states.c.dtype == "float32"
        np.testing.assert_allclose(layer.states.c.numpy(), expected, rtol=1e-5)

    lstm = keras.layers.LSTM(UNITS, return_state=True)
    lstm.build((2, T, 1))
    _counting_weights(lstm)
    _, _, lstm_c = lstm(x)
    assert float(lstm_c[0, 0]) < 0.8 * expected


def _gradients(policy, path, weights=None, **kwargs):
    """The summed gradients of every weight over T steps (four calls for a
    stream) of SAB with `kwargs`, with `weights` if given (with
    `read="projected"` and none given, a random read projection); and the
    weights."""
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    batch = 4
    layer = _layer(path, 16, return_sequences=True, **kwargs)
    layer.build((batch, T // 4 if path == "stream" else T, 3))
    if weights is not None:
        layer.set_weights(weights)
    elif layer.read == "projected":
        projection = layer.cell.read_projection
        projection.assign(np.random.RandomState(2).normal(size=projection.shape) * 0.3)
    x = np.random.RandomState(1).rand(batch, T, 3).astype("float32")
    total = [0.0] * len(layer.trainable_weights)
    for part in _calls(path, x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(layer(part), tf.float32))
        grads = tape.gradient(loss, layer.trainable_weights)
        assert all(g.dtype == "float32" for g in grads)
        total = [t + g.numpy().astype("float64") for t, g in zip(total, grads)]
    names = [w.name for w in layer.trainable_weights]
    weights = layer.get_weights()
    keras.mixed_precision.set_global_policy("float32")
    return weights, dict(zip(names, total))


@pytest.mark.parametrize("policy", sorted(GRADIENT_TOLERANCE))
@pytest.mark.parametrize("path", PATHS)
def test_gradient_sums_stay_wide(path, policy, restore_policy):
    """Every weight's gradient, summed over 1,000 steps (and, in a stream,
    over the records of earlier calls), is within a few rounding steps of
    the compute dtype of its float32 value with the same weights."""
    weights, reference = _gradients("float32", path)
    _, mixed = _gradients(policy, path, weights)
    for name, expected in reference.items():
        error = np.linalg.norm(mixed[name] - expected) / np.linalg.norm(expected)
        assert error < GRADIENT_TOLERANCE[policy], (name, error)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_the_empty_memory_s_gradient_sums_stay_wide(policy, restore_policy):
    """The same with an empty memory beside a projected read, on the fused
    path (the cell loop and a stream run the same functions, held equal to it
    by tests/test_invariants.py): the scorer's bias gets the empty memory's
    share too."""
    settings = dict(read="projected", null_slot=True)
    weights, reference = _gradients("float32", "fused", **settings)
    _, mixed = _gradients(policy, "fused", weights, **settings)
    for name, expected in reference.items():
        error = np.linalg.norm(mixed[name] - expected) / np.linalg.norm(expected)
        assert error < GRADIENT_TOLERANCE[policy], (name, error)


@pytest.mark.parametrize("path", PATHS)
def test_the_projected_read_s_gradient_sums_stay_wide(path, restore_policy):
    """The same with `read="projected"` (a random projection) in float16:
    the projection's gradient too."""
    policy = "mixed_float16"
    weights, reference = _gradients("float32", path, read="projected")
    _, mixed = _gradients(policy, path, weights, read="projected")
    assert "read_projection" in reference
    for name, expected in reference.items():
        error = np.linalg.norm(mixed[name] - expected) / np.linalg.norm(expected)
        assert error < GRADIENT_TOLERANCE[policy], (name, error)
