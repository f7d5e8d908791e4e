"""The command line the example scripts share: `parse_args` and its checks.

The shared flags are `--model` (one of `model_zoo.MODELS`), the layer settings
(`--units --k-top --k-att --k-trunc --attention --temperature
--attention-units --scorer`, and the read's, `--read --read-gain --null-slot`,
which `add_read_arguments` gives the scripts with their own parsers and
`read_settings` passes to SAB), the Transformer's (`--heads
--transformer-layers`), the peers' (`--width --order --kernel-size`), and
training's (`--batch-size --epochs --steps-per-epoch --lr --clipnorm
--global-clipnorm --seed --out --jit --quick`). A bad value raises
`ValueError` naming the flag, before anything is written to `--out`.
"""

import argparse
import os

import keras

from keras_sab import defaults as layer_defaults
from keras_sab import validation
from keras_sab.attention_scorer import SCORERS
from keras_sab.sparse_attention import ATTENTION_MODES
from keras_sab.validation import READ_MODES

from model_zoo import MODELS
from peer_models import LMU_ORDER
from peer_models import TCN_KERNEL_SIZE

JIT_MODES = ("auto", "xla", "graph")
# `--clipnorm`'s value when neither clipping flag is given.
CLIPNORM = 1.0
# Shared integer flags and their smallest allowed value. `None` passes: it
# comes only from a default or from `--k-trunc none` / `--width none`.
_INT_FLAGS = {
    "units": 1,
    "k_top": 0,
    "k_att": 1,
    "k_trunc": 1,
    "attention_units": 1,
    "heads": 1,
    "transformer_layers": 1,
    "width": 1,
    "order": 1,
    "kernel_size": 2,
    "batch_size": 1,
    "epochs": 1,
    "steps_per_epoch": 1,
    "tune_epochs": 0,
    "seed": 0,
}
_MODEL_HELP = (
    "sab: SAB (--k-top, --k-att, --k-trunc); lstm: LSTM with full BPTT; "
    "tbptt: LSTM with truncated BPTT (--k-trunc); self_attention: LSTM with "
    "full self-attention (dense attention over every past step, full BPTT); "
    "transformer: a keras-hub Transformer encoder of width --units (--heads, "
    "--transformer-layers), causal when the task reads every step; "
    "gru: keras.layers.GRU; tcn: keras-tcn's TCN (--kernel-size), its receptive "
    "field covering the task's sequences; lmu: keras-lmu's LMU (--order), theta "
    "the sequences' length; cfc: ncps's CfC. The last four are sized within 10%% "
    "of SAB's parameter count at --units (--width); all but gru need "
    'pip install -e ".[peers]", as does the transformer.'
)


class _HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows the defaults and keeps the description's line breaks."""


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


def flag_name(name):
    """The command-line spelling of a flag's destination.

    Args:
        name: the destination, as in the parsed `argparse.Namespace`.

    Returns:
        The flag, e.g. `"--k-top"` for `"k_top"`.

    Example:

    >>> flag_name("steps_per_epoch")
    '--steps-per-epoch'
    """
    return "--" + name.replace("_", "-")


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
        `clipnorm` is `1.0` unless `--clipnorm` or `--global-clipnorm` is given,
        and `None` with `--global-clipnorm`.

    Raises:
        ValueError: a flag has a bad value, or both `--clipnorm` and
            `--global-clipnorm` are given; the message names the flag.

    Example:

    >>> args = parse_args(["--quick"], "copy", "Copy task.", quick={"units": 32})
    >>> args.model, args.units, args.k_att, args.clipnorm, args.global_clipnorm
    ('sab', 32, 10, 1.0, None)
    >>> args = parse_args(["--global-clipnorm", "0.5"], "copy", "Copy task.")
    >>> args.clipnorm, args.global_clipnorm
    (None, 0.5)
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
        validation.check_int(flag_name(name), getattr(args, name), minimum, allow_none=True)
    _check_positive(args, "lr")
    _check_clipping(args)
    _check_temperature(args)
    read_settings(args)
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
        "read": layer_defaults.READ,
        "read_gain": layer_defaults.READ_GAIN,
        "null_slot": layer_defaults.NULL_SLOT,
    }
    if args.model == "self_attention":
        defaults.pop("attention")
        defaults.pop("scorer")
        defaults.pop("read")
        defaults.pop("read_gain")
        defaults.pop("null_slot")
    settings = [
        f"{name}={getattr(args, name)}"
        for name, default in defaults.items()
        if getattr(args, name) != default
    ]
    return f"{args.model} ({', '.join(settings)})" if settings else args.model


def add_read_arguments(parser):
    """Adds SAB's read flags, `--read`, `--read-gain` and `--null-slot`, to
    `parser` (`read_settings` gives them to SAB)."""
    parser.add_argument(
        "--read",
        choices=READ_MODES,
        default=layer_defaults.READ,
        help="sab: how the read enters the state (add: the paper's step; "
        "projected: the carried state gets it through a learned matrix).",
    )
    parser.add_argument(
        "--read-gain",
        type=float,
        default=layer_defaults.READ_GAIN,
        help="sab, --read projected: the learned matrix starts at this multiple of the "
        "identity (unset: 0, the LSTM's recurrence; 1: the paper's step).",
    )
    parser.add_argument(
        "--null-slot",
        action=argparse.BooleanOptionalAction,
        default=layer_defaults.NULL_SLOT,
        help="sab: an empty memory shares the read's softmax, so a step can read less "
        "than a whole memory, or nothing.",
    )


def _add_shared_arguments(parser, task, models, quick):
    """Adds the flags every example shares."""
    add = parser.add_argument
    add("--model", choices=models, default="sab", help=_MODEL_HELP)
    add(
        "--units",
        type=int,
        default=128,
        help="LSTM state width; transformer: features per step; gru, tcn, lmu, "
        "cfc: the SAB width whose parameter count they match.",
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
    add_read_arguments(parser)
    add("--heads", type=int, default=4, help="transformer: attention heads.")
    add(
        "--transformer-layers", type=int, default=2, help="transformer: blocks."
    )
    add(
        "--width",
        type=int_or_none,
        default=None,
        help="gru, cfc: units; tcn: filters; lmu: hidden units. None: the width "
        "whose parameter count is nearest SAB's at --units; a width more than 10%% "
        "away from it is refused.",
    )
    add("--order", type=int, default=LMU_ORDER, help="lmu: order of the Legendre memory.")
    add("--kernel-size", type=int, default=TCN_KERNEL_SIZE, help="tcn: convolution width.")
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
    add(
        "--clipnorm",
        type=float,
        default=None,
        help=f"Clips each variable's gradient to this norm (Keras `clipnorm`; "
        f"{CLIPNORM} unless --global-clipnorm is given).",
    )
    add(
        "--global-clipnorm",
        type=float,
        default=None,
        help="Clips the gradients of all variables together to this norm "
        "(Keras `global_clipnorm`, the authors' clipping); excludes --clipnorm.",
    )
    add(
        "--tune-epochs",
        type=int,
        default=0,
        help="Before the run, train each point of the model's grid (learning rate; TCN "
        "kernel size; LMU order) this many epochs and go on with the best "
        "(model_tuning.py; needs the tuning extra). 0: no search.",
    )
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
        "mode on this device: `train_step.jit_compile`), xla, or graph.",
    )
    add(
        "--no-jit",
        dest="jit",
        action="store_const",
        const="graph",
        help="The same as --jit graph (the flag of the runs recorded before --jit).",
    )
    setting = " ".join(f"{flag_name(name)} {value}" for name, value in quick.items())
    add(
        "--quick",
        action="store_true",
        help=f"Small CPU setting ({setting or 'the defaults'}); explicit flags win.",
    )


def read_settings(args):
    """SAB's read arguments from the read flags (`add_read_arguments`), as a
    dict: `read`, `read_gain`, `null_slot`.

    Raises:
        ValueError: naming `--read-gain` where it cannot apply.

    Example:

    >>> parser = argparse.ArgumentParser()
    >>> add_read_arguments(parser)
    >>> read_settings(parser.parse_args(["--read", "projected", "--read-gain", "0.5"]))
    {'read': 'projected', 'read_gain': 0.5, 'null_slot': False}
    """
    return {
        "read": args.read,
        "read_gain": validation.check_read_gain(args.read_gain, args.read, "--read-gain"),
        "null_slot": args.null_slot,
    }


def _check_positive(args, name):
    value = getattr(args, name)
    if not value > 0:
        raise ValueError(
            f"`{flag_name(name)}` must be a positive number. "
            f"Received: {flag_name(name)}={value!r}"
        )


def _check_clipping(args):
    """Checks the clipping flags and gives `--clipnorm` its default."""
    if args.clipnorm is not None and args.global_clipnorm is not None:
        raise ValueError(
            "`--clipnorm` and `--global-clipnorm` exclude each other: give one. "
            f"Received: --clipnorm={args.clipnorm}, "
            f"--global-clipnorm={args.global_clipnorm}"
        )
    if args.global_clipnorm is not None:
        _check_positive(args, "global_clipnorm")
        return
    if args.clipnorm is None:
        args.clipnorm = CLIPNORM
    _check_positive(args, "clipnorm")


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
