"""Adding problem: output the sum of the two marked values of a sequence.

Each of the T steps carries a value in [0, 1) and a marker; the target is the
sum of the two marked values (one in each half). Predicting the mean sum
gives a mean squared error of about 0.167; solving the task gives ~0.

    python examples/adding.py --quick
    python examples/adding.py -T 400 --model tbptt --k-trunc 20
"""

import keras

from keras_sab import tasks

import experiment

DEFAULTS = dict(epochs=50, steps_per_epoch=100)
QUICK = dict(timesteps=50, units=64, lr=3e-3, epochs=10, test_batches=4)


def add_arguments(parser):
    """Adds the adding problem's flags to `parser`."""
    parser.add_argument(
        "-T", "--timesteps", type=int, default=200, help="Sequence length."
    )
    parser.add_argument(
        "--test-batches", type=int, default=16, help="Batches in the test set."
    )


def adding_task(args):
    """The adding problem for the flags `args` (`timesteps`, `batch_size`, `seed`).

    Args:
        args: parsed flags.

    Returns:
        A `experiment.Task` with a `Dense(1)` head on the last step
        and the mean squared error as loss.
    """
    return experiment.Task(
        name="adding",
        train=tasks.adding_dataset(args.timesteps, args.batch_size, seed=args.seed),
        test=tasks.adding_dataset(
            args.timesteps,
            args.batch_size,
            num_batches=args.test_batches,
            seed=args.seed + 1,
        ),
        input_shape=(args.timesteps, 2),
        T=args.timesteps,
        head=keras.layers.Dense(1, name="sum"),
        loss="mse",
        metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
    )


def main(argv=None):
    """Runs the adding problem; returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "adding",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        int_flags={"timesteps": 2, "test_batches": 1},
    )
    _, metrics = experiment.run_experiment(args, adding_task(args))
    mse = metrics["test"]["loss"]
    label = experiment.model_label(args)
    print(f"adding T={args.timesteps}, {label}: test MSE {mse:.4f}")
    return metrics


if __name__ == "__main__":
    main()
