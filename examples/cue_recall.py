"""Cue recall in the examples' harness: the README's task for every `--model`.

One of the first 10 symbols of a random sequence is marked, and `T` steps
later the model must name it (8 symbols: chance is 12.5%). The defaults are
those of the README's demonstration (`examples/sab_vs_lstm.py`: T=200, width
64, batches of 32, Adam at 3e-3 with `clipnorm=1.0`, 800 updates, 1,024 test
sequences), so that the peers (`--model gru | tcn | lmu | cfc`, sized like
SAB(64)) run beside the demo's SAB and LSTM.

    python examples/cue_recall.py --model gru --seed 0
    python examples/cue_recall.py --quick
"""

import keras
import tensorflow as tf

from keras_sab import tasks

import experiment

DEFAULTS = dict(units=64, batch_size=32, lr=3e-3, clipnorm=1.0, epochs=8, steps_per_epoch=100)
QUICK = dict(timesteps=20, units=16, epochs=2, steps_per_epoch=10, test_examples=64)


def add_arguments(parser):
    """Adds the cue recall task's flags to `parser`."""
    parser.add_argument(
        "-T", "--timesteps", type=int, default=200, help="Steps from the cue window to the query."
    )
    parser.add_argument(
        "--test-examples", type=int, default=1024, help="Sequences in the test set."
    )


def cue_recall_task(args):
    """The cue recall task for the flags `args` (`timesteps`, `batch_size`,
    `test_examples`, `seed`).

    The test set is the demonstration's: `cue_recall_arrays` drawn from the
    seed `(seed, 0, 1)`, which no training batch uses.

    Args:
        args: parsed flags.

    Returns:
        An `experiment.Task` with a `Dense(8)` head on the last step and
        the cross-entropy of the cue's symbol as loss.
    """
    test = tasks.cue_recall_arrays(args.timesteps, args.test_examples, seed=(args.seed, 0, 1))
    return experiment.Task(
        name="cue_recall",
        train=tasks.cue_recall_dataset(args.timesteps, args.batch_size, seed=args.seed),
        test=tf.data.Dataset.from_tensor_slices(test).batch(256),
        input_shape=(args.timesteps + tasks.cue_recall.CUE_WINDOW, tasks.CUE_INPUT_DIM),
        T=args.timesteps,
        head=keras.layers.Dense(tasks.CUE_NUM_SYMBOLS, name="symbol"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def main(argv=None):
    """Runs the cue recall task; returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "cue_recall",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        int_flags={"timesteps": 1, "test_examples": 1},
    )
    _, metrics = experiment.run_experiment(args, cue_recall_task(args))
    accuracy = metrics["test"]["accuracy"]
    label = experiment.model_label(args)
    print(f"cue recall T={args.timesteps}, {label}: test accuracy {accuracy:.1%}")
    return metrics


if __name__ == "__main__":
    main()
