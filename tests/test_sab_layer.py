"""The `SAB` layer in Keras models (ALGORITHM.md §5-§6)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.testing import TestCase

import keras_sab
from tests.numerics import assert_scaled_close


def _sequence_task(n, timesteps, seed):
    """Label = sign pattern of the last two inputs: learnable locally."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, timesteps, 3)).astype("float32")
    y = ((x[:, -1, 0] > 0).astype(int) + 2 * (x[:, -2, 1] > 0)).astype("int32")
    return x, y


def _lstm_and_sab(timesteps=17, units=6, features=3):
    lstm = keras.layers.LSTM(units, return_sequences=True)
    sab = keras_sab.SAB(units, k_top=0, k_trunc=None, return_sequences=True)
    x = np.random.default_rng(0).normal(size=(4, timesteps, features)).astype("float32")
    lstm(x)
    sab(x)
    sab.set_weights(lstm.get_weights())
    return lstm, sab, tf.constant(x)


def test_full_bptt_without_attention_matches_keras_lstm():
    """ALGORITHM.md §5: SAB(k_top=0, k_trunc=None) == keras.layers.LSTM, outputs and
    gradients for inputs and every weight, to 1e-5."""
    lstm, sab, x = _lstm_and_sab()
    target = tf.random.normal(lstm(x).shape, seed=1)
    results = []
    for layer in (lstm, sab):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum((y - target) ** 2)
        grads = tape.gradient(loss, [x] + layer.trainable_weights)
        results.append([y] + grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_truncation_changes_gradients_not_outputs():
    """ALGORITHM.md §4: k_trunc cuts gradient only: same forward as full BPTT."""
    lstm, sab, x = _lstm_and_sab()
    truncated = keras_sab.SAB(6, k_top=0, k_trunc=4, return_sequences=True)
    truncated(x)
    truncated.set_weights(lstm.get_weights())
    np.testing.assert_allclose(truncated(x).numpy(), sab(x).numpy(), atol=1e-6)
    grads = []
    for layer in (sab, truncated):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x)[:, -1])
        grads.append(tape.gradient(loss, x).numpy())
    # Full BPTT reaches the first step; blocks of 4 stop at step 17's block.
    assert np.abs(grads[0][:, 0]).max() > 0
    assert np.abs(grads[1][:, :16]).max() == 0
    assert np.abs(grads[1][:, 16]).max() > 0


@pytest.mark.parametrize("attention", ["sparse", "dense"])
def test_layer_and_rnn_of_cell_agree(attention):
    """ALGORITHM.md §6: SAB and keras.layers.RNN(SABCell) compute the same thing.

    In float64: the two paths sum in different orders, and in float32 a
    gradient summed over many steps with cancellation (`attention_vector`'s)
    differs between them by more than 1e-5 of its scale."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(3, 22, 4))
    sab = keras_sab.SAB(5, k_top=2, k_att=3, k_trunc=4, attention=attention,
                        return_sequences=True, dtype="float64")
    cell = keras_sab.SABCell(5, k_top=2, k_att=3, k_trunc=4, attention=attention,
                             max_memories=22 // 3, dtype="float64")
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    sab(x)
    rnn(x)
    cell.set_weights(sab.cell.get_weights())
    x = tf.constant(x)
    results = []
    for layer in (sab, rnn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(layer(x)))
        results.append([loss] + tape.gradient(loss, [x] + layer.trainable_weights))
    for a, b in zip(*results):
        assert_scaled_close(a.numpy(), b.numpy(), rtol=1e-9)


@pytest.mark.parametrize("with_input", [True, False])
@pytest.mark.parametrize("jit_compile", [True, False])
def test_sequential_fit_reduces_loss(with_input, jit_compile):
    """ALGORITHM.md §6: model.add(SAB) in a Sequential, with and without an Input,
    trained with and without XLA: the loss goes down."""
    x, y = _sequence_task(256, 15, seed=0)
    model = keras.Sequential()
    if with_input:
        model.add(keras.Input((None, 3)))
    model.add(keras_sab.SAB(16, k_top=2, k_att=4, k_trunc=5))
    model.add(keras.layers.Dense(4))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert all(np.isfinite(losses))


def test_functional_shapes_and_variable_length():
    """ALGORITHM.md §6: functional model on Input((None, D)); return_sequences,
    return_attention and return_state give the documented shapes at any T,
    and a model built at T=20 predicts at T=500 without rebuilding."""
    inputs = keras.Input((None, 3))
    out, attention, h, c = keras_sab.SAB(
        8, k_top=3, k_att=5, k_trunc=5, return_sequences=True,
        return_attention=True, return_state=True,
    )(inputs)
    assert tuple(out.shape) == (None, None, 8)
    assert tuple(attention.shape) == (None, None, None)
    assert tuple(h.shape) == tuple(c.shape) == (None, 8)
    model = keras.Model(inputs, [out, attention, h, c])
    for timesteps in (20, 23, 500):
        x = np.random.default_rng(timesteps).normal(size=(2, timesteps, 3))
        out, attention, h, c = model.predict(x, verbose=0)
        assert out.shape == (2, timesteps, 8)
        assert attention.shape == (2, timesteps, timesteps // 5)
        assert h.shape == c.shape == (2, 8)
        np.testing.assert_allclose(h, out[:, -1], atol=1e-6)
        # Each step attends to at most k_top memories, never to future ones.
        assert np.all((attention > 0).sum(-1) <= 3)
        written = np.arange(timesteps)[:, None] // 5
        unwritten = np.arange(timesteps // 5)[None, :] >= written
        assert np.all(attention[:, unwritten] == 0)


def test_eager_shapes_without_return_sequences():
    """ALGORITHM.md §6: eager call shapes; a lone output is a tensor, not a list."""
    x = np.zeros((2, 7, 3), "float32")
    assert keras_sab.SAB(4)(x).shape == (2, 4)
    out, attention = keras_sab.SAB(4, k_att=2, return_attention=True)(x)
    assert out.shape == (2, 4) and attention.shape == (2, 7, 3)


def test_trained_at_short_length_predicts_long():
    """ALGORITHM.md §6: a model trained at T=20 predicts at T=500, same model."""
    x, y = _sequence_task(64, 20, seed=1)
    model = keras.Sequential([keras.Input((None, 3)),
                              keras_sab.SAB(8, k_top=2, k_att=4, k_trunc=4),
                              keras.layers.Dense(4)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    long_x = np.random.default_rng(2).normal(size=(3, 500, 3)).astype("float32")
    predictions = model.predict(long_x, verbose=0)
    assert predictions.shape == (3, 4) and np.all(np.isfinite(predictions))


def test_save_and_load_keras_file(tmp_path):
    """ALGORITHM.md §6: .keras save/load gives identical predictions."""
    model = keras.Sequential([
        keras.Input((None, 3)),
        keras_sab.SAB(8, k_top=2, k_att=3, k_trunc=4, attention_units=7,
                      return_sequences=True),
        keras.layers.Dense(2),
    ])
    x = np.random.default_rng(0).normal(size=(2, 31, 3)).astype("float32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.layers[0].k_top == 2 and loaded.layers[0].attention_units == 7


@pytest.mark.parametrize(
    "settings",
    [{}, {"attention": "sparse"}, {"attention": "dense", "temperature": 0.5},
     {"scorer": "dot"}, {"read": "projected"}],
)
def test_saved_models_keep_their_attention_mode(tmp_path, settings):
    """The default mode is `"sparse_softmax"` with the MLP scorer and the
    paper's read; a model saved with any mode (temperature, scorer, read)
    loads with it and predicts the same."""
    model = keras.Sequential([
        keras.Input((None, 3)),
        keras_sab.SAB(6, k_top=2, k_att=3, **settings),
        keras.layers.Dense(2),
    ])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path).layers[0]
    assert loaded.attention == settings.get("attention", "sparse_softmax")
    assert loaded.temperature == settings.get("temperature", 1.0)
    assert loaded.scorer == settings.get("scorer", "mlp")
    assert loaded.read == settings.get("read", "add")
    x = np.random.default_rng(1).normal(size=(2, 20, 3)).astype("float32")
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), keras.saving.load_model(path).predict(x, verbose=0)
    )


def test_config_saved_before_temperature_keeps_the_paper_rule():
    """A layer config written before `temperature` and the new default
    existed (it names `attention="sparse"`, and no temperature) loads as the
    paper's rule at temperature 1."""
    config = keras_sab.SAB(4, attention="sparse").get_config()
    del config["temperature"]
    layer = keras_sab.SAB.from_config(config)
    assert (layer.attention, layer.temperature) == ("sparse", 1.0)


def test_config_round_trip():
    """ALGORITHM.md §6: get_config/from_config preserve every hyper-parameter."""
    layer = keras_sab.SAB(9, k_top=4, k_att=7, k_trunc=None, attention="dense",
                          attention_units=11, dropout=0.25, return_sequences=True,
                          return_attention=True, kernel_regularizer="l2")
    clone = keras_sab.SAB.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.units, clone.k_top, clone.k_att, clone.k_trunc, clone.attention) == (
        9, 4, 7, None, "dense")
    cell = keras_sab.SABCell(5, k_top=1, k_att=2, k_trunc=3, max_memories=6, scorer="dot")
    assert keras_sab.SABCell.from_config(cell.get_config()).get_config() == cell.get_config()


def test_padding_after_a_sequence_does_not_change_its_outputs():
    """Masking: with a Masking layer, outputs at the real steps, and the
    final output, do not depend on the padding that follows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 12, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((2, 9, 3), "float32")], axis=1)
    padded[1, 12:] = 0.0
    inputs = keras.Input((None, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    seq = keras_sab.SAB(6, k_top=2, k_att=5, k_trunc=4, return_sequences=True)
    last = keras_sab.SAB(6, k_top=2, k_att=5, k_trunc=4)
    model = keras.Model(inputs, [seq(masked), last(masked)])
    seq_x, last_x = model.predict(x, verbose=0)
    seq_p, last_p = model.predict(padded, verbose=0)
    np.testing.assert_allclose(seq_p[:, :12], seq_x, atol=1e-6)
    np.testing.assert_allclose(last_p, last_x, atol=1e-6)
    # Without the mask, the padding would change the final output.
    unmasked = keras.Model(inputs, last(inputs))
    assert np.abs(unmasked.predict(padded, verbose=0) - last_x).max() > 1e-4


def test_mixed_float16_trains_without_nan():
    """ALGORITHM.md §3, §6: under mixed_float16 the layer trains with finite loss."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    x, y = _sequence_task(64, 25, seed=3)
    model = keras.Sequential([
        keras.Input((None, 3)),
        keras_sab.SAB(8, k_top=2, k_att=3, k_trunc=4),
        keras.layers.Dense(4, dtype="float32"),
    ])
    assert model.layers[0].compute_dtype == "float16"
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.all(np.isfinite(model.predict(x, verbose=0)))


def test_dropout_is_active_in_training_only():
    """Input dropout: changes training outputs, not inference outputs."""
    layer = keras_sab.SAB(6, dropout=0.5, seed=1)
    x = np.ones((4, 9, 3), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    assert np.abs(layer(x, training=True).numpy() - layer(x).numpy()).max() > 1e-4


@pytest.mark.parametrize("use_fused", [True, False])
def test_go_backwards_runs_the_reversed_sequence(use_fused):
    """`go_backwards=True` is the forward layer on the reversed input, its
    outputs in processing order (as `keras.layers.LSTM`)."""
    x = np.random.default_rng(0).normal(size=(3, 13, 3)).astype("float32")
    kwargs = dict(k_top=2, k_att=3, k_trunc=4, return_sequences=True, use_fused=use_fused)
    backward = keras_sab.SAB(5, go_backwards=True, **kwargs)
    forward = keras_sab.SAB(5, **kwargs)
    backward(x)
    forward(x)
    forward.set_weights(backward.get_weights())
    np.testing.assert_array_equal(backward(x).numpy(), forward(x[:, ::-1]).numpy())
    assert np.abs(backward(x).numpy() - forward(x).numpy()).max() > 1e-3


def test_bidirectional_trains_saves_and_loads(tmp_path):
    """`keras.layers.Bidirectional(SAB(...))`: builds its backward copy from
    the config, trains, and reloads from a `.keras` file with the same
    predictions."""
    x, y = _sequence_task(32, 13, seed=0)
    model = keras.Sequential([
        keras.Input((None, 3)),
        keras.layers.Bidirectional(keras_sab.SAB(6, k_top=2, k_att=3, k_trunc=4)),
        keras.layers.Dense(4),
    ])
    bidirectional = model.layers[0]
    assert not bidirectional.forward_layer.go_backwards
    assert bidirectional.backward_layer.go_backwards
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.get_weights()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(
        np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights())
    )
    path = tmp_path / "bidirectional.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )


@pytest.mark.parametrize(
    "initial_state, message",
    [
        (lambda: tf.zeros((2, 5)), "a EagerTensor"),
        (lambda: [tf.zeros((2, 5))], "a list of 1"),
        (lambda: [tf.zeros((2, 5))] * 3, "a list of 3"),
        (lambda: [tf.zeros((2, 4)), tf.zeros((2, 5))], "h of shape"),
        (lambda: [tf.zeros((2, 5)), tf.zeros((2, 5, 1))], "c of shape"),
    ],
)
def test_initial_state_must_be_h_and_c(initial_state, message):
    """Anything but `[h, c]` of `(batch, units)` is a `ValueError` naming
    `initial_state` (a lone `h` used to be unpacked row by row)."""
    layer = keras_sab.SAB(5, k_top=2, k_att=3, k_trunc=4)
    with pytest.raises(ValueError, match=f"`initial_state`.*{message}"):
        layer(tf.zeros((2, 7, 3)), initial_state=initial_state())


def _initial_state_gradients(use_fused, weights=None):
    keras.utils.set_random_seed(2)
    layer = keras_sab.SAB(
        5, k_top=2, k_att=3, k_trunc=4, return_sequences=True, use_fused=use_fused
    )
    rng = np.random.default_rng(5)
    x = tf.constant(rng.normal(size=(3, 14, 4)).astype("float32"))
    h0, c0 = (tf.constant(rng.normal(size=(3, 5)).astype("float32")) for _ in "hc")
    layer(x)
    if weights is not None:
        layer.set_weights(weights)
    with tf.GradientTape() as tape:
        tape.watch([h0, c0])
        outputs = layer(x, initial_state=[h0, c0])
        loss = tf.reduce_sum(tf.sin(outputs) * tf.range(1.0, 15.0)[None, :, None])
    return layer.get_weights(), outputs, tape.gradient(loss, [h0, c0])


def test_initial_state_gradients_agree_on_both_paths():
    """The gradients with respect to `h0` and `c0` are the same on the fused
    path and the cell loop, and not zero."""
    weights, fused_out, fused_grads = _initial_state_gradients(True)
    _, loop_out, loop_grads = _initial_state_gradients(False, weights)
    assert_scaled_close(fused_out, loop_out)
    for fused, loop in zip(fused_grads, loop_grads):
        assert np.abs(loop.numpy()).max() > 1e-3
        assert_scaled_close(fused, loop)


@pytest.mark.parametrize("use_fused, masked", [(True, False), (False, False), (False, True)])
def test_attention_output_carries_no_gradient(use_fused, masked):
    """The returned attention weights are for inspection: no gradient reaches
    any weight through them, on either path, with or without a mask."""
    layer = keras_sab.SAB(
        5, k_top=2, k_att=3, k_trunc=4, return_sequences=True,
        return_attention=True, use_fused=use_fused,
    )
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 12, 3)).astype("float32"))
    mask = tf.ones((2, 12), tf.bool) if masked else None
    layer(x)
    with tf.GradientTape(persistent=True) as tape:
        outputs, attention = layer(x, mask=mask)
        on_attention = tf.reduce_sum(attention * tf.range(1.0, 13.0)[None, :, None])
        on_outputs = tf.reduce_sum(outputs)
    assert float(tf.reduce_max(attention)) > 0
    assert all(g is None for g in tape.gradient(on_attention, layer.trainable_weights))
    assert all(g is not None for g in tape.gradient(on_outputs, layer.trainable_weights))


class KerasLayerHarnessTest(TestCase):
    """Keras's own recurrent-layer checks (`run_layer_test`: build, config
    round trip, eager and symbolic calls, masking, training, mixed
    precision) on `SAB`, on both paths."""

    def test_run_layer_test(self):
        for use_fused in ("auto", False):
            for return_sequences in (False, True):
                self.run_layer_test(
                    keras_sab.SAB,
                    init_kwargs=dict(
                        units=3, k_top=2, k_att=2, k_trunc=3, dropout=0.25,
                        return_sequences=return_sequences, use_fused=use_fused,
                        kernel_regularizer="l2",
                    ),
                    input_shape=(3, 7, 4),
                    call_kwargs={"training": True},
                    expected_output_shape=(3, 7, 3) if return_sequences else (3, 3),
                    expected_num_trainable_weights=7,
                    expected_num_non_trainable_weights=0,
                    expected_num_seed_generators=1,
                    expected_num_losses=1,
                    supports_masking=True,
                )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("attention", ["sparse", "sparse_softmax"])
@pytest.mark.parametrize("use_fused", [True, False])
def test_mixed_precision_gradients_stay_finite_at_near_tied_scores(
    policy, attention, use_fused
):
    """Under a mixed policy the scorer and its backward run in float32: with
    the scorer's weights scaled by 1e-3 (scores tied to within float16
    rounding, where the top-k rule's gradient is largest) every weight
    gradient is finite, on both paths, and the scorer's are float32."""
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    layer = keras_sab.SAB(
        8, k_top=2, k_att=2, k_trunc=4, attention=attention,
        return_sequences=True, use_fused=use_fused,
    )
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 20, 3)).astype("float32"))
    layer(x)
    for weight in layer.trainable_weights[3:]:
        weight.assign(weight * 1e-3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.cast(layer(x), "float32") * tf.range(1.0, 21.0)[None, :, None])
    grads = tape.gradient(loss, layer.trainable_weights)
    names = [w.name for w in layer.trainable_weights]
    assert names[3:] == ["query_kernel", "memory_kernel", "attention_bias", "attention_vector"]
    for name, grad in zip(names, grads):
        assert np.all(np.isfinite(grad.numpy())), name
    assert all(g.dtype == tf.float32 for g in grads[3:])
    assert np.abs(grads[-1].numpy()).max() > 0


def _stateful_pair(use_fused, max_memories=100, stream_credit=None, **kwargs):
    """A layer over whole sequences and a stateful one with its weights
    (and `stream_credit`, if given)."""
    keras.utils.set_random_seed(1)
    settings = dict(k_top=2, k_att=3, k_trunc=6, return_sequences=True, use_fused=use_fused)
    whole = keras_sab.SAB(5, **settings, **kwargs)
    if stream_credit is not None:
        kwargs = {**kwargs, "stream_credit": stream_credit}
    stateful = keras_sab.SAB(5, stateful=True, max_memories=max_memories, **settings, **kwargs)
    x = np.random.default_rng(0).normal(size=(3, 24, 4)).astype("float32")
    whole(x)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    return whole, stateful, x


@pytest.mark.parametrize("use_fused", [True, False])
def test_stateful_segments_continue_the_whole_sequence(use_fused):
    """Cut at multiples of `k_att` and `k_trunc`, the segments of a stateful
    layer give the outputs of the whole sequence: `h`, `c` and the memory
    carry over, and the second segment reads memories of the first."""
    whole, stateful, x = _stateful_pair(use_fused)
    segments = [stateful(x[:, :12]), stateful(x[:, 12:])]
    np.testing.assert_allclose(tf.concat(segments, 1), whole(x), atol=1e-6)
    np.testing.assert_array_equal(stateful.states.counters, [8, 8, 8])
    stateful.reset_state()
    assert np.all(stateful.states.counters.numpy() == 0)
    np.testing.assert_allclose(stateful(x[:, :12]), segments[0], atol=1e-6)
    # Without the first segment's memories, the second segment differs.
    stateful.reset_state()
    assert np.abs(stateful(x[:, 12:]) - segments[1]).max() > 1e-3


@pytest.mark.parametrize("use_fused", [True, False])
def test_stateful_memory_keeps_the_latest_max_memories(use_fused):
    """Eviction: after a call that leaves more than `max_memories`
    memories, the oldest are dropped and the latest kept, in order."""
    whole, stateful, x = _stateful_pair(use_fused, max_memories=3, return_state=True)
    stateful(x[:, :12])
    stateful(x[:, 12:])
    np.testing.assert_array_equal(stateful.states.counters, [3, 3, 3])
    # The whole run's outputs at the write steps 18, 21, 24 are its last 3 memories.
    written = whole(x)[0].numpy()[:, [17, 20, 23]]
    np.testing.assert_allclose(stateful.states.memory, written, atol=1e-6)


def _second_segment(stateful, first, second, carried=None):
    """From an empty state, `stateful` fed `first` then `second`: the output
    and weight gradients of the second call (`sin` of its outputs, summed).
    With `carried` (values of `_stream_variables`), the state left by
    `first` is replaced by it before the second call; the records `first`
    left stay."""
    stateful.reset_state()
    stateful(first)
    if carried is not None:
        for variable, value in zip(_stream_variables(stateful), carried):
            variable.assign(value)
    with tf.GradientTape() as tape:
        outputs = stateful(second)
        loss = tf.reduce_sum(tf.sin(outputs))
    return outputs, tape.gradient(loss, stateful.trainable_weights)


def _stream_variables(stateful):
    """What a stream carries forward, but its records."""
    return list(stateful.stream.carried_variables.values())


@pytest.mark.parametrize("use_fused", [True, False])
def test_stateful_gradients_agree_on_both_paths_and_stop_at_the_boundary(use_fused):
    """On a second segment the weight gradients are the same on both paths,
    with and without stream credit. With `stream_credit=False` they stop at
    the boundary (ALGORITHM.md §4b: the first segment's memories are
    constants): they depend on the first segment only through the values it
    carried, so another first segment, its state replaced by the carried
    values of the first, gives the same gradients. With credit they reach
    the first segment's steps (through their records): not the same."""
    x = np.random.default_rng(0).normal(size=(3, 24, 4)).astype("float32")
    other = np.random.default_rng(7).normal(size=(3, 12, 4)).astype("float32")
    for credit in (False, True):
        grads = {}
        for fused in (True, False):
            _, stateful, _ = _stateful_pair(fused, stream_credit=credit)
            outputs, grads[fused] = _second_segment(stateful, x[:, :12], x[:, 12:])
            if fused == use_fused:
                stateful.reset_state()
                stateful(x[:, :12])
                carried = [v.numpy() for v in _stream_variables(stateful)]
                replaced, replaced_grads = _second_segment(stateful, other, x[:, 12:], carried)
                # The same carried values: the same outputs.
                np.testing.assert_array_equal(replaced, outputs)
        for fused, loop in zip(grads[True], grads[False]):
            assert_scaled_close(fused, loop)
        differences = [
            float(np.abs(a - b).max() / np.abs(b).max())
            for a, b in zip(replaced_grads, grads[use_fused])
        ]
        if credit:
            assert max(differences) > 1e-2, differences
        else:
            assert max(differences) == 0.0, differences


def test_stateful_trains_in_fit_and_round_trips_its_config():
    """`model.fit` on consecutive segments (no shuffling), and the config."""
    x, y = _sequence_task(16, 12, seed=0)
    layer = keras_sab.SAB(6, k_top=2, k_att=3, k_trunc=4, stateful=True, max_memories=8)
    model = keras.Sequential([keras.Input((None, 3), batch_size=4), layer, keras.layers.Dense(4)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert int(layer.states.counters.numpy().max()) == 8
    clone = keras_sab.SAB.from_config(layer.get_config())
    assert clone.stateful and clone.max_memories == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(stateful=True), "`max_memories` must be an integer >= 1 with stateful=True"),
        (dict(max_memories=4), "`max_memories` applies to stateful=True only"),
        (dict(stateful=True, max_memories=0), "`max_memories` must be an integer >= 1"),
    ],
)
def test_stateful_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_sab.SAB(4, **kwargs)


def test_stateful_needs_a_static_and_fixed_batch():
    layer = keras_sab.SAB(4, stateful=True, max_memories=4)
    with pytest.raises(ValueError, match="static batch size"):
        keras.Sequential([keras.Input((None, 3)), layer])
    layer = keras_sab.SAB(4, stateful=True, max_memories=4)
    layer(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="built for batches of 2"):
        layer(np.zeros((3, 5, 3), "float32"))
