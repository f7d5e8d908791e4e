"""KerasTuner search over SAB models: `keras_sab.tuning`."""

import importlib.util
import pathlib
import sys

import keras
import keras_tuner
import numpy as np
import pytest

from keras_sab.tasks import copy_dataset
from keras_sab.tasks import copy_recall_accuracy
from keras_sab.tuning import SAB_LAYER_NAME
from keras_sab.tuning import SABHyperModel

# Ranges that exclude SAB's defaults (k_top=5, k_att=10, k_trunc=10): a model
# that ignored the drawn values would not match them.
TINY_SPACE = dict(
    units=(4, 6),
    k_top=(1, 3),
    k_att=(2, 4),
    k_trunc=(2, 6),
    temperature=(0.5, 2.0),
    learning_rate=(1e-3, 1e-2),
)
SEARCHED = ("units", "k_top", "k_att", "k_trunc", "temperature")


def _hypermodel(**overrides):
    kwargs = dict(TINY_SPACE, metrics=[copy_recall_accuracy], attention_units=4)
    return SABHyperModel(input_dim=10, num_outputs=10, **{**kwargs, **overrides})


def _make_tuner(kind, directory):
    common = dict(
        objective=keras_tuner.Objective("val_copy_recall_accuracy", "max"),
        directory=directory,
        project_name=kind,
        seed=0,
        overwrite=True,
    )
    if kind == "hyperband":
        return keras_tuner.Hyperband(_hypermodel(), max_epochs=2, factor=2, **common)
    if kind == "bayesian":
        return keras_tuner.BayesianOptimization(
            _hypermodel(), max_trials=3, num_initial_points=2, **common
        )
    return keras_tuner.RandomSearch(_hypermodel(), max_trials=2, **common)


@pytest.mark.parametrize("kind", ["random", "hyperband", "bayesian"])
def test_every_trial_completes_and_best_model_carries_searched_values(
    kind, tmp_path
):
    """Two or more trials, all COMPLETED (a trial that fails, e.g. for want
    of tensorboard, fails the test); the best model's SAB layer holds the best
    hyper-parameters (attributes and config) and its optimizer the best
    learning rate. BayesianOptimization's third trial is proposed by its
    Gaussian process (two initial points), so scipy/scikit-learn are used."""
    tuner = _make_tuner(kind, str(tmp_path))
    tuner.search(
        copy_dataset(timesteps=2, batch_size=8, num_batches=2),
        validation_data=copy_dataset(timesteps=2, batch_size=8, num_batches=1, seed=1),
        epochs=1,
        verbose=0,
    )
    trials = list(tuner.oracle.trials.values())
    assert len(trials) >= 2
    assert [trial.status for trial in trials] == ["COMPLETED"] * len(trials)

    best_hp = tuner.get_best_hyperparameters()[0]
    model = tuner.get_best_models()[0]
    sab = model.get_layer(SAB_LAYER_NAME)
    config = sab.get_config()
    for name in SEARCHED:
        low, high = (min(TINY_SPACE[name]), max(TINY_SPACE[name]))
        assert low <= best_hp[name] <= high
        assert getattr(sab, name) == best_hp[name]
        assert config[name] == best_hp[name]
    np.testing.assert_allclose(
        float(model.optimizer.learning_rate), best_hp["learning_rate"], rtol=1e-6
    )
    assert model.optimizer.clipnorm == 1.0


def test_fixed_values_are_recorded_and_used():
    """A single value fixes a hyper-parameter (`hp.Fixed`); the model has a
    None time dimension and one output per step."""
    hypermodel = _hypermodel(
        units=5, k_top=0, k_att=3, k_trunc=7, temperature=1.0, learning_rate=0.02
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.values == dict(
        units=5, k_top=0, k_att=3, k_trunc=7, temperature=1.0, learning_rate=0.02
    )
    assert all(
        isinstance(p, keras_tuner.engine.hyperparameters.Fixed) for p in hp.space
    )
    sab = model.get_layer(SAB_LAYER_NAME)
    assert (sab.units, sab.k_top, sab.k_att, sab.k_trunc) == (5, 0, 3, 7)
    assert model.input_shape == (None, None, 10)
    assert model.output_shape == (None, None, 10)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.02, rtol=1e-6)


def test_one_output_per_sequence_own_loss_and_layer_kwargs():
    hypermodel = SABHyperModel(
        input_dim=3, num_outputs=1, return_sequences=False, loss="mse",
        units=(4,), k_top=(1, 2), k_att=2, k_trunc=3,
        layer_kwargs={"seed": 7, "kernel_initializer": "zeros"},
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert model.output_shape == (None, 1)
    assert model.loss == "mse"
    sab = model.get_layer(SAB_LAYER_NAME)
    assert sab.seed == 7
    assert sab.get_config()["kernel_initializer"]["class_name"] == "Zeros"
    assert set(hp.values) == {
        "units", "k_top", "k_att", "k_trunc", "temperature", "learning_rate"
    }
    assert 1e-4 <= hp["learning_rate"] <= 1e-2
    assert hp["temperature"] == 1.0 and sab.attention == "sparse_softmax"


def test_default_k_top_range_leaves_out_one():
    """With `k_top=1` the lone weight is constant and the scorer never
    learns: the default range starts at 2."""
    hypermodel = SABHyperModel(input_dim=3, num_outputs=2)
    assert hypermodel.k_top[0] >= 2


def test_metric_instances_are_not_shared_between_models():
    metric = keras.metrics.SparseCategoricalAccuracy(name="acc")
    hypermodel = _hypermodel(metrics=[metric])
    first = hypermodel.build(keras_tuner.HyperParameters())
    second = hypermodel.build(keras_tuner.HyperParameters())
    x = np.zeros((2, 4, 10), "float32")
    y = np.zeros((2, 4), "int32")
    first.evaluate(x, y, verbose=0)
    second.evaluate(x, y, verbose=0)
    first_metric = first.metrics[-1].metrics[0]
    second_metric = second.metrics[-1].metrics[0]
    assert first_metric is not second_metric
    assert first_metric is not metric and first_metric.name == "acc"


@pytest.mark.parametrize(
    "argument, value",
    [
        ("units", ()),
        ("units", (8, 0)),
        ("k_top", (3, 1)),
        ("k_top", -1),
        ("k_att", (0, 4)),
        ("k_trunc", (1, 2, 3)),
        ("k_trunc", 2.5),
        ("learning_rate", 0.0),
        ("learning_rate", (1e-2, 1e-3)),
        ("input_dim", 0),
        ("num_outputs", None),
        ("clipnorm", -1.0),
        ("attention", "soft"),
        ("temperature", 0.0),
        ("temperature", (2.0, 1.0)),
        ("layer_kwargs", {"k_top": 2}),
        ("layer_kwargs", {"return_state": True}),
        ("layer_kwargs", ["seed"]),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(argument, value):
    kwargs = dict(input_dim=10, num_outputs=10)
    kwargs[argument] = value
    with pytest.raises(ValueError, match=f"`{argument}`"):
        SABHyperModel(**kwargs)


def test_temperature_range_with_the_paper_rule_raises():
    """`attention="sparse"` has no temperature: only 1.0 is accepted."""
    with pytest.raises(ValueError, match="`temperature`.*attention='sparse'"):
        SABHyperModel(input_dim=3, num_outputs=2, attention="sparse", temperature=(0.5, 1.0))


def test_missing_keras_tuner_gives_install_hint(monkeypatch):
    """`import keras_sab` works without the extra; `keras_sab.tuning` says
    how to install it."""
    monkeypatch.setitem(sys.modules, "keras_tuner", None)
    monkeypatch.delitem(sys.modules, "keras_sab.tuning")
    importlib.reload(importlib.import_module("keras_sab"))
    with pytest.raises(ImportError, match=r"pip install keras-sab\[tuning\]"):
        importlib.import_module("keras_sab.tuning")


def test_tune_example_saves_a_loadable_best_model(tmp_path, capsys):
    """`examples/tune.py` (shrunk further than `--quick`) prints the best
    hyper-parameters and saves a `.keras` model that loads with them."""
    path = pathlib.Path(__file__).parents[1] / "examples" / "tune.py"
    spec = importlib.util.spec_from_file_location("tune_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = tmp_path / "best.keras"
    example.main(
        [
            "--quick", "--tuner", "random", "--trials", "2", "--epochs", "1",
            "--steps-per-epoch", "2", "--timesteps", "2",
            "--directory", str(tmp_path / "tune"), "--out", str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "2 of 2 trials completed." in printed
    model = keras.saving.load_model(out)
    sab = model.get_layer(SAB_LAYER_NAME)
    for name in example.SEARCHED:
        if name != "learning_rate":
            assert f"  {name} = {getattr(sab, name)}\n" in printed
    assert model.output_shape == (None, None, 10)
