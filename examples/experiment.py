"""The harness the example scripts share (ALGORITHM.md §8); not part of the package.

It lives beside the scripts, which import it as `experiment` (Python puts a
script's own folder first on its path, so they run from any directory).

An example script supplies only its data and its task-specific head, loss and
metrics, as a `Task`, and calls `run_experiment`. The harness's parts are
modules of this folder, each named for what it is:

- `flags`: the command line the scripts share (`parse_args`, `model_label`).
- `model_zoo`: every `--model` built for a task (`build_model`): the paper's
  models (`keras_sab.SAB` and `keras.layers.LSTM`), the Transformer of
  `transformer_baseline` and the peers of `peer_models` (GRU, keras-tcn's
  TCN, keras-lmu's LMU, ncps's CfC), sized like SAB.
- `train_step`: Adam with gradient clipping, each model in its faster mode
  (`compile_model`, `jit_compile`).
- `run_directory`: what `--out` holds and how a restarted run resumes.
- `run_outputs`: `metrics.json`'s content and the plots.

This module re-exports the names the scripts use (`parse_args`,
`model_label`, `int_or_none`, `build_model`, `compile_model`, `MODELS`).
"""

import dataclasses
import json
import os
import time
from typing import Callable

import keras
import tensorflow as tf
from model_tuning import tune

from keras_sab import plots

from flags import int_or_none
from flags import model_label
from flags import parse_args
from model_zoo import MODELS
from model_zoo import build_model
from run_directory import BACKUP
from run_directory import LOG
from run_directory import METRICS
from run_directory import MODEL
from run_directory import check_run_config
from run_directory import finished_wall_time
from run_directory import resumed_epochs
from run_outputs import plot_run
from run_outputs import run_metrics
from train_step import compile_model

__all__ = [
    "MODELS",
    "Task",
    "build_model",
    "compile_model",
    "int_or_none",
    "model_label",
    "parse_args",
    "run_experiment",
]


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



def run_experiment(args, task, callbacks=(), restart_flags=()):
    """Trains and evaluates `args.model` on `task`; writes everything to `--out`.

    Builds the model first (a model that cannot be built, such as a peer
    sized more than 10% from SAB, leaves `--out` untouched), then writes
    `run_config.json` (the flags), `log.csv` (one row per epoch,
    appended across restarts), the `BackupAndRestore` state under `backup/`
    (kept after the run, so a finished run can be extended with a larger
    `--epochs`; a committed run, whose `backup/` is not committed, gets it
    back from its `model.keras`), `model.keras`, `learning_curves.png`, for models with
    attention `attention.png` and its read statistics `reads.png`
    (`keras_sab.read_statistics`), and `metrics.json`
    (`run_outputs.run_metrics`; the parameter count is also printed before
    training) with the wall time of this invocation (`wall_time_s`) and of
    all the invocations that finished in `--out` (`total_wall_time_s`).

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
        ValueError: the training set is endless and `--steps-per-epoch` is
            not given; a peer is sized more than 10% from SAB
            (`model_zoo.peer_width`); `--out` holds a run with other settings
            (only `--epochs` and `--jit` may change on a restart), or a run
            whose `backup/` is missing and whose `model.keras` is not the
            model after its last logged epoch, which cannot be continued.

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
    previous_wall_time = finished_wall_time(args.out)
    endless = task.train.cardinality() == tf.data.INFINITE_CARDINALITY
    if endless and args.steps_per_epoch is None:
        raise ValueError(
            f"The {task.name} training set is endless: `--steps-per-epoch` must "
            "be given. Received: --steps-per-epoch=None"
        )
    train = task.train.repeat() if args.steps_per_epoch else task.train
    validation = task.test if task.validation is None else task.validation
    if args.tune_epochs:
        args = tune(args, task, train, validation)
    keras.utils.set_random_seed(args.seed)
    model = compile_model(build_model(args, task), args, task.loss, task.metrics)
    os.makedirs(args.out, exist_ok=True)
    check_run_config(args, restart_flags)
    steps = args.steps_per_epoch or int(task.train.cardinality())
    resumed = resumed_epochs(args.out, steps if steps > 0 else None)
    print(f"{model.name}: {model.count_params():,} parameters")
    if args.steps_per_epoch:
        # A resumed run continues where the backup's epochs stopped reading.
        train = train.skip(resumed * args.steps_per_epoch)
    log_path = os.path.join(args.out, LOG)
    model.fit(
        train,
        validation_data=validation,
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
    metrics = run_metrics(args, task, model, log)
    model.save(os.path.join(args.out, MODEL))
    plot_run(args, task, model, log)
    metrics["wall_time_s"] = time.time() - start
    metrics["total_wall_time_s"] = previous_wall_time + metrics["wall_time_s"]
    with open(os.path.join(args.out, METRICS), "w") as stream:
        json.dump(metrics, stream, indent=2)
    return model, metrics
