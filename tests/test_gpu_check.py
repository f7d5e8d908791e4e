"""The GPU check (`benchmarks/gpu.py`) runs its own code on a CPU: `--dry-run`."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_dry_run_measures_every_part_and_writes_them(tmp_path):
    """Every part measured, none failed or skipped, the two correctness
    checks within their tolerances, one figure per model and shape."""
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "gpu.py"), "--dry-run",
         "--budget-s", "1000", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["dry_run"] is True and results["skipped"] == []
    measured = results["measurements"]
    assert not [m for m in measured if "error" in m], measured
    checks = {m["check"]: m for m in measured if "check" in m}
    assert checks["fused vs cell loop, XLA, float32"]["within_1e_5"]
    assert checks["stream of 4 calls vs whole sequence, float64"]["within_1e_10"]
    steps = [m for m in measured if "model" in m]
    shapes = {(m["model"], m["T"], m["batch"]) for m in steps if not m["layer_kwargs"]
              and m["policy"] == "float32"}
    assert shapes == {(model, t, b) for model in ("sab", "lstm") for t in (20, 40)
                      for b in (2, 4)}
    controls = [(m["layer_kwargs"], m["policy"]) for m in steps
                if m["layer_kwargs"] or m["policy"] != "float32"]
    assert controls == [({"k_top": 0}, "float32"), ({"scorer": "dot"}, "float32"),
                        ({}, "mixed_bfloat16")]
    assert all(m["step_ms"] > 0 and m["peak_mib"] > 0 for m in steps)
