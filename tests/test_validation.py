"""Bad arguments raise a ValueError naming the argument (ALGORITHM.md §6)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab

BAD_ARGUMENTS = [
    ("k_att", 0, "k_att"),
    ("k_att", -3, "k_att"),
    ("k_top", -1, "k_top"),
    ("k_trunc", 0, "k_trunc"),
    ("k_att", 2.5, "k_att"),
    ("k_top", 1.0, "k_top"),
    ("k_trunc", "10", "k_trunc"),
    ("k_top", True, "k_top"),
    ("attention", "softmax", "attention"),
    ("attention_units", 0, "attention_units"),
    ("scorer", "additive", "scorer"),
    ("scorer", None, "scorer"),
    ("dropout", 1.0, "dropout"),
    ("temperature", 0.0, "temperature"),
    ("temperature", -2.0, "temperature"),
    ("temperature", float("inf"), "temperature"),
    ("temperature", "1", "temperature"),
]


@pytest.mark.parametrize("name,value,quoted", BAD_ARGUMENTS)
@pytest.mark.parametrize("cls", [keras_sab.SAB, keras_sab.SABCell])
def test_bad_hyper_parameter_raises_value_error_naming_it(cls, name, value, quoted):
    with pytest.raises(ValueError, match=f"`{quoted}` must be") as info:
        cls(8, **{name: value})
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("units", [0, -4, 3.5, None])
def test_bad_units(units):
    with pytest.raises(ValueError, match="`units` must be an integer >= 1"):
        keras_sab.SAB(units)


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 5, 3), (5,)])
def test_input_not_rank_3_raises_at_first_call(shape):
    with pytest.raises(ValueError, match="rank 3"):
        keras_sab.SAB(4)(np.zeros(shape, "float32"))


def test_input_not_rank_3_raises_in_a_model():
    with pytest.raises(ValueError, match="rank 3, \\(batch, timesteps, features\\)"):
        keras.Sequential([keras.Input((5,)), keras_sab.SAB(4)])


def test_cell_in_rnn_needs_max_memories():
    with pytest.raises(ValueError, match="`max_memories` must be an integer >= 1"):
        keras.layers.RNN(keras_sab.SABCell(4))


def test_k_trunc_none_and_k_top_zero_are_allowed():
    layer = keras_sab.SAB(4, k_top=0, k_trunc=None)
    assert layer(np.zeros((1, 3, 2), "float32")).shape == (1, 4)


@pytest.mark.parametrize("cls", [keras_sab.SAB, keras_sab.SABCell])
def test_temperature_with_the_paper_rule_raises(cls):
    """`attention="sparse"` has no temperature: another value is refused
    rather than ignored."""
    with pytest.raises(ValueError, match="attention='sparse' has none") as info:
        cls(8, attention="sparse", temperature=0.5)
    assert "temperature=0.5" in str(info.value)
    assert cls(8, attention="sparse", temperature=1.0).temperature == 1.0


def test_a_sequence_without_steps_raises_naming_the_input():
    """Regression (issue 32): a length-0 sequence reached TensorFlow
    (`transpose expects a vector of size 1`). Known when traced: a
    `ValueError`; known only as the graph runs: the same message."""
    layer = keras_sab.SAB(4)
    message = "must have at least one step \\(timesteps >= 1\\)"
    with pytest.raises(ValueError, match=message):
        layer(np.zeros((2, 0, 3), "float32"))
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 3))])
    assert traced(np.zeros((2, 5, 3), "float32")).shape == (2, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced(np.zeros((2, 0, 3), "float32"))


def test_a_feature_width_other_than_the_built_one_raises():
    """Regression (issue 32): a changed feature width reached the input
    projection (`Matrix size-incompatible`); an `input_spec` names it."""
    layer = keras_sab.SAB(4)
    layer(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((2, 5, 4), "float32"))


STREAM_BATCH = "built for batches of 4 .* Received a batch of {}"


def _stateful_model(batch_size):
    return keras.Sequential(
        [
            keras.Input((6, 3), batch_size=batch_size),
            keras_sab.SAB(5, k_top=2, k_att=2, stateful=True, max_memories=3),
            keras.layers.Dense(1),
        ]
    )


def test_a_stateful_layer_given_another_batch_size_raises_eager_and_traced():
    """Regression (issue 32): a stateful layer fed a batch of another size
    raised `ConcatOp : Dimension 0 ...` when traced, and its eager message
    advised `reset_state()`, which then failed."""
    layer = keras_sab.SAB(5, stateful=True, max_memories=3)
    layer(np.zeros((4, 6, 3), "float32"))
    with pytest.raises(ValueError, match=STREAM_BATCH.format(2)):
        layer(np.zeros((2, 6, 3), "float32"))
    with pytest.raises(ValueError, match=STREAM_BATCH.format(2)):
        tf.function(layer)(np.zeros((2, 6, 3), "float32"))
    # Traced with an unknown batch, as `model.fit` traces.
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, 6, 3))])
    assert traced(np.zeros((4, 6, 3), "float32")).shape == (4, 5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=STREAM_BATCH.format("another")):
        traced(np.zeros((2, 6, 3), "float32"))


def test_fit_s_smaller_last_batch_on_a_stateful_model_gets_advice_that_works():
    """`model.fit` on 10 samples in batches of 4 ends with a batch of 2:
    the error says so, and what it advises (batches that divide the samples,
    or a new model for another batch size with the weights copied) runs."""
    model = _stateful_model(4)
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(10, 6, 3)).astype("float32")
    with pytest.raises(tf.errors.InvalidArgumentError, match=STREAM_BATCH.format("another")):
        model.fit(x, x[:, -1, :1], batch_size=4, shuffle=False, verbose=0)
    model.fit(x[:8], x[:8, -1, :1], batch_size=4, shuffle=False, verbose=0)
    other = _stateful_model(2)
    other.set_weights(model.get_weights())
    other.compile("adam", "mse")
    history = other.fit(x, x[:, -1, :1], batch_size=2, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
