"""What a finished run reports: the content of `metrics.json` and the plots.

`run_metrics` (the model, its size, how its train step ran, its final
metrics and the device), `device_description` and `plot_run` (the learning
curves and, for a model with attention, where it read).
"""

import os
import platform

import tensorflow as tf

from keras_sab import plots
from keras_sab.read_statistics import read_statistics

from flags import model_label
from model_zoo import sab_parameters
from model_zoo import sequence_steps
from peer_models import PEERS
from peer_models import peer_configuration
from run_directory import ATTENTION
from run_directory import LEARNING_CURVES
from run_directory import READS


def run_metrics(args, task, model, log):
    """The content of `metrics.json`, less the wall times.

    Args:
        args: parsed flags (`flags.parse_args`).
        task: the `experiment.Task` trained on.
        model: the trained, compiled `keras.Model`.
        log: the run's `log.csv` as `keras_sab.plots.read_log` reads it.

    Returns:
        A dict: task, model, flags (`hyperparameters`), `T`, sequence
        length, SAB's layer settings (`layer`, `None` for other models), a
        peer's configuration (`peer`: `peer_models.peer_configuration` and
        SAB's parameter count at `--units`, `sab_parameters`; `None` for
        other models), the model's parameter count (`parameters`), how the
        train step ran (`train_step`: `"xla"` or `"graph"`), epochs done,
        final train and test metrics, and device.

    Example:

    >>> from experiment import Task
    >>> from flags import parse_args
    >>> from model_zoo import build_model
    >>> from train_step import compile_model
    >>> data = tf.data.Dataset.from_tensors((np.ones((2, 5, 3)), np.ones((2, 1))))
    >>> task = Task("x", data, data, (5, 3), 5, keras.layers.Dense(1), "mse")
    >>> args = parse_args(["--model", "gru", "--units", "16", "--jit", "graph"], "x", "")
    >>> model = compile_model(build_model(args, task), args, "mse")
    gru width 26: 2,445 parameters; SAB at --units 16: 2,385
    >>> metrics = run_metrics(args, task, model, {"epoch": [0], "loss": [1.0]})
    >>> metrics["peer"]["width"], metrics["train_step"], metrics["train"]
    (26, 'graph', {'loss': 1.0})
    """
    test = model.evaluate(task.test, return_dict=True, verbose=0)
    return {
        "task": task.name,
        "model": args.model,
        "T": task.T,
        "sequence_length": task.test.element_spec[0].shape[1],
        "hyperparameters": vars(args),
        "layer": _layer_settings(model),
        "peer": _peer_settings(args, task, model),
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


def plot_run(args, task, model, log):
    """Writes the learning curves and, for a model with attention, the heatmap
    of one test sequence and the read statistics of a test batch.

    Args:
        args: parsed flags (`out`, and those `flags.model_label` reads).
        task: the `experiment.Task` trained on.
        model: the trained `keras.Model`.
        log: the run's `log.csv` as `keras_sab.plots.read_log` reads it.

    Example:

    >>> import tempfile
    >>> from experiment import Task
    >>> from flags import parse_args
    >>> args = parse_args(["--model", "lstm", "--out", tempfile.mkdtemp()], "x", "")
    >>> inputs = keras.Input((5, 3))
    >>> model = keras.Model(inputs, keras.layers.LSTM(2)(inputs))
    >>> plot_run(args, Task("x", None, None, (5, 3), 5, None, "mse"), model,
    ...          {"epoch": [0, 1], "loss": [2.0, 1.0]})
    >>> sorted(os.listdir(args.out))
    ['learning_curves.png']
    """
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


def _layer_settings(model):
    """The attention settings the model's SAB layer really uses, if any."""
    sab = plots.find_sab_layer(model)
    if sab is None:
        return None
    names = ("units", "k_top", "k_att", "k_trunc")
    names += ("attention", "temperature", "attention_units", "scorer")
    return {name: getattr(sab, name) for name in names}


def _peer_settings(args, task, model):
    """A peer's configuration and SAB's parameter count, or `None`."""
    if args.model not in PEERS:
        return None
    return {
        **peer_configuration(args.model, model.get_layer("rnn")),
        "sequence_steps": sequence_steps(task),
        "sab_parameters": sab_parameters(args, task),
    }
