"""Small runs of the examples' harness (`examples/experiment.py`) for the tests:
the flags of a tiny SAB and the adding task at `T` steps."""

import keras

from keras_sab import tasks

import experiment

T = 12


def harness_args(out, *flags, units=8, epochs=2, steps=3):
    """The harness's flags for a tiny run into `out`, then `flags`."""
    return experiment.parse_args(
        [
            "--units", str(units), "--k-att", "3", "--k-top", "2", "--k-trunc", "4",
            "--batch-size", "4", "--epochs", str(epochs), "--steps-per-epoch", str(steps),
            "--out", str(out), *flags,
        ],
        "adding",
        "test",
    )


def adding_task(test_batches=2, metrics=None):
    """The adding task at `T` steps, batches of 4, as the harness takes it."""
    return experiment.Task(
        name="adding",
        train=tasks.adding_dataset(T, 4, seed=0),
        test=tasks.adding_dataset(T, 4, num_batches=test_batches, seed=1),
        input_shape=(T, 2),
        T=T,
        head=keras.layers.Dense(1),
        loss="mse",
        **({} if metrics is None else {"metrics": metrics}),
    )
