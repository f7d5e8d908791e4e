"""Tunes SAB's hyper-parameters on the copy task with KerasTuner.

Searches `units`, `k_top`, `k_att`, `k_trunc` and the learning rate with
`keras_sab.tuning.SABHyperModel`, maximizing the validation recall accuracy
(`keras_sab.tasks.copy_recall_accuracy`), prints the best hyper-parameters
and saves the best model as a `.keras` file.

Needs the `tuning` extra: `pip install -e ".[tuning]"`.

    python examples/tune.py --tuner random --quick     # about a minute on CPU
    python examples/tune.py --tuner hyperband --timesteps 100
    python examples/tune.py --tuner bayesian --out runs/tune/bayes.keras

Load the saved model with `import keras_sab.tasks` (which registers the
metric) then `keras.saving.load_model(path)`.
"""

import argparse
import os

import keras_tuner

from keras_sab.tasks import COPY_VOCAB_SIZE
from keras_sab.tasks import copy_dataset
from keras_sab.tasks import copy_recall_accuracy
from keras_sab.tuning import SABHyperModel

TUNERS = ("random", "hyperband", "bayesian")
SEARCHED = ("units", "k_top", "k_att", "k_trunc", "learning_rate")

# Settings of `--quick`: a short delay, small models, few short trials.
QUICK = dict(
    timesteps=5,
    batch_size=32,
    steps_per_epoch=40,
    epochs=3,
    trials=4,
    units=(32, 64),
    k_top=(2, 3),
    k_att=(2, 5),
    k_trunc=(2, 10),
    learning_rate=(3e-3, 3e-2),
)
FULL = dict(
    timesteps=50,
    batch_size=64,
    steps_per_epoch=100,
    epochs=10,
    trials=10,
    units=(64, 128),
    k_top=(2, 10),
    k_att=(5, 20),
    k_trunc=(1, 20),
    learning_rate=(1e-4, 1e-2),
)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuner", choices=TUNERS, default="random")
    parser.add_argument(
        "--quick", action="store_true", help="tiny search, about a minute on CPU"
    )
    parser.add_argument("--timesteps", type=_positive_int, help="copy-task delay T")
    parser.add_argument("--batch-size", type=_positive_int)
    parser.add_argument("--steps-per-epoch", type=_positive_int)
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        help="epochs per trial (Hyperband: the most epochs of a trial)",
    )
    parser.add_argument(
        "--trials",
        type=_positive_int,
        help="number of trials (RandomSearch, BayesianOptimization)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--directory", default="runs/tune", help="KerasTuner's project directory"
    )
    parser.add_argument(
        "--out", default="runs/tune/best.keras", help="where to save the best model"
    )
    parser.add_argument(
        "--overwrite",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start a fresh search (--no-overwrite resumes the previous one)",
    )
    args = parser.parse_args(argv)
    if not args.out.endswith(".keras"):
        parser.error(f"--out must end in .keras, got {args.out}")
    settings = dict(QUICK if args.quick else FULL)
    for name in ("timesteps", "batch_size", "steps_per_epoch", "epochs", "trials"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    return args, settings


def make_tuner(kind, hypermodel, settings, directory, seed, overwrite):
    """The KerasTuner tuner `kind` maximizing the validation recall accuracy."""
    common = dict(
        objective=keras_tuner.Objective("val_copy_recall_accuracy", "max"),
        directory=directory,
        project_name=f"copy_{kind}",
        seed=seed,
        overwrite=overwrite,
    )
    if kind == "hyperband":
        return keras_tuner.Hyperband(
            hypermodel, max_epochs=settings["epochs"], factor=3, **common
        )
    if kind == "bayesian":
        return keras_tuner.BayesianOptimization(
            hypermodel, max_trials=settings["trials"], **common
        )
    return keras_tuner.RandomSearch(
        hypermodel, max_trials=settings["trials"], **common
    )


def main(argv=None):
    args, settings = parse_args(argv)
    hypermodel = SABHyperModel(
        input_dim=COPY_VOCAB_SIZE,
        num_outputs=COPY_VOCAB_SIZE,
        metrics=[copy_recall_accuracy],
        **{name: settings[name] for name in SEARCHED},
    )
    tuner = make_tuner(
        args.tuner, hypermodel, settings, args.directory, args.seed, args.overwrite
    )
    train = copy_dataset(settings["timesteps"], settings["batch_size"], seed=args.seed)
    validation = copy_dataset(
        settings["timesteps"],
        settings["batch_size"],
        num_batches=4,
        seed=args.seed + 1,
    )
    tuner.search(
        train,
        validation_data=validation,
        epochs=settings["epochs"],
        steps_per_epoch=settings["steps_per_epoch"],
        verbose=2,
    )

    trials = tuner.oracle.trials.values()
    completed = [trial for trial in trials if trial.status == "COMPLETED"]
    print(f"{len(completed)} of {len(trials)} trials completed.")
    if not completed:
        raise SystemExit("No trial completed; see the errors above.")
    best_hp = tuner.get_best_hyperparameters()[0]
    print("Best hyper-parameters:")
    for name in SEARCHED:
        print(f"  {name} = {best_hp[name]}")
    best_model = tuner.get_best_models()[0]
    metrics = best_model.evaluate(validation, verbose=0, return_dict=True)
    recall = metrics["copy_recall_accuracy"]
    print(f"Best model's validation recall accuracy: {recall:.3f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    best_model.save(args.out)
    print(f"Saved the best model to {args.out}")


if __name__ == "__main__":
    main()
