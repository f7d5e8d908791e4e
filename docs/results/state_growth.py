"""How far SAB's state grows before any training: the figures in docs/results/paper_weights.md.

    python docs/results/state_growth.py

SAB adds its read `s_t`, a weighted mean of memories, into the state it
carries (`h_t = ĥ_t + s_t`, ALGORITHM.md §2), and its memories are past states that
already hold reads. Prints the mean norm of `h_t` of freshly initialised
layers (128 units, `k_att=k_trunc=10`, seed 0) on copy-task inputs, with
attention (`k_top=5`) and without (`k_top=0`, an LSTM); one layer of each
serves both lengths.
"""

import keras
import numpy as np

import keras_sab
from keras_sab import tasks


def main():
    keras.utils.set_random_seed(0)
    for k_top in (5, 0):
        layer = keras_sab.SAB(128, k_top=k_top, k_att=10, k_trunc=10, return_sequences=True)
        for timesteps in (100, 1000):
            x, _ = tasks.copy_arrays(timesteps, 16, seed=7, one_hot=True)
            norms = np.linalg.norm(np.asarray(layer(x)), axis=-1).mean(0)
            steps = (10, 50, 100, 500, len(norms))
            print(
                f"k_top={k_top}, T={timesteps}: mean |h_t| "
                + ", ".join(f"at step {t}: {norms[t - 1]:.2f}" for t in steps if t <= len(norms))
            )

if __name__ == "__main__":
    main()
