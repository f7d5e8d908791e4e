"""docs/results/tables.py: the summary of docs/RESULTS.md is regenerated from
the committed runs, and its figures are the runs' own."""

import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def tables():
    spec = importlib.util.spec_from_file_location(
        "tables", os.path.join(ROOT, "docs", "results", "tables.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_summary_is_up_to_date(tables):
    """`--check` passes on the committed page: its table is what the
    committed metrics give (run `tables.py --write` after adding a run)."""
    tables.write_or_check(check=True)


def test_a_stale_summary_is_refused(tables, tmp_path, monkeypatch):
    page = open(os.path.join(ROOT, "docs", "RESULTS.md")).read()
    stale = page.replace("| 3,024 |", "| 3,000 |")
    assert stale != page
    (tmp_path / "results").mkdir()
    (tmp_path / "RESULTS.md").write_text(stale)
    monkeypatch.setattr(tables, "HERE", str(tmp_path / "results"))
    for name in os.listdir(os.path.join(ROOT, "docs", "results")):
        os.symlink(os.path.join(ROOT, "docs", "results", name), tmp_path / "results" / name)
    with pytest.raises(SystemExit, match="--write"):
        tables.write_or_check(check=True)
    assert (tmp_path / "RESULTS.md").read_text() == stale  # --check writes nothing


def _run(directory, test, epochs, seconds, steps_per_epoch=None):
    directory.mkdir(parents=True)
    metrics = {
        "test": test,
        "hyperparameters": {"steps_per_epoch": steps_per_epoch, "lr": 3e-3},
        "epochs_done": epochs,
        "wall_time_s": seconds,
        "total_wall_time_s": seconds,
    }
    (directory / "metrics.json").write_text(json.dumps(metrics))


def test_a_row_gives_the_seeds_mean_range_and_updates(tables, tmp_path, monkeypatch):
    """Three SAB seeds (a fourth not run yet) and one LSTM seed written here:
    the row's cells are their mean and range, computed here, and the LSTM's
    other budget is said."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    accuracies = [0.5, 0.8, 0.62]
    for seed, accuracy in enumerate(accuracies):
        _run(tmp_path / f"sab_s{seed}", {"accuracy": accuracy}, 10, 60.0 * (seed + 1))
    _run(tmp_path / "lstm_s0", {"accuracy": 0.9}, 20, 30.0)
    monkeypatch.setattr(tables, "SUMMARY", [
        tables.Task("task", "paper", "accuracy",
                    {"sab": [f"sab_s{s}" for s in range(4)], "lstm": ["lstm_s0"]}, 7),
        tables.Task("absent", "—", "accuracy", {"sab": ["none"], "lstm": ["none"]}, 7),
    ])
    rows = tables.summary_rows()
    assert [task.task for task, _ in rows] == ["task"]  # a row with no run is left out
    table = tables.summary_table(rows).splitlines()
    mean = 100 * sum(accuracies) / len(accuracies)
    low, high = 100 * min(accuracies), 100 * max(accuracies)
    minutes = sum(60.0 * (seed + 1) for seed in range(3)) / 3 / 60
    assert table[2] == (
        f"| task | paper | {mean:.1f}% ({low:.1f}%–{high:.1f}%, 3 seeds) **(behind the LSTM)** | "
        f"90.0%, 140 updates | — | — | 70 | {minutes:.0f} min / 0 min |"
    )


def test_lower_is_better_for_bits_per_character(tables, tmp_path, monkeypatch):
    """On text SAB is behind when its bits per character are higher, and a
    model with no run is an em dash."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    for name, bpc in [("sab", 2.0), ("lstm", 2.1), ("sab_worse", 2.2)]:
        _run(tmp_path / name, {"bits_per_character": bpc}, 5, 60.0, steps_per_epoch=200)
    monkeypatch.setattr(tables, "SUMMARY", [
        tables.Task("ahead", "—", "bpc", {"sab": ["sab"], "lstm": ["lstm"]}),
        tables.Task("behind", "—", "bpc", {"sab": ["sab_worse"], "lstm": ["lstm"]}),
    ])
    ahead, behind = tables.summary_table(tables.summary_rows()).splitlines()[2:]
    assert ahead == "| ahead | — | 2.000 | 2.100 | — | — | 1,000 | 1 min / 1 min |"
    assert behind.startswith("| behind | — | 2.200 **(behind the LSTM)** | 2.100 |")


def test_the_pages_tables_skip_seeds_not_run(tables, tmp_path, monkeypatch, capsys):
    """A page's table over seeds shows the seeds committed and their mean,
    and says "not run" where none is."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "a_s0", {"accuracy": 0.7}, 48, 120.0)
    _run(tmp_path / "a_s2", {"accuracy": 0.8}, 48, 240.0)
    tables.seeds_table(
        "title", {"a": [f"a_s{s}" for s in range(3)], "b": ["b_s0"]},
        tables.percent("accuracy"), ("accuracy", "accuracy"),
    )
    lines = capsys.readouterr().out.splitlines()
    assert "| a | 70.0% / 80.0% | 75.0% | 48 epochs | 0.003 | 2.0-4.0 min |" in lines
    assert "| b | not run | | | | |" in lines
