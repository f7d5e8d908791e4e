"""How the examples' harness compiles a model: Adam, gradient clipping, XLA or graph mode.

`jit_compile` chooses each `--model`'s faster mode on the device for
`--jit auto`; `compile_model` compiles with it.
"""

import keras
import tensorflow as tf


def jit_compile(model, jit="auto", gpu=None):
    """Whether `--model model` trains under XLA with `--jit jit`.

    `"auto"` picks each model's faster mode on the device (train steps at
    T=784, batch 64, measured on a 2-core CPU; the peers at the width that
    matches SAB with 128 units, the CPU shared with other work):

    - the models built from `SAB`: XLA, on either device (the default SAB
      0.56 s under XLA, 0.91 s in graph mode; TBPTT 0.39 s and 0.47 s; its
      fused loops have the trip counts XLA needs to keep a GPU loop on the
      device);
    - the LSTM: graph mode, on either device (0.26 s, 0.28 s under XLA; on a
      GPU Keras runs it on cuDNN, outside XLA);
    - the GRU: XLA on a CPU (0.27 s, 0.32 s in graph mode), graph mode on a
      GPU (cuDNN, outside XLA);
    - the Transformer: graph mode on a CPU (1.22 s, 1.29 s under XLA), XLA
      on a GPU;
    - the TCN: graph mode on a CPU (0.20 s, 0.26 s under XLA), XLA on a GPU
      (not measured there);
    - the LMU and the CfC: XLA, on either device (LMU 0.42 s, 0.49 s in
      graph mode; CfC 0.30 s and 0.32 s; not measured on a GPU).

    Args:
        model: one of `model_zoo.MODELS`, or a script's own model name
            (built from `SAB`).
        jit: one of `flags.JIT_MODES`. Defaults to `"auto"`.
        gpu: whether training runs on a GPU. Defaults to `None`: whether
            TensorFlow sees one.

    Returns:
        `True` for XLA, `False` for graph mode.

    Example:

    >>> jit_compile("sab"), jit_compile("lstm"), jit_compile("lstm", "xla")
    (True, False, True)
    >>> jit_compile("transformer", gpu=False), jit_compile("transformer", gpu=True)
    (False, True)
    >>> jit_compile("gru", gpu=False), jit_compile("gru", gpu=True)
    (True, False)
    """
    if jit != "auto":
        return jit == "xla"
    if gpu is None:
        gpu = bool(tf.config.list_physical_devices("GPU"))
    if model == "lstm":
        return False
    if model == "gru":
        return not gpu
    if model in ("transformer", "tcn"):
        return gpu
    return True


def compile_model(model, args, loss, metrics=()):
    """Compiles with Adam, gradient-norm clipping, in the mode of `--jit`.

    Args:
        model: a `keras.Model`.
        args: parsed flags (`model`, `lr`, `clipnorm` or `global_clipnorm`,
            `jit`).
        loss: Keras loss.
        metrics: Keras metrics. Defaults to `()`.

    Returns:
        `model`, compiled.

    Example:

    >>> from flags import parse_args
    >>> args = parse_args(["--global-clipnorm", "0.5", "--jit", "graph"], "x", "")
    >>> inputs = keras.Input((3,))
    >>> model = compile_model(keras.Model(inputs, keras.layers.Dense(1)(inputs)), args, "mse")
    >>> model.optimizer.clipnorm, model.optimizer.global_clipnorm, model.jit_compile
    (None, 0.5, False)
    """
    model.compile(
        optimizer=keras.optimizers.Adam(
            args.lr, clipnorm=args.clipnorm, global_clipnorm=args.global_clipnorm
        ),
        loss=loss,
        metrics=list(metrics),
        jit_compile=jit_compile(args.model, args.jit),
    )
    return model
