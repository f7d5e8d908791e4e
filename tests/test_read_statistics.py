"""`keras_sab.read_statistics`: per-step read mass, share of reads on the
most-read memory and `|h|`, the signs of an attention sink (issue 33)."""

import numpy as np
import pytest

from keras_sab.read_statistics import read_statistics


def test_a_sink_shows_as_full_mass_on_one_slot():
    """Rows 0-2 read slot 1 most from step 2 on, row 3 reads slot 0: slot 1
    is the sink, read most by 3 of 4 rows; the mass is what the weights sum
    to, `|h|` the mean norm."""
    attention = np.zeros((4, 5, 3))
    attention[:3, 2:, 1] = 0.9
    attention[:3, 2:, 0] = 0.1
    attention[3, 2:, 0] = 0.6
    states = np.zeros((4, 5, 2))
    states[:, :, 0] = np.arange(5)[None, :]
    states[0, :, 1] = 1.0
    stats = read_statistics(attention, states)
    assert stats.sink_slot == 1
    np.testing.assert_allclose(stats.read_mass, [0, 0, 0.9, 0.9, 0.9])
    np.testing.assert_allclose(stats.sink_share, [0, 0, 0.75, 0.75, 0.75])
    expected_norm = (3 * np.arange(5) + np.sqrt(np.arange(5) ** 2 + 1)) / 4
    np.testing.assert_allclose(stats.state_norm, expected_norm)


def test_steps_that_read_nothing_count_no_sink():
    """A row whose weights are all zero reads nothing: it is not counted on
    the sink even though `argmax` of zeros is slot 0."""
    attention = np.zeros((2, 2, 2))
    attention[1, 1, 0] = 1.0
    stats = read_statistics(attention, np.ones((2, 2, 1)))
    assert stats.sink_slot == 0
    np.testing.assert_allclose(stats.sink_share, [0.0, 0.5])


def test_no_memory_slots_reads_nothing():
    stats = read_statistics(np.zeros((2, 3, 0)), np.ones((2, 3, 4)))
    assert stats.sink_slot == -1
    assert not stats.read_mass.any() and not stats.sink_share.any()


@pytest.mark.parametrize(
    "attention_shape, states_shape",
    [((2, 3), (2, 3, 4)), ((2, 3, 1), (2, 4, 4)), ((3, 3, 1), (2, 3, 4))],
)
def test_mismatched_shapes_raise(attention_shape, states_shape):
    with pytest.raises(ValueError, match="`attention` must be \\(batch, timesteps, slots\\)"):
        read_statistics(np.zeros(attention_shape), np.zeros(states_shape))
