"""Where one train step's time goes, per op kind: SAB's fused path and the LSTM.

    python benchmarks/profile_step.py
    python benchmarks/profile_step.py --timesteps 1000 4000 --modes graph xla

Each configuration runs in a fresh subprocess: one warm-up train step, then
one step under `tf.profiler`. The trace (an XPlane, read with the protobuf
classes that ship with TensorFlow) holds one event per executed op on each
compute thread; this script sums each event's self time (its duration less
that of the events nested in it) by op kind.

- Graph mode: a kind is a TensorFlow op type (`MatMul`, `GatherV2`, ...).
  `ExecutorState::Process` is the executor's own time between ops:
  scheduling, allocation, loop bookkeeping. Ops are attributed to the
  forward or the backward pass by their name scope (the fused path's
  backward loop is a top-level `while` of the gradient function).
- XLA: a kind is an HLO instruction with its numeric suffix dropped
  (`while`, `dot`, `add_tanh_fusion`, ...): XLA fuses element-wise ops, so
  the kinds are coarser and not split by pass.

Shares are of the summed self time over all compute threads (TensorFlow runs
independent ops on two threads at once here), so they add up to 100%, while
`wall` is the step's elapsed time. Writes `profile.json` to `--out` and
prints one table per configuration.
"""

import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from speed_memory import add_model_arguments
from speed_memory import compiled_model_and_batch
from speed_memory import model_flags

# Events that mark thread-pool activity inside an op, not ops of their own.
POOL_EVENTS = ("ParallelFor", "ThreadpoolListener::")
EXECUTOR = "ExecutorState::Process"


def op_kind(name, xla):
    """The kind of a traced event: its op type, or its HLO name unnumbered."""
    if xla:
        return re.sub(r"\.\d+$", "", name)
    if "::" in name or ":" not in name:
        return name
    return name.rsplit(":", 1)[1]


def op_pass(name):
    """`"forward"`, `"backward"` or `"other"` for a graph-mode op name."""
    if name.startswith(("while/", "gradient_tape/")):
        return "backward"
    if "/while/" in name:
        return "forward"
    return "other"


def self_times(events, name_of, xla):
    """Self time (ps) and count per `(pass, kind)` over one thread's events.

    Args:
        events: the `XEvent`s of one `XLine`.
        name_of: maps an event to its name.
        xla: whether the trace is of an XLA program.

    Returns:
        Two `collections.Counter`s keyed by `(pass, kind)`: picoseconds of
        self time, and events.
    """
    timed, counts = collections.Counter(), collections.Counter()
    stack = []  # (key, end) of the enclosing events.
    ordered = sorted(events, key=lambda e: (e.offset_ps, -e.duration_ps))
    for event in ordered:
        name = name_of(event)
        if name.startswith(POOL_EVENTS):
            continue
        start, end = event.offset_ps, event.offset_ps + event.duration_ps
        while stack and stack[-1][1] <= start:
            stack.pop()
        key = ("all" if xla else op_pass(name), op_kind(name, xla))
        if stack:
            parent, parent_end = stack[-1]
            timed[parent] -= min(end, parent_end) - start
        timed[key] += event.duration_ps
        counts[key] += 1
        stack.append((key, end))
    return timed, counts


def read_trace(logdir, xla):
    """Per-kind self time and counts of the compute threads of a trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    (path,) = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    (plane,) = [p for p in space.planes if p.name == "/host:CPU"]
    metadata = plane.event_metadata
    timed, counts = collections.Counter(), collections.Counter()
    for line in plane.lines:
        if line.name == "python":
            continue
        line_timed, line_counts = self_times(
            line.events, lambda e: metadata[e.metadata_id].name, xla
        )
        timed.update(line_timed)
        counts.update(line_counts)
    return timed, counts


def worker(args):
    """Profiles one train step of one configuration; prints JSON."""
    import time

    import tensorflow as tf

    model, x, y = compiled_model_and_batch(args)
    model.train_on_batch(x, y)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        model.train_on_batch(x, y)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        timed, counts = read_trace(logdir, args.jit)
    rows = [
        {"pass": p, "kind": k, "ms": timed[(p, k)] / 1e9, "count": counts[(p, k)]}
        for p, k in timed
    ]
    print("RESULT " + json.dumps({"wall_s": wall, "rows": rows}), flush=True)


def run_one(args, model, timesteps, jit):
    """Runs `worker` in a fresh subprocess and returns its result."""
    command = [
        sys.executable, os.path.abspath(__file__), "--worker",
        "--models", model, "--timesteps", str(timesteps), *model_flags(args),
    ] + (["--jit"] if jit else [])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    stdout = subprocess.run(
        command, capture_output=True, text=True, env=env, check=True
    ).stdout
    (line,) = [x for x in stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line[len("RESULT "):])
    result.update(model=model, timesteps=timesteps, mode="xla" if jit else "graph")
    return result


def summary_lines(result, top):
    """A printed table of one configuration: passes, then the top kinds."""
    rows = result["rows"]
    total = sum(r["ms"] for r in rows)
    lines = [
        f"## {result['model']}, T={result['timesteps']}, {result['mode']}: "
        f"wall {result['wall_s'] * 1e3:.0f} ms, op self time {total:.0f} ms "
        "summed over threads"
    ]
    by_pass = collections.Counter()
    for r in rows:
        by_pass[r["pass"]] += r["ms"]
    lines.append(
        "   " + ", ".join(f"{p} {100 * ms / total:.0f}%" for p, ms in by_pass.most_common())
    )
    lines.append(f"   {'pass':<9} {'kind':<34} {'share':>6} {'ms':>8} {'events':>8}")
    for r in sorted(rows, key=lambda r: -r["ms"])[:top]:
        lines.append(
            f"   {r['pass']:<9} {r['kind'][:34]:<34} {100 * r['ms'] / total:>5.1f}% "
            f"{r['ms']:>8.1f} {r['count']:>8d}"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["sab_fused", "lstm"])
    parser.add_argument("--timesteps", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--modes", nargs="+", choices=("graph", "xla"), default=["graph", "xla"])
    add_model_arguments(parser)
    parser.add_argument("--top", type=int, default=15, help="kinds listed per table")
    parser.add_argument("--out", default=None, help="directory for profile.json")
    parser.add_argument("--jit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.model, args.timesteps = args.models[0], args.timesteps[0]
        return worker(args)

    results = []
    for timesteps in args.timesteps:
        for mode in args.modes:
            for model in args.models:
                result = run_one(args, model, timesteps, mode == "xla")
                results.append(result)
                print("\n".join(summary_lines(result, args.top)), flush=True)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "profile.json"), "w") as f:
            json.dump({"config": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
