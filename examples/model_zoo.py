"""Every `--model` of the examples' harness, built for a task.

- `recurrent_layer`: `keras.layers.LSTM` for `lstm`, settings of
  `keras_sab.SAB` (ALGORITHM.md §5) for `sab`, `tbptt` and `self_attention`.
- `transformer_baseline.transformer_encoder`: `transformer`, from keras-hub's
  layers.
- `peer_models.peer_layer`: the peers `gru`, `tcn`, `lmu` and `cfc`, each
  given the width whose parameter count is nearest SAB's on the task
  (`peer_width`).
- `build_model`: the functional model of `--model` for a `Task`.
"""

import keras

from keras_sab import defaults as layer_defaults
from keras_sab.sab_layer import SAB

from peer_models import PARAMETER_TOLERANCE
from peer_models import PEERS
from peer_models import matched_width
from peer_models import peer_layer
from transformer_baseline import transformer_encoder

MODELS = ("sab", "lstm", "tbptt", "self_attention", "transformer", *PEERS)
# Parameter counts do not depend on the sequence length: they are counted on
# sequences this long, which builds quickly (the LMU builds its impulse
# response over the whole sequence).
_COUNTING_STEPS = 2


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
    read=layer_defaults.READ,
    read_gain=layer_defaults.READ_GAIN,
    null_slot=layer_defaults.NULL_SLOT,
    return_sequences=False,
    name="rnn",
):
    """The recurrent layer of one `--model` choice built from `SAB` or the LSTM.

    `"lstm"` is `keras.layers.LSTM`: the same model as `SAB(k_top=0,
    k_trunc=None)` (ALGORITHM.md §5), in its faster form (Keras's own loop on
    a CPU, cuDNN on a GPU). The other baselines are settings of `SAB`:
    `"tbptt"` is `SAB(k_top=0, k_trunc=k_trunc)` and `"self_attention"`
    `SAB(attention="dense", k_att=1, k_trunc=None)`. Arguments a baseline
    does not use are ignored.

    Args:
        model: `"sab"`, `"lstm"`, `"tbptt"` or `"self_attention"`.
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
        read: how the read enters the state (`"sab"`), `"add"` or
            `"projected"`. Defaults to `"add"`.
        read_gain: where `"projected"`'s matrix starts, a multiple of the
            identity (`"sab"`). Defaults to `None` (zero).
        null_slot: whether an empty memory shares the read's softmax
            (`"sab"`). Defaults to `False`.
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
            read=read,
            read_gain=read_gain,
            null_slot=null_slot,
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


def build_model(args, task):
    """The functional model of `args.model` for `task`, uncompiled.

    A peer (`gru`, `tcn`, `lmu`, `cfc`) gets `--width`, or else the width of
    `peer_width`; its parameter count and SAB's are printed.

    Args:
        args: parsed flags (`flags.parse_args`).
        task: an `experiment.Task`.

    Returns:
        A `keras.Model` from one sequence input to `task.head`'s outputs.

    Raises:
        ValueError: `args.model` is neither in `MODELS` nor in
            `task.encoders`, or a peer's parameter count is more than 10%
            from SAB's (the message names `--width` or `--units`).
        ImportError: the model's package is not installed.

    Example:

    >>> from experiment import Task
    >>> from flags import parse_args
    >>> task = Task("x", None, None, (None, 3), 50, keras.layers.Dense(2), "mse")
    >>> args = parse_args(["--model", "gru", "--units", "16"], "x", "")
    >>> build_model(args, task).count_params()
    gru width 26: 2,472 parameters; SAB at --units 16: 2,402
    2472
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
    elif args.model in PEERS:
        width = peer_width(args, task)
        # The same initial weights whichever widths `peer_width` built.
        keras.utils.set_random_seed(args.seed)
        features = _peer_layer(args, task, width)(inputs)
    else:
        features = _sab_layer(args, task)(inputs)
    return keras.Model(inputs, task.head(features), name=f"{task.name}_{args.model}")


def sequence_steps(task):
    """The length of `task`'s sequences: what a peer's memory must span.

    Args:
        task: an `experiment.Task`.

    Returns:
        `task.input_shape[0]`, or where the model takes any length (the copy
        task) the test sequences' length, or else `task.T`.

    Example:

    >>> from experiment import Task
    >>> sequence_steps(Task("x", None, None, (None, 3), 50, None, "mse"))
    50
    """
    steps = task.input_shape[0]
    if steps is None and task.test is not None:
        steps = task.test.element_spec[0].shape[1]
    return task.T if steps is None else steps


def sab_parameters(args, task):
    """SAB's parameter count on `task` with the flags `args` (`--units`, ...).

    Args:
        args: parsed flags.
        task: an `experiment.Task`.

    Returns:
        The parameter count of the `--model sab` model of `args` on `task`.

    Example:

    >>> from experiment import Task
    >>> from flags import parse_args
    >>> task = Task("x", None, None, (None, 3), 50, keras.layers.Dense(2), "mse")
    >>> sab_parameters(parse_args(["--units", "16"], "x", ""), task)
    2402
    """
    return _parameters(_sab_layer(args, task), task)


def peer_width(args, task):
    """The width of a peer model: `--width`, or the one nearest SAB's size.

    Prints the peer's parameter count and SAB's at `--units`.

    Args:
        args: parsed flags (`model` one of `peer_models.PEERS`, `width`,
            `units`, SAB's settings).
        task: an `experiment.Task`.

    Returns:
        The width, whose parameter count is within 10% of SAB's.

    Raises:
        ValueError: the count is more than 10% from SAB's; the message names
            `--width` if it was given, else `--units`.

    Example:

    >>> from experiment import Task
    >>> from flags import parse_args
    >>> task = Task("x", None, None, (None, 3), 50, keras.layers.Dense(2), "mse")
    >>> peer_width(parse_args(["--model", "gru", "--units", "16"], "x", ""), task)
    gru width 26: 2,472 parameters; SAB at --units 16: 2,402
    26
    """
    target = sab_parameters(args, task)

    def parameters(width):
        return _parameters(_peer_layer(args, task, width), task)

    width = matched_width(parameters, target) if args.width is None else args.width
    count = parameters(width)
    print(
        f"{args.model} width {width}: {count:,} parameters; "
        f"SAB at --units {args.units}: {target:,}"
    )
    if abs(count - target) > PARAMETER_TOLERANCE * target:
        flag = "--units" if args.width is None else "--width"
        raise ValueError(
            f"`{flag}`: the {args.model} of width {width} has {count:,} parameters, "
            f"more than {PARAMETER_TOLERANCE:.0%} from SAB's {target:,} at "
            f"--units {args.units}. Choose another {flag}. "
            f"Received: --units={args.units}, --width={args.width}"
        )
    return width


def _sab_layer(args, task):
    """The recurrent layer of `args.model` (SAB's when `args` names a peer)."""
    return recurrent_layer(
        "sab" if args.model in PEERS else args.model,
        args.units,
        k_top=args.k_top,
        k_att=args.k_att,
        k_trunc=args.k_trunc,
        attention=args.attention,
        temperature=args.temperature,
        attention_units=args.attention_units,
        scorer=args.scorer,
        read=args.read,
        read_gain=args.read_gain,
        null_slot=args.null_slot,
        return_sequences=task.return_sequences,
    )


def _peer_layer(args, task, width):
    return peer_layer(
        args.model,
        width,
        sequence_steps(task),
        order=args.order,
        kernel_size=args.kernel_size,
        return_sequences=task.return_sequences,
    )


def fresh_head(task):
    """A copy of `task.head` made from its config, without its build (the
    task's head may already be built on another width); a head that is not
    a layer is returned as it is."""
    head = task.head
    if isinstance(head, keras.layers.Layer):
        head = type(head).from_config(head.get_config())
    return head


def _parameters(layer, task):
    """The parameter count of `layer` followed by a copy of `task.head`."""
    inputs = keras.Input((_COUNTING_STEPS, *task.input_shape[1:]))
    return keras.Model(inputs, fresh_head(task)(layer(inputs))).count_params()
