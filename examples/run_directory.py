"""What a run keeps in its `--out` directory, and how a (re)started run resumes from it.

The file names, `check_run_config` (a restart must use the recorded flags),
`resumed_epochs` (the epochs a restart continues after, restoring `backup/`
from `model.keras` where a committed run lacks it) and
`finished_wall_time`.
"""

import csv
import json
import os

import keras

from flags import flag_name
from peer_models import LMU_ORDER
from peer_models import TCN_KERNEL_SIZE

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
# Flags added after runs were recorded, with the value those runs used: a run
# recorded without one resumes when the flag keeps that value.
_ADDED_FLAGS = {
    "attention": "sparse",
    "temperature": 1.0,
    "heads": 4,
    "transformer_layers": 2,
    "scorer": "mlp",
    "width": None,
    "order": LMU_ORDER,
    "kernel_size": TCN_KERNEL_SIZE,
    "global_clipnorm": None,
}


def check_run_config(args, restart_flags=()):
    """Records the flags in `--out`, or checks them against a recorded run.

    Args:
        args: parsed flags (`flags.parse_args`).
        restart_flags: destinations of the script's flags that do not affect
            training and so may change on a restart (besides `--epochs`,
            `--jit`, `--out` and `--quick`). Defaults to `()`.

    Raises:
        ValueError: `--out` holds a run with other settings; the message
            names each changed flag.

    Example:

    >>> import tempfile
    >>> from flags import parse_args
    >>> out = tempfile.mkdtemp()
    >>> check_run_config(parse_args(["--out", out], "x", ""))
    >>> check_run_config(parse_args(["--out", out, "--units", "8"], "x", ""))
    Traceback (most recent call last):
    ...
    ValueError: `--out` ... Changed: --units 8 (was 128)
    """
    path = os.path.join(args.out, RUN_CONFIG)
    free = set(_RESUMABLE_FLAGS) | set(restart_flags)
    settings = {k: v for k, v in vars(args).items() if k not in free}
    if os.path.exists(path):
        with open(path) as stream:
            recorded = {**_ADDED_FLAGS, **json.load(stream)}
        changed = sorted(
            f"{flag_name(name)} {settings.get(name)!r} (was {recorded.get(name)!r})"
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


def resumed_epochs(out, steps_per_epoch):
    """Epochs a (re)started run in `out` resumes after: its backup's.

    A finished run whose `backup/` is missing (a clone of the committed
    results) gets it back from its `model.keras`, which holds the weights and
    the optimizer's state after the last logged epoch.

    Args:
        out: the run's directory.
        steps_per_epoch: batches per epoch, or `None` when unknown.

    Returns:
        The number of epochs done.

    Raises:
        ValueError: `log.csv` holds more epochs than `backup/` and
            `model.keras` cannot stand in for it: training would start again
            at epoch 0 and append a second run to `log.csv` and
            `total_wall_time_s`.

    Example:

    >>> import tempfile
    >>> resumed_epochs(tempfile.mkdtemp(), 100)
    0
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


def finished_wall_time(out):
    """Wall time of the invocations that finished in `out`, from its `metrics.json`.

    Args:
        out: the run's directory.

    Returns:
        Seconds; `0.0` before any invocation finished.

    Example:

    >>> import tempfile
    >>> finished_wall_time(tempfile.mkdtemp())
    0.0
    """
    path = os.path.join(out, METRICS)
    if not os.path.exists(path):
        return 0.0
    with open(path) as stream:
        metrics = json.load(stream)
    return metrics.get("total_wall_time_s", metrics["wall_time_s"])


def _backed_up_epochs(out):
    """Epochs finished by the `BackupAndRestore` state in `out`, or 0."""
    path = os.path.join(out, BACKUP, BACKUP_METADATA)
    if not os.path.exists(path):
        return 0
    with open(path) as stream:
        return json.load(stream)["epoch"]


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
