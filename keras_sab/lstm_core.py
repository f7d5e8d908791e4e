"""One step of the LSTM at the core of SAB, as a pure function.

The gate layout (`i, f, g, o` in that order along the last axis, sigmoid gates,
tanh candidate and output) is that of `keras.layers.LSTM`, so weights move
between the two layers unchanged (ALGORITHM.md §5).
"""

import tensorflow as tf


def lstm_step(projected_input, h, c, recurrent_kernel):
    """Advances an LSTM by one step.

    With `z = x_t W + b + h_{t-1} U` split into `z_i, z_f, z_g, z_o`:

        i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    Args:
        projected_input: tensor `(batch, 4 * units)`, `x_t W + b` (the input
            projection is done for all steps at once, outside the loop).
        h: tensor `(batch, units)`, previous hidden state.
        c: tensor `(batch, units)`, previous cell state.
        recurrent_kernel: tensor `(units, 4 * units)`.

    Returns:
        The new `(h, c)`.
    """
    z = projected_input + tf.matmul(h, recurrent_kernel)
    z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_g)
    h = tf.sigmoid(z_o) * tf.tanh(c)
    return h, c
