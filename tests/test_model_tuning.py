"""`--tune-epochs` (examples/model_tuning.py): a grid search of a model's main
knobs before its run."""

import json
import os

import model_tuning
import pytest

from tests.harness import adding_task
from tests.harness import harness_args
from tests.peers import needs

import experiment


def _points(out):
    with open(os.path.join(out, model_tuning.TUNING)) as stream:
        return json.load(stream)


def test_every_grid_point_trains_and_the_run_goes_on_with_the_best(tmp_path):
    """Each point of the LSTM's grid (its learning rates) is trained and
    scored; the run uses the point of lowest validation loss, and records it."""
    args = harness_args(tmp_path, "--model", "lstm", "--tune-epochs", "1", epochs=1)
    _, metrics = experiment.run_experiment(args, adding_task())
    record = _points(tmp_path)
    tried = sorted(point["settings"]["lr"] for point in record["points"])
    assert tried == sorted(model_tuning.LEARNING_RATES)
    best = min(record["points"], key=lambda point: point["val_loss"])["settings"]
    assert record["chosen"] == best
    assert metrics["hyperparameters"]["lr"] == best["lr"]
    with open(tmp_path / "run_config.json") as stream:
        assert json.load(stream)["lr"] == best["lr"]


def test_a_restart_keeps_the_recorded_choice(tmp_path):
    """An `--out` that holds `tuning.json` keeps its choice: no new search."""
    os.makedirs(tmp_path, exist_ok=True)
    with open(tmp_path / model_tuning.TUNING, "w") as stream:
        json.dump({"chosen": {"lr": 0.0123}}, stream)
    args = harness_args(tmp_path, "--model", "lstm", "--tune-epochs", "1", epochs=1)
    _, metrics = experiment.run_experiment(args, adding_task())
    assert metrics["hyperparameters"]["lr"] == 0.0123
    assert not (tmp_path / "tuning").exists()


@needs("tcn")
def test_a_tcn_grid_covers_its_kernel_sizes_at_sab_s_size(tmp_path, capsys):
    """The TCN's grid crosses learning rates and kernel sizes; every point is
    sized to SAB's parameter count (its width follows the kernel size)."""
    args = harness_args(tmp_path, "--model", "tcn", "--tune-epochs", "1", epochs=1, units=16)
    experiment.run_experiment(args, adding_task())
    record = _points(tmp_path)
    tried = {(p["settings"]["lr"], p["settings"]["kernel_size"]) for p in record["points"]}
    assert tried == {(lr, k) for lr in model_tuning.LEARNING_RATES for k in (4, 8)}
    widths = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()
              if line.startswith("tcn width")}
    assert len(widths) == 2


def test_the_flag_refuses_a_negative_budget(tmp_path):
    with pytest.raises(ValueError, match="tune-epochs"):
        harness_args(tmp_path, "--tune-epochs", "-1")


def test_a_point_that_diverged_is_never_chosen():
    """A NaN validation loss (a run whose loss diverged) loses to any finite
    one, wherever it stands in the grid; a grid with no finite loss is an
    error that names the model."""
    nan, diverged = float("nan"), {"lr": 0.01}
    points = [
        {"settings": diverged, "val_loss": nan},
        {"settings": {"lr": 0.003}, "val_loss": 2.0},
        {"settings": {"lr": 0.001}, "val_loss": 1.5},
    ]
    assert model_tuning.choose(points, "cfc") == {"lr": 0.001}
    assert model_tuning.choose(points[1:] + points[:1], "cfc") == {"lr": 0.001}
    with pytest.raises(RuntimeError, match="cfc grid"):
        model_tuning.choose([{"settings": diverged, "val_loss": nan}], "cfc")
