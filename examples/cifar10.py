"""Sequential CIFAR10 (ALGORITHM.md §8): 32x32 colour images read one pixel per step.

T=1024 steps of 3 values, row-major. The paper reports SAB 64.5%, a
Transformer 62.2%, on par with full BPTT. `--model transformer` is the
harness's small Transformer encoder (`transformer_baseline.transformer_encoder`:
keras-hub's sinusoidal positions and pre-norm blocks, mean pooling) with `--units` as its
width. Data: TensorFlow Datasets `cifar10`, prepared under `--data-dir`
(never downloaded).

    python examples/cifar10.py --data-dir /data/tfds
    python examples/cifar10.py --data-dir /data/tfds --model transformer --units 64
"""

import experiment
from pixel_mnist import add_image_arguments
from pixel_mnist import image_task

DEFAULTS = dict(epochs=20)
QUICK = dict(units=32, batch_size=32, epochs=1, limit=512)


def add_arguments(parser):
    """Adds the CIFAR10 flags to `parser`."""
    add_image_arguments(parser, permute=False)


def main(argv=None):
    """Runs sequential CIFAR10; returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "cifar10",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        int_flags={"limit": 1},
    )
    task = image_task(args, "cifar10", "cifar10")
    _, metrics = experiment.run_experiment(args, task)
    label = experiment.model_label(args)
    print(f"cifar10, {label}: test accuracy {metrics['test']['accuracy']:.3f}")
    return metrics


if __name__ == "__main__":
    main()
