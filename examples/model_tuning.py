"""`--tune-epochs`: a small KerasTuner grid search of a model's main knobs before its run.

Every peer gets the care SAB got: before the run, each point of its grid
(`search_space`: the learning rate, and the TCN's kernel size or the LMU's
order, whose width then follows SAB's parameter count) trains for
`--tune-epochs` epochs of `--steps-per-epoch` updates from the same seed,
and the run goes on with the point of lowest validation loss (a point that
diverged, its loss not finite, is never chosen). The grid, each
point's validation loss and the choice are written to `tuning.json` in
`--out` (KerasTuner's own files go to `--out`/`tuning/`).

    python examples/adding.py -T 200 --model tcn --tune-epochs 3 --epochs 20

Needs the `tuning` extra (KerasTuner).
"""

import argparse
import dataclasses
import json
import math
import os

import keras

from model_zoo import build_model
from model_zoo import fresh_head
from train_step import compile_model

TUNING = "tuning.json"
# Every model's grid has the learning rates; some peers have a knob more.
LEARNING_RATES = (1e-3, 3e-3, 1e-2)
PEER_KNOBS = {"tcn": {"kernel_size": (4, 8)}, "lmu": {"order": (64, 256)}}


def with_settings(args, settings):
    """A copy of the flags `args` with `settings` (destination -> value)."""
    return argparse.Namespace(**{**vars(args), **settings})


def search_space(model):
    """The grid searched for `--model model`: destination -> values.

    Example:

    >>> search_space("tcn")
    {'lr': (0.001, 0.003, 0.01), 'kernel_size': (4, 8)}
    >>> search_space("gru")
    {'lr': (0.001, 0.003, 0.01)}
    """
    return {"lr": LEARNING_RATES, **PEER_KNOBS.get(model, {})}


def choose(points, model):
    """The settings of the point of `points` with the lowest validation loss.

    A point whose loss is not finite (a run that diverged) is never chosen.

    Example:

    >>> choose([{"settings": {"lr": 0.01}, "val_loss": float("nan")},
    ...         {"settings": {"lr": 0.003}, "val_loss": 0.5}], "cfc")
    {'lr': 0.003}
    """
    finite = [point for point in points if math.isfinite(point["val_loss"])]
    if not finite:
        raise RuntimeError(
            f"No point of the {model} grid ended with a finite validation loss "
            f"({len(points)} finished); see the errors above."
        )
    return min(finite, key=lambda point: point["val_loss"])["settings"]


def tune(args, task, train, validation):
    """Grid-searches `search_space(args.model)` on `task`; returns the best flags.

    Args:
        args: parsed flags (`tune_epochs`, `steps_per_epoch`, `seed`, `out`,
            the model's flags).
        task: an `experiment.Task`.
        train: the training dataset, repeated.
        validation: the dataset whose loss chooses.

    Returns:
        `args` with the chosen values; `tuning.json` in `args.out` holds the
        grid, every point's validation loss and the choice. A restart in an
        `--out` that has it keeps its choice without searching again.
    """
    path = os.path.join(args.out, TUNING)
    if os.path.exists(path):
        with open(path) as stream:
            return with_settings(args, json.load(stream)["chosen"])
    import keras_tuner

    space = search_space(args.model)

    class TaskHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            point = with_settings(
                args, {name: hp.Choice(name, values) for name, values in space.items()}
            )
            keras.utils.set_random_seed(args.seed)
            # A head of its own: the points' widths differ.
            point_task = dataclasses.replace(task, head=fresh_head(task))
            return compile_model(
                build_model(point, point_task), point, task.loss, task.metrics
            )

    # The grid is declared before the first build, so that every point is
    # enumerated (a knob first met inside `build` would join the grid late).
    grid = keras_tuner.HyperParameters()
    for name, values in space.items():
        grid.Choice(name, values)
    tuner = keras_tuner.GridSearch(
        TaskHyperModel(),
        max_trials=math.prod(len(values) for values in space.values()),
        hyperparameters=grid,
        objective="val_loss",
        directory=os.path.join(args.out, "tuning"),
        project_name=args.model,
        seed=args.seed,
        overwrite=True,
    )
    tuner.search(
        train,
        validation_data=validation,
        epochs=args.tune_epochs,
        steps_per_epoch=args.steps_per_epoch,
        shuffle=False,
        verbose=2,
    )
    points = [
        {"settings": trial.hyperparameters.values, "val_loss": trial.score}
        for trial in tuner.oracle.trials.values()
        if trial.score is not None
    ]
    best = choose(points, args.model)
    record = {
        "model": args.model,
        "grid": {name: list(values) for name, values in space.items()},
        "epochs_per_point": args.tune_epochs,
        "steps_per_epoch": args.steps_per_epoch,
        "points": points,
        "chosen": best,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(path, "w") as stream:
        json.dump(record, stream, indent=2)
    print(f"{args.model}: chose {best} ({len(points)} grid points, {args.tune_epochs} epochs each)")
    return with_settings(args, best)
