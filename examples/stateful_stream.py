"""A cue in one segment, its question in the next: stateful SAB beside a stateful LSTM.

    python examples/stateful_stream.py       # about 4 minutes on 2 CPU cores

Long streams are trained in consecutive segments: a stateful layer carries its
state from one segment to the next, and gradients stop at the boundary
(truncated BPTT at the segment length). Here each cue-recall sequence
(`keras_sab.tasks.cue_recall_arrays`: one of the first 10 steps is marked,
the last step asks for its symbol) is cut into `--segments` consecutive
segments, fed one call at a time; only the last segment's output is trained.
With `--ask-every-segment`, every segment ends with the question (the same
cue's symbol) and every segment is trained: the model then learns, within a
segment, to keep the cue, and the last segment's answer still needs what the
first one saw.

`keras_sab.SAB(stateful=True, max_memories=M)` carries `h`, `c` and its
memory: the last segment's query can read the memories written while the cue
was on screen, and with `--stream-credit` (the layer's default) the query's
gradient reaches back, through the memory it read, into the first segment's
steps that wrote it (ALGORITHM.md §4b). `--no-stream-credit` treats earlier
memories as constants. `--keep` chooses which memories a full memory keeps
(`latest`, or `most_read`). `keras.layers.LSTM(stateful=True)` carries `h`
and `c`, through which the cue must survive every later step, and no gradient
from the query reaches the segment where the cue was; nor does it for the peers
that stream (`--models gru cfc lmu_cell`: Keras's GRU, ncps's CfC and
keras-lmu's LMU as a Keras RNN of its cell, each of SAB's parameter count). All train on the same
batches, with the same optimizer and updates; the script prints their test
accuracies last and writes them, with every flag, to `--out`/metrics.json,
with each model's training loss and accuracy at every update in
`--out`/log.csv and their learning curves in `--out`/learning_curves.png.
SAB's reads over the first test batch, fed as the stream is
(`keras_sab.plots.stream_reads`), go to `--out`/reads.png (the read mass,
the share of rows on the most-read memory, `|h_t|`) and, for its first
sequence, `--out`/attention.png (memory `j`: the stream's `j`-th written).

    python examples/stateful_stream.py --seed 1
    python examples/stateful_stream.py --models gru cfc lmu_cell   # the peers that stream
    python examples/stateful_stream.py --quick   # T=50, 200 updates: about a minute
    python examples/stateful_stream.py -T 2000 --segments 10 --max-memories 16 --keep most_read
"""

import argparse
import csv
import json
import os
import time

import keras
import numpy as np
from matplotlib.figure import Figure

import keras_sab
from keras_sab import plots
from keras_sab import tasks
from keras_sab.defaults import KEEP
from keras_sab.memory_buffer import KEEP_POLICIES
from keras_sab.read_statistics import read_statistics
from keras_sab.tasks import cue_recall

import flags
import peer_models
from run_directory import ATTENTION
from run_directory import LEARNING_CURVES
from run_directory import LOG
from run_directory import READS

# The models that can stream: SAB, and Keras's and the peers' layers that take
# `stateful=True` (tests/test_peers.py: keras-tcn's TCN and keras-lmu's LMU
# layer refuse it; the LMU streams as a Keras RNN of its cell).
MODELS = ("sab", "lstm", "gru", "cfc", "lmu_cell")
# `--quick`: a setting that runs in about a minute on a CPU (explicit flags win).
QUICK = {"timesteps": 50, "updates": 200, "test_batches": 4}


def parse_args(argv=None):
    """The example's flags."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-T", "--timesteps", type=int, default=200,
                        help="Steps from the cue window to the query.")
    parser.add_argument("--segments", type=int, default=2,
                        help="Consecutive segments each sequence is cut into.")
    parser.add_argument("--ask-every-segment", action="store_true",
                        help="End every segment with the question and train on each.")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=["sab", "lstm"],
                        help="The stateful models to train, in turn (gru, cfc, lmu_cell: sized "
                        "to SAB's parameter count at --units).")
    parser.add_argument("--units", type=int, default=64,
                        help="Width of SAB and the LSTM (the peers match SAB's parameters).")
    parser.add_argument("--max-memories", type=int, default=32,
                        help="Memories SAB carries from segment to segment.")
    parser.add_argument("--stream-credit", action=argparse.BooleanOptionalAction,
                        default=True, help="SAB: credit memories of earlier segments.")
    parser.add_argument("--keep", choices=KEEP_POLICIES, default=KEEP,
                        help="SAB: which memories a full memory keeps.")
    flags.add_read_arguments(parser)
    parser.add_argument("--updates", type=int, default=800,
                        help="Training updates per model (one per sequence batch).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate.")
    parser.add_argument("--test-batches", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0, help="Seed of weights and data.")
    parser.add_argument("--out", default=os.path.join("runs", "stateful_stream"),
                        help="Where metrics.json, log.csv and learning_curves.png are written.")
    parser.add_argument("--quick", action="store_true",
                        help=f"Small CPU setting ({QUICK}); explicit flags win.")
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**QUICK)
    args = parser.parse_args(argv)
    for name in ("timesteps", "segments", "units", "max_memories", "updates",
                 "batch_size", "test_batches"):
        keras_sab.validation.check_int(f"--{name.replace('_', '-')}", getattr(args, name), 1)
    keras_sab.validation.check_int("--seed", args.seed, 0)
    length = args.timesteps + cue_recall.CUE_WINDOW
    if length % args.segments or length // args.segments < cue_recall.CUE_WINDOW:
        raise ValueError(
            "`--segments` must divide the sequence length (T + 10 = "
            f"{length}) into segments of at least 10 steps. Received: "
            f"--segments={args.segments}"
        )
    if not args.lr > 0:
        raise ValueError(f"`--lr` must be a positive number. Received: --lr={args.lr!r}")
    flags.read_settings(args)
    return args


def stateful_layer(kind, args, width=None):
    """The stateful recurrent layer of `kind`: SAB (its defaults but the
    stream's flags and the read's, `--read`, `--read-gain`, `--null-slot`) or the LSTM
    of width `args.units`, or a peer (`"gru"`, `"cfc"`, `"lmu_cell"`) of width `width`
    (default: the one matching SAB's parameter count, `peer_width`)."""
    if kind == "sab":
        return keras_sab.SAB(
            args.units, stateful=True, max_memories=args.max_memories,
            stream_credit=args.stream_credit, keep=args.keep, **flags.read_settings(args),
            name="sab",
        )
    if kind == "lstm":
        return keras.layers.LSTM(args.units, stateful=True, name="lstm")
    width = peer_width(kind, args) if width is None else width
    steps = args.timesteps + cue_recall.CUE_WINDOW
    return peer_models.peer_layer(kind, width, steps, stateful=True, name=kind)


def _model(recurrent, batch_size):
    inputs = keras.Input((None, tasks.CUE_INPUT_DIM), batch_size=batch_size)
    return keras.Model(inputs, keras.layers.Dense(tasks.CUE_NUM_SYMBOLS)(recurrent(inputs)))


def peer_width(kind, args):
    """The width of peer `kind` whose model's parameter count is nearest
    SAB's (`peer_models.matched_width`).

    Raises:
        ValueError: no width comes within `peer_models.PARAMETER_TOLERANCE`
            of SAB's count (CfC's backbone alone outweighs a narrow SAB).
    """
    sab = _model(stateful_layer("sab", args), 1).count_params()

    def parameters(width):
        return _model(stateful_layer(kind, args, width), 1).count_params()

    width = peer_models.matched_width(parameters, sab)
    if abs(parameters(width) - sab) > peer_models.PARAMETER_TOLERANCE * sab:
        raise ValueError(
            f"`--models {kind}` cannot be sized like SAB at --units {args.units} "
            f"({sab:,} parameters): its nearest width, {width}, has "
            f"{parameters(width):,}. Give a larger --units."
        )
    return width


def build_model(kind, args):
    """`Input -> stateful model `kind` -> Dense(8)`, compiled; and its layer."""
    recurrent = stateful_layer(kind, args)
    model = _model(recurrent, args.batch_size)
    model.compile(
        keras.optimizers.Adam(args.lr, clipnorm=1.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, recurrent


def stream_segments(x, args):
    """`x` cut into `args.segments` consecutive segments, each ending with the
    question with `args.ask_every_segment`."""
    segments = np.split(x, args.segments, axis=1)
    if args.ask_every_segment:
        query = x[:, -1]
        segments = [np.concatenate([s[:, :-1], query[:, None]], axis=1) for s in segments]
    return segments


def run_stream(model, recurrent, x, args, y=None):
    """Feeds `x`, cut into `args.segments` segments, in order from an empty
    state; trains on the last one (on each with `args.ask_every_segment`) if
    `y` is given. Returns the last segment's logits, or its training loss
    and accuracy."""
    recurrent.reset_state()
    segments = stream_segments(x, args)
    for segment in segments[:-1]:
        if y is not None and args.ask_every_segment:
            model.train_on_batch(segment, y)
        else:
            model.predict_on_batch(segment)
    if y is None:
        return model.predict_on_batch(segments[-1])
    loss, accuracy = model.train_on_batch(segments[-1], y)
    return loss, accuracy


def train(kind, args, test):
    """Trains one model; returns its test accuracy, training seconds and
    learning curve: `{"loss": [...], "accuracy": [...]}`, the training
    figures of the last segment at each update."""
    keras.utils.set_random_seed(args.seed)
    model, recurrent = build_model(kind, args)
    print(f"training stateful {kind}: {args.updates} updates, {args.segments} segments")
    start = time.time()
    curve = {"loss": [], "accuracy": []}
    for update in range(args.updates):
        x, y = tasks.cue_recall_arrays(args.timesteps, args.batch_size, seed=(args.seed, update))
        loss, accuracy = run_stream(model, recurrent, x, args, y)
        curve["loss"].append(float(loss))
        curve["accuracy"].append(float(accuracy))
        if (update + 1) % 100 == 0:
            print(f"  {kind} update {update + 1}: loss {loss:.3f}", flush=True)
    seconds = time.time() - start
    correct = 0
    for x, y in test:
        logits = run_stream(model, recurrent, x, args)
        correct += int((logits.argmax(-1) == y).sum())
    if kind == "sab":
        write_reads(model, test[0][0], args)
    return correct / (len(test) * args.batch_size), seconds, curve


def write_reads(model, x, args):
    """Plots SAB's reads over the test batch `x`, fed as the stream is, to
    `READS` and its first sequence's attention to `ATTENTION`, in `args.out`."""
    segments = stream_segments(x, args)
    states, attention = plots.stream_reads(model, segments)
    label = f"stateful SAB, {len(segments)} calls of {segments[0].shape[1]} steps"
    plots.plot_read_statistics(
        read_statistics(attention, states),
        os.path.join(args.out, READS),
        title=f"{label}: reads over a test batch of {len(states)}",
    )
    plots.plot_attention(
        attention[0],
        os.path.join(args.out, ATTENTION),
        title=f"{label}: attention of test sequence 0",
    )


def write_curves(curves, args):
    """Writes both models' training figures per update to `LOG` and plots
    them, with their running mean over 5% of the updates, to
    `LEARNING_CURVES`, in `args.out`; returns the plot's path."""
    with open(os.path.join(args.out, LOG), "w", newline="") as stream:
        writer = csv.writer(stream)
        names = [(kind, name) for kind in args.models for name in ("loss", "accuracy")]
        writer.writerow(["update"] + [f"{kind}_{name}" for kind, name in names])
        for update in range(args.updates):
            writer.writerow([update + 1] + [curves[kind][name][update] for kind, name in names])
    window = max(1, args.updates // 20)
    updates = np.arange(1, args.updates + 1)
    figure = Figure(figsize=plots.CURVES_SIZE, dpi=plots.DPI, layout="constrained")
    for ax, name in zip(figure.subplots(1, 2), ("loss", "accuracy")):
        for kind in args.models:
            values = np.asarray(curves[kind][name])
            (line,) = ax.plot(updates, values, alpha=0.3, linewidth=0.8)
            running = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(updates[window - 1 :], running, color=line.get_color(),
                    label=f"stateful {kind}")
        ax.set_xlabel("update")
        ax.set_title(f"training {name} (last segment; running mean of {window})")
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(f"cue recall across {args.segments} segments, T={args.timesteps}")
    path = os.path.join(args.out, LEARNING_CURVES)
    figure.savefig(path, dpi=plots.DPI)
    return path


def main(argv=None):
    """Runs the example; returns what it writes to `metrics.json`."""
    args = parse_args(argv)
    # Training batch i is drawn from the seed (seed, i): no batch has these.
    test = [
        tasks.cue_recall_arrays(args.timesteps, args.batch_size, seed=(args.seed, i, 1))
        for i in range(args.test_batches)
    ]
    results, curves = {"flags": vars(args)}, {}
    os.makedirs(args.out, exist_ok=True)
    for kind in args.models:
        results[kind], results[kind + "_seconds"], curves[kind] = train(kind, args, test)
    with open(os.path.join(args.out, "metrics.json"), "w") as stream:
        json.dump(results, stream, indent=2)
    print(f"learning curves: {write_curves(curves, args)}")
    segment = (args.timesteps + cue_recall.CUE_WINDOW) // args.segments
    asked = ", asked after every segment" if args.ask_every_segment else ""
    credit = "with" if args.stream_credit else "without"
    asked += f", SAB {credit} stream credit, keep={args.keep}"
    print(f"\ncue recall across {args.segments} segments of {segment} steps{asked} "
          f"(chance 12.5%), {args.updates} updates, seed {args.seed}:")
    for kind in args.models:
        print(f"  stateful {kind:4s} test accuracy {results[kind]:6.1%}"
              f"  ({results[kind + '_seconds']:.0f} s of training)")
    return results


if __name__ == "__main__":
    main()
