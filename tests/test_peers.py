"""The peers of the examples' harness (`examples/peer_models.py`): GRU, keras-tcn's
TCN, keras-lmu's LMU and ncps's CfC, sized like SAB; and what each of them (with
the LSTM and the keras-hub Transformer) can do, measured.

`CAPABILITIES` (docs/results/peer_capabilities.py, drawn on
docs/results/peers.md) is the table a user checks before choosing a layer; each
of its cells is asserted by one test below, `test_<capability>`, which builds
the layer and measures the behaviour, so a package that changes fails its cell.
A test of a peer whose package is absent is skipped with the reason (the
`peers` extra).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab
from docs.results.peer_capabilities import CAPABILITIES
from keras_sab import tasks
from tests.harness import T
from tests.harness import adding_task
from tests.harness import harness_args
from tests.peers import EXTRA

import copy_task
import experiment
import flags
import model_zoo
import peer_models
import run_directory
from transformer_baseline import transformer_encoder

FEATURES = 3
# The package each model of the capability tests needs (`None`: Keras's own).
PACKAGES = {
    "sab": None,
    "lstm": None,
    "gru": None,
    "tcn": "tcn",
    "lmu": "keras_lmu",
    "lmu_cell": "keras_lmu",
    "cfc": "ncps",
    "transformer": "keras_hub",
}


def _cells(capability):
    """`(model, expected)` parameters of one row of `CAPABILITIES`."""
    return [
        pytest.param(model, expected, id=model)
        for model, expected in CAPABILITIES[capability].items()
    ]


def _require(model):
    if PACKAGES[model] is not None:
        pytest.importorskip(PACKAGES[model], reason=f"{model} needs {EXTRA}")


def _layer(model, window=8, **kwargs):
    """A small layer of `model` whose window (if it has one) is `window` steps."""
    if model == "sab":
        if kwargs.get("stateful"):
            kwargs["max_memories"] = 4
        return keras_sab.SAB(4, k_att=3, k_trunc=3, **kwargs)
    if model == "lstm":
        return keras.layers.LSTM(4, **kwargs)
    return peer_models.peer_layer(model, 4, window, order=4, kernel_size=2, **kwargs)


def _model(model, steps, masking=False, **kwargs):
    """`Input -> [Masking] -> model -> Dense(1)` on sequences of `steps` steps."""
    inputs = keras.Input((steps, FEATURES), batch_size=kwargs.pop("batch_size", None))
    x = keras.layers.Masking(0.0)(inputs) if masking else inputs
    if model == "transformer":
        x = transformer_encoder(x, 8, heads=2, num_layers=1, **kwargs)
    else:
        x = _layer(model, **kwargs)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


def _data(steps=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, steps, FEATURES)).astype("float32")
    return x, rng.normal(size=(2, 1)).astype("float32")


def _trains(model, jit_compile=False):
    """Whether two updates run, give a finite loss and change the weights."""
    x, y = _data()
    model.compile(keras.optimizers.Adam(1e-2), "mse", jit_compile=jit_compile)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, epochs=2, verbose=0)
    changed = any(
        np.any(w.numpy() != b) for w, b in zip(model.trainable_weights, before)
    )
    return bool(np.all(np.isfinite(history.history["loss"]))) and changed


@pytest.mark.parametrize("model, expected", _cells("masks"))
def test_masks(model, expected):
    _require(model)
    net = _model(model, None, masking=True)
    x, _ = _data()
    padded = np.concatenate([x, np.zeros((2, 3, FEATURES), "float32")], axis=1)
    honoured = np.allclose(net(padded).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-6)
    assert honoured is expected


@pytest.mark.parametrize("model, expected", _cells("stateful"))
def test_stateful(model, expected):
    _require(model)
    try:
        halves = _model(model, 3, batch_size=2, stateful=True, return_sequences=True)
    except ValueError as error:  # keras-tcn and keras-lmu: "Unrecognized keyword arguments"
        assert "stateful" in str(error)
        streams = False
    else:
        whole = _model(model, 6, return_sequences=True)
        whole.set_weights(halves.get_weights())
        x, _ = _data()
        streamed = np.concatenate([halves(x[:, :3]).numpy(), halves(x[:, 3:]).numpy()], 1)
        streams = np.allclose(streamed, whole(x).numpy(), rtol=1e-5, atol=1e-6)
    assert streams is expected


@pytest.mark.parametrize("model, expected", _cells("unbounded_horizon"))
def test_unbounded_horizon(model, expected):
    """The gradient of the last output into the first input of a sequence
    three times longer than the window: exactly zero where no path joins them."""
    _require(model)
    kwargs = {} if model == "transformer" else {"window": 8}
    net = _model(model, 24, **kwargs)
    x = tf.Variable(_data(24)[0])
    with tf.GradientTape() as tape:
        last = tf.reduce_sum(net(x))
    reaches = float(tf.reduce_max(tf.abs(tape.gradient(last, x)[:, 0]))) > 0.0
    assert reaches is expected


@pytest.mark.parametrize("model, expected", _cells("save_load"))
def test_save_load(model, expected, tmp_path):
    _require(model)
    net = _model(model, 6)
    assert _trains(net)
    net.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    x, _ = _data(seed=1)
    same = np.array_equal(loaded.predict(x, verbose=0), net.predict(x, verbose=0))
    assert same is expected


@pytest.mark.parametrize("model, expected", _cells("xla"))
def test_xla(model, expected):
    _require(model)
    net = _model(model, 6)
    trains = _trains(net, jit_compile=True)
    assert (trains and net.jit_compile) is expected


@pytest.mark.parametrize("model, expected", _cells("mixed_bfloat16"))
def test_mixed_bfloat16(model, expected):
    _require(model)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        trains = _trains(_model(model, 6))
    # keras-lmu's LMU: "RFFT requires tf.float32 or tf.float64 inputs" (a
    # ValueError from Keras's shape inference); its cell: a float32 matrix
    # multiplied with bfloat16 (a TypeError).
    except (ValueError, TypeError) as error:
        assert "bfloat16" in str(error) or "RFFT" in str(error), error
        trains = False
    assert trains is expected


@pytest.mark.parametrize("model, expected", _cells("bidirectional"))
def test_bidirectional(model, expected):
    _require(model)
    inputs = keras.Input((6, FEATURES))
    try:
        features = keras.layers.Bidirectional(_layer(model))(inputs)
    # keras-lmu's LMU: its backward copy cannot be rebuilt from its config.
    except TypeError as error:
        assert "deserialized" in str(error), error
        works = False
    else:
        assert features.shape == (None, 8)
        works = _trains(keras.Model(inputs, keras.layers.Dense(1)(features)))
    assert works is expected


@pytest.mark.parametrize("model, expected", _cells("credit_across_calls"))
def test_credit_across_calls(model, expected):
    """A loss on a stateful layer's second call: do the weights get the
    gradient the same loss gives them on the whole sequence in one call?
    Keras carries a stateful layer's state in variables, so the gradient
    stops at the call boundary; SAB's stream credit carries it back through
    the memories the second call reads (the calls end where SAB's blocks do)."""
    _require(model)
    stream = _model(model, 3, batch_size=2, stateful=True, return_sequences=True)
    whole = _model(model, 6, return_sequences=True)
    whole.set_weights(stream.get_weights())
    x, _ = _data()
    stream(x[:, :3])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(stream(x[:, 3:]))
    streamed = tape.gradient(loss, stream.trainable_weights)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(whole(x)[:, 3:])
    expected_gradients = tape.gradient(loss, whole.trainable_weights)
    credit = all(
        np.allclose(g, e, rtol=1e-4, atol=1e-6) for g, e in zip(streamed, expected_gradients)
    )
    assert credit is expected


# The harness's peers.


def _args(out, *flags_):
    return harness_args(out, *flags_, units=16, epochs=1, steps=2)


def _adding_task():
    return adding_task(test_batches=1)


def _sab_parameters():
    """SAB's parameter count on `_adding_task` at `--units 16`, counted on its model."""
    args = _args("unused")
    return model_zoo.build_model(args, _adding_task()).count_params()


@pytest.mark.parametrize("model", peer_models.PEERS)
def test_peer_trains_sized_like_sab_and_records_its_configuration(model, tmp_path, capsys):
    """Each peer runs through the harness: it trains, its parameter count is
    within 10% of SAB's (both printed), and `metrics.json` records its layer's
    configuration and how its train step ran."""
    _require(model)
    run, metrics = experiment.run_experiment(_args(tmp_path, "--model", model), _adding_task())
    sab = _sab_parameters()
    assert abs(metrics["parameters"] - sab) <= 0.1 * sab
    assert metrics["parameters"] == run.count_params()
    assert metrics["peer"]["sab_parameters"] == sab
    printed = capsys.readouterr().out
    assert f"{metrics['parameters']:,} parameters; SAB at --units 16: {sab:,}" in printed
    assert np.isfinite(metrics["train"]["loss"]) and int(run.optimizer.iterations) == 2
    written = json.loads((tmp_path / run_directory.METRICS).read_text())
    assert written["peer"] == metrics["peer"] and written["model"] == model
    assert written["train_step"] == ("xla" if run.jit_compile else "graph")
    layer = run.get_layer("rnn")
    width = {
        "gru": lambda: layer.units,
        "tcn": lambda: layer.nb_filters,
        "lmu": lambda: layer.hidden_cell.units,
        "cfc": lambda: layer.cell.units,
    }[model]()
    assert written["peer"]["width"] == width and written["peer"]["sequence_steps"] == T


@pytest.mark.parametrize("model", peer_models.PEERS)
def test_peer_on_the_copy_task_reads_every_step_of_any_length(model, tmp_path):
    """`copy_task.py --model <peer>`: per-step outputs on sequences of T + 20
    steps, the window sized on them; the saved model reads other lengths."""
    _require(model)
    metrics = copy_task.main(
        ["--model", model, "-T", "10", "--units", "16", "--batch-size", "4", "--epochs", "1",
         "--steps", "2", "--test-batches", "1", "--order", "8", "--out", str(tmp_path)]
    )
    assert metrics["peer"]["sequence_steps"] == metrics["sequence_length"] == 30
    if model == "tcn":
        assert metrics["peer"]["receptive_field"] >= 30
    if model == "lmu":
        assert metrics["peer"]["theta"] == 30
    loaded = keras.saving.load_model(tmp_path / run_directory.MODEL, compile=False)
    assert loaded(np.zeros((2, 45, tasks.COPY_VOCAB_SIZE), "float32")).shape == (2, 45, 10)


def test_tcn_receptive_field_covers_the_task_and_is_recorded(tmp_path):
    pytest.importorskip("tcn", reason=f"keras-tcn: {EXTRA}")
    _, metrics = experiment.run_experiment(
        _args(tmp_path, "--model", "tcn", "--kernel-size", "2"), _adding_task()
    )
    peer = metrics["peer"]
    assert peer["kernel_size"] == 2 and peer["dilations"] == [1, 2, 4]
    assert peer["receptive_field"] == 1 + 2 * (2 - 1) * sum(peer["dilations"]) >= T
    assert 1 + 2 * (2 - 1) * sum(peer["dilations"][:-1]) < T  # the fewest that cover T


def test_lmu_theta_is_the_task_s_sequence_length(tmp_path):
    pytest.importorskip("keras_lmu", reason=f"keras-lmu: {EXTRA}")
    _, metrics = experiment.run_experiment(
        _args(tmp_path, "--model", "lmu", "--order", "8"), _adding_task()
    )
    assert (metrics["peer"]["theta"], metrics["peer"]["order"]) == (T, 8)


@pytest.mark.parametrize("model", peer_models.PEERS)
def test_peer_width_far_from_sab_is_refused_before_anything_is_written(model, tmp_path):
    _require(model)
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="`--width`.*more than 10% from SAB's"):
        experiment.run_experiment(_args(out, "--model", model, "--width", "200"), _adding_task())
    assert not out.exists()


def test_peer_that_cannot_be_as_small_as_sab_names_units(tmp_path):
    """The smallest LMU of order 256 (one hidden unit) outweighs SAB with one
    unit and a one-unit scorer: no width matches."""
    pytest.importorskip("keras_lmu", reason=f"keras-lmu: {EXTRA}")
    args = _args(tmp_path, "--model", "lmu", "--units", "1", "--attention-units", "1")
    with pytest.raises(ValueError, match="`--units`"):
        model_zoo.build_model(args, _adding_task())


def test_matched_width_is_the_nearest():
    """Against every width up to 300: the nearest count, the smaller width on a tie."""

    def count(width):
        return 10 * width * width

    for target in (5, 10, 11, 25, 3_000, 3_610, 3_620, 3_625, 50_000):
        nearest = min(range(1, 300), key=lambda width: (abs(count(width) - target), width))
        assert peer_models.matched_width(count, target) == nearest


@pytest.mark.parametrize("model", ["tcn", "lmu", "cfc", "transformer"])
def test_missing_peer_package_names_the_extra(model, monkeypatch):
    module = {"tcn": "tcn", "lmu": "keras_lmu", "cfc": "ncps.keras"}.get(model, "keras_hub")
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails.
    args = flags.parse_args(["--model", model, "--units", "8", "--heads", "2"], "x", "")
    with pytest.raises(ImportError, match=r'pip install -e "\.\[peers\]"'):
        model_zoo.build_model(args, _adding_task())


def test_neither_the_package_nor_the_harness_imports_the_peers():
    """`import keras_sab` (every module) and `import experiment` load no peer
    package: they are imported when a peer model is built."""
    code = (
        "import importlib, pkgutil, sys; import keras_sab; "
        "[importlib.import_module(m.name) for m in "
        "pkgutil.walk_packages(keras_sab.__path__, 'keras_sab.')]; "
        f"sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..', 'examples')!r}); "
        "import experiment; "
        "print(sorted(m for m in ('tcn', 'keras_lmu', 'ncps', 'keras_hub') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
