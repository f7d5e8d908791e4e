"""The LSTM at the core of SAB, as pure functions, forward and backward.

The gate layout (`i, f, g, o` in that order along the last axis) and the
activations (`recurrent_activation` for `i, f, o`, `activation` for the
candidate `g` and the output) are those of `keras.layers.LSTM`, so weights
move between the two layers unchanged (ALGORITHM.md §5). Every path (the
cell's step, the fused forward and backward, a stream's records) calls
these functions.
"""

import collections

import tensorflow as tf

LSTMActivations = collections.namedtuple("LSTMActivations", ["activation", "recurrent_activation"])
LSTMActivations.__doc__ = """The LSTM's two element-wise activations.

Fields:
    activation: applied to the candidate `g` and to `c` for the output.
    recurrent_activation: applied to the gates `i`, `f` and `o`.
"""

LSTM_ACTIVATIONS = LSTMActivations(tf.tanh, tf.sigmoid)


def lstm_gates(z, c_prev, activations=LSTM_ACTIVATIONS):
    """The LSTM's new states from its pre-activations, for any leading shape.

    With `z = x_t W + b + h_{t-1} U` split into `z_i, z_f, z_g, z_o`:

        i = σ(z_i), f = σ(z_f), g = φ(z_g), o = σ(z_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ φ(c_t)

    with `σ = activations.recurrent_activation`, `φ = activations.activation`.

    Args:
        z: tensor `(..., 4 * units)`.
        c_prev: tensor `(..., units)`, `c_{t-1}`, in `z`'s dtype or wider
            (`precision.wide_dtype`: `c` is a sum over steps).
        activations: `LSTMActivations`. Defaults to tanh and sigmoid.

    Returns:
        `(h, c)`: `h` in `z`'s dtype, `c` in `c_prev`'s.

    Example:

    >>> h, c = lstm_gates(tf.zeros((1, 4)), tf.ones((1, 1)))
    >>> float(c[0, 0]), round(float(h[0, 0]), 4)
    (0.5, 0.2311)
    """
    z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
    gate, candidate = activations.recurrent_activation, activations.activation
    wide = c_prev.dtype
    c = tf.cast(gate(z_f), wide) * c_prev + tf.cast(gate(z_i) * candidate(z_g), wide)
    return gate(z_o) * tf.cast(candidate(c), z.dtype), c


def input_projection(inputs, kernel, bias=None):
    """The LSTM's input term `x W + b`, for any leading shape.

    Args:
        inputs: tensor `(..., features)`, in the compute dtype.
        kernel: tensor `(features, 4 * units)`, cast to the inputs' dtype.
        bias: optional tensor `(4 * units,)`, added in its own dtype (the
            variable dtype: its gradient, a sum over every row and step,
            then sums in it). Defaults to `None`.

    Returns:
        A tensor `(..., 4 * units)` in the inputs' dtype.
    """
    projected = tf.matmul(inputs, tf.cast(kernel, inputs.dtype))
    if bias is None:
        return projected
    return tf.cast(tf.cast(projected, bias.dtype) + bias, inputs.dtype)


def lstm_step(
    projected_input, h, c, recurrent_kernel, activations=LSTM_ACTIVATIONS, recurrent_mask=None
):
    """Advances an LSTM by one step.

    Args:
        projected_input: tensor `(batch, 4 * units)`, `x_t W + b` (the input
            projection is done for all steps at once, outside the loop).
        h: tensor `(batch, units)`, previous hidden state.
        c: tensor `(batch, units)`, previous cell state (see `lstm_gates`).
        recurrent_kernel: tensor `(units, 4 * units)`, in any float dtype
            (it is cast to `h`'s here, inside the loop that calls this, so
            that autodiff sums its gradient in its own dtype).
        activations: `LSTMActivations`. Defaults to tanh and sigmoid.
        recurrent_mask: optional `(batch, units)` recurrent dropout mask,
            applied to `h` where it enters the recurrent product. Defaults
            to `None`.

    Returns:
        The new `(h, c)`.
    """
    if recurrent_mask is not None:
        h = h * recurrent_mask
    z = projected_input + tf.matmul(h, tf.cast(recurrent_kernel, h.dtype))
    return lstm_gates(z, c, activations)


def _with_derivative(function, x):
    """`function(x)` and its element-wise derivative at `x`."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return y, tape.gradient(y, x)


def lstm_derivatives(z, c_prev, activations=LSTM_ACTIVATIONS):
    """The new `h` and the local derivatives of LSTM steps (any leading shape).

    Computed for many steps at once, so that `lstm_backward` only
    multiplies. The activations must be element-wise, as every Keras
    activation but `softmax` and `log_softmax` is.

    Args:
        z: tensor `(..., 4 * units)`, the pre-activations.
        c_prev: tensor `(..., units)` (see `lstm_gates`).
        activations: `LSTMActivations`. Defaults to tanh and sigmoid.

    Returns:
        `(h, derivatives)`: the new hidden state (in `z`'s dtype) and the
        tuple `(∂h/∂c, ∂c/∂z_{i,f,g} concatenated, ∂h/∂z_o, f)`, in
        `c_prev`'s dtype.
    """
    z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
    gate, candidate = activations.recurrent_activation, activations.activation
    i, d_i = _with_derivative(gate, z_i)
    f, d_f = _with_derivative(gate, z_f)
    g, d_g = _with_derivative(candidate, z_g)
    o, d_o = _with_derivative(gate, z_o)
    def widened(x):
        return tf.cast(x, c_prev.dtype)

    c = widened(f) * c_prev + widened(i * g)
    phi_c, d_phi_c = _with_derivative(candidate, c)
    derivatives = (
        widened(o) * d_phi_c,
        tf.concat([widened(g * d_i), c_prev * widened(d_f), widened(i * d_g)], axis=-1),
        phi_c * widened(d_o),
        widened(f),
    )
    return o * tf.cast(phi_c, z.dtype), derivatives


def lstm_backward(d_h, d_c, derivatives):
    """Gradients of one LSTM step, given its `lstm_derivatives`.

    Args:
        d_h: `(batch, units)`, the gradient of the step's `h`.
        d_c: `(batch, units)`, the gradient of its `c`.
        derivatives: the step's slice of `lstm_derivatives`.

    All three in one dtype (the fused backward's: `precision.wide_dtype`).

    Returns:
        `(d_z, d_c_prev)`: the pre-activations' gradient and `c_{t-1}`'s.
    """
    dh_dc, dc_dz, dh_dz_o, f = derivatives
    d_c = d_c + d_h * dh_dc
    d_z = tf.concat([tf.tile(d_c, [1, 3]) * dc_dz, d_h * dh_dz_o], axis=-1)
    return d_z, d_c * f
