import numpy as np
import pytest

from keras_sab.tasks.adding_task import adding_arrays
from keras_sab.tasks.adding_task import adding_dataset


def test_adding_arrays_mark_one_value_in_each_half_and_target_their_sum():
    """ALGORITHM.md §9 (adding, generated): two markers, one per half; the target is
    the sum of the two marked values."""
    timesteps = 30
    x, y = adding_arrays(timesteps, num_examples=200, seed=5)
    assert x.shape == (200, timesteps, 2) and x.dtype == np.float32
    assert y.shape == (200, 1) and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    np.testing.assert_array_equal(markers[:, : timesteps // 2].sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers[:, timesteps // 2 :].sum(axis=1), 1.0)
    marked = np.where(markers == 1.0, values, 0.0)
    np.testing.assert_allclose(y[:, 0], marked.sum(axis=1), rtol=1e-6)
    # The marked positions vary from example to example.
    assert len(np.unique(markers.argmax(axis=1))) > 5


def test_adding_arrays_with_two_steps_mark_both():
    """ALGORITHM.md §9: the shortest adding sequence has one step per half."""
    x, y = adding_arrays(2, num_examples=3, seed=0)
    np.testing.assert_array_equal(x[..., 1], 1.0)
    np.testing.assert_allclose(y[:, 0], x[..., 0].sum(axis=1), rtol=1e-6)


def test_adding_arrays_depend_on_the_seed_only():
    """ALGORITHM.md §9: generated data is reproducible from a seed."""
    first = adding_arrays(10, num_examples=4, seed=1)
    again = adding_arrays(10, num_examples=4, seed=1)
    other = adding_arrays(10, num_examples=4, seed=2)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_adding_dataset_batch_i_is_adding_arrays_with_seed_base_and_i():
    """ALGORITHM.md §9: the tf.data pipeline yields the numpy generator's batches."""
    ds = adding_dataset(timesteps=12, batch_size=4, num_batches=2, seed=9)
    assert int(ds.cardinality()) == 2
    batches = list(ds.as_numpy_iterator())
    for index, (x, y) in enumerate(batches):
        expected_x, expected_y = adding_arrays(12, 4, seed=(9, index))
        assert x.shape == (4, 12, 2) and y.shape == (4, 1)
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(y, expected_y)
    assert not np.array_equal(batches[0][0], batches[1][0])


def test_endless_adding_dataset_keeps_drawing_new_batches():
    """ALGORITHM.md §9: training draws fresh sequences at every step."""
    targets = [y for _, y in adding_dataset(8, 3).take(3).as_numpy_iterator()]
    assert len({t.tobytes() for t in targets}) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"timesteps": 1, "batch_size": 2}, "`timesteps` must be an integer >= 2"),
        ({"timesteps": 10, "batch_size": 0}, "`batch_size` must be an integer >= 1"),
        (
            {"timesteps": 10, "batch_size": 2, "num_batches": -3},
            "`num_batches` must be an integer >= 1 or None",
        ),
    ],
)
def test_adding_dataset_rejects_bad_arguments_by_name(kwargs, message):
    """ALGORITHM.md §9: a bad setting is a ValueError naming the argument."""
    with pytest.raises(ValueError, match=message):
        adding_dataset(**kwargs)
