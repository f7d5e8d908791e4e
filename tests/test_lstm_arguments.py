"""Every argument of `keras.layers.LSTM` on `SAB`, with the LSTM's meaning.

`SAB(k_top=0, k_trunc=None, ...)` is a plain LSTM with full BPTT (ALGORITHM.md
§5): given the same weights and the same argument, it must compute what
`keras.layers.LSTM` computes (outputs and gradients), on the fused path and on
the cell loop. Arguments that act on training (constraints, regularizers,
dropout) are compared through what they change: the losses, one optimizer
step, the dropout masks. Keras's own layer harness runs with each argument set.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.testing import TestCase

import keras_sab
from tests.numerics import assert_scaled_close

PATHS = [True, False]


def _pair(use_fused, units=4, features=3, timesteps=7, batch=3, **kwargs):
    """A `SAB` LSTM and a `keras.layers.LSTM` with the same weights."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(batch, timesteps, features)).astype("float32")
    sab = keras_sab.SAB(units, k_top=0, k_trunc=None, use_fused=use_fused, **kwargs)
    lstm = keras.layers.LSTM(units, **kwargs)
    sab(x)
    lstm(x)
    weights = lstm.get_weights()
    if kwargs.get("bias_constraint") == "non_neg":
        weights[-1] = np.abs(weights[-1])
    lstm.set_weights(weights)
    sab.set_weights(weights)
    return sab, lstm, tf.constant(x)


def _outputs_and_gradients(layer, x, **call_kwargs):
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x, **call_kwargs)
        loss = tf.reduce_sum(tf.sin(outputs) * tf.range(1.0, 1.0 + outputs.shape[-1]))
    return [outputs] + tape.gradient(loss, [x] + layer.trainable_weights)


def _assert_same(sab, lstm, x, **call_kwargs):
    for ours, theirs in zip(
        _outputs_and_gradients(sab, x, **call_kwargs),
        _outputs_and_gradients(lstm, x, **call_kwargs),
    ):
        assert_scaled_close(ours, theirs)


@pytest.mark.parametrize("use_fused", PATHS)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(use_bias=False),
        dict(use_bias=False, unit_forget_bias=False),
        dict(activation="relu"),
        dict(activation=None, recurrent_activation="hard_sigmoid"),
        dict(activation="gelu", recurrent_activation="tanh"),
        dict(recurrent_activation="hard_sigmoid", return_sequences=True),
        dict(use_cudnn=False, return_sequences=True),
        dict(use_cudnn="auto", go_backwards=True),
    ],
    ids=lambda kwargs: ",".join(f"{k}={v}" for k, v in kwargs.items()),
)
def test_matches_keras_lstm(kwargs, use_fused):
    """Outputs and gradients (inputs and every weight) of the LSTM."""
    sab, lstm, x = _pair(use_fused, **kwargs)
    _assert_same(sab, lstm, x)


def test_unroll_matches_keras_lstm_unrolled():
    """`unroll=True` runs the cell loop in Python and computes the LSTM's
    values; it needs a static length."""
    sab, lstm, x = _pair("auto", unroll=True, return_sequences=True)
    _assert_same(sab, lstm, x)
    layer = keras_sab.SAB(4, unroll=True)
    run = tf.function(layer, input_signature=[tf.TensorSpec((1, None, 3))])
    with pytest.raises(ValueError, match="`unroll=True` needs a static sequence length"):
        run.get_concrete_function()


def _fixed_masks(monkeypatch, cell_class, mask, masks_per_gate):
    """Makes a cell class return `mask` as its recurrent dropout mask (four
    copies for `keras.layers.LSTMCell`, which draws one per gate)."""
    value = [mask] * 4 if masks_per_gate else mask
    monkeypatch.setattr(cell_class, "get_recurrent_dropout_mask", lambda self, h: value)


@pytest.mark.parametrize("use_fused", PATHS)
def test_recurrent_dropout_is_the_lstm_s_given_the_same_mask(monkeypatch, use_fused):
    """With the same recurrent dropout mask, the LSTM's outputs and gradients;
    in inference no mask applies."""
    sab, lstm, x = _pair(use_fused, recurrent_dropout=0.4, return_sequences=True)
    rng = np.random.default_rng(2)
    mask = tf.constant((rng.random((3, 4)) > 0.4) / 0.6, tf.float32)
    _fixed_masks(monkeypatch, keras_sab.SABCell, mask, masks_per_gate=False)
    _fixed_masks(monkeypatch, keras.layers.LSTMCell, mask, masks_per_gate=True)
    _assert_same(sab, lstm, x, training=True)
    assert np.abs(sab(x, training=True) - sab(x, training=False)).max() > 1e-3
    _assert_same(sab, lstm, x, training=False)


def test_recurrent_dropout_draws_one_mask_per_call_on_both_paths():
    """Both paths draw the same mask from the same seed: their training
    outputs agree, and differ from inference."""
    x = np.random.default_rng(3).normal(size=(2, 12, 3)).astype("float32")
    layers = [
        keras_sab.SAB(
            4,
            k_top=2,
            k_att=3,
            k_trunc=4,
            recurrent_dropout=0.5,
            seed=7,
            use_fused=use_fused,
            return_sequences=True,
        )
        for use_fused in PATHS
    ]
    for layer in layers:
        layer(x)
    layers[1].set_weights(layers[0].get_weights())
    fused, loop = (layer(x, training=True) for layer in layers)
    assert_scaled_close(fused, loop)
    assert np.abs(fused - layers[0](x)).max() > 1e-3


@pytest.mark.parametrize("use_fused", PATHS)
def test_zero_output_for_mask(use_fused):
    """Masked steps output zeros, as `keras.layers.LSTM`'s, instead of
    repeating the last output."""
    sab, lstm, x = _pair(use_fused, zero_output_for_mask=True, return_sequences=True)
    mask = tf.constant(
        [
            [True] * 7,
            [True, False, True, True, False, False, True],
            [False, False, True, True, True, True, False],
        ]
    )
    ours, theirs = sab(x, mask=mask), lstm(x, mask=mask)
    assert_scaled_close(ours, theirs)
    assert np.all(ours.numpy()[~mask.numpy()] == 0)
    repeated = keras_sab.SAB(4, k_top=0, k_trunc=None, return_sequences=True)
    repeated(x)
    repeated.set_weights(sab.get_weights())
    # Row 1's masked steps follow unmasked ones: without the flag they repeat them.
    assert np.abs(repeated(x, mask=mask).numpy()[1][~mask.numpy()[1]]).min() > 0


@pytest.mark.parametrize("use_fused", PATHS)
def test_bias_and_activity_regularizers_add_the_lstm_s_losses(use_fused):
    kwargs = dict(
        bias_regularizer=keras.regularizers.L2(0.3), activity_regularizer=keras.regularizers.L1(0.2)
    )
    sab, lstm, x = _pair(use_fused, **kwargs)
    sab(x)
    lstm(x)
    assert len(sab.losses) == len(lstm.losses) == 2
    np.testing.assert_allclose(
        sorted(map(float, sab.losses)), sorted(map(float, lstm.losses)), rtol=1e-5
    )


@pytest.mark.parametrize("use_fused", PATHS)
def test_constraints_hold_after_a_training_step_as_the_lstm_s(use_fused):
    """One SGD step with every constraint set: the weights are the LSTM's
    after its step, and non-negative."""
    kwargs = dict(
        kernel_constraint="non_neg", recurrent_constraint="non_neg", bias_constraint="non_neg"
    )
    sab, lstm, x = _pair(use_fused, **kwargs)
    y = np.random.default_rng(4).normal(size=(3, 4)).astype("float32")
    for layer in (sab, lstm):
        model = keras.Sequential([keras.Input((7, 3)), layer])
        model.compile(keras.optimizers.SGD(0.5), "mse")
        model.train_on_batch(x, y)
    for ours, theirs in zip(sab.get_weights(), lstm.get_weights()):
        assert_scaled_close(ours, theirs)
        assert ours.min() >= 0
    assert any((w == 0).any() for w in sab.get_weights())


def test_every_lstm_argument_is_accepted_and_saved():
    """No argument of `keras.layers.LSTM` is refused, and each survives the
    config round trip."""
    import inspect

    names = set(inspect.signature(keras.layers.LSTM.__init__).parameters) - {"self", "kwargs"}
    layer = keras_sab.SAB(4)
    config = layer.get_config()
    assert names <= set(config), names - set(config)
    again = keras_sab.SAB.from_config(config)
    assert again.get_config() == config


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(use_cudnn=True), "`use_cudnn` must be 'auto' or False"),
        (dict(unroll=True, use_fused=True), "`unroll=True` runs the cell loop"),
        (dict(activation="softmax"), "`activation` must be an element-wise"),
        (dict(recurrent_activation="nope"), "`recurrent_activation` must be an element-wise"),
        (dict(recurrent_dropout=1.0), "`recurrent_dropout` must be a float in"),
    ],
)
def test_bad_lstm_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_sab.SAB(4, **kwargs)


class LSTMArgumentsHarnessTest(TestCase):
    """Keras's layer harness with the LSTM arguments set, on both paths."""

    def test_run_layer_test(self):
        arguments = dict(
            activation="relu",
            recurrent_activation="hard_sigmoid",
            use_bias=False,
            recurrent_dropout=0.25,
            bias_regularizer="l2",
            activity_regularizer="l2",
            kernel_constraint="max_norm",
            recurrent_constraint="unit_norm",
            zero_output_for_mask=True,
            use_cudnn=False,
        )
        for use_fused in ("auto", False):
            self.run_layer_test(
                keras_sab.SAB,
                init_kwargs=dict(
                    units=3,
                    k_top=2,
                    k_att=2,
                    k_trunc=3,
                    return_sequences=True,
                    use_fused=use_fused,
                    **arguments,
                ),
                input_shape=(3, 7, 4),
                call_kwargs={"training": True},
                expected_output_shape=(3, 7, 3),
                expected_num_trainable_weights=6,
                expected_num_non_trainable_weights=0,
                expected_num_seed_generators=1,
                expected_num_losses=1,
                supports_masking=True,
            )
        self.run_layer_test(
            keras_sab.SAB,
            init_kwargs=dict(units=3, k_top=2, k_att=2, k_trunc=3, unroll=True),
            input_shape=(3, 7, 4),
            expected_output_shape=(3, 3),
            expected_num_trainable_weights=7,
            expected_num_non_trainable_weights=0,
            expected_num_seed_generators=1,
            supports_masking=True,
        )


@pytest.mark.parametrize(
    "kwargs",
    [dict(use_bias=False), dict(activation="relu", recurrent_activation="hard_sigmoid")],
    ids=lambda kwargs: ",".join(f"{k}={v}" for k, v in kwargs.items()),
)
def test_rnn_of_cell_matches_keras_lstm(kwargs):
    """`keras.layers.RNN(SABCell(...))` takes the LSTM cell's arguments too."""
    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(1).normal(size=(3, 7, 3)).astype("float32"))
    cell = keras_sab.SABCell(4, k_top=0, k_trunc=None, max_memories=1, **kwargs)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    lstm = keras.layers.LSTM(4, return_sequences=True, **kwargs)
    rnn(x)
    lstm(x)
    rnn.set_weights(lstm.get_weights())
    _assert_same(rnn, lstm, x)
