"""The cue-recall task: one marked symbol among distractors, asked for T steps later."""

import numpy as np
import pytest

from keras_sab import tasks
from keras_sab.tasks.cue_recall import CUE_WINDOW


def test_one_cue_in_the_window_and_the_query_last():
    """Each sequence marks exactly one step, within the first CUE_WINDOW; the
    query flag is on the last step only, which shows no symbol; every other
    step shows exactly one symbol; the target is the marked step's symbol."""
    T = 30
    x, y = tasks.cue_recall_arrays(T, 500, seed=4)
    assert x.shape == (500, T + CUE_WINDOW, tasks.CUE_INPUT_DIM) and y.shape == (500,)
    symbols, cue, query = x[..., :8], x[..., 8], x[..., 9]
    assert np.all(cue.sum(axis=1) == 1) and np.all(cue[:, CUE_WINDOW:] == 0)
    assert np.all(query[:, -1] == 1) and np.all(query[:, :-1] == 0)
    assert np.all(symbols[:, -1] == 0) and np.all(symbols[:, :-1].sum(-1) == 1)
    marked = cue.argmax(axis=1)
    np.testing.assert_array_equal(symbols[np.arange(500), marked].argmax(-1), y)
    # The query comes at least T steps after the cue.
    assert np.all((T + CUE_WINDOW - 1) - marked >= T)


def test_targets_and_cue_positions_are_spread():
    """Every symbol and every cue position occurs (no shortcut: chance is 1/8)."""
    x, y = tasks.cue_recall_arrays(20, 4000, seed=0)
    counts = np.bincount(y, minlength=8)
    assert counts.min() > 400 and counts.max() < 600
    assert set(x[..., 8].argmax(axis=1)) == set(range(CUE_WINDOW))


def test_dataset_batch_i_is_the_arrays_of_seed_i():
    x1, y1 = next(iter(tasks.cue_recall_dataset(12, 4, num_batches=3, seed=5).skip(1)))
    x2, y2 = tasks.cue_recall_arrays(12, 4, seed=(5, 1))
    np.testing.assert_array_equal(x1.numpy(), x2)
    np.testing.assert_array_equal(y1.numpy(), y2)
    assert not np.array_equal(tasks.cue_recall_arrays(12, 4, seed=(6, 1))[0], x2)


@pytest.mark.parametrize(
    "kwargs,named",
    [({"timesteps": 0}, "timesteps"), ({"batch_size": 2.5}, "batch_size"),
     ({"num_batches": 0}, "num_batches"), ({"seed": -1}, "seed")],
)
def test_bad_arguments_raise_value_error(kwargs, named):
    arguments = {"timesteps": 5, "batch_size": 2, **kwargs}
    with pytest.raises(ValueError, match=f"`{named}` must be"):
        tasks.cue_recall_dataset(**arguments)
