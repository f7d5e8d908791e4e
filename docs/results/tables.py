"""The tables of docs/RESULTS.md and of the pages under docs/results/, from
the committed run outputs.

    python docs/results/tables.py           # prints every page's tables
    python docs/results/tables.py --write   # RESULTS.md's tables, peers.md, the figures
    python docs/results/tables.py --check   # fails if those tables are out of date

Every figure comes from a `docs/results/<run>/metrics.json` (or, for
transfer, `transfer.json`; for the short ablations, `ablations/<name>.json`)
or `log.csv` written by the run itself. The summary table rewritten by
`--write` sits between `SUMMARY_START` and `SUMMARY_END` in RESULTS.md, the
peer table (SAB beside GRU, TCN, LMU and CfC, from `peers/<run>`) between
`PEERS_START` and `PEERS_END`, the read table (every read setting on every
task) between `READ_START` and `READ_END` in read_variants.md; `--write`
also writes `peers.md` (the peer table, with what each layer can do from
`peer_capabilities.py`) and draws
`summary.png` (one panel per task) and the comparison curves the pages show
(`COMPARISONS`). Runs not made yet are skipped, so a row or a seed appears
when its directory is committed.
"""

import csv
import json
import math
import os
import sys
from typing import NamedTuple

import peer_capabilities

HERE = os.path.dirname(os.path.abspath(__file__))


def load(run, name="metrics.json"):
    """The JSON file `name` of `run` (a directory under `HERE`), or `None`."""
    path = os.path.join(HERE, run, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def seed_runs(run):
    """The run directories of seeds 0, 1 and 2 of `run` (`<run>_s0` ...)."""
    return [f"{run}_s{s}" for s in range(3)]


def read_log(run):
    """The `log.csv` of `run` as `{column: [float per epoch]}`, or `None`."""
    path = os.path.join(HERE, run, "log.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [float(row[name]) for row in rows] for name in rows[0]} if rows else None


def by_updates(log, column, steps_per_epoch):
    """`{updates: value}` of one `log.csv` column (epochs are 0-based)."""
    return {
        int(epoch + 1) * steps_per_epoch: value
        for epoch, value in zip(log["epoch"], log[column])
    }


def updates(metrics):
    """Training length: updates, or full epochs where epochs were not capped."""
    steps = metrics["hyperparameters"]["steps_per_epoch"]
    if steps is None:
        return f"{metrics['epochs_done']} epochs"
    return f"{metrics['epochs_done'] * steps} updates"


def percent(name):
    """Formats the test metric `name` as a percentage."""
    return lambda test: f"{100 * test[name]:.1f}%"


def bits_per_character(test):
    return f"{test['bits_per_character']:.3f}"


def wall_time(metrics):
    """Wall time of the run's invocations that finished (a killed one is lost)."""
    seconds = metrics.get("total_wall_time_s", metrics["wall_time_s"])
    return f"{seconds / 60:.1f} min"


def copy_table(timesteps, models, paper):
    print(f"\n### Copy task, T={timesteps}\n")
    print("| model | recall accuracy (test, last 10 steps) | paper | training | wall time |")
    print("|---|---|---|---|---|")
    for model in models:
        metrics = load(f"copy_T{timesteps}_{model}")
        if metrics is None:
            print(f"| {model} | not run | {paper.get(model, '-')} | | |")
            continue
        accuracy = metrics["test"]["copy_recall_accuracy"]
        print(
            f"| {model} | {100 * accuracy:.1f}% | {paper.get(model, '-')} | "
            f"{updates(metrics)} | {wall_time(metrics)} |"
        )


def copy_budget_table(timesteps, models, budgets):
    """Test recall of each copy model after the same number of updates."""
    print(f"\n### Copy task, T={timesteps}: test recall after the same number of updates\n")
    print("| model | " + " | ".join(f"{budget} updates" for budget in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    steps = set()
    for model in models:
        run = f"copy_T{timesteps}_{model}"
        metrics, log = load(run), read_log(run)
        if metrics is None or log is None:
            print(f"| {model} | not run |")
            continue
        run_steps = metrics["hyperparameters"]["steps_per_epoch"]
        steps.add(run_steps)
        recall = by_updates(log, "val_copy_recall_accuracy", run_steps)
        cells = [f"{100 * recall[b]:.1f}%" if b in recall else "-" for b in budgets]
        print(f"| {model} | " + " | ".join(cells) + " |")
    if len(steps) > 1:
        raise ValueError(f"Copy runs at T={timesteps} differ in steps per epoch: {steps}")


def before_after_table(runs):
    """The SAB runs made before the tied-scores fix beside their reruns."""
    print("\n### SAB before and after the tied-scores fix (same command)\n")
    print("| run | metric (test) | before the fix | after the fix |")
    print("|---|---|---|---|")
    for run, (name, metric) in runs.items():
        found = [load(path) for path in (f"before_fix/{run}", run)]
        budgets = {updates(metrics) for metrics in found if metrics is not None}
        cells = [
            "not run" if metrics is None
            else metric(metrics["test"]) + (f" ({updates(metrics)})" if len(budgets) > 1 else "")
            for metrics in found
        ]
        print(f"| {run} | {name} | " + " | ".join(cells) + " |")


def transfer_table(models):
    print("\n### Transfer: copy models trained at T=100, evaluated at longer T\n")
    rows = {model: load(f"transfer_{model}", "transfer.json") for model in models}
    lengths = sorted(
        {row["T"] for table in rows.values() if table for row in table["rows"]}
    )
    print("| model | " + " | ".join(f"T={t}" for t in lengths) + " |")
    print("|---|" + "---|" * len(lengths))
    for model, table in rows.items():
        if table is None:
            print(f"| {model} | not run |")
            continue
        by_t = {row["T"]: row["recall_accuracy"] for row in table["rows"]}
        cells = [f"{100 * by_t[t]:.1f}%" if t in by_t else "-" for t in lengths]
        print(f"| {model} | " + " | ".join(cells) + " |")


def single_metric_table(title, runs, metric, unit, paper):
    print(f"\n### {title}\n")
    print(f"| model | {unit} (test) | paper | training | wall time |")
    print("|---|---|---|---|---|")
    for model, run in runs.items():
        metrics = load(run)
        if metrics is None:
            print(f"| {model} | not run | {paper.get(model, '-')} | | |")
            continue
        value = metric(metrics["test"])
        print(
            f"| {model} | {value} | {paper.get(model, '-')} | {updates(metrics)} | "
            f"{wall_time(metrics)} |"
        )


def last_epochs_mean(run, column, epochs=10):
    """The mean of a `log.csv` column over the run's last `epochs` epochs."""
    log = read_log(run)
    values = log[column][-epochs:]
    return sum(values) / len(values)


def seeds_table(title, rows, metric, unit, last_epochs=None):
    """Runs repeated over seeds (or single runs): the value of each seed and
    the mean. Seeds not run yet are left out; a row with none says so.

    Args:
        title: the table's heading.
        rows: maps a row label to the runs of that row, one per seed.
        metric: formats the test metric, given `{key: value}`.
        unit: `(name, key)`: the metric's name in the heading and its key in
            the runs' `test` metrics.
        last_epochs: the `log.csv` column (`val_...`) to add the seeds' mean
            of over their last 10 epochs, or `None` for no such column.
    """
    name, key = unit
    extra = " mean of the last 10 epochs |" if last_epochs else ""
    print(f"\n### {title}\n")
    print(
        f"| model | {name} (test), per seed | mean |{extra} training | Adam lr | "
        "wall time per run |"
    )
    print("|---|---|---|---|---|---|" + ("---|" if last_epochs else ""))
    for label, runs in rows.items():
        found = [(run, load(run)) for run in runs]
        found = [(run, metrics) for run, metrics in found if metrics is not None]
        if not found:
            print(f"| {label} | not run | | | | |")
            continue
        values = [metrics["test"][key] for _, metrics in found]
        seconds = [metrics.get("total_wall_time_s", metrics["wall_time_s"])
                   for _, metrics in found]
        mean = metric({key: sum(values) / len(values)}) if len(values) > 1 else "-"
        cells = f"| {label} | {' / '.join(metric({key: v}) for v in values)} | {mean} |"
        if last_epochs:
            late = [last_epochs_mean(run, last_epochs) for run, _ in found]
            cells += f" {metric({key: sum(late) / len(late)})} |"
        first = found[0][1]
        low, high = f"{min(seconds) / 60:.1f}", f"{max(seconds) / 60:.1f}"
        print(
            f"{cells} {updates(first)} | {first['hyperparameters']['lr']:g} | "
            f"{low if low == high else f'{low}-{high}'} min |"
        )


def sab_beside_lstm_table(title, run, seeds):
    """Scripts that train SAB and an LSTM side by side (`sab_vs_lstm.py`,
    `stateful_stream.py`): test accuracy per seed.

    Args:
        title: the table's heading.
        run: the run folder, a format string of `seed`.
        seeds: the `--seed` values, one row each.
    """
    print(f"\n### {title}\n")
    print("| seed | SAB (defaults) | LSTM | SAB training | LSTM training |")
    print("|---|---|---|---|---|")
    for seed in seeds:
        metrics = load(run.format(seed=seed))
        if metrics is None:
            print(f"| {seed} | not run | | | |")
            continue
        print(
            f"| {seed} | {100 * metrics['sab']:.1f}% | {100 * metrics['lstm']:.1f}% | "
            f"{metrics['sab_seconds']:.0f} s | {metrics['lstm_seconds']:.0f} s |"
        )


def demo_table(seeds, versions):
    """The earlier README demo (`copy_task.py --quick`), test recall per seed
    and version.

    Args:
        seeds: the `--seed` values, one row each.
        versions: maps a run-name prefix under `readme_demo/` to its column title.
    """
    print("\n### The earlier README demo: `python examples/copy_task.py --quick --seed S`\n")
    print("| seed | " + " | ".join(versions.values()) + " |")
    print("|---|" + "---|" * len(versions))
    for seed in seeds:
        cells = []
        for version in versions:
            metrics = load(f"readme_demo/{version}_s{seed}")
            cells.append(
                "not run" if metrics is None
                else f"{100 * metrics['test']['copy_recall_accuracy']:.1f}%"
            )
        print(f"| {seed} | " + " | ".join(cells) + " |")


def log_table(title, runs, budgets, column, formatted, steps_per_epoch=100):
    """A test metric of runs after N updates, read from their `log.csv`
    (runs stopped before their last epoch write no `metrics.json`).

    Args:
        title: the table's heading.
        runs: maps a row label to its run folder.
        budgets: the update counts, one column each.
        column: the metric's column in `log.csv` (`val_...`).
        formatted: formats one value of the column.
        steps_per_epoch: updates per epoch of the runs.
    """
    print(f"\n### {title}\n")
    print("| variant | " + " | ".join(f"{budget} updates" for budget in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for label, run in runs.items():
        log = read_log(run)
        if log is None:
            print(f"| {label} | not run |")
            continue
        values = by_updates(log, column, steps_per_epoch)
        cells = [formatted(values[b]) if b in values else "-" for b in budgets]
        print(f"| {label} | " + " | ".join(cells) + " |")


def ablation_table(names, budgets):
    """Test loss (and recall) of the short ablation runs, from their own logs."""
    print(
        "\n### Ablations: SAB with the paper's weights on copy T=100, test loss (recall) "
        "after N updates\n"
    )
    print(
        "| variant | "
        + " | ".join(f"{budget} updates" for budget in budgets)
        + " | lowest test loss | wall time |"
    )
    print("|---|" + "---|" * (len(budgets) + 2))
    for name, label in names.items():
        rows = load("ablations", f"{name}.json")
        if rows is None:
            print(f"| {label} | not run |")
            continue
        found = {row["updates"]: row for row in rows}
        cells = [
            f"{found[b]['val_loss']:.3f} ({100 * found[b]['val_acc']:.1f}%)"
            if b in found else "-"
            for b in budgets
        ]
        lowest = min(row["val_loss"] for row in rows)
        print(
            f"| {label} | " + " | ".join(cells)
            + f" | {lowest:.3f} | {rows[-1]['wall'] / 60:.1f} min |"
        )


# The summary at the top of docs/RESULTS.md: one `Task` per row.
class Task(NamedTuple):
    """One row of the summary.

    Attributes:
        task: the row's label.
        paper: the paper's figure, as text (`"—"` for none).
        metric: `"recall"`, `"accuracy"`, `"transfer"`, `"demo"` (in %),
            `"mse"` or `"bpc"` (lower is better).
        runs: maps `"sab"`, `"lstm"`, `"tbptt"`, `"transformer"` to the runs
            (one per seed) that give the model's cell. A run is a directory
            under `HERE`, `(directory, key)` for the scripts that write both
            models to one metrics.json (`sab_vs_lstm.py`,
            `stateful_stream.py`), or `("transfer", transfer_dir, copy_dir)`.
        per_epoch: the updates of one epoch of a run made without
            `--steps-per-epoch` (4,000 images in batches of 64: 63; the 8x8
            digits: 24), or `None`.
        marks: the paper's figure per model, in the metric's unit, drawn
            on `summary.png`.
        peers: the stem of the peers' runs of the row (one of the
            `..._PEERS` names below), or `None` for a row not in the peer
            table.
    """

    task: str
    paper: str
    metric: str
    runs: dict
    per_epoch: int = None
    marks: dict = {}
    peers: str = None


SEEDS = ("", "_s1", "_s2")
# The peers' runs, one stem per row of the peer table: seed 0 of a model is
# `peers/<stem>_<model>` (or `peers/<stem>_<model>_s0`), seeds 1 and 2
# `..._s1` and `..._s2`. Each is a run of the examples' harness (metrics.json
# and log.csv), but for `TRANSFER_PEERS`, a run of `examples/transfer.py`
# (its transfer.json read at T=5000, its metrics.json for the training), and
# `STREAM_PEERS`, a metrics.json as `examples/stateful_stream.py` writes it,
# `{<model>: accuracy, "<model>_seconds": ..., "flags": {"updates": ...}}`.
COPY_PEERS = "copy_T200"
TRANSFER_PEERS = "transfer"
ADDING_PEERS = "adding_T200"
CUE_RECALL_PEERS = "cue_recall_T200"
STREAM_PEERS = "stream"
MNIST_PEERS = "mnist5k_permuted_3k"
TEXT_PEERS = "text8_5000"
MNIST_PAPER = "SAB 90.9%, LSTM 90.3% (60,000 digits)"
SUMMARY = [
    Task("copy, T=100", "—", "recall", {
        "sab": ["copy_T100_sab_default"], "lstm": ["copy_T100_lstm"],
        "tbptt": ["copy_T100_tbptt"], "transformer": ["copy_T100_transformer"]}),
    Task("copy, T=200", "SAB 95%, LSTM 52%", "recall", {
        "sab": ["copy_T200_sab_default"], "lstm": ["copy_T200_lstm"],
        "tbptt": ["copy_T200_tbptt"], "transformer": ["copy_T200_transformer"]},
        marks={"sab": 95, "lstm": 52}, peers=COPY_PEERS),
    Task("transfer to T=5000 (trained at T=100)", "SAB 41%, LSTM 12%", "transfer", {
        "sab": [("transfer", "transfer_sab_default", "copy_T100_sab_default")],
        "lstm": [("transfer", "transfer_lstm", "copy_T100_lstm")]},
        marks={"sab": 41, "lstm": 12}, peers=TRANSFER_PEERS),
    Task("adding, T=200 (MSE; the mean: 0.167)", "—", "mse", {
        "sab": ["adding_T200_sab"], "lstm": ["adding_T200_lstm"],
        "tbptt": ["adding_T200_tbptt"]}, peers=ADDING_PEERS),
    Task("adding, T=400 (MSE)", "—", "mse", {
        "sab": [f"adding_T400_sab{s}" for s in SEEDS],
        "lstm": ["adding_T400_lstm"],
        "tbptt": ["adding_T400_tbptt"]}),
    Task("cue recall, T=200 (README demo)", "—", "demo", {
        "sab": [(f"sab_vs_lstm/seed{s}", "sab") for s in range(3)],
        "lstm": [(f"sab_vs_lstm/seed{s}", "lstm") for s in range(3)]}, peers=CUE_RECALL_PEERS),
    Task("stateful stream: cue 1 call back", "—", "demo", {
        "sab": [(f"stateful_stream/credit_seed{s}", "sab") for s in range(3)],
        "lstm": [(f"stateful_stream/credit_seed{s}", "lstm") for s in range(3)]},
        peers=STREAM_PEERS),
    Task("permuted 8x8 digits, T=64", "—", "accuracy", {
        "sab": seed_runs("digits_permuted_sab_default_100ep"),
        "lstm": seed_runs("digits_permuted_lstm136_100ep")}, 24),
    Task("permuted MNIST, T=784 (5,000 digits), 630 updates", MNIST_PAPER, "accuracy", {
        "sab": seed_runs("mnist5k_permuted_sab_default"),
        "lstm": seed_runs("mnist5k_permuted_lstm136"),
        "tbptt": seed_runs("mnist5k_permuted_tbptt"),
        "transformer": seed_runs("mnist5k_permuted_transformer")}, 63,
        {"sab": 90.9, "lstm": 90.3}),
    Task("permuted MNIST, T=784 (5,000 digits), 3,024 updates", MNIST_PAPER, "accuracy", {
        "sab": seed_runs("mnist5k_permuted_sab_default_3k"),
        "lstm": seed_runs("mnist5k_permuted_lstm136_3k")}, 63,
        {"sab": 90.9, "lstm": 90.3}, peers=MNIST_PEERS),
    Task("Fashion-MNIST, T=784 (4,000 images), 630 updates", "—", "accuracy", {
        "sab": ["fashion4k_sab_s0"], "lstm": ["fashion4k_lstm136_s0"],
        "tbptt": ["fashion4k_tbptt_s0"], "transformer": ["fashion4k_transformer_s0"]}, 63),
    Task("Fashion-MNIST, T=784 (60,000 images), 3,000 updates", "—", "accuracy", {
        "sab": ["fashion60k_sab_default_s0"], "lstm": ["fashion60k_lstm136_s0"],
        "transformer": ["fashion60k_transformer_1500_s0"]}),
    Task("text (bits per character)", "SAB ahead of the LSTM (text8)", "bpc", {
        "sab": [f"text8_sab_default_5000{s}" for s in SEEDS],
        "lstm": [f"text8_lstm135_5000{s}" for s in SEEDS],
        "tbptt": [f"text8_tbptt135_5000{s}" for s in SEEDS]}, peers=TEXT_PEERS),
]
SUMMARY_MODELS = ("sab", "lstm", "tbptt", "transformer")
PEER_MODELS = ("gru", "tcn", "lmu", "cfc")
MODEL_NAMES = {"sab": "SAB", "lstm": "LSTM", "tbptt": "TBPTT", "transformer": "Transformer",
               "gru": "GRU", "tcn": "TCN", "lmu": "LMU", "cfc": "CfC"}
SUMMARY_START = "<!-- summary table: generated by docs/results/tables.py --write -->"
SUMMARY_END = "<!-- end of summary table -->"
PEERS_START = "<!-- peer table: generated by docs/results/tables.py --write -->"
PEERS_END = "<!-- end of peer table -->"
# Higher is better for every metric but these.
LOWER_IS_BETTER = ("mse", "bpc")
# A run's test figure of each metric: its key in metrics.json's `test` (and,
# with `val_`, its column in log.csv) and the factor it is shown with.
TEST_KEYS = {
    "recall": ("copy_recall_accuracy", 100),
    "accuracy": ("accuracy", 100),
    "demo": ("accuracy", 100),
    "mse": ("loss", 1),
    "bpc": ("bits_per_character", 1),
}


def run_result(run, metric, per_epoch):
    """`(value, updates, seconds)` of one run, or `None` if it is not there."""
    if isinstance(run, tuple) and run[0] == "transfer":
        transfer, trained = load(run[1], "transfer.json"), load(run[2])
        if transfer is None or trained is None:
            return None
        row = next(r for r in transfer["rows"] if r["T"] == 5000)
        return (100 * row["recall_accuracy"], _updates(trained, per_epoch),
                _seconds(trained))
    if isinstance(run, tuple):
        metrics = load(run[0])
        if metrics is None:
            return None
        return (100 * metrics[run[1]], metrics["flags"]["updates"],
                metrics[run[1] + "_seconds"])
    metrics = load(run)
    if metrics is None:
        return None
    key, scale = TEST_KEYS[metric]
    return scale * metrics["test"][key], _updates(metrics, per_epoch), _seconds(metrics)


def _steps_per_epoch(metrics, per_epoch):
    """A run's updates per epoch: its `--steps-per-epoch`, or `per_epoch`
    for a run made without it."""
    return metrics["hyperparameters"]["steps_per_epoch"] or per_epoch


def _updates(metrics, per_epoch):
    return metrics["epochs_done"] * _steps_per_epoch(metrics, per_epoch)


def _seconds(metrics):
    return metrics.get("total_wall_time_s", metrics.get("wall_time_s", 0.0))


def seed_summary(results):
    """`(mean, low, high, n)` of the values of the runs found."""
    values = [r[0] for r in results]
    return sum(values) / len(values), min(values), max(values), len(values)


def _format_value(metric, value):
    """A figure as the tables print it: a percentage, or a lower-is-better
    value to 3 decimals (below 0.001, to 2 significant figures)."""
    if metric not in LOWER_IS_BETTER:
        return f"{value:.1f}%"
    return f"{value:.3f}" if value >= 0.001 or value == 0 else f"{value:.1e}"


def summary_cell(metric, results, row_updates):
    """One model's cell: the mean, the range over seeds, and the updates
    where they differ from the row's."""
    if not results:
        return "—"
    mean, low, high, n = seed_summary(results)
    cell = _format_value(metric, mean)
    if n > 1:
        cell += f" ({_format_value(metric, low)}–{_format_value(metric, high)}, {n} seeds)"
    updates = results[0][1]
    if updates != row_updates:
        cell += f", {updates:,} updates"
    return cell


def task_results(task, runs):
    """The `run_result` of each of `runs` (of `task`) that is there."""
    results = (run_result(run, task.metric, task.per_epoch) for run in runs)
    return [result for result in results if result is not None]


def summary_rows():
    """The summary table's rows, `(task, found)`: per task, every model's
    results. A task with no SAB and no LSTM run is left out."""
    rows = []
    for task in SUMMARY:
        found = {model: task_results(task, task.runs.get(model, ())) for model in SUMMARY_MODELS}
        if found["sab"] or found["lstm"]:
            rows.append((task, found))
    return rows


def behind_the_lstm(task, found):
    """Whether SAB's mean is worse than the LSTM's."""
    sab, lstm = seed_summary(found["sab"])[0], seed_summary(found["lstm"])[0]
    return sab > lstm if task.metric in LOWER_IS_BETTER else sab < lstm


def summary_table(rows):
    """The Markdown table of `summary_rows`."""
    lines = [
        "| task | paper | SAB (defaults) | LSTM | TBPTT | Transformer | updates | "
        "wall time, SAB / LSTM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, found in rows:
        row_updates = (found["sab"] or found["lstm"])[0][1]
        cells = [summary_cell(task.metric, found[m], row_updates) for m in SUMMARY_MODELS]
        if found["sab"] and found["lstm"] and behind_the_lstm(task, found):
            cells[0] += " **(behind the LSTM)**"
        times = " / ".join(
            f"{seed_summary([(r[2],) for r in found[m]])[0] / 60:.0f} min" if found[m] else "—"
            for m in ("sab", "lstm")
        )
        lines.append(
            f"| {task.task} | {task.paper} | " + " | ".join(cells)
            + f" | {row_updates:,} | {times} |"
        )
    return "\n".join(lines)


def summary_figure(rows, path):
    """One panel per task: a bar per model (the seeds' mean, their range as
    an error bar where there are several, the value written above), and the
    paper's figure as a dashed line across its model's bar, named below it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 4
    lines = (len(rows) + columns - 1) // columns
    fig, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3.1 * lines))
    colours = {"sab": "tab:red", "lstm": "tab:blue", "tbptt": "tab:gray",
               "transformer": "tab:green"}
    units = {"mse": "test MSE (lower is better)",
             "bpc": "bits per character (lower is better)"}
    for ax, (task, found) in zip(axes.flat, rows):
        models = [m for m in SUMMARY_MODELS if found[m]]
        stats = [seed_summary(found[m]) for m in models]
        means = [s[0] for s in stats]
        x = range(len(models))
        row_updates = (found["sab"] or found["lstm"])[0][1]
        ax.bar(x, means, color=[colours[m] for m in models])
        several = [i for i, m in enumerate(models) if len(found[m]) > 1]
        if several:
            ax.errorbar(several, [means[i] for i in several],
                        yerr=[[means[i] - stats[i][1] for i in several],
                              [stats[i][2] - means[i] for i in several]],
                        fmt="none", ecolor="black", capsize=3)
        ax.set_xticks(list(x), [_bar_label(m, found[m], row_updates) for m in models])
        for i, (mean, high) in enumerate(zip(means, (s[2] for s in stats))):
            ax.annotate(_format_value(task.metric, mean), (i, high), ha="center",
                        va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
        for i, model in enumerate(models):
            if model in task.marks:
                ax.hlines(task.marks[model], i - 0.45, i + 0.45, colors="black",
                          linestyles="dashed")
                ax.annotate(f"paper {task.marks[model]:g}%", (i - 0.45, task.marks[model]),
                            fontsize=6, va="top", xytext=(1, -1), textcoords="offset points")
        title = task.task.split(" (")[0] if task.metric != "bpc" else "text"
        ax.set_title(f"{title}\n{row_updates:,} updates", fontsize=9)
        ax.set_ylabel(units.get(task.metric, "test accuracy, %"), fontsize=8)
        if task.metric == "bpc":
            ax.set_ylim(1.8, max(s[2] for s in stats) + 0.15)
        elif task.metric not in LOWER_IS_BETTER:
            ax.set_ylim(0, 110)
        else:
            ax.set_ylim(0, max(s[2] for s in stats) * 1.15)
        ax.tick_params(axis="y", labelsize=8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bar_label(model, results, row_updates):
    """A bar's tick label: the model, its seeds and its updates where they
    differ from the panel's."""
    label = MODEL_NAMES[model]
    if len(results) > 1:
        label += f"\n{len(results)} seeds"
    if results[0][1] != row_updates:
        label += f"\n{results[0][1]:,} upd."
    return label


# The peer table: SAB beside its peers and the baselines, on the summary's rows
# that have a `peers` stem.
class PeerRow(NamedTuple):
    """One row of the peer table.

    Attributes:
        task: the summary's row.
        found: maps each of `PEER_TABLE_MODELS` to the results of its runs,
            as `run_result` gives them (an empty list: not run).
        at_sab_time: maps each peer with a figure per epoch to
            `(value, final)`: its seeds' mean figure at SAB's wall time
            (`figure_at`), and whether any of them finished sooner.
    """

    task: Task
    found: dict
    at_sab_time: dict


PEER_TABLE_MODELS = SUMMARY_MODELS + PEER_MODELS


# On the stream the LMU is a Keras RNN of its cell, since its layer refuses
# `stateful` (`examples/stateful_stream.py --models lmu_cell`).
STREAM_FORMS = {"lmu": "lmu_cell"}


def run_model(stem, model):
    """The name `model`'s runs on the peer row `stem` go by."""
    return STREAM_FORMS.get(model, model) if stem == STREAM_PEERS else model


def peer_runs(stem, model):
    """The run directories of seeds 0, 1 and 2 of `model` on the peer row
    `stem`: seed 0 is `peers/<stem>_<model>`, or `..._s0` where that is not
    there (`model` by its name on the row, `run_model`)."""
    run = f"peers/{stem}_{run_model(stem, model)}"
    first = run if os.path.isdir(os.path.join(HERE, run)) else f"{run}_s0"
    return [first, f"{run}_s1", f"{run}_s2"]


def peer_run(stem, directory, model):
    """A peer's run directory `directory` on the peer row `stem`, in the form
    `run_result` reads (`Task.runs`)."""
    if stem == TRANSFER_PEERS:
        return ("transfer", directory, directory)
    if stem == STREAM_PEERS:
        return (directory, run_model(stem, model))
    return directory


def figure_at(run, metric, seconds):
    """A run's test figure at a wall time, from its `log.csv`.

    The figure is the one after the epoch in which the run's training time
    reaches `seconds`, its epochs taken as equally long (its wall time over
    its epochs); a run that finished sooner gives its final figure.

    Args:
        run: a run directory, or a run of another form (none then).
        metric: the row's metric (`Task.metric`).
        seconds: the wall time.

    Returns:
        `(value, final)`, `final` saying whether the run finished sooner, or
        `None` where the run logs no test figure per epoch.
    """
    if not isinstance(run, str):
        return None
    metrics, log = load(run), read_log(run)
    key, scale = TEST_KEYS[metric]
    if metrics is None or log is None or f"val_{key}" not in log:
        return None
    epochs = metrics["epochs_done"]
    reached = max(1, math.ceil(seconds * epochs / _seconds(metrics)))
    if reached > epochs:
        return scale * metrics["test"][key], True
    by_epoch = {int(epoch): value for epoch, value in zip(log["epoch"], log[f"val_{key}"])}
    return scale * by_epoch[reached - 1], False


def _mean(values):
    return sum(values) / len(values)


def peer_rows():
    """The peer table's rows (`PeerRow`), one per summary row with a `peers`
    stem, in the summary's order."""
    rows = []
    for task in SUMMARY:
        if task.peers is None:
            continue
        runs = dict(task.runs)
        for model in PEER_MODELS:
            runs[model] = [peer_run(task.peers, run, model) for run in peer_runs(task.peers, model)]
        found = {model: task_results(task, runs.get(model, ())) for model in PEER_TABLE_MODELS}
        at_sab_time = {}
        if found["sab"]:
            seconds = _mean([result[2] for result in found["sab"]])
            for model in PEER_MODELS:
                figures = [figure_at(run, task.metric, seconds) for run in runs[model]]
                figures = [figure for figure in figures if figure is not None]
                if figures:
                    at_sab_time[model] = (
                        _mean([value for value, _ in figures]), any(f for _, f in figures)
                    )
        rows.append(PeerRow(task, found, at_sab_time))
    return rows


def _shown(metric, value):
    """`value` at the precision the tables show it."""
    return round(value, 3 if metric in LOWER_IS_BETTER else 1)


def _better(metric, value, other):
    """Whether `value` is better than `other`, as the tables show them."""
    value, other = _shown(metric, value), _shown(metric, other)
    return value < other if metric in LOWER_IS_BETTER else value > other


def row_means(row):
    """The seeds' mean of each model of `row` that was run."""
    return {model: seed_summary(found)[0] for model, found in row.found.items() if found}


def best_models(row):
    """The models of `row` whose mean is the best (several where they tie)."""
    means = row_means(row)
    return [
        model for model, mean in means.items()
        if not any(_better(row.task.metric, other, mean) for other in means.values())
    ]


def peer_cell(row, model, row_updates):
    """One model's cell of the peer table: the seeds' mean (in bold for the
    best of the row), their range or "1 seed", the updates where they differ
    from SAB's (`row_updates`, `None` where SAB was not run), the wall time
    per run and, for a peer, its figure at SAB's wall time."""
    results, metric = row.found[model], row.task.metric
    if not results:
        return "—"
    mean, low, high, n = seed_summary(results)
    figure = _format_value(metric, mean)
    if model in best_models(row):
        figure = f"**{figure}**"
    seeds = (f"{_format_value(metric, low)}–{_format_value(metric, high)}, {n} seeds"
             if n > 1 else "1 seed")
    cell = f"{figure} ({seeds})"
    if results[0][1] != row_updates:
        cell += f", {results[0][1]:,} updates"
    cell += f"<br>{_mean([result[2] for result in results]) / 60:.1f} min a run"
    if model in row.at_sab_time:
        value, final = row.at_sab_time[model]
        cell += f"<br>at SAB's time: {_format_value(metric, value)}" + (" (final)" if final else "")
    return cell


def peer_table(rows):
    """The Markdown table of `peer_rows`: a row per task, a column per model."""
    lines = [
        "| task | updates (SAB's) | SAB (defaults) | "
        + " | ".join(MODEL_NAMES[model] for model in PEER_TABLE_MODELS[1:]) + " |",
        "|---|---|" + "---|" * len(PEER_TABLE_MODELS),
    ]
    for row in rows:
        row_updates = row.found["sab"][0][1] if row.found["sab"] else None
        cells = [peer_cell(row, model, row_updates) for model in PEER_TABLE_MODELS]
        updates = "—" if row_updates is None else f"{row_updates:,}"
        lines.append(f"| {row.task.task} | {updates} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _figures(metric, models, figures):
    """`models` named with their figures: "GRU (0.013), TCN (0.003)"."""
    return ", ".join(f"{MODEL_NAMES[m]} ({_format_value(metric, figures[m])})" for m in models)


def verdict(row):
    """A sentence on `row`: the best model and whether SAB is ahead or behind,
    at the end of the runs and, where the peers' logs say, at SAB's wall time."""
    metric = row.task.metric
    means = row_means(row)
    if not means:
        return f"**{row.task.task}**: not run."
    best = best_models(row)
    names = " and ".join(MODEL_NAMES[model] for model in best)
    text = f"**{row.task.task}**: {names} best ({_format_value(metric, means[best[0]])})"
    if "sab" not in means:
        return text + "; SAB not run."
    sab = means["sab"]
    others = [m for m in means if m not in best and _better(metric, means[m], sab)]
    if best == ["sab"]:
        text += ", ahead of every other model run"
    elif "sab" in best:
        text += ", level"
    else:
        text += f", SAB behind ({_format_value(metric, sab)})"
    if others:
        text += f"; also ahead of SAB: {_figures(metric, others, means)}"
    if row.at_sab_time:
        values = {model: value for model, (value, _) in row.at_sab_time.items()}
        late = [m for m in values if _better(metric, values[m], sab)]
        text += (f"; at SAB's wall time, ahead of SAB: {_figures(metric, late, values)}"
                 if late else "; at SAB's wall time, no peer ahead of SAB")
    return text + "."


# A peer searched before its run (`--tune-epochs`, examples/model_tuning.py)
# is committed as `peers/<stem>_<model>_tuned`, beside its untuned seed 0.
TUNED = "_tuned"


def _setting(name, value):
    """One knob of a grid point: "lr 0.003", "order 256"."""
    return f"{name} {value:g}"


def tuned_table():
    """The Markdown table of every tuned peer run: its grid with each
    point's validation loss, the point its run went on with in bold, and
    its test figure beside the same model's untuned seed 0 on the same row."""
    lines = [
        "| task | model | grid: epochs a point; each point's validation loss (lowest chosen) "
        "| test, tuned | test, untuned (seed 0) |",
        "|---|---|---|---|---|",
    ]
    for task in SUMMARY:
        if task.peers is None:
            continue
        for model in PEER_MODELS:
            run = f"peers/{task.peers}_{model}{TUNED}"
            tuning, tuned = load(run, "tuning.json"), run_result(run, task.metric, task.per_epoch)
            if tuning is None or tuned is None:
                continue
            points = "; ".join(
                ("**{}**" if point["settings"] == tuning["chosen"] else "{}").format(
                    ", ".join(_setting(n, v) for n, v in point["settings"].items())
                    + f": {point['val_loss']:.3f}"
                )
                for point in tuning["points"]
            )
            untuned = run_result(peer_runs(task.peers, model)[0], task.metric, task.per_epoch)
            untuned = "—" if untuned is None else _format_value(task.metric, untuned[0])
            lines.append(
                f"| {task.task} | {MODEL_NAMES[model]} | {tuning['epochs_per_point']}; {points} "
                f"| {_format_value(task.metric, tuned[0])} | {untuned} |"
            )
    return "\n".join(lines)


def capability_table():
    """The Markdown table of `peer_capabilities.CAPABILITIES`: a row per
    capability, naming the test that measures it, a column per model."""
    models = peer_capabilities.MODELS
    names = {**MODEL_NAMES, "lmu_cell": "LMU cell"}
    lines = [
        "| capability: what the test measures (its test in tests/test_peers.py) | "
        + " | ".join(names[model] for model in models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for capability, (label, measures) in peer_capabilities.ROWS.items():
        cells = peer_capabilities.CAPABILITIES[capability]
        marks = [{True: "✓", False: "✗"}.get(cells.get(model), "—") for model in models]
        lines.append(
            f"| **{label}**: {measures} (`test_{capability}`) | " + " | ".join(marks) + " |"
        )
    return "\n".join(lines)


PEERS_PAGE = """\
# SAB beside its peers

<!-- generated by docs/results/tables.py --write: edit it there -->

SAB with its defaults beside the summary's LSTM, TBPTT and Transformer and four peers of the
examples' harness (`--model gru | tcn | lmu | cfc`: Keras's GRU, keras-tcn's TCN, keras-lmu's
LMU and ncps's CfC), each sized within 10% of SAB's parameter count, on the tasks of
[RESULTS.md](../RESULTS.md) with their data and, unless a cell says otherwise, their number of
updates. Every figure is a committed run's own (`docs/results/<run>/` for SAB and the baselines,
`docs/results/peers/<run>/` for the peers); — is a run not made.

**How to read it.** A cell is the test figure: the seeds' mean (the range over seeds and their
count, or "1 seed"), with the updates where they differ from SAB's, then the wall time of one
run (the seeds' mean). Accuracy and recall are higher-is-better; the adding task's mean squared
error and the text's bits per character are **lower-is-better**. The best mean of a row, at the
precision shown, is in **bold** (several where they tie). "At SAB's time" is a peer's test
figure after the epoch in which its training time reaches SAB's wall time, its epochs taken as
equally long (its wall time over its epochs); "(final)" marks a peer that finished sooner than
SAB, whose figure is then its last. Wall times are of the CPU machine of RESULTS.md, which some
runs shared with other work, and some runs trained in graph mode, others compiled with XLA
(`metrics.json` says which): they compare the models roughly, not to the second. On the
stateful stream the LMU is keras-lmu's cell in a Keras RNN (`--models lmu_cell`), since its
layer refuses `stateful=True`.

## The tasks

{table}

Where a model beats SAB, the table says so:

{verdicts}

## The peers tuned

Before its run, a peer tuned with `--tune-epochs E` trains each point of its grid
(`examples/model_tuning.py`: the learning rate, the TCN's kernel size, the LMU's order, the
width following SAB's parameter count) for E epochs from the same seed, and the run goes on
with the point of lowest validation loss, a point that diverged (NaN) never chosen
(`tuning.json` in the run's directory). The untuned
runs above use the harness's settings (`run_config.json`: the task's learning rate, TCN kernel
8, LMU order 256).

{tuned}

## What each layer can do

Each cell is asserted by a test of `tests/test_peers.py` that builds the layer and measures the
behaviour (`CAPABILITIES` in [`peer_capabilities.py`](peer_capabilities.py)): ✓ it does, ✗ it
does not, — it cannot be asked (the Transformer has no state to carry and no `go_backwards`; a
layer that refuses `stateful=True` has no previous call to send credit to). LMU is
`keras_lmu.LMU` as the harness configures it, LMU cell `keras.layers.RNN(keras_lmu.LMUCell(...))`,
the form keras-lmu streams with.

{capabilities}
"""


# The read variants beside each other (read_variants.md): one `ReadRow` per
# task, whose `Task`'s `runs` map a variant (a key of `READ_VARIANTS`, the
# table's columns) to its runs, one per seed.
class ReadRow(NamedTuple):
    """One task (a row) of the read table.

    Attributes:
        task: the row's `Task`.
        updates: the row's budget; a run of another length says so.
        logged: read the test figure the run logged after `updates` (a
            longer copy run's test recall on the way) instead of its final one.
    """

    task: Task
    updates: int
    logged: bool = False


READ_VARIANTS = {
    "paper": "the paper's step (`read=\"add\"`, the default)",
    "null": "`null_slot=True`",
    "projected": "`read=\"projected\"`",
    "projected_null": "`read=\"projected\", null_slot=True`",
    "projected_null_offset": "the same, the empty memory's score started 3 lower (patch)",
    "gain": "`read=\"projected\", read_gain=0.5` at the paper's step's parameter count "
    "(115 units on the digits and the copy task, 116 on the text)",
    "gain_128": "`read=\"projected\", read_gain=0.5` at the paper's step's width "
    "(its `A` adds `units²` weights)",
    "gain_null": "`read=\"projected\", read_gain=0.5, null_slot=True`",
    "gain_null_offset": "the same, the empty memory's score started 3 lower (patch)",
    "gain_null_whole": "`read_gain=0.5, null_slot=True`, the read's gradient as if whole (patch)",
    "gain_null_whole_offset": "the same, the empty memory's score started 3 lower (patch)",
    "lstm": "LSTM",
}
_N = "null_slot"
_G = "projection_gain"
_D = "ablations/digits"
_COPY_T100 = {
    "paper": ["copy_T100_sab_default"], "null": [f"{_N}/copy_T100_add_null"],
    "projected": ["read_projected/copy_T100"], "projected_null": [f"{_N}/copy_T100_115"],
    "projected_null_offset": [f"{_N}/offset/copy_T100_115"], "lstm": ["copy_T100_lstm"],
    "gain": [f"{_G}/copy_T100_115"], "gain_128": [f"{_G}/copy_T100"],
    "gain_null": [f"{_G}/null_slot/copy_T100_115"],
    "gain_null_offset": [f"{_G}/null_slot/offset/copy_T100_115"],
    "gain_null_whole": [f"{_G}/null_slot/whole_read_gradient/copy_T100_115"],
    "gain_null_whole_offset": [f"{_G}/null_slot/whole_read_gradient/offset/copy_T100_115"],
}
READ_ROWS = [
    ReadRow(Task("text, 5,000 updates (bits per character)", "", "bpc", {
        "paper": [f"text8_sab_default_5000{s}" for s in SEEDS],
        "projected": seed_runs("read_projected/text8_116_5000"),
        "projected_null": seed_runs(f"{_N}/text8_116_5000"),
        "gain": seed_runs(f"{_G}/text8_116_5000"),
        "gain_128": seed_runs(f"{_G}/text8_128_5000"),
        "gain_null_whole_offset": [
            f"{_G}/null_slot/whole_read_gradient/offset/text8_116_5000_s0"
        ],
        "lstm": [f"text8_lstm135_5000{s}" for s in SEEDS]}), 5000),
    ReadRow(Task("permuted 8x8 digits, 720 updates", "", "accuracy", {
        "paper": seed_runs("digits_permuted_sab_default"),
        "null": seed_runs(f"{_D}/read_null_slot"),
        "projected": seed_runs(f"{_D}/read_hybrid_matrix_115"),
        "projected_null": seed_runs(f"{_N}/digits_115"),
        "projected_null_offset": seed_runs(f"{_N}/offset/digits_115"),
        "gain": seed_runs(f"{_G}/digits_115"),
        "gain_128": seed_runs(f"{_G}/digits_128"),
        "gain_null": seed_runs(f"{_G}/null_slot/digits_115"),
        "gain_null_offset": seed_runs(f"{_G}/null_slot/offset/digits_115"),
        "gain_null_whole_offset": seed_runs(
            f"{_G}/null_slot/whole_read_gradient/offset/digits_115"
        ),
        "lstm": seed_runs("digits_permuted_lstm136")}, 24), 720),
    ReadRow(Task("permuted MNIST, 3,024 updates", "", "accuracy", {
        "paper": seed_runs("mnist5k_permuted_sab_default_3k"),
        "gain_128": seed_runs(f"{_G}/mnist5k_3k_128"),
        "lstm": seed_runs("mnist5k_permuted_lstm136_3k")}, 63), 3024),
    ReadRow(Task("Fashion-MNIST at T=784, 60,000 images, 3,000 updates", "", "accuracy", {
        "paper": ["fashion60k_sab_default_s0"],
        "gain_128": [f"{_G}/fashion60k_128_s0"],
        "lstm": ["fashion60k_lstm136_s0"]}), 3000),
    ReadRow(Task("copy T=100, 1,000 updates", "", "recall", _COPY_T100), 1000, True),
    ReadRow(Task("copy T=100, 3,000 updates", "", "recall", _COPY_T100), 3000, True),
    ReadRow(Task("copy T=200, 12,000 updates (target 90%)", "", "recall", {
        "paper": ["copy_T200_sab_default"], "projected_null": [f"{_N}/copy_T200_115"],
        "gain_128": [f"{_G}/copy_T200"],
        "lstm": ["copy_T200_lstm"]}), 12000),
    ReadRow(Task("transfer to T=5000", "", "transfer", {
        "paper": [("transfer", "transfer_sab_default", "copy_T100_sab_default")],
        "projected_null": [("transfer", f"{_N}/transfer", f"{_N}/copy_T100_115")],
        "gain_128": [("transfer", f"{_G}/transfer", f"{_G}/copy_T100")],
        "lstm": [("transfer", "transfer_lstm", "copy_T100_lstm")]}), 8000),
    ReadRow(Task("adding T=200 (MSE)", "", "mse", {
        "paper": ["adding_T200_sab"], "projected": ["read_projected/adding_T200"],
        "projected_null": [f"{_N}/adding_T200"], "gain_128": [f"{_G}/adding_T200"],
        "lstm": ["adding_T200_lstm"]}), 2000),
    ReadRow(Task("adding T=400 (MSE; target below 0.02)", "", "mse", {
        "paper": [f"adding_T400_sab{s}" for s in SEEDS],
        "projected": ["read_projected/adding_T400"],
        "projected_null": [f"{_N}/adding_T400{s}" for s in SEEDS],
        "projected_null_offset": [f"{_N}/offset/adding_T400"],
        "gain_128": [f"{_G}/adding_T400{s}" for s in SEEDS],
        "gain_null": [f"{_G}/null_slot/adding_T400"],
        "gain_null_offset": [f"{_G}/null_slot/offset/adding_T400"],
        "gain_null_whole": [f"{_G}/null_slot/whole_read_gradient/adding_T400"],
        "gain_null_whole_offset": [f"{_G}/null_slot/whole_read_gradient/offset/adding_T400"],
        "lstm": ["adding_T400_lstm"]}), 2000),
    ReadRow(Task("README cue recall", "", "demo", {
        "paper": [(f"sab_vs_lstm/seed{s}", "sab") for s in range(3)],
        "projected": [(f"read_projected/sab_vs_lstm_s{s}", "sab") for s in range(3)],
        "projected_null": [(f"{_N}/sab_vs_lstm_s{s}", "sab") for s in range(3)],
        "gain_128": [(f"{_G}/sab_vs_lstm_s{s}", "sab") for s in range(3)],
        "lstm": [(f"sab_vs_lstm/seed{s}", "lstm") for s in range(3)]}), 800),
    ReadRow(Task("stateful stream, cue 1 call back", "", "demo", {
        "paper": [(f"stateful_stream/credit_seed{s}", "sab") for s in range(3)],
        "projected_null": [(f"{_N}/stream_credit_s{s}", "sab") for s in range(3)],
        "gain_128": [(f"{_G}/stream_s{s}", "sab") for s in range(3)],
        "lstm": [(f"stateful_stream/credit_seed{s}", "lstm") for s in range(3)]}), 800),
]
READ_START = "<!-- read table: generated by docs/results/tables.py --write -->"
READ_END = "<!-- end of read table -->"


def read_row_results(row, variant):
    """The results (`run_result`'s form) of `variant`'s runs in `row`."""
    runs = row.task.runs.get(variant, ())
    if not row.logged:
        return task_results(row.task, runs)
    key, scale = TEST_KEYS[row.task.metric]
    results = []
    for run in runs:
        log, metrics = read_log(run), load(run)
        if log is None or metrics is None or f"val_{key}" not in log:
            continue
        found = by_updates(log, f"val_{key}", _steps_per_epoch(metrics, row.task.per_epoch))
        if row.updates in found:
            results.append((scale * found[row.updates], row.updates, _seconds(metrics)))
    return results


def read_table():
    """The Markdown table of every read variant (`READ_VARIANTS`, the
    columns) on every task (`READ_ROWS`): the seeds' mean and range; — where
    not run."""
    lines = [
        "| task | " + " | ".join(READ_VARIANTS.values()) + " |",
        "|---|" + "---|" * len(READ_VARIANTS),
    ]
    for row in READ_ROWS:
        cells = [
            summary_cell(row.task.metric, read_row_results(row, variant), row.updates)
            for variant in READ_VARIANTS
        ]
        lines.append(f"| {row.task.task} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peers_page(rows):
    """The text of `peers.md` for the rows `peer_rows` gives."""
    return PEERS_PAGE.format(
        table=peer_table(rows),
        verdicts="\n".join(f"- {verdict(row)}" for row in rows),
        capabilities=capability_table(),
        tuned=tuned_table(),
    )


def page_with_block(page, block, start, end):
    """`page` with the text between the markers `start` and `end` replaced by
    `block`."""
    first, last = page.index(start), page.index(end)
    return page[: first + len(start)] + "\n" + block + "\n" + page[last:]


def _read(path):
    """The text of `path`, or `""` where it is not there."""
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def write_or_check(check):
    """Rewrites (or with `check`, compares) the summary and the peer table
    of docs/RESULTS.md and the page `peers.md`; writing also draws
    `summary.png` and the comparison curves."""
    rows, peers = summary_rows(), peer_rows()
    results = os.path.join(HERE, os.pardir, "RESULTS.md")
    reads = os.path.join(HERE, "read_variants.md")
    page = page_with_block(_read(results), summary_table(rows), SUMMARY_START, SUMMARY_END)
    pages = {
        "docs/RESULTS.md": (
            results, page_with_block(page, peer_table(peers), PEERS_START, PEERS_END)
        ),
        "docs/results/peers.md": (os.path.join(HERE, "peers.md"), peers_page(peers)),
        "docs/results/read_variants.md": (
            reads, page_with_block(_read(reads), read_table(), READ_START, READ_END)
        ),
    }
    if check:
        stale = [name for name, (path, text) in pages.items() if _read(path) != text]
        if stale:
            raise SystemExit(
                f"{' and '.join(stale)} out of date: run `python docs/results/tables.py --write`."
            )
        return
    for path, text in pages.values():
        with open(path, "w") as f:
            f.write(text)
    summary_figure(rows, os.path.join(HERE, "summary.png"))
    comparison_figures()


COPY_T100 = ["sab_default", "sab", "sab_softmax", "sab_softmax_seed1", "sab_authors",
             "lstm", "tbptt", "self_attention", "transformer"]
COPY_T200 = ["sab_default", "sab", "sab_softmax", "lstm", "tbptt", "self_attention",
             "transformer"]
# The curves the pages show: file name, title, `{label: run or [seed runs]}`,
# the metric (without `val_`) and the updates per epoch. Seeds are drawn as
# their mean in a band from the lowest to the highest.
COMPARISONS = [
    ("copy_T100_comparison.png", "Copy task, T=100: test recall",
     {m: f"copy_T100_{m}" for m in COPY_T100}, "copy_recall_accuracy", 100),
    ("copy_T200_comparison.png", "Copy task, T=200: test recall",
     {m: f"copy_T200_{m}" for m in COPY_T200}, "copy_recall_accuracy", 100),
    ("text8_5000_comparison.png", "Character-level text, 5,000 updates at lr 3e-3",
     {"sab (default), 128 units":
          ["text8_sab_default_5000", "text8_sab_default_5000_s1", "text8_sab_default_5000_s2"],
      "lstm, 135 units (SAB's parameter count)":
          ["text8_lstm135_5000", "text8_lstm135_5000_s1", "text8_lstm135_5000_s2"]},
     "bits_per_character", 200),
    ("mnist5k_3k_comparison.png", "Permuted pixel MNIST at T=784, 3,024 updates",
     {"sab (defaults), 128 units": seed_runs("mnist5k_permuted_sab_default_3k"),
      "lstm, 136 units (SAB's parameter count)": seed_runs("mnist5k_permuted_lstm136_3k")},
     "accuracy", 63),
    ("fashion4k_comparison.png", "Fashion-MNIST at T=784",
     {"sab (k_top=10, k_trunc=20)": "fashion4k_sab_s0",
      "lstm, 136 units": "fashion4k_lstm136_s0",
      "tbptt, k_trunc=20": "fashion4k_tbptt_s0",
      "transformer, width 64": "fashion4k_transformer_s0"},
     "accuracy", 63),
    ("fashion60k_comparison.png", "Fashion-MNIST at T=784, 60,000 training images",
     {"sab (defaults), 128 units": "fashion60k_sab_default_s0",
      "sab, read=\"projected\", read_gain=0.5, 128 units": f"{_G}/fashion60k_128_s0",
      "lstm, 136 units (SAB's parameter count)": "fashion60k_lstm136_s0",
      "transformer, width 64": "fashion60k_transformer_1500_s0"},
     "accuracy", 300),
]


def comparison_figures():
    """Draws `COMPARISONS`: each metric against updates, the runs on one axis."""
    from keras_sab import plots

    def committed(runs):
        return [plots.read_log(os.path.join(HERE, run, "log.csv"))
                for run in runs if os.path.exists(os.path.join(HERE, run, "log.csv"))]

    for name, title, runs, metric, steps_per_epoch in COMPARISONS:
        logs = {label: committed(run if isinstance(run, list) else [run])
                for label, run in runs.items()}
        logs = {label: seeds for label, seeds in logs.items() if seeds}
        plots.plot_run_comparison(logs, metric, os.path.join(HERE, name),
                                  steps_per_epoch=steps_per_epoch, title=title)


def page(name):
    """The heading of one page's tables in the printout."""
    print(f"\n\n## {name}")


def copy_pages():
    """copy.md and transfer.md."""
    page("copy.md")
    sabs = COPY_T100[:5]
    copy_table(100, COPY_T100, {name: "SAB: target >= 99%" for name in sabs})
    copy_budget_table(100, COPY_T100, [2000, 4000, 8000, 15000, 20000, 25000])
    copy_table(
        200, COPY_T200,
        {"sab_default": "SAB: 95%", "sab": "95%", "sab_softmax": "SAB: 95%", "lstm": "52%",
         "self_attention": "34%"},
    )
    copy_budget_table(200, COPY_T200, [1000, 2000, 6000, 9000, 12000])
    page("transfer.md")
    transfer_table(
        ["sab_default", "sab", "sab_softmax", "sab_softmax_15000", "sab_softmax_25000", "lstm"]
    )


def cue_recall_pages():
    """cue_recall.md, stateful_stream/README.md and stateful_stream/more.md."""
    page("cue_recall.md")
    sab_beside_lstm_table(
        "The README demo: `python examples/sab_vs_lstm.py --seed S`",
        "sab_vs_lstm/seed{seed}",
        [0, 1, 2],
    )
    page("stateful_stream/README.md")
    sab_beside_lstm_table(
        "Stateful streams, stream credit: `python examples/stateful_stream.py --seed S` "
        "(cue recall, two segments of 105 steps)",
        "stateful_stream/credit_seed{seed}",
        [0, 1, 2],
    )
    page("stateful_stream/more.md")
    sab_beside_lstm_table(
        "Stateful streams before stream credit (runs of 2026-12-02; today "
        "`--no-stream-credit`)",
        "stateful_stream/seed{seed}",
        [0, 1, 2],
    )
    sab_beside_lstm_table(
        "Stateful streams, the question after every segment: `python "
        "examples/stateful_stream.py --ask-every-segment --seed S`",
        "stateful_stream/asked_seed{seed}",
        [0, 1, 2],
    )


def adding_page():
    """adding.md."""
    page("adding.md")
    for timesteps in (200, 400):
        single_metric_table(
            f"Adding task, T={timesteps} (mean squared error; predicting the mean: 0.167)",
            {model: f"adding_T{timesteps}_{model}" for model in ("sab", "lstm", "tbptt")},
            lambda test: f"{test['loss']:.4f}",
            "mean squared error",
            {},
        )


def pixel_pages():
    """digits.md, permuted_mnist.md and fashion_mnist.md."""
    page("digits.md")
    digits = "digits_permuted"
    accuracy = (percent("accuracy"), ("accuracy", "accuracy"))
    accuracy_log = ("val_accuracy", lambda value: f"{100 * value:.1f}%")
    seeds_table(
        "Permuted pixel digits, 720 updates (30 epochs): the default SAB beside the LSTM",
        {
            "sab (defaults: sparse_softmax, τ=1)": seed_runs(f"{digits}_sab_default"),
            "lstm, 136 units (SAB's parameter count)": seed_runs(f"{digits}_lstm136"),
        },
        *accuracy,
    )
    seeds_table(
        "Permuted pixel digits, 2,400 updates (100 epochs): the default SAB beside the LSTM",
        {
            "sab (defaults: sparse_softmax, τ=1)": seed_runs(f"{digits}_sab_default_100ep"),
            "lstm, 136 units (SAB's parameter count)": seed_runs(f"{digits}_lstm136_100ep"),
        },
        *accuracy,
        last_epochs="val_accuracy",
    )
    page("permuted_mnist.md")
    mnist5k = "mnist5k_permuted"
    seeds_table(
        "Permuted pixel MNIST at T=784, 630 updates (10 epochs)",
        {
            "sab, the paper's k_top=10, k_trunc=20 (the example's defaults)": [f"{mnist5k}_sab_s0"],
            "sab, the layer's defaults (k_top=5, k_trunc=10)": seed_runs(f"{mnist5k}_sab_default"),
            "lstm, 136 units (SAB's parameter count), full BPTT": seed_runs(f"{mnist5k}_lstm136"),
            "tbptt, k_trunc=20": seed_runs(f"{mnist5k}_tbptt"),
            "transformer, width 64, 2 blocks": seed_runs(f"{mnist5k}_transformer"),
        },
        *accuracy,
    )
    seeds_table(
        "Permuted pixel MNIST at T=784, 3,024 updates (48 epochs)",
        {
            "sab, the layer's defaults (k_top=5, k_trunc=10)":
                seed_runs(f"{mnist5k}_sab_default_3k"),
            "lstm, 136 units (SAB's parameter count), full BPTT":
                seed_runs(f"{mnist5k}_lstm136_3k"),
        },
        *accuracy,
        last_epochs="val_accuracy",
    )
    page("fashion_mnist.md")
    single_metric_table(
        "Fashion-MNIST pixel by pixel at T=784, in reading order, 630 updates",
        {
            "sab, the paper's k_top=10, k_trunc=20 (the example's defaults)":
                "fashion4k_sab_s0",
            "lstm, 136 units (SAB's parameter count), full BPTT": "fashion4k_lstm136_s0",
            "tbptt, k_trunc=20": "fashion4k_tbptt_s0",
            "transformer, width 64, 2 blocks": "fashion4k_transformer_s0",
        },
        percent("accuracy"),
        "accuracy",
        {},
    )
    log_table(
        "Fashion-MNIST at T=784: test accuracy after N updates",
        {
            "sab (k_top=10, k_trunc=20)": "fashion4k_sab_s0",
            "lstm, 136 units": "fashion4k_lstm136_s0",
            "tbptt, k_trunc=20": "fashion4k_tbptt_s0",
            "transformer, width 64": "fashion4k_transformer_s0",
        },
        [126, 315, 504, 630],
        *accuracy_log,
        steps_per_epoch=63,
    )
    log_table(
        "Fashion-MNIST at T=784, 60,000 training images: test accuracy after N updates",
        {
            "sab (defaults: k_top=5, k_trunc=10)": "fashion60k_sab_default_s0",
            "sab, read=\"projected\", read_gain=0.5": f"{_G}/fashion60k_128_s0",
            "lstm, 136 units (SAB's parameter count)": "fashion60k_lstm136_s0",
            "transformer, width 64, 2 blocks": "fashion60k_transformer_1500_s0",
        },
        [600, 1200, 1500, 1800, 2400, 3000],
        *accuracy_log,
        steps_per_epoch=300,
    )


def text_page():
    """text.md."""
    page("text.md")
    seeds_table(
        "Character-level text, 5,000 updates at Adam lr 3e-3",
        {
            "sab (defaults), 128 units": [f"text8_sab_default_5000{s}" for s in SEEDS],
            "lstm, 135 units (SAB's parameter count)": [
                f"text8_lstm135_5000{s}" for s in SEEDS
            ],
        },
        lambda test: f"{test['bits_per_character']:.3f}",
        ("bits per character", "bits_per_character"),
    )
    log_table(
        "Character-level text, 5,000 updates at lr 3e-3, seed 0: test bits per character "
        "after N updates",
        {
            "sab (default), 128 units": "text8_sab_default_5000",
            "lstm, 135 units (SAB's parameter count)": "text8_lstm135_5000",
        },
        [200, 1000, 2000, 3000, 4000, 5000],
        "val_bits_per_character",
        lambda bpc: f"{bpc:.3f}",
        steps_per_epoch=200,
    )
    single_metric_table(
        "Character-level text, 1,000 updates (gensim Wikipedia excerpt, text8 filter)",
        {
            "sab (paper's weights), lr 1e-3": "text8_sab",
            "sab_softmax, lr 1e-3": "text8_sab_softmax",
            "lstm, 135 units, lr 1e-3": "text8_lstm",
            "sab (default), lr 3e-3": "text8_sab_default_lr3e-3",
            "sab, hybrid read (ablation), lr 3e-3": "ablations/text8_read_hybrid",
            "sab, hybrid read with α per unit (ablation), lr 3e-3":
                "ablations/text8_read_hybrid_units",
            "lstm, 135 units, lr 3e-3": "text8_lstm_lr3e-3",
        },
        bits_per_character,
        "bits per character",
        {},
    )


def ablation_pages():
    """read_variants.md, dot_scorer.md, paper_weights.md and tied_scores.md."""
    page("read_variants.md")
    digits, ablations = "digits_permuted", "ablations/digits"
    seeds_table(
        "Permuted pixel digits, 720 updates: one change at a time (SAB, k_top=10, k_att=10, "
        "k_trunc=20)",
        {
            "sab, Adam lr 1e-3 (the earlier runs' rate)": [f"{ablations}/sab_lr1e-3"],
            "sab, lr 3e-3": seed_runs(f"{digits}_sab_default"),
            "read feeds the output and the memory, not the recurrence":
                seed_runs(f"{ablations}/read_output"),
            "read scaled by a trainable α from 0, everywhere": [f"{ablations}/read_rezero"],
            "hybrid with α from 1 (it starts as the default's step)": [
                f"{ablations}/read_hybrid_alpha1"
            ],
            "read into the output in full, into the recurrence scaled by α from 0":
                seed_runs(f"{ablations}/read_hybrid"),
            "the same with one α per unit, from 0": seed_runs(f"{ablations}/read_hybrid_units"),
            "the same with one α per unit, from 0.5": [f"{ablations}/read_hybrid_units_alpha0.5"],
            "full BPTT (`k_trunc=None`)": [f"{ablations}/full_bptt"],
            "the layer's own defaults (`k_top=5, k_trunc=10`)": [f"{ablations}/layer_defaults"],
            "lstm, 128 units, lr 3e-3": [f"{ablations}/lstm128"],
            "lstm, 128 units, lr 1e-3 (earlier run)": [f"{digits}_lstm"],
        },
        percent("accuracy"),
        ("accuracy", "accuracy"),
    )
    log_table(
        "Copy T=100 with the read variants: test recall after N updates",
        {
            "sab (default)": "copy_T100_sab_default",
            "read feeds the output and the memory, not the recurrence":
                "ablations/copy_T100_read_output",
            "read into the output in full, into the recurrence scaled by α from 0":
                "ablations/copy_T100_read_hybrid",
            "the same with one α per unit, from 0": "ablations/copy_T100_read_hybrid_units",
            "the same with one α per unit, from 0.5":
                "ablations/copy_T100_read_hybrid_units_alpha0.5",
        },
        [200, 500, 1000, 2000, 3000],
        "val_copy_recall_accuracy",
        lambda recall: f"{100 * recall:.1f}%",
    )
    page("dot_scorer.md")
    seeds_table(
        "Permuted pixel digits, 2,400 updates: the dot-product scorer beside the MLP",
        {
            "sab (defaults, scorer=\"mlp\")": seed_runs(f"{digits}_sab_default_100ep"),
            "sab, scorer=\"dot\"": seed_runs(f"{digits}_sab_dot_100ep"),
            "lstm, 136 units (SAB's parameter count)": seed_runs(f"{digits}_lstm136_100ep"),
        },
        percent("accuracy"),
        ("accuracy", "accuracy"),
        last_epochs="val_accuracy",
    )
    log_table(
        "Copy T=100, the dot-product scorer beside the default MLP scorer: test recall after "
        "N updates",
        {
            "sab (defaults, scorer=\"mlp\")": "copy_T100_sab_default",
            "sab, scorer=\"dot\"": "copy_T100_sab_dot",
        },
        [1000, 2000, 4000, 6000, 8000],
        "val_copy_recall_accuracy",
        lambda recall: f"{100 * recall:.1f}%",
    )
    page("paper_weights.md")
    ablation_table(
        {
            "base": "SAB as in every run (per-variable clipnorm)",
            "global": "global clipnorm 1 (the authors')",
            "t101": "T=101: marker opens a truncation block (the authors' alignment)",
            "headln": "LayerNormalization before the head",
            "null": "memory starts with one zero slot (the authors'; diagnostic hack)",
            "init0.01": "scorer weights drawn from N(0, 0.01²) (the authors')",
            "full_bptt": "no truncation (`k_trunc=None`): sparse attention, full BPTT",
            "dense": "`attention=\"dense\"`: softmax over every memory, same truncation",
            "topk_softmax": "same top-k selection, softmax weights (diagnostic hack)",
        },
        [500, 1000, 1500],
    )
    single_metric_table(
        "Permuted pixel digits, 720 updates at lr 1e-3: the paper's weights and softmax weights",
        {
            "sab, the paper's weights (`sparse`)": "digits_permuted_sab",
            "sab, softmax weights (`sparse_softmax`)": "digits_permuted_sab_softmax",
            "lstm, 128 units": "digits_permuted_lstm",
        },
        percent("accuracy"),
        "accuracy",
        {},
    )
    demo_table(
        [0, 1, 2],
        {
            "default": "default weights (`sparse_softmax`)",
            "seeded": "`sparse`",
            "softmax": "`--attention sparse_softmax`",
            "head": "`sparse`, output layer unseeded",
            "prefix": "`sparse`, output layer unseeded, before the tied-scores fix",
        },
    )
    page("tied_scores.md")
    recall = percent("copy_recall_accuracy")
    before_after_table({
        "copy_T100_sab": ("recall", recall),
        "copy_T100_sab_authors": ("recall", recall),
        "copy_T200_sab": ("recall", recall),
        "digits_permuted_sab": ("accuracy", percent("accuracy")),
        "text8_sab": ("bits per character", bits_per_character),
    })


def peers_tables():
    """peers.md."""
    page("peers.md")
    print(f"\n{peer_table(peer_rows())}\n\n{capability_table()}")


def main():
    """Prints the tables of every page under docs/results, page by page."""
    copy_pages()
    adding_page()
    cue_recall_pages()
    pixel_pages()
    text_page()
    ablation_pages()
    peers_tables()


if __name__ == "__main__":
    if {"--write", "--check"} & set(sys.argv[1:]):
        write_or_check("--check" in sys.argv[1:])
    else:
        main()
