"""Credit reaches far-away steps through memory links only (ALGORITHM.md §1, §4).

The answer is the first input of a 25-step sequence, read at the last step.
With `k_trunc=5`, truncated BPTT alone (`k_top=0`) has no gradient path from
the answer to step 1; SAB's memory links do.
"""

import keras
import numpy as np

import keras_sab

SYMBOLS = 8
TIMESTEPS = 25


def _first_symbol_task(n, seed):
    """Step 1 holds a one-hot symbol; later steps only noise on another channel."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, SYMBOLS, n)
    x = np.zeros((n, TIMESTEPS, SYMBOLS + 1), "float32")
    x[np.arange(n), 0, y] = 1.0
    x[:, 1:, SYMBOLS] = rng.normal(size=(n, TIMESTEPS - 1))
    return x, y


def _held_out_accuracy(k_top):
    keras.utils.set_random_seed(0)
    x, y = _first_symbol_task(2048, seed=0)
    x_test, y_test = _first_symbol_task(512, seed=1)
    model = keras.Sequential([
        keras.Input((None, SYMBOLS + 1)),
        keras_sab.SAB(32, k_top=k_top, k_att=5, k_trunc=5),
        keras.layers.Dense(SYMBOLS),
    ])
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def test_sab_learns_first_symbol_where_truncated_bptt_cannot():
    sab = _held_out_accuracy(k_top=2)
    tbptt = _held_out_accuracy(k_top=0)
    print(f"held-out accuracy: SAB(k_top=2) {sab:.3f}, TBPTT(k_top=0) {tbptt:.3f}")
    assert sab >= 0.9
    # Chance is 1/8: without a gradient path, TBPTT stays near it.
    assert tbptt <= 0.5
