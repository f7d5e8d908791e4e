"""Sequential CIFAR10 (ALGORITHM.md §8): 32x32 colour images read one pixel per step.

T=1024 steps of 3 values, row-major. The paper reports SAB 64.5%, a
Transformer 62.2%, on par with full BPTT. `--model transformer` is a small
Transformer encoder (learned position embedding, pre-norm blocks, mean
pooling) with `--units` as its width. Data: TensorFlow Datasets `cifar10`,
prepared under `--data-dir` (never downloaded).

    python examples/cifar10.py --data-dir /data/tfds
    python examples/cifar10.py --data-dir /data/tfds --model transformer
"""

import dataclasses

import keras
from keras import ops

import experiment
from pixel_mnist import add_image_arguments
from pixel_mnist import image_task

MODELS = experiment.MODELS + ("transformer",)
DEFAULTS = dict(epochs=20)
QUICK = dict(units=32, batch_size=32, epochs=1, limit=512)


@keras.saving.register_keras_serializable(package="keras_sab_examples")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each step's position to a sequence.

    Args:
        max_length: longest sequence the layer accepts.
        **kwargs: base layer keyword arguments.

    Example:

    >>> PositionEmbedding(1024)(np.zeros((2, 1024, 64))).shape
    TensorShape([2, 1024, 64])
    """

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(self.max_length, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, inputs):
        return inputs + self.embedding[: ops.shape(inputs)[1]]

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


def add_arguments(parser):
    """Adds the CIFAR10 and Transformer flags to `parser`."""
    add_image_arguments(parser, permute=False)
    parser.add_argument(
        "--transformer-layers", type=int, default=2, help="transformer: blocks."
    )
    parser.add_argument(
        "--heads", type=int, default=4, help="transformer: attention heads."
    )


def transformer_encoder(inputs, args):
    """A small pre-norm Transformer encoder, mean-pooled over the steps.

    Args:
        inputs: `(batch, T, channels)` symbolic tensor.
        args: parsed flags (`units`, `heads`, `transformer_layers`).

    Returns:
        `(batch, units)` features.
    """
    width = args.units
    x = keras.layers.Dense(width, name="pixel_embedding")(inputs)
    x = PositionEmbedding(inputs.shape[1], name="position_embedding")(x)
    for block in range(args.transformer_layers):
        y = keras.layers.LayerNormalization(name=f"block{block}_norm1")(x)
        y = keras.layers.MultiHeadAttention(
            args.heads, width // args.heads, name=f"block{block}_attention"
        )(y, y)
        x = x + y
        y = keras.layers.LayerNormalization(name=f"block{block}_norm2")(x)
        y = keras.layers.Dense(2 * width, "gelu", name=f"block{block}_mlp1")(y)
        x = x + keras.layers.Dense(width, name=f"block{block}_mlp2")(y)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    return keras.layers.GlobalAveragePooling1D(name="mean_pool")(x)


def main(argv=None):
    """Runs sequential CIFAR10; returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "cifar10",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        models=MODELS,
        int_flags={"limit": 1, "transformer_layers": 1, "heads": 1},
    )
    if args.model == "transformer" and args.units % args.heads:
        raise ValueError(
            "`--units` must be a multiple of `--heads`. "
            f"Received: --units={args.units}, --heads={args.heads}"
        )
    task = dataclasses.replace(
        image_task(args, "cifar10", "cifar10"),
        encoders={"transformer": transformer_encoder},
    )
    _, metrics = experiment.run_experiment(args, task)
    label = experiment.model_label(args)
    print(f"cifar10, {label}: test accuracy {metrics['test']['accuracy']:.3f}")
    return metrics


if __name__ == "__main__":
    main()
