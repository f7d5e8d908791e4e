"""The harness the example scripts share (ALGORITHM.md §8); not part of the package.

It lives beside the scripts, which import it as `experiment` (Python puts a
script's own folder first on its path, so they run from any directory).

An example script supplies only its data and its task-specific head, loss and
metrics, as a `Task`; everything else is shared here:

- `parse_args`: the common flags (`--model
  {sab,lstm,tbptt,self_attention,transformer}`, `--units --k-top --k-att
  --k-trunc --attention-units --heads --transformer-layers --batch-size
  --epochs --steps-per-epoch --lr --clipnorm --seed --out --jit --quick`),
  checked (a bad value raises `ValueError` naming the flag).
- `recurrent_layer`: the one place where each recurrent `--model` becomes a
  layer: `keras.layers.LSTM` for `lstm`, settings of `keras_sab.SAB`
  (ALGORITHM.md §5) for the others.
- `transformer_encoder`: the fifth, a small Transformer encoder (the paper's
  baseline on sequential CIFAR10), causal where the task reads every step.
- `run_experiment`: builds, compiles (Adam with gradient clipping, each model
  in its faster mode: `jit_compile`), trains with `keras.callbacks.BackupAndRestore` (a killed run
  restarted with the same `--out` continues at the next epoch) and a CSV log,
  evaluates, and writes `metrics.json`, `model.keras` and the plots of
  `keras_sab.plots` to `--out`.
"""

import argparse
import csv
import dataclasses
import json
import math
import os
import platform
import time
from typing import Callable

import keras
import tensorflow as tf
from keras import ops

from keras_sab import defaults as layer_defaults
from keras_sab import plots
from keras_sab import validation
from keras_sab.attention_scorer import SCORERS
from keras_sab.read_statistics import read_statistics
from keras_sab.sab_layer import SAB
from keras_sab.sparse_attention import ATTENTION_MODES

MODELS = ("sab", "lstm", "tbptt", "self_attention", "transformer")
RUN_CONFIG = "run_config.json"
METRICS = "metrics.json"
LOG = "log.csv"
MODEL = "model.keras"
LEARNING_CURVES = "learning_curves.png"
ATTENTION = "attention.png"
READS = "reads.png"
BACKUP = "backup"
# The files `keras.callbacks.BackupAndRestore` keeps in its directory.
BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_METADATA = "training_metadata.json"

# Flags whose value may change between a run and its restart.
_RESUMABLE_FLAGS = ("epochs", "jit", "out", "quick")
JIT_MODES = ("auto", "xla", "graph")
# Flags added after runs were recorded, with the value those runs used: a run
# recorded without one resumes when the flag keeps that value.
_ADDED_FLAGS = {
    "attention": "sparse",
    "temperature": 1.0,
    "heads": 4,
    "transformer_layers": 2,
    "scorer": "mlp",
}
# Shared integer flags and their smallest allowed value. `None` passes: it
# comes only from a default or from `--k-trunc none`.
_INT_FLAGS = {
    "units": 1,
    "k_top": 0,
    "k_att": 1,
    "k_trunc": 1,
    "attention_units": 1,
    "heads": 1,
    "transformer_layers": 1,
    "batch_size": 1,
    "epochs": 1,
    "steps_per_epoch": 1,
    "seed": 0,
}
_MODEL_HELP = (
    "sab: SAB (--k-top, --k-att, --k-trunc); lstm: LSTM with full BPTT; "
    "tbptt: LSTM with truncated BPTT (--k-trunc); self_attention: LSTM with "
    "full self-attention (dense attention over every past step, full BPTT); "
    "transformer: a Transformer encoder of width --units (--heads, "
    "--transformer-layers), causal when the task reads every step."
)


class _HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows the defaults and keeps the description's line breaks."""


@dataclasses.dataclass
class Task:
    """What an example script hands to `run_experiment`.

    Args:
        name: task name, written to `metrics.json` (e.g. `"copy"`).
        train: training `tf.data.Dataset` of `(x, y)` batches. With
            `--steps-per-epoch` it is repeated, so it may be finite.
        test: test dataset, evaluated once after training; its first
            sequence is the one whose attention is plotted.
        input_shape: `(timesteps, features)` of one sequence; `timesteps`
            may be `None` (a model for any length).
        T: the task's length parameter as the paper states it (for the copy
            task the delay, the sequences having `T + 20` steps).
        head: function mapping the recurrent features to the model's
            outputs (e.g. a `Dense` layer).
        loss: Keras loss.
        metrics: list of Keras metrics. Defaults to `[]`.
        return_sequences: whether the head reads every step's output (else
            only the last). Defaults to `False`.
        validation: dataset evaluated after every epoch. Defaults to `None`
            (the test dataset).
        encoders: extra `--model` choices, as a dict from name to a function
            `(inputs, args) -> features` building that model's body.
            Defaults to `{}`.

    Example:

    >>> from keras_sab.tasks import adding_dataset
    >>> task = Task(
    ...     name="adding",
    ...     train=adding_dataset(6, batch_size=2, num_batches=1),
    ...     test=adding_dataset(6, batch_size=2, num_batches=1, seed=1),
    ...     input_shape=(6, 2),
    ...     T=6,
    ...     head=keras.layers.Dense(1),
    ...     loss="mse",
    ... )
    >>> task.metrics, task.return_sequences
    ([], False)
    """

    name: str
    train: tf.data.Dataset
    test: tf.data.Dataset
    input_shape: tuple
    T: int
    head: Callable
    loss: object
    metrics: list = dataclasses.field(default_factory=list)
    return_sequences: bool = False
    validation: tf.data.Dataset = None
    encoders: dict = dataclasses.field(default_factory=dict)


def int_or_none(text):
    """Parses a flag value that is an integer or `none` (e.g. `--k-trunc`).

    Args:
        text: the flag's text.

    Returns:
        The integer, or `None` for `"none"` (any case).

    Example:

    >>> int_or_none("none"), int_or_none("20")
    (None, 20)
    """
    return None if text.lower() == "none" else int(text)


def parse_args(
    argv,
    task,
    description,
    add_arguments=None,
    defaults=None,
    quick=None,
    models=MODELS,
    int_flags=None,
):
    """Parses the command line of an example script.

    Defaults come from the shared flags, then `defaults`, then (with
    `--quick`) `quick`; flags given explicitly always win.

    Args:
        argv: list of strings, or `None` for `sys.argv[1:]`.
        task: task name; the default `--out` is `runs/<task>`.
        description: the script's description, shown by `--help`.
        add_arguments: function adding the script's own flags to an
            `argparse.ArgumentParser`. Defaults to `None`.
        defaults: dict from flag destination to the script's default,
            replacing the shared one. Defaults to `None`.
        quick: dict from flag destination (`"units"`, `"epochs"`, ...) to its
            value under `--quick`. Defaults to `None` (no change).
        models: the allowed values of `--model`. Defaults to `MODELS`.
        int_flags: the script's own integer flags, as a dict from destination
            to smallest allowed value. Defaults to `None`.

    Returns:
        An `argparse.Namespace`. All random seeds are set to `--seed`, so that
        layers the script builds next (a task's head) start from it too.

    Raises:
        ValueError: a flag has a bad value; the message names the flag.

    Example:

    >>> args = parse_args(["--quick"], "copy", "Copy task.", quick={"units": 32})
    >>> args.model, args.units, args.k_att
    ('sab', 32, 10)
    """
    quick = dict(quick or {})
    parser = argparse.ArgumentParser(
        description=description, formatter_class=_HelpFormatter
    )
    _add_shared_arguments(parser, task, models, quick)
    if add_arguments is not None:
        add_arguments(parser)
    parser.set_defaults(**(defaults or {}))
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**quick)
    args = parser.parse_args(argv)
    for name, minimum in {**_INT_FLAGS, **(int_flags or {})}.items():
        validation.check_int(_flag(name), getattr(args, name), minimum, allow_none=True)
    _check_positive(args, "lr")
    _check_positive(args, "clipnorm")
    _check_temperature(args)
    _check_heads(args)
    # Seeded before the script builds its task: a Keras initializer made
    # without a seed (the task's head) draws one from Python's `random` when
    # it is constructed, and `run_experiment` seeds again only after that.
    keras.utils.set_random_seed(args.seed)
    return args


def model_label(args):
    """Names the model of `args` for titles and printed results.

    Args:
        args: parsed flags (`model`, `attention`).

    Returns:
        `args.model`, followed by the attention mode and temperature when the
        model uses them with values other than the layer's defaults.

    Example:

    >>> model_label(parse_args([], "copy", "Copy task."))
    'sab'
    >>> model_label(parse_args(["--attention", "sparse"], "copy", "Copy task."))
    'sab (attention=sparse)'
    >>> model_label(parse_args(["--temperature", "0.5"], "copy", "Copy task."))
    'sab (temperature=0.5)'
    >>> model_label(parse_args(["--model", "lstm", "--attention", "dense"], "copy", "Copy."))
    'lstm'
    """
    if args.model not in ("sab", "self_attention"):
        return args.model
    defaults = {
        "attention": layer_defaults.ATTENTION,
        "temperature": layer_defaults.TEMPERATURE,
        "scorer": layer_defaults.SCORER,
    }
    if args.model == "self_attention":
        defaults.pop("attention")
        defaults.pop("scorer")
    settings = [
        f"{name}={getattr(args, name)}"
        for name, default in defaults.items()
        if getattr(args, name) != default
    ]
    return f"{args.model} ({', '.join(settings)})" if settings else args.model


def recurrent_layer(
    model,
    units,
    k_top=layer_defaults.K_TOP,
    k_att=layer_defaults.K_ATT,
    k_trunc=layer_defaults.K_TRUNC,
    attention=layer_defaults.ATTENTION,
    temperature=layer_defaults.TEMPERATURE,
    attention_units=layer_defaults.ATTENTION_UNITS,
    scorer=layer_defaults.SCORER,
    return_sequences=False,
    name="rnn",
):
    """The recurrent layer of one `--model` choice.

    `"lstm"` is `keras.layers.LSTM`: the same model as `SAB(k_top=0,
    k_trunc=None)` (ALGORITHM.md §5), in its faster form (Keras's own loop on
    a CPU, cuDNN on a GPU). The other baselines are settings of `SAB`:
    `"tbptt"` is `SAB(k_top=0, k_trunc=k_trunc)` and `"self_attention"`
    `SAB(attention="dense", k_att=1, k_trunc=None)`. Arguments a baseline
    does not use are ignored.

    Args:
        model: one of `MODELS`.
        units: state width.
        k_top: memories kept per step (`"sab"`). Defaults to `5`.
        k_att: steps between memory writes (`"sab"`). Defaults to `10`.
        k_trunc: truncation length, or `None` (`"sab"`, `"tbptt"`).
            Defaults to `10`.
        attention: how the memories are weighted (`"sab"`), one of
            `keras_sab.sparse_attention.ATTENTION_MODES`. Defaults to
            `"sparse_softmax"`.
        temperature: the softmax modes' temperature (`"sab"`,
            `"self_attention"`). Defaults to `1.0`.
        attention_units: hidden width of the attention scorer. Defaults to
            `32`.
        scorer: the memory scorer (`"sab"`), one of
            `keras_sab.attention_scorer.SCORERS`. Defaults to `"mlp"`.
        return_sequences: whether to return every step's output. Defaults to
            `False`.
        name: layer name. Defaults to `"rnn"`.

    Returns:
        A `keras.layers.LSTM` for `"lstm"`, else a `keras_sab.SAB` layer.

    Raises:
        ValueError: for an unknown `model`.

    Example:

    >>> layer = recurrent_layer("tbptt", 64, k_trunc=20)
    >>> layer.k_top, layer.k_trunc
    (0, 20)
    """
    settings = {
        "sab": dict(
            k_top=k_top,
            k_att=k_att,
            k_trunc=k_trunc,
            attention=attention,
            temperature=temperature,
            scorer=scorer,
        ),
        "tbptt": dict(k_top=0, k_trunc=k_trunc),
        "self_attention": dict(
            attention="dense", temperature=temperature, k_att=1, k_trunc=None
        ),
    }
    if model == "lstm":
        return keras.layers.LSTM(units, return_sequences=return_sequences, name=name)
    if model not in settings:
        raise ValueError(
            f"`model` must be one of {('lstm', *settings)}. Received: model={model!r}"
        )
    return SAB(
        units,
        attention_units=attention_units,
        return_sequences=return_sequences,
        name=name,
        **settings[model],
    )


@keras.saving.register_keras_serializable(package="keras_sab_examples")
class SinePositionEncoding(keras.layers.Layer):
    """Adds the sinusoidal encoding of each step's position to a sequence.

    The encoding of Vaswani et al. (2017): with `half = ceil(width / 2)`,
    channel `i < half` of step `t` gets `sin(t * f_i)` and channel
    `half + i` gets `cos(t * f_i)`, where `f_i = max_wavelength ** (-i / half)`.
    It has no weights and accepts sequences of any length.

    Args:
        max_wavelength: longest wavelength of the encoding. Defaults to
            `10000`.
        **kwargs: base layer keyword arguments.

    Example:

    >>> encoded = SinePositionEncoding()(np.zeros((1, 3, 4), "float32"))
    >>> np.round(keras.ops.convert_to_numpy(encoded[0]), 3)
    array([[ 0.   ,  0.   ,  1.   ,  1.   ],
           [ 0.841,  0.01 ,  0.54 ,  1.   ],
           [ 0.909,  0.02 , -0.416,  1.   ]], dtype=float32)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, inputs):
        width = inputs.shape[-1]
        half = (width + 1) // 2
        positions = ops.cast(ops.arange(ops.shape(inputs)[1]), self.compute_dtype)
        exponents = ops.cast(ops.arange(half), self.compute_dtype) / half
        frequencies = ops.exp(-math.log(self.max_wavelength) * exponents)
        angles = positions[:, None] * frequencies[None, :]
        encoding = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
        return inputs + ops.cast(encoding[:, :width], inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


def transformer_encoder(inputs, width, heads=4, num_layers=2, return_sequences=False):
    """A small pre-norm Transformer encoder over a sequence (the `--model
    transformer` baseline).

    Each step is projected to `width` features plus `SinePositionEncoding`,
    then goes through `num_layers` blocks of `keras.layers.MultiHeadAttention`
    (`heads` heads of `width // heads` features) and a feed-forward layer of
    `2 * width` GELU units, each after a `LayerNormalization` and added to its
    input; a last `LayerNormalization` ends it. About `8 * width**2` weights
    per block: `width=64` with 2 blocks (67,200 on one input feature) is
    within 10% of `SAB` with 128 units (74,816; 68 gives 75,752).

    Args:
        inputs: `(batch, T, features)` symbolic tensor; `T` may be `None`.
        width: features per step (`--units`). A multiple of `heads`.
        heads: attention heads. Defaults to `4`.
        num_layers: Transformer blocks. Defaults to `2`.
        return_sequences: whether the task reads every step. If `True`, the
            attention is causal (step `t` sees steps `0 .. t` only) and every
            step's features are returned; if `False`, every step sees the
            whole sequence and the features are averaged over the steps.
            Defaults to `False`.

    Returns:
        Features of shape `(batch, T, width)` if `return_sequences`, else
        `(batch, width)`.

    Example:

    >>> inputs = keras.Input((784, 1))
    >>> encoder = keras.Model(inputs, transformer_encoder(inputs, 64))
    >>> encoder.output.shape, encoder.count_params()
    ((None, 64), 67200)
    """
    x = keras.layers.Dense(width, name="step_embedding")(inputs)
    x = SinePositionEncoding(name="position_encoding")(x)
    for block in range(num_layers):
        y = keras.layers.LayerNormalization(name=f"block{block}_norm1")(x)
        y = keras.layers.MultiHeadAttention(
            heads, width // heads, name=f"block{block}_attention"
        )(y, y, use_causal_mask=return_sequences)
        x = x + y
        y = keras.layers.LayerNormalization(name=f"block{block}_norm2")(x)
        y = keras.layers.Dense(2 * width, "gelu", name=f"block{block}_mlp1")(y)
        x = x + keras.layers.Dense(width, name=f"block{block}_mlp2")(y)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    if return_sequences:
        return x
    return keras.layers.GlobalAveragePooling1D(name="mean_pool")(x)


def build_model(args, task):
    """The functional model of `args.model` for `task`, uncompiled.

    Args:
        args: parsed flags (`parse_args`).
        task: a `Task`.

    Returns:
        A `keras.Model` from one sequence input to `task.head`'s outputs.

    Raises:
        ValueError: `args.model` is neither in `MODELS` nor in
            `task.encoders`.
    """
    inputs = keras.Input(task.input_shape, name="sequence")
    if args.model in task.encoders:
        features = task.encoders[args.model](inputs, args)
    elif args.model == "transformer":
        features = transformer_encoder(
            inputs,
            args.units,
            heads=args.heads,
            num_layers=args.transformer_layers,
            return_sequences=task.return_sequences,
        )
    else:
        features = recurrent_layer(
            args.model,
            args.units,
            k_top=args.k_top,
            k_att=args.k_att,
            k_trunc=args.k_trunc,
            attention=args.attention,
            temperature=args.temperature,
            attention_units=args.attention_units,
            scorer=args.scorer,
            return_sequences=task.return_sequences,
        )(inputs)
    return keras.Model(inputs, task.head(features), name=f"{task.name}_{args.model}")


def jit_compile(model, jit="auto", gpu=None):
    """Whether `--model model` trains under XLA with `--jit jit`.

    `"auto"` picks each model's faster mode on the device (train steps at
    T=784, batch 64, measured on a 2-core CPU):

    - the models built from `SAB`: XLA, on either device (the default SAB
      0.56 s under XLA, 0.91 s in graph mode; TBPTT 0.39 s and 0.47 s; its
      fused loops have the trip counts XLA needs to keep a GPU loop on the
      device);
    - the LSTM: graph mode, on either device (0.26 s, 0.28 s under XLA; on a
      GPU Keras runs it on cuDNN, outside XLA);
    - the Transformer: graph mode on a CPU (1.22 s, 1.29 s under XLA), XLA
      on a GPU.

    Args:
        model: one of `MODELS`, or a script's own model name (built from
            `SAB`).
        jit: one of `JIT_MODES`. Defaults to `"auto"`.
        gpu: whether training runs on a GPU. Defaults to `None`: whether
            TensorFlow sees one.

    Returns:
        `True` for XLA, `False` for graph mode.

    Example:

    >>> jit_compile("sab"), jit_compile("lstm"), jit_compile("lstm", "xla")
    (True, False, True)
    >>> jit_compile("transformer", gpu=False), jit_compile("transformer", gpu=True)
    (False, True)
    """
    if jit != "auto":
        return jit == "xla"
    if gpu is None:
        gpu = bool(tf.config.list_physical_devices("GPU"))
    if model == "lstm":
        return False
    if model == "transformer":
        return gpu
    return True


def compile_model(model, args, loss, metrics=()):
    """Compiles with Adam, gradient-norm clipping, in the mode of `--jit`.

    Args:
        model: a `keras.Model`.
        args: parsed flags (`model`, `lr`, `clipnorm`, `jit`).
        loss: Keras loss.
        metrics: Keras metrics. Defaults to `()`.

    Returns:
        `model`, compiled.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(args.lr, clipnorm=args.clipnorm),
        loss=loss,
        metrics=list(metrics),
        jit_compile=jit_compile(args.model, args.jit),
    )
    return model


def run_experiment(args, task, callbacks=(), restart_flags=()):
    """Trains and evaluates `args.model` on `task`; writes everything to `--out`.

    Writes `run_config.json` (the flags), `log.csv` (one row per epoch,
    appended across restarts), the `BackupAndRestore` state under `backup/`
    (kept after the run, so a finished run can be extended with a larger
    `--epochs`; a committed run, whose `backup/` is not committed, gets it
    back from its `model.keras`), `model.keras`, `learning_curves.png`, for models with
    attention `attention.png` and its read statistics `reads.png`
    (`keras_sab.read_statistics`), and `metrics.json`: task, model, flags,
    `T`, sequence length, the model's parameter count (`parameters`, also
    printed before training), how the train step ran (`train_step`: `"xla"`
    or `"graph"`), final train and test metrics, epochs done,
    wall time of this invocation (`wall_time_s`) and of all the invocations
    that finished in `--out` (`total_wall_time_s`), and device.

    Args:
        args: parsed flags (`parse_args`).
        task: a `Task`.
        callbacks: extra Keras callbacks for `fit`. Defaults to `()`.
        restart_flags: destinations of the script's flags that do not affect
            training and so may change on a restart (besides `--epochs` and
            `--jit`). Defaults to `()`.

    Returns:
        A tuple `(model, metrics)`: the trained `keras.Model` and the dict
        written to `metrics.json`.

    Raises:
        ValueError: `--out` holds a run with other settings (only `--epochs`
            and `--jit` may change on a restart), or a run whose `backup/`
            is missing and whose `model.keras` is not the model after its
            last logged epoch, which cannot be continued.

    Example:

    >>> import tempfile
    >>> from keras_sab.tasks import adding_dataset
    >>> task = Task("adding", adding_dataset(6, 2, num_batches=1),
    ...             adding_dataset(6, 2, num_batches=1, seed=1), input_shape=(6, 2),
    ...             T=6, head=keras.layers.Dense(1), loss="mse")
    >>> out = tempfile.mkdtemp()
    >>> args = parse_args(["--units", "4", "--k-top", "1", "--k-att", "2", "--epochs",
    ...                    "1", "--steps", "1", "--jit", "graph", "--out", out], "adding", "")
    >>> model, metrics = run_experiment(args, task)
    adding_sab: ... parameters
    1/1 - ... - loss: ... - val_loss: ...
    >>> sorted(metrics["test"]), metrics["epochs_done"]
    (['loss'], 1)
    >>> sorted(os.listdir(out))
    ['attention.png', 'backup', 'learning_curves.png', 'log.csv', 'metrics.json',
     'model.keras', 'reads.png', 'run_config.json']
    """
    start = time.time()
    previous_wall_time = _finished_wall_time(args.out)
    endless = task.train.cardinality() == tf.data.INFINITE_CARDINALITY
    if endless and args.steps_per_epoch is None:
        raise ValueError(
            f"The {task.name} training set is endless: `--steps-per-epoch` must "
            "be given. Received: --steps-per-epoch=None"
        )
    os.makedirs(args.out, exist_ok=True)
    _check_run_config(args, restart_flags)
    steps = args.steps_per_epoch or int(task.train.cardinality())
    resumed_epochs = _resumed_epochs(args.out, steps if steps > 0 else None)
    keras.utils.set_random_seed(args.seed)
    model = compile_model(build_model(args, task), args, task.loss, task.metrics)
    print(f"{model.name}: {model.count_params():,} parameters")
    train = task.train.repeat() if args.steps_per_epoch else task.train
    if args.steps_per_epoch:
        # A resumed run continues where the backup's epochs stopped reading.
        train = train.skip(resumed_epochs * args.steps_per_epoch)
    log_path = os.path.join(args.out, LOG)
    model.fit(
        train,
        validation_data=task.test if task.validation is None else task.validation,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        shuffle=False,  # The tasks' datasets shuffle themselves.
        callbacks=[
            keras.callbacks.BackupAndRestore(
                os.path.join(args.out, BACKUP), delete_checkpoint=False
            ),
            keras.callbacks.CSVLogger(log_path, append=True),
            *callbacks,
        ],
        verbose=2,
    )
    log = plots.read_log(log_path)
    metrics = _metrics(args, task, model, log)
    model.save(os.path.join(args.out, MODEL))
    _plot(args, task, model, log)
    metrics["wall_time_s"] = time.time() - start
    metrics["total_wall_time_s"] = previous_wall_time + metrics["wall_time_s"]
    with open(os.path.join(args.out, METRICS), "w") as stream:
        json.dump(metrics, stream, indent=2)
    return model, metrics


def device_description():
    """The accelerator TensorFlow trains on, in words.

    Returns:
        A string such as `"GPU: NVIDIA H200"` or `"CPU: x86_64, 2 cores"`.

    Example:

    >>> device_description().split(":")[0] in ("CPU", "GPU")
    True
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [
            tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            for gpu in gpus
        ]
        return "GPU: " + ", ".join(names)
    return f"CPU: {platform.machine()}, {os.cpu_count()} cores"


def _metrics(args, task, model, log):
    """The content of `metrics.json`, less the wall time."""
    test = model.evaluate(task.test, return_dict=True, verbose=0)
    return {
        "task": task.name,
        "model": args.model,
        "T": task.T,
        "sequence_length": task.test.element_spec[0].shape[1],
        "hyperparameters": vars(args),
        "layer": _layer_settings(model),
        "parameters": model.count_params(),
        "train_step": "xla" if model.jit_compile else "graph",
        "epochs_done": len(log["epoch"]),
        "train": {
            name: float(values[-1])
            for name, values in log.items()
            if name != "epoch" and not name.startswith("val_")
        },
        "test": {name: float(value) for name, value in test.items()},
        "device": device_description(),
    }


def _backed_up_epochs(out):
    """Epochs finished by the `BackupAndRestore` state in `out`, or 0."""
    path = os.path.join(out, BACKUP, BACKUP_METADATA)
    if not os.path.exists(path):
        return 0
    with open(path) as stream:
        return json.load(stream)["epoch"]


def _resumed_epochs(out, steps_per_epoch):
    """Epochs a (re)started run in `out` resumes after: its backup's.

    A finished run whose `backup/` is missing (a clone of the committed
    results) gets it back from its `model.keras`, which holds the weights and
    the optimizer's state after the last logged epoch
    (`_restore_backup_from_model`).

    Raises `ValueError` when `log.csv` holds more epochs than `backup/` and
    `model.keras` cannot stand in for it: training would start again at
    epoch 0 and append a second run to `log.csv` and `total_wall_time_s`.
    """
    backed_up = _backed_up_epochs(out)
    path = os.path.join(out, LOG)
    if not os.path.exists(path):
        return backed_up
    with open(path, newline="") as stream:
        logged = sum(1 for _ in csv.DictReader(stream))
    if logged > backed_up and not _restore_backup_from_model(
        out, logged, steps_per_epoch
    ):
        raise ValueError(
            f"`--out` {out} holds a run of {logged} logged epochs, but its "
            f"{BACKUP}/ state holds {backed_up} and its {MODEL} is not the "
            f"model after epoch {logged}, so the run cannot be continued. "
            f"Choose another --out, or delete {out} to train the run again "
            "from the start."
        )
    return max(logged, backed_up)


def _restore_backup_from_model(out, epochs, steps_per_epoch):
    """Writes `backup/` from `out`'s `model.keras` if it was saved after `epochs`.

    The model's optimizer counts its updates: the model is the one after
    `epochs` when that count is `epochs * steps_per_epoch`.

    Returns:
        Whether `backup/` was written.
    """
    path = os.path.join(out, MODEL)
    if steps_per_epoch is None or not os.path.exists(path):
        return False
    model = keras.saving.load_model(path)
    if model.optimizer is None:
        return False
    if int(model.optimizer.iterations.numpy()) != epochs * steps_per_epoch:
        return False
    os.makedirs(os.path.join(out, BACKUP), exist_ok=True)
    model.save_weights(os.path.join(out, BACKUP, BACKUP_WEIGHTS))
    with open(os.path.join(out, BACKUP, BACKUP_METADATA), "w") as stream:
        json.dump({"epoch": epochs, "batch": 0}, stream)
    return True


def _finished_wall_time(out):
    """Wall time of the invocations that finished in `out`, from its `metrics.json`."""
    path = os.path.join(out, METRICS)
    if not os.path.exists(path):
        return 0.0
    with open(path) as stream:
        metrics = json.load(stream)
    return metrics.get("total_wall_time_s", metrics["wall_time_s"])


def _plot(args, task, model, log):
    """Writes the learning curves and, for a model with attention, the heatmap
    of one test sequence and the read statistics of a test batch."""
    label = f"{task.name}, {model_label(args)}"
    plots.plot_learning_curves(log, os.path.join(args.out, LEARNING_CURVES), label)
    sab = plots.find_sab_layer(model)
    if sab is not None and sab.k_top > 0:
        states, attention = plots.sab_reads(model, next(iter(task.test))[0])
        plots.plot_attention(
            attention[0],
            os.path.join(args.out, ATTENTION),
            title=f"{label}: attention of test sequence 0",
            k_att=sab.k_att,
        )
        plots.plot_read_statistics(
            read_statistics(attention, states),
            os.path.join(args.out, READS),
            title=f"{label}: reads over a test batch of {len(states)}",
        )


def _add_shared_arguments(parser, task, models, quick):
    """Adds the flags every example shares."""
    add = parser.add_argument
    add("--model", choices=models, default="sab", help=_MODEL_HELP)
    add(
        "--units",
        type=int,
        default=128,
        help="LSTM state width; transformer: features per step.",
    )
    add("--k-top", type=int, default=layer_defaults.K_TOP, help="SAB: memories attended per step.")
    add("--k-att", type=int, default=layer_defaults.K_ATT, help="SAB: steps between memory writes.")
    add(
        "--k-trunc",
        type=int_or_none,
        default=layer_defaults.K_TRUNC,
        help="sab, tbptt: truncation length (`none`: full BPTT).",
    )
    add(
        "--attention",
        choices=ATTENTION_MODES,
        default=layer_defaults.ATTENTION,
        help="sab: how the memories are weighted (sparse_softmax: the top k, "
        "softmax weights; sparse: the same top k, the paper's piecewise-linear "
        "weights; dense: softmax over all).",
    )
    add(
        "--temperature",
        type=float,
        default=layer_defaults.TEMPERATURE,
        help="sab, self_attention: softmax temperature (1.0 with --attention sparse).",
    )
    add(
        "--attention-units",
        type=int,
        default=layer_defaults.ATTENTION_UNITS,
        help="Attention scorer width.",
    )
    add(
        "--scorer",
        choices=SCORERS,
        default=layer_defaults.SCORER,
        help="sab: how a memory is scored (mlp: the paper's additive scorer; "
        "dot: scaled dot product of query and key, cheaper).",
    )
    add("--heads", type=int, default=4, help="transformer: attention heads.")
    add(
        "--transformer-layers", type=int, default=2, help="transformer: blocks."
    )
    add("--batch-size", type=int, default=64)
    add("--epochs", type=int, default=10)
    add(
        "--steps-per-epoch",
        "--steps",
        type=int,
        default=None,
        help="Batches per epoch (None: one pass over the training data).",
    )
    add("--lr", type=float, default=1e-3, help="Adam learning rate.")
    add("--clipnorm", type=float, default=1.0, help="Gradient-norm clipping.")
    add("--seed", type=int, default=0, help="Seed of weights and data.")
    add(
        "--out",
        default=os.path.join("runs", task),
        help="Output directory; restarting with the same one resumes the run.",
    )
    add(
        "--jit",
        choices=JIT_MODES,
        default="auto",
        help="How to compile the train step: auto (each model in its faster "
        "mode on this device: XLA for SAB, graph mode for the LSTM, the "
        "Transformer under XLA on a GPU only), xla, or graph.",
    )
    add(
        "--no-jit",
        dest="jit",
        action="store_const",
        const="graph",
        help="The same as --jit graph (the flag of the runs recorded before --jit).",
    )
    setting = " ".join(f"{_flag(name)} {value}" for name, value in quick.items())
    add(
        "--quick",
        action="store_true",
        help=f"Small CPU setting ({setting or 'the defaults'}); explicit flags win.",
    )


def _flag(name):
    return "--" + name.replace("_", "-")


def _check_positive(args, name):
    value = getattr(args, name)
    if not value > 0:
        raise ValueError(
            f"`{_flag(name)}` must be a positive number. "
            f"Received: {_flag(name)}={value!r}"
        )


def _check_temperature(args):
    """Checks `--temperature` against the mode it applies to, before anything
    is written to `--out`."""
    attention = "dense" if args.model == "self_attention" else args.attention
    validation.check_temperature(args.temperature, attention, "--temperature")


def _check_heads(args):
    """Checks that the Transformer's width splits into `--heads` heads."""
    if args.model == "transformer" and args.units % args.heads:
        raise ValueError(
            "`--units` must be a multiple of `--heads` for the transformer. "
            f"Received: --units={args.units}, --heads={args.heads}"
        )


def _check_run_config(args, restart_flags):
    """Records the flags in `--out`, or checks them against a recorded run."""
    path = os.path.join(args.out, RUN_CONFIG)
    free = set(_RESUMABLE_FLAGS) | set(restart_flags)
    settings = {k: v for k, v in vars(args).items() if k not in free}
    if os.path.exists(path):
        with open(path) as stream:
            recorded = {**_ADDED_FLAGS, **json.load(stream)}
        changed = sorted(
            f"{_flag(name)} {settings.get(name)!r} (was {recorded.get(name)!r})"
            for name in settings.keys() | recorded.keys()
            if settings.get(name) != recorded.get(name)
        )
        if changed:
            raise ValueError(
                f"`--out` {args.out} holds a run with other settings; restart it "
                "with the same flags (only --epochs and --jit may change) or "
                f"choose another --out. Changed: {', '.join(changed)}"
            )
    else:
        with open(path, "w") as stream:
            json.dump(settings, stream, indent=2)


def _layer_settings(model):
    """The attention settings the model's SAB layer really uses, if any."""
    sab = plots.find_sab_layer(model)
    if sab is None:
        return None
    names = ("units", "k_top", "k_att", "k_trunc")
    names += ("attention", "temperature", "attention_units", "scorer")
    return {name: getattr(sab, name) for name in names}
