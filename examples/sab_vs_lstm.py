"""SAB beside an LSTM on a 200-step dependency: the README's demonstration.

    python examples/sab_vs_lstm.py           # 2 to 3 minutes on 2 CPU cores
    python examples/sab_vs_lstm.py --quick   # T=50, 200 updates: under a minute

The task is cue recall (`keras_sab.tasks.cue_recall_dataset`): every step
shows a random symbol, one of the first 10 is marked, and 200 steps later the
model must name it (chance: 12.5%). `keras_sab.SAB` with its default settings
(`--read`, `--read-gain` and `--null-slot` change its read) and `keras.layers.LSTM`, of the
same width, train on the same batches with the same optimizer for the same
number of updates. The script prints both test accuracies last and writes to
`--out` `metrics.json` (both accuracies, training times and the flags) and
`attention.png`: where SAB's query step read, for the first 32 test sequences.

SAB learns the task because its memory keeps the cue a few links from the
query: the state written at step 10 holds it, every step adds what it reads
to its own state, so later memories carry the cue on, and credit travels back
along the same links (in the heatmap the query reads mostly the memories of
steps 20 to 80). The LSTM must carry the cue through 200 steps of distraction
and pass gradient back through all of them: at this budget it stays at chance.
"""

import argparse
import json
import math
import os
import time

import keras

import keras_sab
from keras_sab import plots
from keras_sab import tasks

import flags

MODELS = ("sab", "lstm")
# `--quick`: a setting that runs in under a minute on a CPU (explicit flags win).
QUICK = {"timesteps": 50, "updates": 200, "test_examples": 256}


def parse_args(argv=None):
    """The demo's flags."""
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-T", "--timesteps", type=int, default=200,
                        help="Steps from the cue window to the query.")
    parser.add_argument("--units", type=int, default=64, help="Width of both layers.")
    parser.add_argument("--updates", type=int, default=800,
                        help="Training updates per model (batches).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate.")
    parser.add_argument("--test-examples", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0, help="Seed of weights and data.")
    flags.add_read_arguments(parser)
    parser.add_argument("--out", default=os.path.join("runs", "sab_vs_lstm"),
                        help="Where metrics.json and attention.png are written.")
    parser.add_argument("--quick", action="store_true",
                        help=f"Small CPU setting ({QUICK}); explicit flags win.")
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**QUICK)
    args = parser.parse_args(argv)
    for name in ("timesteps", "units", "updates", "batch_size", "test_examples"):
        keras_sab.validation.check_int(f"--{name.replace('_', '-')}", getattr(args, name), 1)
    keras_sab.validation.check_int("--seed", args.seed, 0)
    if not args.lr > 0:
        raise ValueError(f"`--lr` must be a positive number. Received: --lr={args.lr!r}")
    flags.read_settings(args)
    return args


def build_model(kind, units, **read_settings):
    """`Input -> SAB (defaults but `read_settings`: `read`, `read_gain`,
    `null_slot`) or LSTM -> Dense(8)`, uncompiled."""
    inputs = keras.Input((None, tasks.CUE_INPUT_DIM), name="sequence")
    if kind == "sab":
        recurrent = keras_sab.SAB(units, **read_settings, name="sab")
    else:
        recurrent = keras.layers.LSTM(units, name="lstm")
    outputs = keras.layers.Dense(tasks.CUE_NUM_SYMBOLS, name="symbol")(recurrent(inputs))
    return keras.Model(inputs, outputs, name=kind)


def train(kind, args, test):
    """Trains one model; returns it with its test accuracy and wall time."""
    keras.utils.set_random_seed(args.seed)
    model = build_model(kind, args.units, **flags.read_settings(args))
    model.compile(
        keras.optimizers.Adam(args.lr, clipnorm=1.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    steps = math.gcd(args.updates, 100)  # epochs of up to 100 updates, exactly `--updates`
    print(f"training {kind}: {args.updates} updates of {args.batch_size} sequences")
    start = time.time()
    model.fit(
        tasks.cue_recall_dataset(args.timesteps, args.batch_size, seed=args.seed),
        epochs=args.updates // steps,
        steps_per_epoch=steps,
        shuffle=False,  # The dataset is generated: nothing to shuffle.
        verbose=2,
    )
    seconds = time.time() - start
    x, y = test
    accuracy = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)["accuracy"]
    return model, accuracy, seconds


def main(argv=None):
    """Runs the demo; returns what it writes to `metrics.json`."""
    args = parse_args(argv)
    # Training batch i is drawn from the seed (seed, i): no batch has this one.
    test = tasks.cue_recall_arrays(
        args.timesteps, args.test_examples, seed=(args.seed, 0, 1)
    )
    results, models = {"flags": vars(args)}, {}
    for kind in MODELS:
        models[kind], results[kind], seconds = train(kind, args, test)
        results[kind + "_seconds"] = seconds
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as stream:
        json.dump(results, stream, indent=2)
    query_reads = plots.attention_weights(models["sab"], test[0][:32])[:, -1]
    path = plots.plot_attention(
        query_reads,
        os.path.join(args.out, "attention.png"),
        title=f"cue recall T={args.timesteps}: where SAB's query step reads",
        k_att=models["sab"].get_layer("sab").k_att,
        ylabel="test sequence (its query step)",
    )
    updates = f"{args.updates} updates, seed {args.seed}"
    print(f"\ncue recall, T={args.timesteps} (chance 12.5%), {updates}:")
    for kind in MODELS:
        print(f"  {kind:4s} test accuracy {results[kind]:6.1%}"
              f"  ({results[kind + '_seconds']:.0f} s of training)")
    print(f"attention heatmap: {path}")
    return results


if __name__ == "__main__":
    main()
