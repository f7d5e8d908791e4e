"""What SAB keeps in float32 under a mixed precision policy.

Under `keras.mixed_precision` ("mixed_float16", "mixed_bfloat16") a layer
computes in a 16-bit dtype. SAB does so for its matrix products and its
hidden state `h`, but keeps in `wide_dtype` what must not round:

- the scorer: its weights, the keys, the scores, the attention weights and
  their gradients (in float16, `1 / ε` of the top-k rule, `a / τ` and the
  rule's gradient near tied scores overflow);
- the LSTM's cell state `c`, a sum over every step since the last forget
  (in bfloat16, `c + 0.01` rounds back to `c` once `c >= 4`);
- the memory buffer, so that its gradient, the sum of every read of it,
  accumulates in float32;
- the gradients the fused backward and a stream's records carry from step
  to step, `∂L/∂h` and `∂L/∂c`, and the memories' gradients;
- the weights' gradients summed over blocks: each block of `k_att` steps
  (a record's `k_trunc` steps) adds its share of the recurrent kernel as
  one matrix product over its steps, computed in the compute dtype, to a
  float32 sum. The scorer's weights' gradients are float32 throughout.
  The input kernel's and bias's gradients on the fused path are one
  matrix product over every step in the compute dtype, as for
  `keras.layers.LSTM` (autodiff through the input projection); a stream's
  records add their share in float32. Each is cast to the dtype of what it
  is the gradient of once, at the end.

`keras.layers.RNN(SABCell(...))` casts every state to the compute dtype
between steps (as it does for any cell), so there `c` and the memory round
at every step; `SAB` keeps them wide on all its paths.
"""

import tensorflow as tf


def wide_dtype(dtype):
    """The dtype of what SAB keeps wide: float64 stays, anything narrower
    becomes float32.

    Args:
        dtype: a floating dtype (the compute dtype).

    Returns:
        `tf.float64` or `tf.float32`.

    Example:

    >>> wide_dtype("bfloat16").name, wide_dtype(tf.float64).name
    ('float32', 'float64')
    """
    return tf.float64 if tf.as_dtype(dtype) == tf.float64 else tf.float32
