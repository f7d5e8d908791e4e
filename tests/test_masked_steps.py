"""Moving masked steps out of the way, and back (`keras_sab.masked_steps`)."""

import numpy as np
import tensorflow as tf

from keras_sab.masked_steps import gather_steps
from keras_sab.masked_steps import left_aligned_order
from keras_sab.masked_steps import spread_steps

MASK = np.array([
    [False, True, True, False, True],
    [True, True, True, True, True],
    [False, False, False, False, False],
    [True, False, False, True, False],
])


def test_left_aligned_order_keeps_unmasked_steps_first_and_in_order():
    order, lengths = left_aligned_order(tf.constant(MASK))
    np.testing.assert_array_equal(lengths, [3, 5, 0, 2])
    for row, mask in zip(order.numpy(), MASK):
        n = mask.sum()
        np.testing.assert_array_equal(row[:n], np.flatnonzero(mask))
        np.testing.assert_array_equal(row[n:], np.flatnonzero(~mask))


def test_spread_steps_undoes_the_gather_where_unmasked_and_repeats_where_masked():
    values = tf.reshape(tf.range(20.0), (4, 5, 1))
    order, _ = left_aligned_order(tf.constant(MASK))
    before = tf.constant([[-1.0], [-2.0], [-3.0], [-4.0]])
    spread = spread_steps(gather_steps(values, order), tf.constant(MASK), before)[..., 0]
    np.testing.assert_array_equal(
        spread,
        [[-1, 1, 2, 2, 4], [5, 6, 7, 8, 9], [-3, -3, -3, -3, -3], [15, 15, 15, 18, 18]],
    )
    without_before = spread_steps(gather_steps(values, order), tf.constant(MASK))
    assert float(without_before[2, 0, 0]) == 0.0
