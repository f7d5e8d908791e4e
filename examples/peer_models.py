"""The layers a Keras user would pick instead of SAB for long memory: the peers.

`--model gru | tcn | lmu | cfc` of the examples' harness, each a layer of
Keras or of its own package, configured with that package's recipe where it
has one:

- `gru`: `keras.layers.GRU`.
- `tcn`: `tcn.TCN` (keras-tcn 3.5.7) with keras-tcn's kernel width for the
  copy and adding tasks (8) and the fewest dilations `1, 2, 4, ...` whose
  receptive field covers the task's sequences (`tcn_dilations`).
- `lmu`: `keras_lmu.LMU` (keras-lmu 0.9.0) configured as keras-lmu's psMNIST
  example (one memory dimension, order 256, a `SimpleRNNCell` hidden cell
  reading the memory and the input), with `theta` the length of the task's
  sequences.
- `cfc`: `ncps.keras.CfC` (ncps 1.0.1) with its defaults.

The LMU layer refuses `stateful=True`; `lmu_cell`, the same LMU as
`keras.layers.RNN(keras_lmu.LMUCell(...))`, is the form keras-lmu streams
with (`examples/stateful_stream.py --models lmu_cell`).

Their packages are the examples' optional extra `peers`
(`pip install -e ".[peers]"`); each is imported only when its model is built
(`import_peer`), and `keras_sab` never imports them. `model_zoo` chooses each
peer's width so that its parameter count is within `PARAMETER_TOLERANCE` of
SAB's on the task.
"""

import importlib

import keras

PEERS = ("gru", "tcn", "lmu", "cfc")
# The peers' layers: `PEERS`, and the LMU as a Keras RNN of its cell.
LAYERS = PEERS + ("lmu_cell",)
# A peer's parameter count may differ from SAB's by at most this fraction.
PARAMETER_TOLERANCE = 0.1
# keras-tcn's recipes for the copy and adding tasks (`tasks/` of its repository).
TCN_KERNEL_SIZE = 8
# keras-lmu's psMNIST example.
LMU_ORDER = 256
# The module a model needs, and the package that ships it.
_PACKAGES = {
    "tcn": ("tcn", "keras-tcn"),
    "lmu": ("keras_lmu", "keras-lmu"),
    "lmu_cell": ("keras_lmu", "keras-lmu"),
    "cfc": ("ncps.keras", "ncps"),
    "transformer": ("keras_hub", "keras-hub"),
}
# The settings of each peer's layer that `peer_configuration` records.
_RECORDED = {
    "gru": ("units",),
    "tcn": ("nb_filters", "kernel_size", "nb_stacks", "dilations", "padding"),
    "lmu": (
        "memory_d", "order", "theta", "input_to_hidden", "hidden_to_memory",
        "memory_to_memory",
    ),
    "cfc": ("units", "mode", "backbone_units", "backbone_layers"),
}


def import_peer(model):
    """Imports the package that `--model model` needs.

    Args:
        model: `"tcn"`, `"lmu"`, `"lmu_cell"`, `"cfc"` or `"transformer"`.

    Returns:
        The module (`tcn`, `keras_lmu`, `ncps.keras` or `keras_hub`).

    Raises:
        ImportError: the package is not installed; the message names it and
            the extra that installs it.

    Example:

    >>> import_peer("tcn").TCN.__name__
    'TCN'
    """
    module, package = _PACKAGES[model]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"`--model {model}` needs the package {package}, which is not "
            'installed: install the examples\' peers with `pip install -e ".[peers]"`.'
        ) from error


def tcn_dilations(steps, kernel_size=TCN_KERNEL_SIZE):
    """The fewest dilations `1, 2, 4, ...` whose TCN sees `steps` steps.

    A one-stack `tcn.TCN` sees `1 + 2 * (kernel_size - 1) * sum(dilations)`
    steps (its `receptive_field`): an output depends on no input further back.

    Args:
        steps: the steps the receptive field must cover (the task's sequence
            length).
        kernel_size: the convolutions' width. Defaults to `8`.

    Returns:
        A list of powers of two, starting at 1.

    Example:

    >>> tcn_dilations(220), tcn_dilations(784), tcn_dilations(784, kernel_size=2)
    ([1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 32], [1, 2, 4, 8, 16, 32, 64, 128, 256])
    """
    dilations = [1]
    while 1 + 2 * (kernel_size - 1) * sum(dilations) < steps:
        dilations.append(2 * dilations[-1])
    return dilations


def peer_layer(
    model,
    width,
    steps,
    order=LMU_ORDER,
    kernel_size=TCN_KERNEL_SIZE,
    return_sequences=False,
    name="rnn",
    **kwargs,
):
    """The layer of one peer `--model`, of a given width.

    Args:
        model: one of `LAYERS`.
        width: the GRU's or CfC's units, the TCN's filters, the LMU's hidden
            units.
        steps: the length of the task's sequences: the TCN's receptive field
            covers it (`tcn_dilations`) and it is the LMU's `theta`.
        order: the LMU's order. Defaults to `256`.
        kernel_size: the TCN's kernel width. Defaults to `8`.
        return_sequences: whether to return every step's output. Defaults to
            `False`.
        name: layer name. Defaults to `"rnn"`.
        **kwargs: further arguments of the peer's layer (e.g. `stateful`),
            which it may refuse.

    Returns:
        A Keras layer from `(batch, steps, features)` sequences to
        `(batch, width)` features (every step's with `return_sequences`).

    Raises:
        ValueError: for an unknown `model`.
        ImportError: the peer's package is not installed (`import_peer`).

    Example:

    >>> layer = peer_layer("gru", 8, 100, return_sequences=True)
    >>> type(layer).__name__, layer.units, layer.return_sequences
    ('GRU', 8, True)
    """
    if model == "gru":
        return keras.layers.GRU(
            width, return_sequences=return_sequences, name=name, **kwargs
        )
    if model == "tcn":
        return import_peer(model).TCN(
            width,
            kernel_size=kernel_size,
            dilations=tcn_dilations(steps, kernel_size),
            return_sequences=return_sequences,
            name=name,
            **kwargs,
        )
    if model == "lmu":
        return import_peer(model).LMU(
            **_lmu_settings(width, steps, order),
            return_sequences=return_sequences,
            name=name,
            **kwargs,
        )
    if model == "lmu_cell":
        cell = import_peer(model).LMUCell(**_lmu_settings(width, steps, order))
        return keras.layers.RNN(
            cell, return_sequences=return_sequences, name=name, **kwargs
        )
    if model == "cfc":
        return import_peer(model).CfC(
            width, return_sequences=return_sequences, name=name, **kwargs
        )
    raise ValueError(f"`model` must be one of {LAYERS}. Received: model={model!r}")


def _lmu_settings(width, steps, order):
    """The LMU's settings, shared by its layer and its cell: keras-lmu's
    psMNIST recipe with `theta` the task's length."""
    return dict(
        memory_d=1,
        order=order,
        theta=steps,
        hidden_cell=keras.layers.SimpleRNNCell(width),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
        kernel_initializer="ones",
    )


def matched_width(parameters, target):
    """The width whose parameter count is nearest `target`.

    Args:
        parameters: function from a width (an int `>= 1`) to a parameter
            count, increasing with the width.
        target: the parameter count to match.

    Returns:
        The width `w >= 1` that minimizes `abs(parameters(w) - target)` (the
        smaller on a tie).

    Example:

    >>> matched_width(lambda width: 3 * width * width, 1000)
    18
    """
    high = 1
    while parameters(high) < target:
        high *= 2
    low = high // 2  # parameters(low) < target <= parameters(high), or low == 0.
    while high - low > 1:
        middle = (low + high) // 2
        if parameters(middle) < target:
            low = middle
        else:
            high = middle
    if low >= 1 and target - parameters(low) <= parameters(high) - target:
        return low
    return high


def peer_configuration(model, layer):
    """The settings a peer's layer really uses, for `metrics.json`.

    Args:
        model: one of `PEERS`.
        layer: its layer, as `peer_layer` built it.

    Returns:
        A dict: the layer's class (`"layer"`), its width (`"width"`), and the
        settings that shape it: the TCN's filters, kernel size, stacks,
        dilations and `receptive_field`; the LMU's memory, order, `theta`
        and connections; the CfC's units, mode and backbone.

    Example:

    >>> peer_configuration("gru", peer_layer("gru", 8, 100))
    {'layer': 'keras.src.layers.rnn.gru.GRU', 'width': 8, 'units': 8}
    """
    config = layer.get_config()
    settings = {
        "layer": f"{type(layer).__module__}.{type(layer).__name__}",
        "width": _width(model, config),
    }
    settings.update({name: config[name] for name in _RECORDED[model]})
    if model == "tcn":
        settings["receptive_field"] = layer.receptive_field
    return settings


def _width(model, config):
    if model == "tcn":
        return config["nb_filters"]
    if model == "lmu":
        return config["hidden_cell"]["config"]["units"]
    return config["units"]
