"""Prints the tables of docs/RESULTS.md from the committed run outputs.

    python docs/results/tables.py

Every figure comes from a `docs/results/<run>/metrics.json` (or, for
transfer, `transfer.json`) written by the run itself.
"""

import json
import os

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
            f"{updates(metrics)} | {metrics['wall_time_s'] / 60:.1f} min |"
        )


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
            f"{metrics['wall_time_s'] / 60:.1f} min |"
        )


def main():
    copy_table(
        100, ["sab", "lstm", "tbptt", "self_attention"],
        {"sab": "target >= 99%"},
    )
    copy_table(200, ["sab", "lstm"], {"sab": "95%", "lstm": "52%", "self_attention": "34%"})
    transfer_table(["sab", "lstm"])
    single_metric_table(
        "Permuted pixel digits (scikit-learn 8x8, T=64)",
        {"sab": "digits_permuted_sab", "lstm": "digits_permuted_lstm"},
        lambda test: f"{100 * test['accuracy']:.1f}%",
        "accuracy",
        {"sab": "pMNIST: 90.9%", "lstm": "pMNIST: 90.3%"},
    )
    single_metric_table(
        "Character-level text (gensim Wikipedia excerpt, text8 filter)",
        {"sab": "text8_sab", "lstm": "text8_lstm"},
        lambda test: f"{test['bits_per_character']:.3f}",
        "bits per character",
        {"sab": "text8: beats LSTM", "lstm": "text8"},
    )


if __name__ == "__main__":
    main()
