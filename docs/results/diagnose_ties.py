"""Where a trained copy model's SAB reads nothing, and whether both paths agree.

    python docs/results/diagnose_ties.py MODEL.keras T

Prints, for 64 test sequences of the copy task at delay `T`, the fraction of
sequences whose attention weights sum to zero (all best scores tied) in four
step ranges, then, on 16 sequences, the loss and attention of the fused path
and of the cell loop with the same weights: how many (sequence, step) rows of
attention differ by more than 1e-3, and the largest difference. The numbers
in docs/results/tied_scores.md come from this script.
"""

import sys

import keras
import numpy as np

from keras_sab import plots
from keras_sab import tasks


def zero_read_fractions(model, timesteps):
    x, _ = tasks.copy_arrays(timesteps, 64, seed=7, one_hot=True)
    read = plots.attention_weights(model, x).sum(-1)
    length = x.shape[1]
    ranges = [(11, length // 2), (length // 2, length - 30), (length - 30, length - 10),
              (length - 10, length)]
    for low, high in ranges:
        print(f"steps {low}-{high - 1}: {np.mean(read[:, low:high] == 0):.3f} of rows read nothing")


def path_agreement(model, timesteps):
    sab = plots.find_sab_layer(model)
    x, y = tasks.copy_arrays(timesteps, 16, seed=11, one_hot=True)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    attention = {}
    for fused in (True, False):
        sab.use_fused = fused
        value = float(loss(y, model(x)))
        attention[fused] = plots.attention_weights(model, x)
        print(f"use_fused={fused}: loss {value:.4f}")
    difference = np.abs(attention[True] - attention[False]).max(-1)
    print(
        f"attention rows differing by > 1e-3: {int((difference > 1e-3).sum())} of "
        f"{difference.size}; largest difference {difference.max():.3f}"
    )


def main():
    path, timesteps = sys.argv[1], int(sys.argv[2])
    model = keras.saving.load_model(path)
    zero_read_fractions(model, timesteps)
    path_agreement(model, timesteps)


if __name__ == "__main__":
    main()
