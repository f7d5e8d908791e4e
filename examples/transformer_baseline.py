"""The `--model transformer` baseline: a small Transformer from keras-hub's layers.

The paper's baseline on sequential CIFAR10, built from
`keras_hub.layers.SinePositionEncoding`, `TransformerEncoder` and, when the
task reads every step, `TransformerDecoder` without cross-attention (a causal
self-attention block). keras-hub is part of the examples' `peers` extra and is
imported only when the model is built.
"""

import keras

from peer_models import import_peer


def transformer_encoder(inputs, width, heads=4, num_layers=2, return_sequences=False):
    """A small pre-norm Transformer encoder over a sequence.

    Each step is projected to `width` features plus keras-hub's
    `SinePositionEncoding`, then goes through `num_layers` pre-norm blocks
    (`normalize_first=True`) of self-attention (`heads` heads of
    `width // heads` features) and a feed-forward layer of `2 * width` GELU
    units; a last `LayerNormalization` ends it. A Keras mask on the steps
    (from `keras.layers.Masking`) does not reach the blocks: the position
    encoding drops it (keras-hub's blocks take a `padding_mask` argument
    instead, which the harness's tasks, all unpadded, do not need). About `8 * width**2` weights
    per block: `width=64` with 2 blocks (67,200 on one input feature) is
    within 10% of `SAB` with 128 units (74,816; 68 gives 75,752).

    Args:
        inputs: `(batch, T, features)` symbolic tensor; `T` may be `None`.
        width: features per step (`--units`). A multiple of `heads`.
        heads: attention heads. Defaults to `4`.
        num_layers: Transformer blocks. Defaults to `2`.
        return_sequences: whether the task reads every step. If `True`, the
            blocks are keras-hub `TransformerDecoder`s without cross-attention,
            whose self-attention is causal (step `t` sees steps `0 .. t` only),
            and every step's features are returned; if `False`, they are
            `TransformerEncoder`s, every step sees the whole sequence and the
            features are averaged over the steps. Defaults to `False`.

    Returns:
        Features of shape `(batch, T, width)` if `return_sequences`, else
        `(batch, width)`.

    Raises:
        ImportError: keras-hub is not installed (`peer_models.import_peer`).

    Example:

    >>> inputs = keras.Input((784, 1))
    >>> encoder = keras.Model(inputs, transformer_encoder(inputs, 64))
    >>> encoder.output.shape, encoder.count_params()
    ((None, 64), 67200)
    """
    keras_hub = import_peer("transformer")
    block = (
        keras_hub.layers.TransformerDecoder
        if return_sequences
        else keras_hub.layers.TransformerEncoder
    )
    x = keras.layers.Dense(width, name="step_embedding")(inputs)
    x = x + keras_hub.layers.SinePositionEncoding(name="position_encoding")(x)
    for index in range(num_layers):
        x = block(
            2 * width, heads, activation="gelu", normalize_first=True, name=f"block{index}"
        )(x)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    if return_sequences:
        return x
    return keras.layers.GlobalAveragePooling1D(name="mean_pool")(x)
