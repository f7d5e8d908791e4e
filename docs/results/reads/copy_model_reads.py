"""Where a committed copy model reads: `keras_sab.read_statistics` on its test set.

    python docs/results/reads/copy_model_reads.py docs/results/copy_T100_sab_default \
        docs/results/reads/copy_T100_sab_default.png
    python docs/results/reads/copy_model_reads.py docs/results/copy_T100_sab_default \
        docs/results/reads/transfer_T5000_sab_default.png -T 5000

Loads the run's `model.keras`, rebuilds its test set from the flags in its
`metrics.json` (`examples/copy_task.py`), and plots the read statistics of
the first test batch (`keras_sab.plots.plot_read_statistics`); with `-T`, on
a test set of that length instead of the trained one (the transfer).
"""

import argparse
import json
import pathlib
import sys

import keras

from keras_sab import plots
from keras_sab.read_statistics import read_statistics

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "examples"))
import copy_task  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=pathlib.Path, help="A copy run with model.keras.")
    parser.add_argument("png", help="Where the figure is written.")
    parser.add_argument("-T", "--timesteps", type=int, default=None,
                        help="The test sequences' T (default: the run's).")
    args = parser.parse_args()
    metrics = json.loads((args.run / "metrics.json").read_text())
    flags = argparse.Namespace(**metrics["hyperparameters"])
    flags.timesteps = args.timesteps or flags.timesteps
    model = keras.saving.load_model(args.run / "model.keras", compile=False)
    states, attention = plots.sab_reads(model, next(iter(copy_task.copy_task(flags).test))[0])
    updates = metrics["epochs_done"] * flags.steps_per_epoch
    plots.plot_read_statistics(
        read_statistics(attention, states),
        args.png,
        title=f"copy T={flags.timesteps}, {args.run.name} ({updates:,} updates at "
        f"T={metrics['T']}): reads over a test batch of {len(states)}",
    )


if __name__ == "__main__":
    main()
