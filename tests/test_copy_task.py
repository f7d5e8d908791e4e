import keras
import numpy as np
import pytest

from keras_sab.tasks import copy_task
from keras_sab.tasks.copy_task import copy_arrays
from keras_sab.tasks.copy_task import copy_dataset
from keras_sab.tasks.copy_task import copy_recall_accuracy


def test_copy_arrays_follow_the_authors_layout():
    """ALGORITHM.md §8: 10 symbols in 1..8, T-1 blanks, the marker 9, 10 blanks; targets
    blank except the last 10 steps, which repeat the symbols in order."""
    timesteps = 7
    x, y = copy_arrays(timesteps, num_examples=64, seed=3)
    assert x.shape == y.shape == (64, timesteps + 20)
    assert x.dtype == y.dtype == np.int32
    symbols = x[:, :10]
    assert symbols.min() >= 1 and symbols.max() <= 8
    assert len(np.unique(symbols)) == 8  # All eight symbols occur.
    np.testing.assert_array_equal(x[:, 10 : 10 + timesteps - 1], 0)
    np.testing.assert_array_equal(x[:, 10 + timesteps - 1], 9)
    np.testing.assert_array_equal((x == 9).sum(axis=1), 1)
    np.testing.assert_array_equal(x[:, -10:], 0)
    np.testing.assert_array_equal(y[:, :-10], 0)
    np.testing.assert_array_equal(y[:, -10:], symbols)


def test_copy_arrays_with_delay_one_put_the_marker_right_after_the_symbols():
    """ALGORITHM.md §8: with T=1 there are no blanks between the symbols and the marker."""
    x, y = copy_arrays(1, num_examples=4, seed=0)
    assert x.shape == (4, 21)
    np.testing.assert_array_equal(x[:, 10], 9)
    np.testing.assert_array_equal(y[:, -10:], x[:, :10])


def test_copy_arrays_one_hot_encodes_the_same_sequences():
    """ALGORITHM.md §8: the vocabulary has 10 values (blank, 8 symbols, marker)."""
    ids, y_ids = copy_arrays(5, num_examples=8, seed=1)
    x, y = copy_arrays(5, num_examples=8, seed=1, one_hot=True)
    assert x.shape == (8, 25, 10) and x.dtype == np.float32
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(x.argmax(axis=-1), ids)
    np.testing.assert_array_equal(y, y_ids)


def test_copy_arrays_depend_on_the_seed_only():
    """ALGORITHM.md §8: the copy data is generated reproducibly from a seed."""
    first, _ = copy_arrays(5, num_examples=8, seed=11)
    again, _ = copy_arrays(5, num_examples=8, seed=11)
    other, _ = copy_arrays(5, num_examples=8, seed=12)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[:, :10], other[:, :10])


def test_copy_dataset_batch_i_is_copy_arrays_with_seed_base_and_i():
    """ALGORITHM.md §8: the tf.data pipeline yields the authors' format, float inputs
    for an RNN and int targets, the same batches on every pass."""
    ds = copy_dataset(timesteps=6, batch_size=5, num_batches=3, seed=7)
    assert int(ds.cardinality()) == 3
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 3
    for index, (x, y) in enumerate(batches):
        expected_x, expected_y = copy_arrays(6, 5, seed=(7, index), one_hot=True)
        assert x.dtype == np.float32 and y.dtype == np.int32
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(y, expected_y)
    assert not np.array_equal(batches[0][1], batches[1][1])
    second_pass = list(ds.as_numpy_iterator())
    np.testing.assert_array_equal(second_pass[2][0], batches[2][0])


def test_copy_dataset_without_one_hot_gives_the_symbol_values_as_one_feature():
    """ALGORITHM.md §8: inputs of width 1 hold the raw values 0..9."""
    ds = copy_dataset(timesteps=4, batch_size=3, num_batches=1, seed=2, one_hot=False)
    x, y = next(ds.as_numpy_iterator())
    ids, _ = copy_arrays(4, 3, seed=(2, 0))
    assert x.shape == (3, 24, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], ids)
    np.testing.assert_array_equal(y[:, -10:], ids[:, :10])


def test_endless_copy_dataset_keeps_drawing_new_batches():
    """ALGORITHM.md §8: training draws fresh sequences at every step."""
    ds = copy_dataset(timesteps=3, batch_size=2, seed=0)
    targets = [y for _, y in ds.take(4).as_numpy_iterator()]
    assert len(targets) == 4
    assert len({t.tobytes() for t in targets}) == 4


def test_copy_recall_accuracy_scores_only_the_last_ten_steps():
    """ALGORITHM.md §8: accuracy is measured over the 10 recall steps."""
    _, y = copy_arrays(5, num_examples=2, seed=4)
    perfect = np.eye(10, dtype=np.float32)[y]
    np.testing.assert_allclose(copy_recall_accuracy(y, perfect), [1.0, 1.0])
    blanks = np.eye(10, dtype=np.float32)[np.zeros_like(y)]
    np.testing.assert_allclose(copy_recall_accuracy(y, blanks), [0.0, 0.0])
    one_wrong = perfect.copy()
    one_wrong[0, -1] = np.eye(10)[0]
    one_wrong[:, 0] = np.eye(10)[9]  # Outside the recall window: not scored.
    np.testing.assert_allclose(copy_recall_accuracy(y, one_wrong), [0.9, 1.0])
    assert copy_task.RECALL_STEPS == 10


def test_copy_dataset_trains_a_keras_rnn_with_the_recall_metric():
    """ALGORITHM.md §8: the dataset and metric plug into `fit` as they are, and
    what `fit` and `evaluate` report is the fraction of the 10 recall steps
    predicted right, averaged over the examples, computed here from predictions."""
    keras.utils.set_random_seed(0)
    ds = copy_dataset(timesteps=3, batch_size=4, num_batches=2, seed=0)
    model = keras.Sequential(
        [
            keras.Input((23, 10)),
            keras.layers.SimpleRNN(8, return_sequences=True),
            keras.layers.Dense(10),
        ]
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss=loss, metrics=[copy_recall_accuracy])
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(ds, epochs=1, shuffle=False, verbose=0)
    assert set(history.history) == {"loss", "copy_recall_accuracy"}
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))

    x, y = (np.concatenate(parts) for parts in zip(*ds.as_numpy_iterator()))
    predicted = model.predict(x, verbose=0).argmax(-1)
    expected = (predicted[:, -10:] == y[:, -10:]).mean()
    evaluated = model.evaluate(ds, return_dict=True, verbose=0)["copy_recall_accuracy"]
    assert evaluated == pytest.approx(expected, abs=1e-6)
    # With a learning rate of zero the weights stay put during `fit`, so the
    # figure it records over the two batches is the same one.
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss,
                  metrics=[copy_recall_accuracy])
    recorded = model.fit(ds, epochs=1, shuffle=False, verbose=0).history
    assert recorded["copy_recall_accuracy"][0] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"timesteps": 0, "batch_size": 2}, "timesteps"),
        ({"timesteps": 5, "batch_size": 0}, "batch_size"),
        ({"timesteps": 5, "batch_size": 2, "num_batches": 0}, "num_batches"),
        ({"timesteps": 2.5, "batch_size": 2}, "timesteps"),
        ({"timesteps": 5, "batch_size": 2, "seed": -1}, "seed"),
    ],
)
def test_copy_dataset_rejects_bad_arguments_by_name(kwargs, name):
    """ALGORITHM.md §8: a bad setting is a ValueError naming the argument."""
    with pytest.raises(ValueError, match=f"`{name}` must be an integer >="):
        copy_dataset(**kwargs)


def test_copy_arrays_rejects_a_bad_number_of_examples():
    """ALGORITHM.md §8: a bad setting is a ValueError naming the argument."""
    with pytest.raises(ValueError, match="`num_examples` must be an integer >= 1"):
        copy_arrays(5, num_examples=0)
