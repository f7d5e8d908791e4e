"""Plots of a training run: learning curves and SAB's attention (ALGORITHM.md §8).

Figures are drawn with matplotlib's object API on the Agg canvas (no
`pyplot`, no display, no global backend change) at a fixed size, so a PNG of
`figsize=(w, h)` inches is `(h * DPI, w * DPI)` pixels.
"""

import csv

import keras
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from keras_sab.sab_layer import SAB
from keras_sab.write_schedule import call_memory_ids

DPI = 100
CURVES_SIZE = (10, 4)
ATTENTION_SIZE = (8, 6)


def read_log(path):
    """Reads a `keras.callbacks.CSVLogger` file.

    Args:
        path: path of the CSV file.

    Returns:
        A dict from column name (`"epoch"`, `"loss"`, `"val_loss"`, ...) to a
        float numpy array with one value per row.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> with open(path, "w", newline="") as stream:
    ...     csv.writer(stream).writerows([["epoch", "loss"], [0, 0.5], [1, 0.25]])
    >>> log = read_log(path)
    >>> log["epoch"], log["loss"]
    (array([0., 1.]), array([0.5 , 0.25]))
    """
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        raise ValueError(f"The training log {path} has no rows.")
    return {name: np.array([float(row[name]) for row in rows]) for name in rows[0]}


def plot_learning_curves(log, path, title=""):
    """Saves one panel per quantity (loss, each metric), train and validation.

    Args:
        log: dict of columns, as returned by `read_log`.
        path: where to write the PNG.
        title: figure title. Defaults to `""`.

    Returns:
        `path`.

    Example:

    >>> import os, tempfile
    >>> from matplotlib.image import imread
    >>> log = {"epoch": np.array([0.0, 1.0]), "loss": np.array([0.5, 0.25]),
    ...        "val_loss": np.array([0.6, 0.5])}
    >>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
    >>> plot_learning_curves(log, path, "copy") == path
    True
    >>> imread(path).shape[:2]  # CURVES_SIZE (10, 4) inches at DPI 100.
    (400, 1000)
    """
    names = [name for name in log if name != "epoch" and not name.startswith("val_")]
    figure = Figure(figsize=CURVES_SIZE, dpi=DPI, layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        ax.plot(log["epoch"], log[name], "o-", label="train")
        if "val_" + name in log:
            ax.plot(log["epoch"], log["val_" + name], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    figure.savefig(path, dpi=DPI)
    return path


def seed_band(logs, column):
    """The mean and range over seeds of one logged column, epoch by epoch.

    Runs of the same model that differ only in their seed are drawn as one
    line (the mean) in a band (the lowest and highest seed), over the epochs
    every seed logged.

    Args:
        logs: list of logs, as returned by `read_log`, one per seed.
        column: the column to summarise.

    Returns:
        A tuple `(epochs, mean, low, high)` of numpy arrays.

    Example:

    >>> logs = [{"epoch": np.array([0.0, 1.0]), "acc": np.array([0.2, 0.6])},
    ...         {"epoch": np.array([0.0, 1.0, 2.0]), "acc": np.array([0.4, 0.8, 0.9])}]
    >>> seed_band(logs, "acc")
    (array([0., 1.]), array([0.3, 0.7]), array([0.2, 0.6]), array([0.4, 0.8]))
    """
    epochs = min(len(log[column]) for log in logs)
    values = np.stack([log[column][:epochs] for log in logs])
    return logs[0]["epoch"][:epochs], values.mean(0), values.min(0), values.max(0)


def plot_run_comparison(logs, metric, path, steps_per_epoch=None, title=""):
    """Saves one metric of several runs against training length, on one axis.

    The way to compare models trained with the same budget: the validation
    curve of each run (`val_<metric>`), x in updates when `steps_per_epoch`
    is given, else in epochs. A run given as several seeds is drawn as their
    mean in a band from the lowest to the highest seed (`seed_band`).

    Args:
        logs: dict from run name to its log, as returned by `read_log`, or
            to a list of logs, one per seed.
        metric: the metric's name in the logs, without `val_`.
        path: where to write the PNG.
        steps_per_epoch: updates per epoch, shared by the runs, or `None`.
            Defaults to `None`.
        title: figure title. Defaults to `""`.

    Returns:
        `path`.

    Raises:
        ValueError: a log has no `val_<metric>` column.

    Example:

    >>> import os, tempfile
    >>> from matplotlib.image import imread
    >>> logs = {
    ...     "sab": {"epoch": np.array([0.0, 1.0]), "val_acc": np.array([0.2, 0.9])},
    ...     "lstm": [{"epoch": np.array([0.0, 1.0]), "val_acc": np.array([0.2, 0.4])},
    ...              {"epoch": np.array([0.0, 1.0]), "val_acc": np.array([0.3, 0.5])}],
    ... }
    >>> path = os.path.join(tempfile.mkdtemp(), "comparison.png")
    >>> plot_run_comparison(logs, "acc", path, steps_per_epoch=100) == path
    True
    >>> imread(path).shape[:2]  # CURVES_SIZE (10, 4) inches at DPI 100.
    (400, 1000)
    """
    column = "val_" + metric
    seeds = {name: log if isinstance(log, list) else [log] for name, log in logs.items()}
    missing = sorted(
        name for name, runs in seeds.items() if any(column not in log for log in runs)
    )
    if missing:
        raise ValueError(
            f"`logs` of {missing} have no `{column}` column. Pass `metric` as "
            "a metric every run logged with validation data."
        )
    figure = Figure(figsize=CURVES_SIZE, dpi=DPI, layout="constrained")
    ax = figure.subplots()
    scale = steps_per_epoch or 1
    for name, runs in seeds.items():
        epochs, mean, low, high = seed_band(runs, column)
        updates = (epochs + 1) * scale
        if len(runs) == 1:
            ax.plot(updates, mean, label=name)
            continue
        (line,) = ax.plot(updates, mean, label=f"{name}, mean of {len(runs)} seeds")
        ax.fill_between(updates, low, high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("updates" if steps_per_epoch else "epochs")
    ax.set_ylabel(f"{metric} (validation)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    figure.savefig(path, dpi=DPI)
    return path


def find_sab_layer(model):
    """The first `keras_sab.SAB` layer of a model, or `None`.

    Args:
        model: a `keras.Model`.

    Returns:
        The layer, or `None` if the model has none.
    """
    return next((layer for layer in model.layers if isinstance(layer, SAB)), None)


def sab_reads(model, inputs):
    """The states and attention weights of a model's SAB layer on some inputs.

    Builds a second functional model that shares every layer up to the SAB
    layer and replaces that layer by a copy (same config, same weights) with
    `return_sequences=True` and `return_attention=True`.

    Args:
        model: a functional `keras.Model` holding a `keras_sab.SAB` layer
            (the first one is used).
        inputs: a batch of the model's inputs.

    Returns:
        `(states, attention)`: float numpy arrays `(batch, timesteps,
        units)`, the layer's `h_t`, and `(batch, timesteps, slots)`, the
        weights each step gives each memory slot.

    Raises:
        ValueError: the model has no SAB layer.
    """
    probe, _ = _reads_probe(model)
    states, attention = probe(inputs, training=False)
    return keras.ops.convert_to_numpy(states), keras.ops.convert_to_numpy(attention)


def _reads_probe(model):
    """`(probe, twin)`: a model from `model`'s inputs to the states and
    attention of a copy `twin` of its first SAB layer (same config and
    weights, `return_sequences=True`, `return_attention=True`)."""
    layer = find_sab_layer(model)
    if layer is None:
        raise ValueError(f"`model` {model.name!r} has no keras_sab.SAB layer.")
    twin = SAB.from_config(
        {
            **layer.get_config(),
            "name": layer.name + "_reads",
            "return_sequences": True,
            "return_attention": True,
            "return_state": False,
        }
    )
    outputs = twin(layer.input)
    twin.set_weights(layer.get_weights())
    return keras.Model(model.input, outputs), twin


def stream_reads(model, segments):
    """The states and attention of a stateful SAB over a stream fed in calls.

    Feeds `segments` in order, from an empty stream, to a copy of the
    model's SAB layer (as `sab_reads`; the model's own carried state is left
    as it is), and lays each call's weights out by the memory they read: a
    carried memory by its stream id, a call's own by the count written
    before it.

    Args:
        model: a functional `keras.Model` whose first `keras_sab.SAB` layer
            is stateful.
        segments: consecutive batches of the model's inputs, `(batch, steps,
            features)` each, the stream's rows in the same order.

    Returns:
        `(states, attention)`: float numpy arrays `(batch, total steps,
        units)`, the layer's `h_t` over the whole stream, and `(batch, total
        steps, memories)`: column `j` is the weight each step gives the
        stream's `j`-th memory written (zero once it is no longer kept).

    Raises:
        ValueError: the model has no SAB layer, or its SAB is not stateful.

    Example:

    >>> inputs = keras.Input((None, 3), batch_size=2)
    >>> sab = keras_sab.SAB(4, k_top=1, k_att=2, stateful=True, max_memories=2)
    >>> model = keras.Model(inputs, sab(inputs))
    >>> states, attention = stream_reads(model, [np.ones((2, 4, 3))] * 3)
    >>> states.shape, attention.shape  # 12 steps, a memory every 2 of them
    ((2, 12, 4), (2, 12, 6))
    >>> bool(attention[:, 8:, :2].any())  # memories 0 and 1 are dropped by then
    False
    """
    probe, twin = _reads_probe(model)
    if not twin.stateful:
        raise ValueError(
            f"`model` {model.name!r}: `stream_reads` reads a stateful SAB layer; "
            "use `sab_reads` for one call."
        )
    twin.reset_state()
    calls = []
    for segment in segments:
        carried_ids = keras.ops.convert_to_numpy(twin.stream.memory_ids)
        before = keras.ops.convert_to_numpy(twin.stream.next_memory_id)
        states, attention = (
            keras.ops.convert_to_numpy(x) for x in probe(segment, training=False)
        )
        written = keras.ops.convert_to_numpy(twin.stream.next_memory_id) - before
        # Column i: the i-th carried memory (oldest first), then the call's own.
        positions = attention.shape[-1]
        carried = (carried_ids >= 0).sum(axis=1).astype(np.int32)
        new, new_ids = call_memory_ids(carried, written, before, positions)
        carried_ids = np.pad(
            carried_ids, [(0, 0), (0, positions - carried_ids.shape[1])], constant_values=-1
        )
        calls.append((states, attention, np.where(new, new_ids, carried_ids)))
    memories = int(keras.ops.convert_to_numpy(twin.stream.next_memory_id).max())
    batch, steps = calls[0][0].shape[0], sum(call[1].shape[1] for call in calls)
    laid_out = np.zeros((batch, steps, memories), np.float32)
    start = 0
    for _, attention, columns in calls:
        length = attention.shape[1]
        for row in range(batch):
            read = columns[row] >= 0
            laid_out[row, start : start + length][:, columns[row][read]] = attention[row][:, read]
        start += length
    return np.concatenate([states for states, _, _ in calls], axis=1), laid_out


def attention_weights(model, inputs):
    """Attention weights of a trained model's SAB layer on some inputs (see
    `sab_reads`).

    Args:
        model: a functional `keras.Model` holding a `keras_sab.SAB` layer
            (the first one is used).
        inputs: a batch of the model's inputs.

    Returns:
        float numpy array `(batch, timesteps, timesteps // k_att)`: row `t`
        holds the weights step `t` gives to each memory slot.

    Raises:
        ValueError: the model has no SAB layer.

    Example:

    >>> inputs = keras.Input((6, 3))
    >>> model = keras.Model(inputs, keras_sab.SAB(4, k_top=1, k_att=2)(inputs))
    >>> attention_weights(model, np.zeros((1, 6, 3))).shape  # 6 // 2 slots.
    (1, 6, 3)
    """
    return sab_reads(model, inputs)[1]


def plot_read_statistics(statistics, path, title=""):
    """Saves the per-step read statistics of `read_statistics.read_statistics`:
    the read mass, the share of rows reading the most-read memory, and `|h|`.

    An attention sink shows as a read mass of 1 with a share near 1 on one
    early slot from the first steps on.

    Args:
        statistics: a `read_statistics.ReadStatistics`.
        path: where to write the PNG.
        title: figure title. Defaults to `""`.

    Returns:
        `path`.

    Example:

    >>> import os, tempfile
    >>> from keras_sab.read_statistics import read_statistics
    >>> stats = read_statistics(np.full((2, 5, 2), 0.5), np.ones((2, 5, 3)))
    >>> path = os.path.join(tempfile.mkdtemp(), "reads.png")
    >>> plot_read_statistics(stats, path) == path
    True
    """
    figure = Figure(figsize=CURVES_SIZE, dpi=DPI, layout="constrained")
    mass_ax, norm_ax = figure.subplots(1, 2)
    steps = np.arange(1, len(statistics.read_mass) + 1)
    mass_ax.plot(steps, statistics.read_mass, label="read mass (sum of weights)")
    mass_ax.plot(
        steps,
        statistics.sink_share,
        label=f"share of rows reading slot {statistics.sink_slot} most",
    )
    mass_ax.set_ylim(-0.05, 1.05)
    mass_ax.set_xlabel("step t")
    mass_ax.legend(loc="lower right")
    mass_ax.grid(alpha=0.3)
    norm_ax.plot(steps, statistics.state_norm, color="tab:green")
    norm_ax.set_xlabel("step t")
    norm_ax.set_ylabel("mean |h_t|")
    norm_ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.savefig(path, dpi=DPI)
    return path


def plot_attention(attention, path, title="", k_att=None, ylabel="step t"):
    """Saves a heatmap of attention weights: rows x memory slots.

    Args:
        attention: array `(rows, slots)`: one sequence's steps (one row of
            `attention_weights`), or one step of many sequences.
        path: where to write the PNG.
        title: figure title. Defaults to `""`.
        k_att: if given, the x axis is labelled with the step at which each
            slot was written (`(i + 1) * k_att`). Defaults to `None`.
        ylabel: what a row is. Defaults to `"step t"`.

    Returns:
        `path`.

    Example:

    >>> import os, tempfile
    >>> from matplotlib.image import imread
    >>> path = os.path.join(tempfile.mkdtemp(), "attention.png")
    >>> plot_attention(np.full((6, 3), 1 / 3), path, k_att=2) == path
    True
    >>> imread(path).shape[:2]  # ATTENTION_SIZE (8, 6) inches at DPI 100.
    (600, 800)
    """
    attention = np.asarray(attention)
    if attention.ndim != 2 or 0 in attention.shape:
        raise ValueError(
            "`attention` must be 2D, (timesteps, slots), with at least one "
            "step and one slot. "
            f"Received: attention.shape={attention.shape}"
        )
    figure = Figure(figsize=ATTENTION_SIZE, dpi=DPI, layout="constrained")
    ax = figure.subplots()
    slots = attention.shape[1]
    image = ax.imshow(
        attention,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0.0,
        vmax=max(float(attention.max()), 1e-6),
        extent=(-0.5, slots - 0.5, attention.shape[0] + 0.5, 0.5),
    )
    figure.colorbar(image, ax=ax, label="attention weight")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if k_att is None:
        ax.set_xlabel("memory slot")
    else:
        ax.set_xlabel(f"memory slot (slot i written at step (i + 1) * {k_att})")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    figure.savefig(path, dpi=DPI)
    return path
