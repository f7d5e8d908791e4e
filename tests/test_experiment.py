"""The example harness `examples/experiment.py` and its modules: flags, the
models of ALGORITHM.md §5 and the Transformer baseline, outputs and resuming a
killed run (the peers: tests/test_peers.py)."""

import csv
import json
import os
import random

import keras
import numpy as np
import pytest

from keras_sab import SAB
from keras_sab import tasks
from tests.harness import T
from tests.harness import adding_task
from tests.harness import harness_args
from tests.peers import NEEDS_KERAS_HUB

import experiment
import model_zoo
import run_directory
import train_step


def _args(out, *flags):
    return harness_args(out, *flags)


def _adding_task():
    return adding_task(metrics=[keras.metrics.MeanAbsoluteError(name="mae")])


def _log_epochs(out):
    with open(os.path.join(out, run_directory.LOG), newline="") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


class _CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


class _Killed(Exception):
    pass


class _KillAtEpoch(keras.callbacks.Callback):
    """Stands in for a killed process: raises when `epoch` begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Killed(f"killed at epoch {epoch}")


def test_defaults_quick_and_explicit_flags():
    """`--quick` replaces the defaults; an explicit flag beats both."""
    quick = {"units": 16, "epochs": 1}
    plain = experiment.parse_args([], "copy", "", defaults={"epochs": 7}, quick=quick)
    assert (plain.model, plain.units, plain.epochs) == ("sab", 128, 7)
    assert plain.k_trunc == 10
    assert plain.out == os.path.join("runs", "copy") and plain.jit == "auto"
    assert (plain.clipnorm, plain.global_clipnorm) == (1.0, None)
    fast = experiment.parse_args(
        ["--quick"], "copy", "", defaults={"epochs": 7}, quick=quick
    )
    assert (fast.units, fast.epochs) == (16, 1)
    mixed = experiment.parse_args(["--quick", "--units", "24"], "copy", "", quick=quick)
    assert (mixed.units, mixed.epochs) == (24, 1)


def test_k_trunc_none_means_full_bptt():
    args = experiment.parse_args(["--k-trunc", "none"], "copy", "")
    assert args.k_trunc is None


@pytest.mark.parametrize(
    "flags, model, gpu, xla",
    [
        ([], "sab", False, True),
        ([], "tbptt", False, True),
        ([], "self_attention", True, True),
        ([], "lstm", False, False),
        ([], "lstm", True, False),
        ([], "transformer", False, False),
        ([], "transformer", True, True),
        (["--jit", "xla"], "lstm", False, True),
        (["--jit", "graph"], "sab", True, False),
        (["--no-jit"], "sab", False, False),
    ],
)
def test_jit_auto_picks_each_model_s_faster_mode_per_device(flags, model, gpu, xla):
    args = experiment.parse_args(flags + ["--model", model], "copy", "")
    assert train_step.jit_compile(args.model, args.jit, gpu=gpu) is xla


@pytest.mark.parametrize("model, recorded", [("sab", "xla"), ("lstm", "graph")])
def test_metrics_record_how_the_train_step_ran(tmp_path, model, recorded):
    args = _args(tmp_path, "--model", model, "--epochs", "1")
    model_, metrics = experiment.run_experiment(args, _adding_task())
    assert metrics["train_step"] == recorded
    assert model_.jit_compile is (recorded == "xla")
    with open(tmp_path / run_directory.METRICS) as stream:
        assert json.load(stream)["train_step"] == recorded


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--units", "0"], "--units"),
        (["--k-att", "0"], "--k-att"),
        (["--k-top", "-1"], "--k-top"),
        (["--k-trunc", "0"], "--k-trunc"),
        (["--epochs", "0"], "--epochs"),
        (["--lr", "0"], "--lr"),
        (["--clipnorm", "-1"], "--clipnorm"),
        (["--global-clipnorm", "0"], "--global-clipnorm"),
        (["--clipnorm", "1", "--global-clipnorm", "1"], "--clipnorm.*--global-clipnorm"),
        (["--width", "0"], "--width"),
        (["--order", "0"], "--order"),
        (["--kernel-size", "1"], "--kernel-size"),
        (["--heads", "0"], "--heads"),
        (["--transformer-layers", "0"], "--transformer-layers"),
        (["--model", "transformer", "--units", "6", "--heads", "4"], "--heads"),
        (["--timesteps", "0"], "--timesteps"),
    ],
)
def test_bad_flag_values_raise_value_error_naming_the_flag(flags, named):
    with pytest.raises(ValueError, match=named):
        experiment.parse_args(
            flags,
            "copy",
            "",
            add_arguments=lambda p: p.add_argument("--timesteps", type=int, default=5),
            int_flags={"timesteps": 1},
        )


@pytest.mark.parametrize(
    "model, k_top, k_att, k_trunc, attention",
    [
        ("sab", 3, 4, 6, "sparse_softmax"),
        ("tbptt", 0, 10, 6, "sparse_softmax"),
        ("self_attention", 5, 1, None, "dense"),
    ],
)
def test_each_model_is_its_section_5_setting_of_sab(
    model, k_top, k_att, k_trunc, attention
):
    """ALGORITHM.md §5: the baselines are settings of one layer."""
    layer = model_zoo.recurrent_layer(model, 8, k_top=3, k_att=4, k_trunc=6)
    assert isinstance(layer, SAB)
    assert (layer.k_top, layer.k_att, layer.k_trunc, layer.attention) == (
        k_top, k_att, k_trunc, attention
    )


def test_the_lstm_is_keras_s_own_layer():
    """`--model lstm` is `keras.layers.LSTM`, the same model as
    `SAB(k_top=0, k_trunc=None)` (tests/test_lstm_arguments.py), in its
    faster form."""
    layer = model_zoo.recurrent_layer("lstm", 8, k_top=3, return_sequences=True)
    assert type(layer) is keras.layers.LSTM
    assert (layer.units, layer.return_sequences) == (8, True)


def test_attention_flag_sets_how_sab_weighs_its_memories():
    args = _args("unused", "--attention", "sparse_softmax")
    layer = model_zoo.recurrent_layer(
        args.model, 8, k_top=2, attention=args.attention
    )
    assert layer.attention == "sparse_softmax"
    with pytest.raises(SystemExit):
        _args("unused", "--attention", "softmax")


def test_run_recorded_before_the_attention_flags_resumes_with_its_mode(tmp_path):
    """A run whose run_config.json predates `--attention`, `--temperature`,
    `--heads`, `--transformer-layers` and the later flags (the early committed
    results) was made with the paper's rule: it resumes with `--attention
    sparse`, and refuses today's default, naming the flag."""
    args = _args(tmp_path, "--epochs", "1", "--no-jit", "--attention", "sparse")
    experiment.run_experiment(args, _adding_task())
    path = tmp_path / run_directory.RUN_CONFIG
    recorded = json.loads(path.read_text())
    added = ("attention", "temperature", "heads", "transformer_layers", "scorer", "width")
    for name in (*added, "order", "kernel_size", "global_clipnorm"):
        del recorded[name]
    path.write_text(json.dumps(recorded))
    counter = _CountBatches()
    experiment.run_experiment(
        _args(tmp_path, "--epochs", "2", "--no-jit", "--attention", "sparse"),
        _adding_task(),
        callbacks=[counter],
    )
    assert counter.batches == args.steps_per_epoch
    with pytest.raises(ValueError, match="--attention 'sparse_softmax' \\(was 'sparse'\\)"):
        experiment.run_experiment(_args(tmp_path, "--epochs", "3"), _adding_task())


def test_global_clipnorm_reaches_the_optimizer_and_is_recorded(tmp_path):
    """`--global-clipnorm` (the authors' clipping) replaces the default
    per-variable `--clipnorm 1.0`; the run records which, and a restart with
    the other clipping is refused."""
    args = _args(tmp_path, "--global-clipnorm", "0.5", "--epochs", "1", "--no-jit")
    model, metrics = experiment.run_experiment(args, _adding_task())
    assert (model.optimizer.global_clipnorm, model.optimizer.clipnorm) == (0.5, None)
    recorded = json.loads((tmp_path / run_directory.RUN_CONFIG).read_text())
    assert (recorded["global_clipnorm"], recorded["clipnorm"]) == (0.5, None)
    assert metrics["hyperparameters"]["global_clipnorm"] == 0.5
    with pytest.raises(ValueError, match=r"--global-clipnorm None \(was 0.5\)"):
        experiment.run_experiment(_args(tmp_path, "--epochs", "1"), _adding_task())
    default = experiment.compile_model(
        experiment.build_model(_args("unused"), _adding_task()), _args("unused"), "mse"
    )
    assert (default.optimizer.global_clipnorm, default.optimizer.clipnorm) == (None, 1.0)


def _remove_backup(out):
    for name in os.listdir(out / run_directory.BACKUP):
        os.remove(out / run_directory.BACKUP / name)


def test_run_without_its_backup_continues_from_its_model(tmp_path):
    """A finished run copied without `backup/` (a clone of the committed copy
    runs, which keep `model.keras`) is extended from its model: it trains only
    the new epoch, on the batches an uninterrupted run reads, and ends with the
    same weights and optimizer state."""
    whole, _ = experiment.run_experiment(
        _args(tmp_path / "whole", "--epochs", "2", "--no-jit"), _adding_task()
    )
    parts = tmp_path / "parts"
    experiment.run_experiment(_args(parts, "--epochs", "1", "--no-jit"), _adding_task())
    _remove_backup(parts)
    counter = _CountBatches()
    extended, _ = experiment.run_experiment(
        _args(parts, "--epochs", "2", "--no-jit"), _adding_task(), callbacks=[counter]
    )
    assert counter.batches == 3 and _log_epochs(parts) == [0, 1]
    assert int(extended.optimizer.iterations.numpy()) == 6
    for expected, actual in zip(
        whole.weights + whole.optimizer.variables,
        extended.weights + extended.optimizer.variables,
    ):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, atol=1e-7)


def test_run_without_its_backup_or_its_last_model_refuses_to_restart(tmp_path):
    """Without `backup/`, a run whose `model.keras` is missing, or is an
    earlier invocation's, would otherwise train again from epoch 0 (or from
    the wrong weights) into the same log."""
    experiment.run_experiment(_args(tmp_path, "--epochs", "1", "--no-jit"), _adding_task())
    earlier = (tmp_path / run_directory.MODEL).read_bytes()
    experiment.run_experiment(_args(tmp_path, "--epochs", "2", "--no-jit"), _adding_task())
    _remove_backup(tmp_path)
    (tmp_path / run_directory.MODEL).write_bytes(earlier)
    with pytest.raises(ValueError, match="2 logged epochs.*holds 0.*after epoch 2.*--out"):
        experiment.run_experiment(_args(tmp_path, "--epochs", "3", "--no-jit"), _adding_task())
    os.remove(tmp_path / run_directory.MODEL)
    with pytest.raises(ValueError, match="2 logged epochs"):
        experiment.run_experiment(_args(tmp_path, "--epochs", "3", "--no-jit"), _adding_task())
    assert _log_epochs(tmp_path) == [0, 1]


def test_unknown_model_raises_value_error():
    with pytest.raises(ValueError, match="model"):
        model_zoo.recurrent_layer("unknown", 8)


def test_extra_encoder_replaces_the_recurrent_layer():
    args = experiment.parse_args(["--model", "mean"], "x", "", models=("sab", "mean"))
    task = experiment.Task(
        name="x", train=None, test=None, input_shape=(5, 3), T=5,
        head=keras.layers.Dense(2), loss="mse",
        encoders={"mean": lambda inputs, args: keras.ops.mean(inputs, axis=1)},
    )
    model = experiment.build_model(args, task)
    assert not any(isinstance(layer, SAB) for layer in model.layers)
    x = np.arange(30, dtype="float32").reshape(2, 5, 3)
    dense = model.layers[-1]
    expected = x.mean(1) @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)


def test_run_writes_metrics_log_model_and_plots(tmp_path):
    args = _args(tmp_path)
    model, metrics = experiment.run_experiment(args, _adding_task())
    with open(tmp_path / run_directory.METRICS) as stream:
        assert json.load(stream) == json.loads(json.dumps(metrics))
    assert metrics["task"] == "adding" and metrics["model"] == "sab"
    assert metrics["T"] == T and metrics["sequence_length"] == T
    assert metrics["hyperparameters"]["units"] == 8
    assert metrics["layer"] == {
        "units": 8, "k_top": 2, "k_att": 3, "k_trunc": 4,
        "attention": "sparse_softmax", "temperature": 1.0, "attention_units": 32,
        "scorer": "mlp",
    }
    assert metrics["epochs_done"] == 2 and _log_epochs(tmp_path) == [0, 1]
    assert set(metrics["train"]) == {"loss", "mae"} == set(metrics["test"])
    evaluated = model.evaluate(_adding_task().test, return_dict=True, verbose=0)
    assert metrics["test"]["loss"] == pytest.approx(evaluated["loss"], rel=1e-5)
    assert metrics["wall_time_s"] > 0 and metrics["device"].startswith(("CPU", "GPU"))
    assert metrics["total_wall_time_s"] == metrics["wall_time_s"]
    for name in (
        run_directory.MODEL,
        run_directory.LEARNING_CURVES,
        run_directory.ATTENTION,
        run_directory.READS,
    ):
        assert (tmp_path / name).stat().st_size > 0


def test_models_without_attention_get_no_heatmap(tmp_path):
    args = _args(tmp_path, "--model", "tbptt", "--no-jit")
    _, metrics = experiment.run_experiment(args, _adding_task())
    assert metrics["layer"]["k_top"] == 0
    assert (tmp_path / run_directory.LEARNING_CURVES).exists()
    assert not (tmp_path / run_directory.ATTENTION).exists()
    assert not (tmp_path / run_directory.READS).exists()


def test_killed_run_resumes_at_the_next_epoch(tmp_path):
    """A run killed after its first epoch continues at the second,
    with the first epoch's weights, and does not train the first again."""
    args = _args(tmp_path, "--epochs", "3", "--no-jit")
    with pytest.raises(_Killed):
        experiment.run_experiment(args, _adding_task(), callbacks=[_KillAtEpoch(1)])
    assert _log_epochs(tmp_path) == [0]
    assert not (tmp_path / run_directory.METRICS).exists()
    counter = _CountBatches()
    _, metrics = experiment.run_experiment(args, _adding_task(), callbacks=[counter])
    assert counter.batches == 2 * args.steps_per_epoch
    assert _log_epochs(tmp_path) == [0, 1, 2] and metrics["epochs_done"] == 3
    # Running a finished run again trains nothing and rewrites its outputs.
    counter = _CountBatches()
    _, again = experiment.run_experiment(args, _adding_task(), callbacks=[counter])
    assert counter.batches == 0 and _log_epochs(tmp_path) == [0, 1, 2]
    assert again["test"] == pytest.approx(metrics["test"])
    # The total counts the finished invocations (the killed one wrote none).
    assert again["total_wall_time_s"] == pytest.approx(
        metrics["total_wall_time_s"] + again["wall_time_s"]
    )
    assert metrics["total_wall_time_s"] == metrics["wall_time_s"]


def test_resumed_run_trains_like_an_uninterrupted_one(tmp_path):
    """A resumed run reads the batches an uninterrupted run reads next (it
    does not start the endless training set again at its first batch), so
    both end with the same weights."""
    whole = _args(tmp_path / "whole", "--epochs", "2", "--no-jit")
    model, _ = experiment.run_experiment(whole, _adding_task())
    parts = _args(tmp_path / "parts", "--epochs", "2", "--no-jit")
    with pytest.raises(_Killed):
        experiment.run_experiment(parts, _adding_task(), callbacks=[_KillAtEpoch(1)])
    resumed, _ = experiment.run_experiment(parts, _adding_task())
    for expected, actual in zip(model.weights, resumed.weights):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, atol=1e-7)


def test_seed_sets_the_head_built_after_parsing(tmp_path):
    """`--seed` fixes every initial weight, the task's head included, even
    when Python's random state differs before the flags are parsed (a head's
    initializer draws its seed when the head is constructed)."""
    weights = []
    for state in (1, 2):
        random.seed(state)
        args = _args(tmp_path / str(state))
        model = experiment.build_model(args, _adding_task())
        weights.append([w.numpy() for w in model.weights])
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


def test_restart_with_other_settings_is_refused(tmp_path):
    args = _args(tmp_path, "--epochs", "1", "--no-jit")
    experiment.run_experiment(args, _adding_task())
    with pytest.raises(ValueError, match="--units") as error:
        experiment.run_experiment(_args(tmp_path, "--units", "16"), _adding_task())
    assert "--jit 'auto'" not in str(error.value)  # --jit may change.


def test_endless_training_set_needs_steps_per_epoch(tmp_path):
    args = experiment.parse_args(["--out", str(tmp_path)], "adding", "")
    with pytest.raises(ValueError, match="--steps-per-epoch"):
        experiment.run_experiment(args, _adding_task())


@pytest.mark.parametrize(
    "flags",
    [["--temperature", "inf"], ["--temperature", "0"],
     ["--attention", "sparse", "--temperature", "0.5"]],
)
def test_bad_temperature_is_refused_before_anything_is_written(tmp_path, flags):
    """A temperature the layer would refuse is refused by the flags, so that
    `--out` does not record a run that never started."""
    with pytest.raises(ValueError, match="`--temperature`"):
        _args(tmp_path / "run", *flags)
    assert not (tmp_path / "run").exists()


def _transformer(input_shape, return_sequences, *flags):
    """The `--model transformer` model of a task reading `input_shape`."""
    args = experiment.parse_args(["--model", "transformer", *flags], "x", "")
    task = experiment.Task(
        name="x", train=None, test=None, input_shape=input_shape, T=input_shape[0],
        head=keras.layers.Dense(3), loss="mse", return_sequences=return_sequences,
    )
    return experiment.build_model(args, task)


@NEEDS_KERAS_HUB
def test_transformer_is_causal_when_the_task_reads_every_step():
    """A per-step task (copy, text) gets a causal mask: changing step 5 changes
    the outputs of steps 5.. and leaves those of steps 0..4 exactly as they were,
    on sequences of any length."""
    model = _transformer((None, 4), True, "--units", "8", "--heads", "2")
    assert not any(isinstance(layer, SAB) for layer in model.layers)
    x = np.random.default_rng(0).normal(size=(2, 9, 4)).astype("float32")
    changed = x.copy()
    changed[:, 5] += 1.0
    before, after = model(x).numpy(), model(changed).numpy()
    assert before.shape == (2, 9, 3)
    np.testing.assert_allclose(after[:, :5], before[:, :5], rtol=1e-6, atol=1e-7)
    assert np.abs(after[:, 5:] - before[:, 5:]).min() > 1e-4
    assert model(x[:, :5]).shape == (2, 5, 3)


@NEEDS_KERAS_HUB
def test_transformer_sees_the_whole_sequence_when_the_task_classifies_it():
    """A classification task gets no mask: every step attends to every other
    (step 0's features change with the last input), and the features are
    pooled into one output per sequence."""
    model = _transformer((7, 1), False, "--units", "8", "--heads", "2")
    steps = keras.Model(model.input, model.get_layer("final_norm").output)
    x = np.random.default_rng(1).normal(size=(2, 7, 1)).astype("float32")
    changed = x.copy()
    changed[:, -1] += 1.0
    assert model(x).shape == (2, 3)
    assert np.abs(steps(changed).numpy()[:, 0] - steps(x).numpy()[:, 0]).min() > 1e-4
    assert np.abs(model(changed).numpy() - model(x).numpy()).min() > 1e-4


@NEEDS_KERAS_HUB
@pytest.mark.parametrize("input_shape", [(784, 1), (None, tasks.COPY_VOCAB_SIZE)])
def test_transformer_at_64_units_is_sized_like_sab_at_128(input_shape):
    """`--model transformer --units 64` (4 heads, 2 blocks) has within 1.25x the
    parameters of SAB with 128 units, on pixel MNIST and on the copy task."""
    sab = experiment.build_model(
        experiment.parse_args(["--units", "128"], "x", ""),
        experiment.Task("x", None, None, input_shape, 784, keras.layers.Dense(10), "mse"),
    )
    transformer = _transformer(input_shape, False, "--units", "64")
    assert 1 / 1.25 < transformer.count_params() / sab.count_params() < 1.25


@NEEDS_KERAS_HUB
def test_transformer_run_writes_its_parameter_count_and_no_heatmap(tmp_path, capsys):
    """`run_experiment` trains the Transformer like the recurrent models; its
    saved model loads back (the position encoding is registered) and
    `metrics.json` records its size."""
    args = _args(tmp_path, "--model", "transformer", "--heads", "2", "--epochs", "1", "--no-jit")
    model, metrics = experiment.run_experiment(args, _adding_task())
    written = json.loads((tmp_path / run_directory.METRICS).read_text())
    assert written["model"] == "transformer" and written["layer"] is None
    assert written["parameters"] == model.count_params() > 0
    assert f"adding_transformer: {model.count_params():,} parameters" in capsys.readouterr().out
    assert not (tmp_path / run_directory.ATTENTION).exists()
    x = next(iter(_adding_task().test))[0]
    loaded = keras.saving.load_model(tmp_path / run_directory.MODEL)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
