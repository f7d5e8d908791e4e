"""`keras_sab.plots`: learning curves from the CSV log and the
attention heatmap, steps x memory slots (ALGORITHM.md §6 `return_attention`)."""

import keras
import matplotlib.image
import numpy as np
import pytest

from keras_sab import SAB
from keras_sab import plots

LOG = "epoch,loss,mae,val_loss,val_mae\n0,0.5,0.6,0.4,0.55\n1,0.3,0.4,0.35,0.5\n"


def _png_shape(size):
    return (size[1] * plots.DPI, size[0] * plots.DPI)


def test_read_log_returns_one_float_column_per_quantity(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    log = plots.read_log(path)
    assert list(log) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    np.testing.assert_array_equal(log["epoch"], [0.0, 1.0])
    np.testing.assert_array_equal(log["val_mae"], [0.55, 0.5])


def test_read_log_rejects_an_empty_log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no rows"):
        plots.read_log(path)


def test_learning_curves_png_has_the_documented_size(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    out = plots.plot_learning_curves(plots.read_log(path), tmp_path / "c.png", "adding")
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == _png_shape(plots.CURVES_SIZE)
    assert image[..., :3].std() > 0.01  # Not a blank canvas.


def test_run_comparison_png_has_the_documented_size(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    log = plots.read_log(path)
    logs = {"sab": log, "lstm": {**log, "val_mae": log["val_mae"] / 2}}
    out = plots.plot_run_comparison(logs, "mae", tmp_path / "r.png", steps_per_epoch=100)
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == _png_shape(plots.CURVES_SIZE)
    assert image[..., :3].std() > 0.01


def test_run_comparison_names_runs_without_the_validation_metric(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,acc\n0,0.5\n")
    log = plots.read_log(path)
    with pytest.raises(ValueError, match=r"\['lstm'\].*val_acc"):
        plots.plot_run_comparison({"lstm": log}, "acc", tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()


def test_seed_band_is_the_mean_and_range_over_the_epochs_every_seed_logged():
    logs = [
        {"epoch": np.arange(3.0), "val_acc": np.array([0.1, 0.5, 0.9])},
        {"epoch": np.arange(2.0), "val_acc": np.array([0.3, 0.2])},
        {"epoch": np.arange(4.0), "val_acc": np.array([0.2, 0.8, 0.4, 0.0])},
    ]
    epochs, mean, low, high = plots.seed_band(logs, "val_acc")
    np.testing.assert_array_equal(epochs, [0.0, 1.0])
    np.testing.assert_allclose(mean, [0.2, 0.5])
    np.testing.assert_allclose(low, [0.1, 0.2])
    np.testing.assert_allclose(high, [0.3, 0.8])


def test_run_comparison_draws_seeds_as_a_band(tmp_path):
    """Two seeds spread around a curve draw the figure of two identical seeds
    (same mean, same label) plus the band: the figures differ."""
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    log = plots.read_log(path)
    above, below = ({**log, "val_mae": log["val_mae"] + d} for d in (0.1, -0.1))
    alike = plots.plot_run_comparison({"sab": [log, log]}, "mae", tmp_path / "alike.png")
    spread = plots.plot_run_comparison({"sab": [above, below]}, "mae", tmp_path / "spread.png")
    again = plots.plot_run_comparison({"sab": [log, log]}, "mae", tmp_path / "again.png")
    alike, spread, again = (matplotlib.image.imread(p)[..., :3] for p in (alike, spread, again))
    np.testing.assert_array_equal(alike, again)
    assert np.mean(np.abs(alike - spread).sum(-1) > 0.1) > 0.05
    with pytest.raises(ValueError, match=r"\['sab'\].*val_acc"):
        plots.plot_run_comparison({"sab": [log, above]}, "acc", tmp_path / "r.png")


def _model(k_att=3):
    inputs = keras.Input((None, 4))
    features = SAB(6, k_top=2, k_att=k_att, k_trunc=5, return_sequences=True, seed=1)(
        keras.layers.Dense(4, name="pre")(inputs)
    )
    return keras.Model(inputs, keras.layers.Dense(2)(features))


def test_attention_weights_are_those_of_the_trained_layer():
    """The probe model shares the trained weights: same weights as a
    `return_attention=True` copy of the layer fed the same layer input."""
    model = _model()
    sab = plots.find_sab_layer(model)
    sab.set_weights([w + 0.1 for w in sab.get_weights()])
    x = np.random.default_rng(0).normal(size=(2, 14, 4)).astype("float32")
    attention = plots.attention_weights(model, x)
    assert attention.shape == (2, 14, 14 // 3)
    reference = SAB.from_config({**sab.get_config(), "return_attention": True})
    layer_input = model.get_layer("pre")(x)
    reference(layer_input)
    reference.set_weights(sab.get_weights())
    np.testing.assert_allclose(attention, reference(layer_input)[1], atol=1e-6)
    # ALGORITHM.md §3: rows with readable memories sum to 1 (but for the top-k
    # normaliser's ε); slot i is readable
    # only after step (i + 1) * k_att.
    np.testing.assert_allclose(attention[:, 3:].sum(-1), 1.0, atol=1e-5)
    assert not attention[:, :3].any()


def test_sab_reads_are_the_layer_s_states_and_weights():
    """`sab_reads` gives every step's `h` of the trained layer (even when the
    model's layer returns only the last) beside its attention weights."""
    inputs = keras.Input((None, 4))
    sab = SAB(6, k_top=2, k_att=3, k_trunc=5, seed=1)
    model = keras.Model(inputs, sab(keras.layers.Dense(4, name="pre")(inputs)))
    x = np.random.default_rng(1).normal(size=(2, 14, 4)).astype("float32")
    states, attention = plots.sab_reads(model, x)
    reference = SAB.from_config({**sab.get_config(), "return_sequences": True})
    layer_input = model.get_layer("pre")(x)
    reference(layer_input)
    reference.set_weights(sab.get_weights())
    np.testing.assert_allclose(states, reference(layer_input), atol=1e-6)
    np.testing.assert_array_equal(attention, plots.attention_weights(model, x))


def _stream_model(max_memories, batch=2):
    inputs = keras.Input((None, 4), batch_size=batch)
    sab = SAB(6, k_top=2, k_att=3, k_trunc=5, stateful=True, max_memories=max_memories, seed=1)
    return keras.Model(inputs, sab(keras.layers.Dense(4, name="pre")(inputs)))


@pytest.mark.parametrize("cuts", [(6,), (3, 12), (9, 12, 15)])
def test_stream_reads_equal_the_whole_sequence_s_while_every_memory_is_kept(cuts):
    """Fed in calls cut at multiples of `k_att` (each call a run of the write
    schedule), a stream that keeps every memory reads as the same layer does
    the whole sequence in one call: same `h_t`, and each memory's weights in
    its own column."""
    model = _stream_model(max_memories=8)
    sab = plots.find_sab_layer(model)
    sab.set_weights([w + 0.1 for w in sab.get_weights()])
    x = np.random.default_rng(2).normal(size=(2, 21, 4)).astype("float32")
    states, attention = plots.stream_reads(model, np.split(x, cuts, axis=1))
    whole = SAB.from_config(
        {**sab.get_config(), "stateful": False, "max_memories": None,
         "return_sequences": True, "return_attention": True}
    )
    layer_input = model.get_layer("pre")(x)
    whole(layer_input)
    whole.set_weights(sab.get_weights())
    expected_states, expected_attention = whole(layer_input)
    assert attention.shape == (2, 21, 21 // 3)
    np.testing.assert_allclose(states, expected_states, atol=1e-5)
    np.testing.assert_allclose(attention, expected_attention, atol=1e-5)
    assert attention[:, 3:].sum(-1).min() > 0.99


def test_stream_reads_place_a_call_s_reads_by_the_memory_s_stream_id():
    """With room for 2 memories (`keep="latest"`), the third call of 6 steps
    carries in only memories 2 and 3 (written at steps 9 and 12) and writes
    memory 4 at step 15: its weights land in those columns, as the call's
    own attention gives them."""
    model = _stream_model(max_memories=2)
    x = np.random.default_rng(3).normal(size=(2, 18, 4)).astype("float32")
    segments = np.split(x, 3, axis=1)
    states, attention = plots.stream_reads(model, segments)
    assert attention.shape == (2, 18, 6)
    third = attention[:, 12:]
    assert not third[..., :2].any() and not third[..., 5].any()
    assert not third[:, :3, 4].any()
    np.testing.assert_allclose(third[..., 2:5].sum(-1), 1.0, atol=1e-5)
    # The same calls through a copy of the layer returning its attention:
    # the carried memories are its first two columns, its own the next.
    sab = plots.find_sab_layer(model)
    twin = SAB.from_config(
        {**sab.get_config(), "return_sequences": True, "return_attention": True}
    )
    probe = keras.Model(model.input, twin(model.get_layer("pre").output))
    twin.set_weights(sab.get_weights())
    for segment in segments:
        own_states, own_attention = probe(segment)
    np.testing.assert_allclose(third[..., 2:5], own_attention[:, :, :3], atol=1e-6)
    np.testing.assert_allclose(states[:, 12:], own_states, atol=1e-6)


def test_stream_reads_need_a_stateful_sab():
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, SAB(3, k_att=2)(inputs))
    with pytest.raises(ValueError, match="stateful"):
        plots.stream_reads(model, [np.zeros((1, 4, 4))])


def test_read_statistics_png_has_the_documented_size(tmp_path):
    from keras_sab.read_statistics import read_statistics

    stats = read_statistics(np.full((2, 6, 3), 1 / 3), np.ones((2, 6, 4)))
    path = plots.plot_read_statistics(stats, tmp_path / "reads.png", title="t")
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == _png_shape(plots.CURVES_SIZE) and image[..., :3].std() > 0.01


def test_attention_weights_need_a_sab_layer():
    inputs = keras.Input((5, 2))
    model = keras.Model(inputs, keras.layers.LSTM(3)(inputs))
    with pytest.raises(ValueError, match="SAB"):
        plots.attention_weights(model, np.zeros((1, 5, 2)))


def test_attention_heatmap_png_has_the_documented_size(tmp_path):
    attention = np.random.default_rng(0).random((30, 3))
    out = plots.plot_attention(attention, tmp_path / "a.png", "copy", k_att=10)
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == _png_shape(plots.ATTENTION_SIZE)
    assert image[..., :3].std() > 0.01


def test_attention_heatmap_ticks_whole_slots(tmp_path, monkeypatch):
    """Slots are indices: no tick at 2.5 (matplotlib's default for 22 slots)."""
    figures = []
    monkeypatch.setattr(plots.Figure, "savefig", lambda figure, *_, **__: figures.append(figure))
    plots.plot_attention(np.full((220, 22), 1 / 22), tmp_path / "a.png", k_att=10)
    ticks = figures[0].axes[0].get_xticks()
    assert len(ticks) > 1
    np.testing.assert_array_equal(ticks, np.round(ticks))


@pytest.mark.parametrize("shape", [(5,), (2, 5, 3), (5, 0)])
def test_attention_heatmap_rejects_bad_shapes(tmp_path, shape):
    with pytest.raises(ValueError, match="attention"):
        plots.plot_attention(np.zeros(shape), tmp_path / "a.png")
