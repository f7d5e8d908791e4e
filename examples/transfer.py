"""Transfer (ALGORITHM.md §8): a copy-task model trained at one T, evaluated at longer T.

Trains on the copy task at `-T` (the paper: T=100) exactly like
`copy_task.py` (all of its outputs go to `--out`), or loads a saved model
with `--model-path`, then measures the recall accuracy at every `--eval-t`.
The paper reports, at T=5000: SAB 41%, LSTM (BPTT) 12%, LSTM with
self-attention out of memory. Writes `transfer.md` and `transfer.json`.

    python examples/transfer.py --quick  # copy_task.py --quick, then T=10-80
    python examples/transfer.py -T 100 --eval-t 200 500 1000 2000 5000
    python examples/transfer.py --model-path runs/copy/model.keras --eval-t 500
"""

import json
import os

import keras

from keras_sab import tasks
from keras_sab import validation

import experiment
from copy_task import DEFAULTS as COPY_DEFAULTS
from copy_task import INT_FLAGS as COPY_INT_FLAGS
from copy_task import QUICK as COPY_QUICK
from copy_task import add_arguments as add_copy_arguments
from copy_task import copy_task

DEFAULTS = dict(COPY_DEFAULTS, timesteps=100, out=os.path.join("runs", "transfer"))
QUICK = dict(COPY_QUICK, eval_t=[10, 20, 40, 80], eval_batches=2)
EVAL_FLAGS = ("eval_t", "eval_batches", "model_path")
TABLE_MD = "transfer.md"
TABLE_JSON = "transfer.json"


def add_arguments(parser):
    """Adds the copy task's flags and the transfer flags to `parser`."""
    add_copy_arguments(parser)
    parser.add_argument(
        "--eval-t",
        type=int,
        nargs="+",
        default=[200, 500, 1000, 2000, 5000],
        help="Delays T to evaluate at.",
    )
    parser.add_argument(
        "--eval-batches", type=int, default=4, help="Test batches per evaluated T."
    )
    parser.add_argument(
        "--model-path",
        default=None,
        help="A saved copy-task model (.keras) to evaluate instead of training one.",
    )


def transfer_table(model, eval_t, batch_size, num_batches, seed):
    """Recall accuracy and loss of a copy-task model at each delay.

    Args:
        model: a compiled copy-task model (any sequence length), with the
            metric `copy_recall_accuracy`.
        eval_t: delays `T` to evaluate at.
        batch_size: sequences per batch.
        num_batches: batches per delay.
        seed: base seed of the evaluation sequences.

    Returns:
        A list of dicts, one per `T`: `T`, `recall_accuracy`, `loss`.
    """
    rows = []
    for timesteps in eval_t:
        data = tasks.copy_dataset(
            timesteps, batch_size, num_batches=num_batches, seed=seed
        )
        result = model.evaluate(data, return_dict=True, verbose=0)
        rows.append(
            {
                "T": timesteps,
                "recall_accuracy": float(result["copy_recall_accuracy"]),
                "loss": float(result["loss"]),
            }
        )
    return rows


def markdown_table(rows, title):
    """`rows` of `transfer_table` as a Markdown table.

    Args:
        rows: list of dicts with `T`, `recall_accuracy` and `loss`.
        title: heading line.

    Returns:
        The Markdown text.

    Example:

    >>> print(markdown_table([{"T": 200, "recall_accuracy": 0.5, "loss": 1.0}], "x"))
    x
    <BLANKLINE>
    | T | recall accuracy | loss |
    |---:|---:|---:|
    | 200 | 0.500 | 1.0000 |
    <BLANKLINE>
    """
    lines = [title, "", "| T | recall accuracy | loss |", "|---:|---:|---:|"]
    lines += [
        f"| {row['T']} | {row['recall_accuracy']:.3f} | {row['loss']:.4f} |"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Trains (or loads) and evaluates; returns `transfer.json`'s content."""
    args = experiment.parse_args(
        argv,
        "transfer",
        __doc__,
        add_arguments,
        defaults=DEFAULTS,
        quick=QUICK,
        int_flags={**COPY_INT_FLAGS, "eval_batches": 1},
    )
    for timesteps in args.eval_t:
        validation.check_int("--eval-t", timesteps, 1)
    task = copy_task(args)
    if args.model_path is None:
        model, _ = experiment.run_experiment(args, task, restart_flags=EVAL_FLAGS)
        source = f"{experiment.model_label(args)} trained at T={args.timesteps}"
    else:
        model = keras.saving.load_model(args.model_path, compile=False)
        experiment.compile_model(model, args, task.loss, task.metrics)
        os.makedirs(args.out, exist_ok=True)
        source = f"loaded from {args.model_path}"
    rows = transfer_table(
        model, args.eval_t, args.batch_size, args.eval_batches, args.seed + 2
    )
    result = {
        "task": "transfer",
        "source": source,
        "hyperparameters": vars(args),
        "rows": rows,
    }
    with open(os.path.join(args.out, TABLE_JSON), "w") as stream:
        json.dump(result, stream, indent=2)
    table = markdown_table(rows, f"Copy-task transfer: {source}.")
    with open(os.path.join(args.out, TABLE_MD), "w") as stream:
        stream.write(table)
    print(table)
    return result


if __name__ == "__main__":
    main()
