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


def _run(directory, accuracy, epochs, seconds):
    directory.mkdir(parents=True)
    metrics = {
        "test": {"accuracy": accuracy},
        "hyperparameters": {"steps_per_epoch": None},
        "epochs_done": epochs,
        "total_wall_time_s": seconds,
    }
    (directory / "metrics.json").write_text(json.dumps(metrics))


def test_a_row_gives_the_seeds_mean_range_and_updates(tables, tmp_path, monkeypatch):
    """Three SAB seeds and one LSTM seed written here: the row's cells are
    their mean and range, computed here, and the LSTM's other budget is said."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    for seed, accuracy in enumerate([0.5, 0.8, 0.62]):
        _run(tmp_path / f"sab_s{seed}", accuracy, 10, 60.0 * (seed + 1))
    _run(tmp_path / "lstm_s0", 0.9, 20, 30.0)
    monkeypatch.setattr(tables, "SUMMARY", [
        ("task", "paper", "accuracy",
         {"sab": [f"sab_s{s}" for s in range(4)], "lstm": ["lstm_s0"]}, 7),
        ("absent", "—", "accuracy", {"sab": ["none"], "lstm": ["none"]}, 7),
    ])
    rows = tables.summary_rows()
    assert [row[0] for row in rows] == ["task"]  # a row with no run is left out
    table = tables.summary_table(rows).splitlines()
    mean = 100 * (0.5 + 0.8 + 0.62) / 3
    assert table[2] == (
        f"| task | paper | {mean:.1f}% (50.0%–80.0%, 3 seeds) **(behind the LSTM)** | "
        "90.0%, 140 updates | — | — | 70 | 2 min / 0 min |"
    )
