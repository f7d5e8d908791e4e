"""Train-step time and peak memory of SAB and its baselines against T.

Each configuration runs in a fresh subprocess (so peak memory is its own),
watched by this process: one that would exhaust memory is killed at a cap
and reported as such. Measured side by side in one run, since the machine is
noisy; ratios are what to compare.

Models:
    sab_fused: `SAB(use_fused=True)`, the memory-lean path (ALGORITHM.md §7).
    sab_fused_xla: the same, compiled with XLA whatever `--jit` says, so that
        each layer can be timed in its faster mode in one run.
    sab_fused_masked: the same behind `keras.layers.Masking`, on inputs whose
        every 7th step and last quarter are padding (a mask with holes and
        right padding: the fused path runs it left-aligned).
    sab_cell: `SAB(use_fused=False)`, autodiff through the cell loop.
    lstm: `keras.layers.LSTM`, full BPTT.
    dense_attention: `SAB(attention="dense", k_att=1, k_trunc=None)`, the
        LSTM + full self-attention baseline.

Usage:
    python benchmarks/speed_memory.py --out docs/benchmarks
    python benchmarks/speed_memory.py --timesteps 100 250 --steps 3 --jit
    python benchmarks/speed_memory.py --model sab_fused sab_fused_xla lstm --timesteps 1000 4000

Writes `results.json` and `speed_memory.png` (log-log time and memory
against T) to `--out` and prints a table.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

MODELS = (
    "sab_fused", "sab_fused_xla", "sab_fused_masked", "sab_cell", "lstm", "dense_attention"
)
FEATURES = 10
CLASSES = 10


def _rss_mib(pid="self"):
    """Current resident set size of a process, in MiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except FileNotFoundError:
        pass
    return 0.0


def add_model_arguments(parser):
    """Adds the flags of the benchmarked models' setting to `parser`."""
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--k-top", type=int, default=5)
    parser.add_argument("--k-att", type=int, default=10)
    parser.add_argument("--k-trunc", type=int, default=10)
    parser.add_argument(
        "--scorer", choices=("mlp", "dot"), default="mlp", help="the SAB models' scorer"
    )
    parser.add_argument(
        "--read", choices=("add", "projected"), default="add", help="the SAB models' read"
    )
    parser.add_argument(
        "--null-slot", action=argparse.BooleanOptionalAction, default=False,
        help="whether the SAB models' read may choose an empty memory",
    )


def model_flags(args):
    """The flags of `add_model_arguments` with the values of `args`, for the
    command line of a worker subprocess."""
    return [
        "--batch-size", str(args.batch_size), "--units", str(args.units),
        "--k-top", str(args.k_top), "--k-att", str(args.k_att),
        "--k-trunc", str(args.k_trunc), "--scorer", args.scorer, "--read", args.read,
        "--null-slot" if args.null_slot else "--no-null-slot",
    ]


def build_model(name, args):
    """The benchmarked model: a recurrent layer, then a per-step classifier,
    in the setting of `args` (`add_model_arguments`)."""
    import keras

    import keras_sab

    if name == "lstm":
        layer = keras.layers.LSTM(args.units, return_sequences=True)
    elif name == "dense_attention":
        layer = keras_sab.SAB(
            args.units, k_top=args.k_top, k_att=1, k_trunc=None, attention="dense",
            return_sequences=True,
        )
    else:
        layer = keras_sab.SAB(
            args.units, k_top=args.k_top, k_att=args.k_att, k_trunc=args.k_trunc,
            scorer=args.scorer, read=args.read, null_slot=args.null_slot,
            return_sequences=True, use_fused=name.startswith("sab_fused"),
        )
    masking = [keras.layers.Masking(0.0)] if name.endswith("_masked") else []
    return keras.Sequential(
        [keras.Input((None, FEATURES)), *masking, layer, keras.layers.Dense(CLASSES)]
    )


def compiled_model_and_batch(args):
    """The compiled model of `args.model` (under XLA with `args.jit` or an
    `_xla` model) and one batch `(x, y)` of `args.timesteps` steps for it."""
    import keras
    import numpy as np

    model = build_model(args.model, args)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=args.jit or args.model.endswith("_xla"),
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch_size, args.timesteps, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=(args.batch_size, args.timesteps))
    if args.model.endswith("_masked"):
        x[:, ::7] = 0.0
        x[:, args.timesteps - args.timesteps // 4 :] = 0.0
    return model, x, y


def worker(args):
    """Times `args.steps` train steps of one configuration; prints JSON."""
    import tensorflow as tf

    model, x, y = compiled_model_and_batch(args)
    baseline = _rss_mib()
    times = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        loss = model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result = {
        "step_seconds": statistics.median(times[1:]),
        "first_step_seconds": times[0],
        "peak_rss_mib": peak,
        "rss_before_training_mib": baseline,
        "loss": float(loss),
        "device": ", ".join(d.device_type for d in tf.config.list_logical_devices()),
    }
    print("RESULT " + json.dumps(result), flush=True)


def run_one(args, model, timesteps):
    """Runs one configuration in a subprocess under the memory and time caps."""
    command = [
        sys.executable, os.path.abspath(__file__), "--worker",
        "--model", model, "--timesteps", str(timesteps), "--steps", str(args.steps),
        *model_flags(args),
    ] + (["--jit"] if args.jit else [])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    start, peak_seen, status = time.time(), 0.0, "ok"
    while process.poll() is None:
        peak_seen = max(peak_seen, _rss_mib(process.pid))
        if peak_seen > args.memory_cap_mib:
            status = f"stopped: memory over {args.memory_cap_mib:.0f} MiB cap"
        elif time.time() - start > args.time_cap_s:
            status = f"stopped: over {args.time_cap_s:.0f} s time cap"
        if status != "ok":
            process.kill()
            break
        time.sleep(0.05)
    stdout = process.communicate()[0]
    result = {"model": model, "timesteps": timesteps, "status": status}
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result.update(json.loads(line[len("RESULT "):]))
    if status == "ok" and "step_seconds" not in result:
        result["status"] = f"failed (exit code {process.returncode})"
    return result


def print_table(results, timesteps):
    """Step time (ms) and peak RSS (MiB) per model and T."""
    by_key = {(r["model"], r["timesteps"]): r for r in results}
    header = "model            " + "".join(f"{'T=' + str(t):>18}" for t in timesteps)
    print("\ntrain-step time (ms) / peak RSS (MiB)")
    print(header)
    for model in sorted({r["model"] for r in results}, key=MODELS.index):
        cells = []
        for t in timesteps:
            r = by_key.get((model, t))
            if r is None:
                cells.append("-")
            elif r["status"] != "ok":
                cells.append("capped" if "cap" in r["status"] else "failed")
            else:
                cells.append(f"{1000 * r['step_seconds']:.0f} / {r['peak_rss_mib']:.0f}")
        print(f"{model:<17}" + "".join(f"{c:>18}" for c in cells))


def plot(results, path):
    """Log-log plots of step time and peak memory against T."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for model in MODELS:
        rows = sorted(
            (r for r in results if r["model"] == model and r["status"] == "ok"),
            key=lambda r: r["timesteps"],
        )
        if not rows:
            continue
        t = [r["timesteps"] for r in rows]
        axes[0].plot(t, [1000 * r["step_seconds"] for r in rows], "o-", label=model)
        axes[1].plot(t, [r["peak_rss_mib"] for r in rows], "o-", label=model)
    for ax, label in zip(axes, ("train-step time (ms)", "peak RSS (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sequence length T")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summarize(results):
    """The issue's target ratios, where the runs needed for them finished."""
    by_key = {(r["model"], r["timesteps"]): r for r in results if r["status"] == "ok"}
    summary = {}
    if ("sab_fused", 1000) in by_key and ("lstm", 1000) in by_key:
        summary["time_ratio_fused_over_lstm_T1000"] = (
            by_key["sab_fused", 1000]["step_seconds"] / by_key["lstm", 1000]["step_seconds"]
        )
    for t in sorted({t for _, t in by_key}):
        fused = [by_key[m, t]["step_seconds"] for m in ("sab_fused", "sab_fused_xla")
                 if (m, t) in by_key]
        if fused and ("lstm", t) in by_key:
            summary[f"time_ratio_fused_faster_mode_over_lstm_T{t}"] = (
                min(fused) / by_key["lstm", t]["step_seconds"]
            )

    def growth(model, low, high):
        if (model, low) in by_key and (model, high) in by_key:
            return by_key[model, high]["peak_rss_mib"] - by_key[model, low]["peak_rss_mib"]
        return None

    fused, lstm = growth("sab_fused", 500, 4000), growth("lstm", 500, 4000)
    if fused is not None and lstm is not None:
        summary["activation_mib_T500_to_T4000"] = {"sab_fused": fused, "lstm": lstm}
        summary["activation_ratio_fused_over_lstm"] = fused / max(lstm, 1.0)
    base = min(
        (t for m, t in by_key if m in ("sab_fused", "sab_cell")), default=None
    )
    if base is not None and ("sab_fused", 2000) in by_key and ("sab_cell", 2000) in by_key:
        cell = growth("sab_cell", base, 2000)
        fused2000 = growth("sab_fused", base, 2000)
        summary[f"activation_ratio_cell_over_fused_T{base}_to_T2000"] = cell / max(
            fused2000, 1.0
        )
    masked = growth("sab_fused_masked", 500, 4000)
    if fused is not None and masked is not None:
        summary["activation_ratio_masked_over_unmasked_fused"] = masked / max(fused, 1.0)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=MODELS, nargs="+", default=list(MODELS))
    parser.add_argument(
        "--timesteps", type=int, nargs="+", default=[100, 250, 500, 1000, 2000, 4000]
    )
    add_model_arguments(parser)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    parser.add_argument("--memory-cap-mib", type=float, default=12000)
    parser.add_argument("--time-cap-s", type=float, default=600)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    if args.worker:
        args.model, args.timesteps = args.model[0], args.timesteps[0]
        return worker(args)

    results = []
    for timesteps in args.timesteps:
        for model in args.model:
            result = run_one(args, model, timesteps)
            print(json.dumps(result), flush=True)
            results.append(result)
    print_table(results, args.timesteps)
    summary = summarize(results)
    print(json.dumps(summary, indent=2))
    os.makedirs(args.out, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("worker", "out")}
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(
            {"settings": settings, "machine": machine, "results": results,
             "summary": summary},
            f,
            indent=2,
        )
    plot(results, os.path.join(args.out, "speed_memory.png"))


if __name__ == "__main__":
    main()
