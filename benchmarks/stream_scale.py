"""A stream of a million steps, trained call by call: time and memory stay flat.

    python benchmarks/stream_scale.py --out docs/benchmarks/stream_scale
    python benchmarks/stream_scale.py --calls 20 --call-length 200 --out /tmp/stream  # a look

A stateful `SAB(128, max_memories=M)` with stream credit (ALGORITHM.md §4b)
is trained on one stream of `--calls` calls of `--call-length` steps (batch
`--batch-size`, random inputs, one Adam update per call on the last step's
regression loss), and a stateful `keras.layers.LSTM(128)` on the same stream.
Each runs in its own subprocess: the time of every call and the process's
resident memory after it are recorded. At the last call the SAB run also
measures how much credit reaches the first call's blocks: the last call's
weight gradient is computed again with the first call's records holding other
inputs, and the relative change is reported (exactly 0 when none of the
first call's memories is kept, or reachable through selected links).

Beside them, the whole-sequence fused path (`SAB`, not stateful) takes one
train step on single sequences of growing length, each in a subprocess under
a memory cap (`--memory-cap-gib`), until one does not fit.

Writes `results.json` and `stream_scale.png` to `--out` and prints a summary.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

FEATURES = 10


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _stream(args):
    """Runs one model over the stream; prints one JSON line of results."""
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_sab

    keras.utils.set_random_seed(0)
    inputs = keras.Input((args.call_length, FEATURES), batch_size=args.batch_size)
    if args.model == "sab":
        recurrent = keras_sab.SAB(args.units, stateful=True, max_memories=args.max_memories,
                                  keep=args.keep)
    else:
        recurrent = keras.layers.LSTM(args.units, stateful=True)
    model = keras.Model(inputs, keras.layers.Dense(1)(recurrent(inputs)))
    optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
    rng = np.random.default_rng(0)

    def batch():
        x = rng.normal(size=(args.batch_size, args.call_length, FEATURES)).astype("float32")
        return x, x[:, :1, 0] * 0.5

    def loss_fn(x, y):
        return tf.reduce_mean(tf.square(model(x, training=True) - y))

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(x, y)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        return loss

    seconds, rss = [], []
    for call in range(args.calls - 1):
        x, y = batch()
        start = time.perf_counter()
        train_step(tf.constant(x), tf.constant(y)).numpy()
        seconds.append(time.perf_counter() - start)
        rss.append(_rss_mib())
        if (call + 1) % 50 == 0:
            print(f"{args.model}: call {call + 1}, {seconds[-1]:.3f} s, {rss[-1]:.0f} MiB",
                  file=sys.stderr, flush=True)
    result = {"seconds": seconds, "rss_mib": rss}
    x, y = map(tf.constant, batch())
    if args.model == "sab":
        # The last call, twice: as recorded, and with the first call's
        # records holding other inputs (the state is restored in between).
        first = args.call_length // recurrent.k_att
        variables = [*recurrent.states, recurrent.stream.memory_ids, recurrent.stream.memory_usage,
                     recurrent.stream.next_memory_id, *recurrent.stream.records]
        saved = [v.numpy() for v in variables]

        @tf.function
        def gradient(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(x, y)
            return tape.gradient(loss, model.trainable_weights)

        def last_call():
            grads = [g.numpy() for g in gradient(x, y)]
            for variable, value in zip(variables, saved):
                variable.assign(value)
            return grads

        reference = last_call()
        ids = recurrent.stream.memory_ids.numpy()
        first_call = (ids >= 0) & (ids < first)
        changed = recurrent.stream.records.inputs.numpy()
        changed[first_call] = rng.normal(size=changed[first_call].shape)
        recurrent.stream.records.inputs.assign(changed)
        other = last_call()
        norm = np.sqrt(sum(float(np.sum(g ** 2)) for g in reference))
        change = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(reference, other)))
        result.update(
            first_call_memories_kept=int(first_call.sum()),
            oldest_kept_id=int(ids[ids >= 0].min()),
            first_call_credit=change / norm,
        )
    print("RESULT " + json.dumps(result), flush=True)


def _whole(args):
    """One train step of the whole-sequence fused path at `--call-length`."""
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_sab

    keras.utils.set_random_seed(0)
    layer = keras_sab.SAB(args.units)
    head = keras.layers.Dense(1)
    x = tf.constant(np.random.default_rng(0).normal(
        size=(args.batch_size, args.call_length, FEATURES)).astype("float32"))

    @tf.function(input_signature=[tf.TensorSpec((args.batch_size, None, FEATURES))])
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(head(layer(x))))
        return tape.gradient(loss, layer.trainable_weights)

    [g.numpy() for g in step(x[:, :20])]  # traced once, for any length
    start = time.perf_counter()
    [g.numpy() for g in step(x)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, "peak_mib": peak}),
          flush=True)


def _run(flags, memory_cap_gib=None, timeout=None):
    """Runs this script with `flags` in a subprocess; its RESULT, or why not."""
    limit = None
    if memory_cap_gib:
        cap = int(memory_cap_gib * 2 ** 30)

        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        # The worker's progress goes to this process's stderr as it comes.
        done = subprocess.run([sys.executable, __file__, *flags], stdout=subprocess.PIPE,
                              text=True, preexec_fn=limit, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"error": f"exit {done.returncode} (its stderr is above)"}


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for name, run in results["stream"].items():
        if "seconds" not in run:
            continue
        steps = [(i + 1) * results["call_length"] for i in range(len(run["seconds"]))]
        axes[0].plot(steps, run["seconds"], ".", markersize=2, label=name)
        axes[1].plot(steps, run["rss_mib"], label=name)
    for axis, label in zip(axes[:2], ("seconds per call (one update)", "resident memory (MiB)")):
        axis.set_xlabel("steps of the stream")
        axis.set_ylabel(label)
        axis.set_xscale("log")
        axis.legend()
    fitted = [(int(t), r) for t, r in results["whole"].items() if "seconds" in r]
    if fitted:
        lengths, runs = zip(*sorted(fitted))
        axes[2].loglog(lengths, [r["peak_mib"] for r in runs], "o-", label="peak MiB")
        axes[2].loglog(lengths, [r["seconds"] for r in runs], "s-", label="seconds")
        axes[2].set_xlabel("T of one sequence (whole-sequence fused SAB, one step)")
        axes[2].legend()
    fig.suptitle(f"A stream of {results['calls'] * results['call_length']:,} steps in calls of "
                 f"{results['call_length']} (batch {results['batch_size']}, "
                 f"{results['units']} units)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--call-length", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--max-memories", type=int, default=100)
    parser.add_argument("--keep", default="most_read")
    parser.add_argument("--models", nargs="+", default=["sab", "lstm"])
    parser.add_argument("--whole-lengths", type=int, nargs="*",
                        default=[1000, 10_000, 100_000])
    parser.add_argument("--memory-cap-gib", type=float, default=16.0)
    parser.add_argument("--out", default=os.path.join("runs", "stream_scale"))
    parser.add_argument("--worker", choices=["stream", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "stream":
        return _stream(args)
    if args.worker == "whole":
        return _whole(args)
    common = ["--batch-size", str(args.batch_size), "--units", str(args.units)]
    results = {"calls": args.calls, "call_length": args.call_length,
               "batch_size": args.batch_size, "units": args.units,
               "max_memories": args.max_memories, "keep": args.keep,
               "machine": f"{platform.node()} ({os.cpu_count()} CPUs)",
               "command": " ".join(sys.argv), "stream": {}, "whole": {}}
    os.makedirs(args.out, exist_ok=True)
    for model in args.models:
        start = time.time()
        results["stream"][model] = _run(
            ["--worker", "stream", "--model", model, "--calls", str(args.calls),
             "--call-length", str(args.call_length), "--max-memories", str(args.max_memories),
             "--keep", args.keep, *common])
        results["stream"][model]["wall_seconds"] = time.time() - start
        print(model, {k: v for k, v in results["stream"][model].items()
                      if k not in ("seconds", "rss_mib")}, flush=True)
    for length in args.whole_lengths:
        run = _run(["--worker", "whole", "--call-length", str(length), *common],
                   memory_cap_gib=args.memory_cap_gib, timeout=1800)
        results["whole"][str(length)] = run
        print(f"whole sequence T={length}: {run}", flush=True)
        if "error" in run:
            break
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    _plot(results, os.path.join(args.out, "stream_scale.png"))
    for model, run in results["stream"].items():
        if "seconds" in run:
            s, r = run["seconds"], run["rss_mib"]
            tenth = max(len(s) // 10, 1)
            print(f"{model}: seconds per call, first tenth {sorted(s[:tenth])[tenth // 2]:.3f}, "
                  f"last tenth {sorted(s[-tenth:])[tenth // 2]:.3f}; memory "
                  f"{r[tenth - 1]:.0f} -> {r[-1]:.0f} MiB")


if __name__ == "__main__":
    main()
