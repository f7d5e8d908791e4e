"""How the read enters the state (keras_sab/sab_step.py `read_into_state`,
the `read` argument): the paper's step and `read="projected"`; and the empty
memory a read may choose (`memory_read`, the `null_slot` argument)."""

import argparse
import importlib
import json
import pathlib
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.testing import TestCase

import keras_sab
from keras_sab.sab_step import StepWeights
from keras_sab.sab_step import null_keys
from keras_sab.sab_step import read_into_state

UNITS = 5


def _random(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _projected(units=UNITS, projection_seed=None, **kwargs):
    """A built SAB with `read="projected"` (float64), its projection random
    when `projection_seed` is given, zero (as initialised) otherwise."""
    keras.utils.set_random_seed(1)
    layer = keras_sab.SAB(units, k_top=2, k_att=3, k_trunc=4, read="projected",
                          dtype="float64", **kwargs)
    layer.build((2, 12, 3))
    if projection_seed is not None:
        layer.cell.read_projection.assign(_random(units, units, seed=projection_seed) / 2)
    return layer


def test_the_paper_s_read_carries_its_output():
    h_hat, read = _random(2, UNITS), _random(2, UNITS, seed=1)
    weights = StepWeights(*[None] * 5)
    output, carried = read_into_state(weights, tf.constant(h_hat), tf.constant(read))
    np.testing.assert_allclose(output, h_hat + read, rtol=1e-12)
    np.testing.assert_array_equal(carried, output)


def test_the_projected_read_carries_the_read_through_its_matrix():
    h_hat, read = _random(2, UNITS), _random(2, UNITS, seed=1)
    matrix = _random(UNITS, UNITS, seed=2)
    weights = StepWeights(*[None] * 5, read_projection=tf.constant(matrix))
    output, carried = read_into_state(weights, tf.constant(h_hat), tf.constant(read))
    np.testing.assert_allclose(output, h_hat + read, rtol=1e-12)
    np.testing.assert_allclose(carried, h_hat + read @ matrix, rtol=1e-12)


@pytest.mark.parametrize("use_fused", [True, False])
def test_a_projected_read_from_zero_carries_the_lstm_s_state_and_outputs_the_read(use_fused):
    """With the projection at its initial zero, the state carried on is the
    LSTM's (same weights), `h` and `c` at every length; the outputs are not
    (they hold the read), and the projection gets a gradient."""
    layer = _projected(use_fused=use_fused, return_sequences=True, return_state=True)
    lstm = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True, dtype="float64")
    lstm.build((2, 12, 3))
    lstm.set_weights(layer.get_weights()[:3])
    x = tf.constant(_random(2, 12, 3, seed=3))
    with tf.GradientTape() as tape:
        outputs, h, c = layer(x)
        loss = tf.reduce_sum(outputs**2)
    lstm_outputs, lstm_h, lstm_c = lstm(x)
    np.testing.assert_allclose(h, lstm_h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, lstm_c, rtol=1e-10, atol=1e-12)
    # The first 3 steps read nothing (no memory yet); later steps read.
    np.testing.assert_allclose(outputs[:, :3], lstm_outputs[:, :3], rtol=1e-10, atol=1e-12)
    assert np.abs(outputs[:, 3:] - lstm_outputs[:, 3:]).min(axis=-1).max() > 1e-3
    gradient = tape.gradient(loss, layer.cell.read_projection)
    assert np.abs(gradient).max() > 1e-3


@pytest.mark.parametrize("use_fused", [True, False])
def test_a_projected_read_from_the_identity_is_the_paper_s_step(use_fused):
    """`read_gain=1` starts `A` at the identity: outputs, the
    states carried and every shared weight's gradient are the paper's step's
    (same weights), and `A`'s gradient is not zero."""
    x = tf.constant(_random(2, 12, 3, seed=11))
    results = []
    for read in ("add", "projected"):
        keras.utils.set_random_seed(1)
        layer = keras_sab.SAB(UNITS, k_top=2, k_att=3, k_trunc=4, read=read,
                              read_gain=1.0 if read == "projected" else None,
                              return_sequences=True, return_state=True,
                              use_fused=use_fused, dtype="float64")
        layer.build((2, 12, 3))
        if results:
            layer.set_weights(results[0][0] + [layer.cell.read_projection.numpy()])
        with tf.GradientTape() as tape:
            outputs = layer(x)
            loss = tf.reduce_sum(tf.sin(outputs[0])) + tf.reduce_sum(outputs[1] ** 2)
        results.append((layer.get_weights(), outputs, tape.gradient(loss, layer.trainable_weights)))
    (_, paper, paper_grads), (weights, projected, projected_grads) = results
    np.testing.assert_array_equal(weights[-1], np.eye(UNITS))
    for value, expected in zip(projected, paper):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    for gradient, expected in zip(projected_grads, paper_grads):
        np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-12)
    assert np.abs(projected_grads[-1]).max() > 1e-3


@pytest.mark.parametrize("gain", [None, 0.5, -2])
def test_the_read_gain_starts_the_projection_and_survives_the_config(gain):
    layer = keras_sab.SAB(UNITS, read="projected", read_gain=gain)
    restored = keras_sab.SAB.from_config(layer.get_config())
    for built in (layer, restored):
        built.build((2, 12, 3))
        np.testing.assert_array_equal(
            built.cell.read_projection.numpy(), (gain or 0.0) * np.eye(UNITS)
        )
    assert restored.read_gain == gain


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"read_gain": 0.5}, "leave it unset with read='add'. Received: read_gain=0.5"),
        ({"read": "projected", "read_gain": float("nan")}, "finite float. Received: read_gain=nan"),
        ({"read": "projected", "read_gain": "half"}, "Received: read_gain='half'"),
        ({"read": "projected", "read_gain": True}, "Received: read_gain=True"),
    ],
)
def test_a_read_gain_that_cannot_apply_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_sab.SAB(UNITS, **kwargs)


def test_rnn_of_the_cell_is_the_layer_with_a_projected_read():
    """`keras.layers.RNN(SABCell(read="projected"))` and both of SAB's paths:
    the same outputs and weight gradients (a random projection)."""
    layer = _projected(projection_seed=4, return_sequences=True)
    cell = keras_sab.SABCell(UNITS, k_top=2, k_att=3, k_trunc=4, read="projected",
                             max_memories=4, dtype="float64")
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    rnn.build((2, 12, 3))
    rnn.set_weights(layer.get_weights())
    x = tf.constant(_random(2, 12, 3, seed=5))
    results = []
    for model, fused in ((layer, True), (layer, False), (rnn, None)):
        if fused is not None:
            model.use_fused = fused
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(model(x)))
        results.append((loss.numpy(), tape.gradient(loss, model.trainable_weights)))
    for loss, gradients in results[1:]:
        np.testing.assert_allclose(loss, results[0][0], rtol=1e-12)
        for gradient, expected in zip(gradients, results[0][1]):
            np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-12)


def test_a_masked_step_outputs_the_previous_output_not_the_carried_state():
    """Under a mask a projected read's output repeats the last unmasked
    step's output (as `keras.layers.RNN` does), on both paths."""
    x = tf.constant(_random(2, 12, 3, seed=6))
    mask = np.ones((2, 12), bool)
    mask[0, 7:] = False
    mask[1, 4:6] = False
    for use_fused in (True, False):
        layer = _projected(projection_seed=7, use_fused=use_fused, return_sequences=True,
                           return_state=True)
        outputs, h, _ = layer(x, mask=tf.constant(mask))
        np.testing.assert_array_equal(outputs[0, 7:], np.repeat(outputs[0, 6:7], 5, axis=0))
        np.testing.assert_array_equal(outputs[1, 4:6], np.repeat(outputs[1, 3:4], 2, axis=0))
        assert np.abs(outputs[0, -1] - h[0]).max() > 1e-3


def test_the_projection_is_a_weight_only_where_the_layer_reads():
    """`read="projected"` adds one `units x units` weight, none without
    attention; the paper's read has none."""
    def weights(**kwargs):
        layer = keras_sab.SAB(UNITS, **kwargs)
        layer.build((2, 12, 3))
        return {w.name: tuple(w.shape) for w in layer.weights}

    assert weights(read="projected")["read_projection"] == (UNITS, UNITS)
    assert "read_projection" not in weights()
    assert "read_projection" not in weights(read="projected", k_top=0)


def test_a_projected_model_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((None, 3)), _projected(projection_seed=8)])
    x = _random(2, 12, 3, seed=9)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].read == "projected"
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_a_config_saved_before_read_existed_loads_as_the_paper_s_step():
    config = keras_sab.SAB(4).get_config()
    del config["read"], config["read_gain"]
    layer = keras_sab.SAB.from_config(config)
    assert layer.read == "add"


def test_an_unknown_read_is_refused():
    with pytest.raises(ValueError, match="`read` must be one of .*Received: read='sum'"):
        keras_sab.SAB(4, read="sum")


class ProjectedReadHarnessTest(TestCase):
    """Keras's layer harness on `read="projected"` (with recurrent dropout),
    on both paths: one weight more than the paper's read."""

    def test_run_layer_test(self):
        for use_fused in ("auto", False):
            self.run_layer_test(
                keras_sab.SAB,
                init_kwargs=dict(
                    units=3, k_top=2, k_att=2, k_trunc=3, read="projected",
                    recurrent_dropout=0.25, return_sequences=True, use_fused=use_fused,
                ),
                input_shape=(3, 7, 4),
                call_kwargs={"training": True},
                expected_output_shape=(3, 7, 3),
                expected_num_trainable_weights=8,
                expected_num_non_trainable_weights=0,
                expected_num_seed_generators=1,
                supports_masking=True,
            )


def test_a_model_saved_before_read_existed_recalls_what_its_run_recorded(monkeypatch):
    """The copy model committed in docs/results (saved on 2026-12-02, before
    `read`) loads as the paper's step, without a projection, and recalls on
    its test set what its run wrote to `metrics.json` then."""
    root = pathlib.Path(__file__).resolve().parents[1]
    run = root / "docs" / "results" / "copy_T100_sab_default"
    monkeypatch.syspath_prepend(str(root / "examples"))
    copy_task = importlib.import_module("copy_task")
    metrics = json.loads((run / "metrics.json").read_text())
    model = keras.saving.load_model(run / "model.keras", compile=False)
    layer = model.get_layer("rnn")
    assert layer.read == "add"
    assert "read_projection" not in [w.name for w in layer.weights]
    test = copy_task.copy_task(argparse.Namespace(**metrics["hyperparameters"])).test
    correct = []
    for x, y in test.as_numpy_iterator():
        predicted = np.asarray(model.predict_on_batch(x)).argmax(-1)
        correct.append(predicted[:, -10:] == y[:, -10:])
    correct = np.concatenate(correct)
    # Within one prediction of the recorded figure.
    tolerance = 1.0 / correct.size + 1e-6
    assert correct.mean() == pytest.approx(metrics["test"]["copy_recall_accuracy"], abs=tolerance)


@pytest.mark.parametrize("read", ["add", "projected"])
def test_rnn_of_the_cell_is_the_layer_with_an_empty_memory(read):
    """`RNN(SABCell(null_slot=True))` and both of SAB's paths: the same
    outputs and weight gradients, `b` and `v` included (the empty memory's
    score moves them); and they differ from the same weights without it."""
    kwargs = dict(k_top=2, k_att=3, k_trunc=4, read=read, null_slot=True, dtype="float64")
    keras.utils.set_random_seed(2)
    layer = keras_sab.SAB(UNITS, return_sequences=True, **kwargs)
    layer.build((2, 12, 3))
    layer.set_weights([_random(*w.shape, seed=i) / 2 for i, w in enumerate(layer.weights)])
    rnn = keras.layers.RNN(
        keras_sab.SABCell(UNITS, max_memories=4, **kwargs), return_sequences=True,
        dtype="float64",
    )
    rnn.build((2, 12, 3))
    rnn.set_weights(layer.get_weights())
    without = keras_sab.SAB(UNITS, return_sequences=True, **{**kwargs, "null_slot": False})
    without.build((2, 12, 3))
    without.set_weights(layer.get_weights())
    x = tf.constant(_random(2, 12, 3, seed=5))
    results = []
    for model, fused in ((layer, True), (layer, False), (rnn, None), (without, True)):
        if fused is not None:
            model.use_fused = fused
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(model(x)))
        results.append((loss.numpy(), tape.gradient(loss, model.trainable_weights)))
    names = [w.name for w in layer.trainable_weights]
    for loss, gradients in results[1:3]:
        np.testing.assert_allclose(loss, results[0][0], rtol=1e-12)
        for name, gradient, expected in zip(names, gradients, results[0][1]):
            np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-12, err_msg=name)
    assert abs(results[3][0] - results[0][0]) > 1e-3
    bias = names.index("attention_bias")
    assert np.abs(results[3][1][bias] - results[0][1][bias]).max() > 1e-6


def test_the_empty_memory_s_key_is_the_scorer_s_bias():
    """The empty memory is scored as a zero state: its key is `W_m 0 + b`."""
    query = tf.zeros((2, 4), tf.float64)
    bias = tf.constant([1.0, -2.0, 0.5, 3.0], tf.float64)
    weights = StepWeights(None, None, None, bias, tf.ones(4, tf.float64))
    np.testing.assert_array_equal(null_keys(weights, query), np.broadcast_to(bias, (2, 1, 4)))
    dot = StepWeights(None, None, None, None, None)
    np.testing.assert_array_equal(null_keys(dot, query), np.zeros((2, 1, 4)))


def test_an_empty_memory_adds_no_weight_and_saves_and_loads(tmp_path):
    """`null_slot` adds no weight; a model with it saves and loads to the
    same predictions; a config saved before it existed loads without it."""
    inputs = keras.Input((12, 3))
    layer = keras_sab.SAB(UNITS, k_top=2, k_att=3, null_slot=True)
    model = keras.Model(inputs, layer(inputs))
    plain = keras_sab.SAB(UNITS, k_top=2, k_att=3)
    plain.build((None, 12, 3))
    assert [w.name for w in layer.weights] == [w.name for w in plain.weights]
    path = tmp_path / "null.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[-1].null_slot is True
    x = _random(2, 12, 3, seed=1)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config = keras_sab.SAB(4).get_config()
    del config["null_slot"]
    assert keras_sab.SAB.from_config(config).null_slot is False


def test_an_empty_memory_needs_softmax_weights_and_a_bool():
    with pytest.raises(ValueError, match="`null_slot=True` needs softmax weights.*'sparse'"):
        keras_sab.SAB(4, attention="sparse", null_slot=True)
    with pytest.raises(ValueError, match="`null_slot` must be True or False.*'yes'"):
        keras_sab.SAB(4, null_slot="yes")
