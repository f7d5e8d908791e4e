"""docs/results/tables.py: the summary and the peer table of docs/RESULTS.md
(and docs/results/peers.md) are regenerated from the committed runs, and their
figures are the runs' own."""

import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def tables(monkeypatch):
    # As when it is run, tables.py imports `peer_capabilities` from its folder.
    monkeypatch.syspath_prepend(os.path.join(ROOT, "docs", "results"))
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


def test_a_stale_peer_page_is_refused(tables, tmp_path, monkeypatch):
    """`--check` also compares docs/results/peers.md, and names it."""
    results = tmp_path / "results"
    results.mkdir()
    (tmp_path / "RESULTS.md").write_text(open(os.path.join(ROOT, "docs", "RESULTS.md")).read())
    monkeypatch.setattr(tables, "HERE", str(results))
    for name in os.listdir(os.path.join(ROOT, "docs", "results")):
        if name != "peers.md":
            os.symlink(os.path.join(ROOT, "docs", "results", name), results / name)
    page = open(os.path.join(ROOT, "docs", "results", "peers.md")).read()
    (results / "peers.md").write_text(page.replace("lower-is-better", "higher-is-better"))
    with pytest.raises(SystemExit, match="^docs/results/peers.md out of date"):
        tables.write_or_check(check=True)


def _log(directory, column, values):
    """A `log.csv` of one test-metric column, one row per epoch."""
    rows = [f"{epoch},{value}" for epoch, value in enumerate(values)]
    (directory / "log.csv").write_text("\n".join([f"epoch,{column}"] + rows) + "\n")


def _peer_task(tables, monkeypatch, metric="accuracy", sab="sab"):
    """The peer table made of one row, "task", whose SAB run is `sab`, its
    peers `peers/stem_<model>`."""
    monkeypatch.setattr(tables, "SUMMARY", [
        tables.Task("task", "—", metric, {"sab": [sab], "lstm": ["lstm"]}, 10, peers="stem"),
    ])
    (row,) = tables.peer_rows()
    return row


def _cells(tables, row):
    """`{model: cell}` of `row` in the Markdown of the peer table."""
    line = tables.peer_table([row]).splitlines()[2]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    return dict(zip(("task", "updates") + tables.PEER_TABLE_MODELS, cells))


def test_a_peer_cell_gives_the_seeds_mean_range_and_wall_time(tables, tmp_path, monkeypatch):
    """Three GRU seeds (named `_s0`, `_s1`, `_s2`) give their mean and range,
    computed here; a single seed (named without `_s0`) says "1 seed"; a
    budget other than SAB's is named."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "sab", {"accuracy": 0.5}, 20, 600.0)
    accuracies, seconds = [0.61, 0.7, 0.55], [60.0, 90.0, 120.0]
    for seed, (accuracy, time) in enumerate(zip(accuracies, seconds)):
        _run(tmp_path / f"peers/stem_gru_s{seed}", {"accuracy": accuracy}, 20, time)
    _run(tmp_path / "peers/stem_lmu", {"accuracy": 0.4}, 30, 300.0)
    cells = _cells(tables, _peer_task(tables, monkeypatch))
    mean = 100 * sum(accuracies) / 3
    low, high = 100 * min(accuracies), 100 * max(accuracies)
    minutes = sum(seconds) / 3 / 60
    assert cells["gru"] == (
        f"**{mean:.1f}%** ({low:.1f}%–{high:.1f}%, 3 seeds)<br>{minutes:.1f} min a run"
    )
    assert cells["lmu"] == "40.0% (1 seed), 300 updates<br>5.0 min a run"
    assert cells["sab"] == "50.0% (1 seed)<br>10.0 min a run"
    assert cells["updates"] == "200"


def test_a_run_not_made_leaves_its_cell_empty(tables, tmp_path, monkeypatch):
    """The models with no run (here the LSTM and three peers) are an em dash;
    a row with no run at all is one, every cell empty."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "sab", {"accuracy": 0.5}, 20, 600.0)
    _run(tmp_path / "peers/stem_cfc_s1", {"accuracy": 0.6}, 20, 60.0)
    cells = _cells(tables, _peer_task(tables, monkeypatch))
    empty = [model for model, cell in cells.items() if cell == "—"]
    assert empty == ["lstm", "tbptt", "transformer", "gru", "tcn", "lmu"]
    assert cells["cfc"].startswith("**60.0%** (1 seed)")
    monkeypatch.setattr(tables, "HERE", str(tmp_path / "nothing"))
    row = _peer_task(tables, monkeypatch)
    assert set(_cells(tables, row).values()) == {"task", "—"}
    assert tables.verdict(row) == "**task**: not run."


def test_a_peer_s_figure_at_sab_s_wall_time(tables, tmp_path, monkeypatch):
    """SAB trains for 250 s. A GRU of 10 epochs in 1,000 s reaches 250 s
    during its third epoch: its figure is the third epoch's. Of two TCN
    seeds, one of 10 epochs in 100 s finished sooner (its final figure), the
    other not: their mean, marked as holding a final figure. A CfC of 10
    epochs in 250 s reaches SAB's time at its end, not sooner. A peer whose
    log has no test column has no such figure."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "sab", {"loss": 0.05}, 20, 250.0)
    curve = [0.5 - 0.04 * epoch for epoch in range(10)]
    _run(tmp_path / "peers/stem_gru", {"loss": curve[-1]}, 10, 1000.0)
    _log(tmp_path / "peers/stem_gru", "val_loss", curve)
    _run(tmp_path / "peers/stem_tcn", {"loss": 0.01}, 10, 100.0)
    _log(tmp_path / "peers/stem_tcn", "val_loss", [0.3] * 9 + [0.01])
    _run(tmp_path / "peers/stem_tcn_s1", {"loss": 0.02}, 10, 1000.0)
    _log(tmp_path / "peers/stem_tcn_s1", "val_loss", [0.03] * 9 + [0.02])
    _run(tmp_path / "peers/stem_cfc", {"loss": 0.1}, 10, 250.0)
    _log(tmp_path / "peers/stem_cfc", "val_loss", [0.3] * 9 + [0.1])
    _run(tmp_path / "peers/stem_lmu", {"loss": 0.2}, 10, 100.0)
    _log(tmp_path / "peers/stem_lmu", "loss", [0.2] * 10)
    row = _peer_task(tables, monkeypatch, metric="mse")
    assert row.at_sab_time == {
        "gru": (curve[2], False), "tcn": (pytest.approx(0.02), True), "cfc": (0.1, False)
    }
    cells = _cells(tables, row)
    assert cells["gru"].endswith(f"<br>at SAB's time: {curve[2]:.3f}")
    assert cells["tcn"].endswith("<br>at SAB's time: 0.020 (final)")
    assert "at SAB's time" not in cells["lmu"]
    assert tables.verdict(row) == (
        "**task**: TCN best (0.015), SAB behind (0.050); at SAB's wall time, ahead of SAB: "
        "TCN (0.020)."
    )


def test_the_best_of_a_row_is_marked(tables, tmp_path, monkeypatch):
    """Bits per character: the lowest mean is in bold, SAB's too where it ties
    at the precision shown; the sentence says who is best and who is ahead."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    for name, bpc in [("sab", 2.1), ("lstm", 2.3), ("peers/stem_gru", 2.0),
                      ("peers/stem_cfc", 2.05), ("peers/stem_lmu", 2.0004)]:
        _run(tmp_path / name, {"bits_per_character": bpc}, 5, 60.0, steps_per_epoch=200)
    row = _peer_task(tables, monkeypatch, metric="bpc")
    bold = [model for model, cell in _cells(tables, row).items() if cell.startswith("**")]
    assert bold == ["gru", "lmu"]
    assert tables.verdict(row) == (
        "**task**: GRU and LMU best (2.000), SAB behind (2.100); also ahead of SAB: CfC (2.050)."
    )
    _run(tmp_path / "sab_level", {"bits_per_character": 1.9999}, 5, 60.0, steps_per_epoch=200)
    row = _peer_task(tables, monkeypatch, metric="bpc", sab="sab_level")
    bold = [model for model, cell in _cells(tables, row).items() if cell.startswith("**")]
    assert bold == ["sab", "gru", "lmu"]
    assert tables.verdict(row) == "**task**: SAB and GRU and LMU best (2.000), level."


def test_the_capability_table_is_the_tested_cells(tables):
    """Each row of the capability table is a row of `CAPABILITIES`, with its
    cells, and names a test of tests/test_peers.py that asserts that row."""
    capabilities = tables.peer_capabilities.CAPABILITIES
    assert list(tables.peer_capabilities.ROWS) == [
        "masks", "stateful", "credit_across_calls", "unbounded_horizon", "mixed_bfloat16",
        "xla", "save_load", "bidirectional",
    ]
    assert set(tables.peer_capabilities.ROWS) == set(capabilities)
    source = open(os.path.join(ROOT, "tests", "test_peers.py")).read()
    lines = tables.capability_table().splitlines()
    models = [cell.strip() for cell in lines[0].strip("|").split("|")][1:]
    assert len(models) == len(tables.peer_capabilities.MODELS)
    for line, capability in zip(lines[2:], tables.peer_capabilities.ROWS):
        label, *marks = [cell.strip() for cell in line.strip("|").split("|")]
        assert label.endswith(f"(`test_{capability}`)")
        assert (
            f'@pytest.mark.parametrize("model, expected", _cells("{capability}"))\n'
            f"def test_{capability}(" in source
        )
        expected = [
            {True: "✓", False: "✗", None: "—"}[capabilities[capability].get(model)]
            for model in tables.peer_capabilities.MODELS
        ]
        assert marks == expected
    assert len(lines) == 2 + len(capabilities)


def test_the_read_table_reads_final_and_logged_figures(tables, tmp_path, monkeypatch):
    """A variant's cell is its runs' final test figure, or with `logged` the
    test figure its log has after the row's updates; a run of another length
    says so, and a variant with no run (or no log) gives —."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "a", {"copy_recall_accuracy": 0.9}, 3, 10.0, steps_per_epoch=100)
    (tmp_path / "a" / "log.csv").write_text(
        "epoch,val_copy_recall_accuracy\n0,0.1\n1,0.25\n2,0.9\n"
    )
    _run(tmp_path / "b", {"copy_recall_accuracy": 0.5}, 2, 10.0, steps_per_epoch=100)
    runs = {"one": ["a"], "two": ["b"]}
    monkeypatch.setattr(tables, "READ_VARIANTS", {"one": "A", "two": "B", "none": "C"})
    monkeypatch.setattr(tables, "READ_ROWS", [
        tables.ReadRow(tables.Task("final", "", "recall", runs), 300),
        tables.ReadRow(tables.Task("after 200", "", "recall", runs), 200, True),
    ])
    assert tables.read_table().splitlines() == [
        "| task | A | B | C |",
        "|---|---|---|---|",
        "| final | 90.0% | 50.0%, 200 updates | — |",
        "| after 200 | 25.0% | — | — |",
    ]


def test_the_tuned_peers_table_gives_the_grid_the_choice_and_both_figures(
    tables, tmp_path, monkeypatch
):
    """A tuned run's row gives its epochs a point and lists its grid's points
    with their validation losses, the point its run went on with (`tuning.json`'s `chosen`) in
    bold, its test figure and the untuned seed 0's; a peer with no tuned run
    has no row."""
    monkeypatch.setattr(tables, "HERE", str(tmp_path))
    _run(tmp_path / "sab", {"accuracy": 0.5}, 20, 600.0)
    _run(tmp_path / "peers/stem_tcn_tuned", {"accuracy": 0.8}, 20, 60.0)
    _run(tmp_path / "peers/stem_tcn", {"accuracy": 0.125}, 20, 60.0)
    _run(tmp_path / "peers/stem_gru", {"accuracy": 0.3}, 20, 60.0)
    points = [
        {"settings": {"lr": 0.001, "kernel_size": 4}, "val_loss": 1.5},
        {"settings": {"lr": 0.01, "kernel_size": 8}, "val_loss": 0.25},
    ]
    record = {"points": points, "chosen": {"lr": 0.01, "kernel_size": 8}, "epochs_per_point": 3}
    (tmp_path / "peers/stem_tcn_tuned/tuning.json").write_text(json.dumps(record))
    _peer_task(tables, monkeypatch)
    assert tables.tuned_table().splitlines()[2:] == [
        "| task | TCN | 3; lr 0.001, kernel_size 4: 1.500; **lr 0.01, kernel_size 8: 0.250** "
        "| 80.0% | 12.5% |"
    ]
