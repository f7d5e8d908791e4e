"""Attention weights over the memory: the top-k sparsifier and its dense twin.

Both functions are pure: they map scores (and which slots may be read) to
weights, and are differentiated by TensorFlow like any other op. The routing
rules of SPEC §3 (only the selected slots get weight *and* gradient, the
threshold is a constant for differentiation, never NaN) live here and nowhere
else.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf

ATTENTION_MODES = ("sparse", "dense")


def _masked_scores(scores, readable):
    """Replaces the scores of unreadable slots by the dtype's lowest value."""
    lowest = tf.cast(scores.dtype.min, scores.dtype)
    return tf.where(readable, scores, lowest)


def top_k_threshold(scores, readable, k_top):
    """The threshold `δ` of the top-k rule, and which rows have too few slots.

    `δ` is the `(k_top + 1)`-th largest readable score of each row. Rows with
    `k_top` or fewer readable slots have no such score: they are flagged
    `few` (their weights are uniform) and get `δ = 0`, so that the unused
    shifted-ReLU branch stays finite (its gradient would otherwise be NaN).

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`, which slots may be read.
        k_top: Python int `>= 1`, smaller than `slots`.

    Returns:
        `(threshold, few)`: a `(batch, 1)` tensor with no gradient (SPEC §3:
        `δ` is a constant for differentiation) and a bool `(batch, 1)`.
    """
    few = tf.reduce_sum(tf.cast(readable, tf.int32), -1, keepdims=True) <= k_top
    values, _ = tf.math.top_k(_masked_scores(scores, readable), k=k_top + 1)
    threshold = tf.where(few, tf.zeros_like(values[:, k_top:]), values[:, k_top:])
    return tf.stop_gradient(threshold), few


def weights_from_threshold(scores, threshold, readable):
    """Normalised shifted-ReLU weights `max(a - δ, 0) / Σ max(a - δ, 0)`.

    Slots that are not readable get weight 0, and a row whose shifted scores
    are all zero (tied scores) gets all-zero weights rather than NaN.

    Args:
        scores: float tensor `(batch, slots)`.
        threshold: `(batch, 1)` tensor `δ`, treated as given.
        readable: bool tensor `(batch, slots)`.

    Returns:
        Weights of the shape and dtype of `scores`.
    """
    shifted = tf.nn.relu(scores - threshold)
    shifted = tf.where(readable, shifted, tf.zeros_like(shifted))
    total = tf.reduce_sum(shifted, axis=-1, keepdims=True)
    return tf.math.divide_no_nan(shifted, total)


def uniform_weights(readable, dtype):
    """Weight `1 / n` on each of the `n` readable slots of a row (0 if none)."""
    readable = tf.cast(readable, dtype)
    count = tf.reduce_sum(readable, axis=-1, keepdims=True)
    return tf.math.divide_no_nan(readable, count)


def sparse_attention_weights(scores, readable, k_top):
    """Top-k sparse attention weights (SPEC §3).

    When a row has more than `k_top` readable slots, with `δ` the
    `(k_top + 1)`-th largest readable score, slot `i` gets
    `max(a_i - δ, 0) / Σ_j max(a_j - δ, 0)`: exactly the `k_top` best slots
    are non-zero (ties aside), and every other slot, the `(k_top + 1)`-th
    included, gets zero weight and exactly zero gradient. With `k_top` or
    fewer readable slots, each gets `1 / n`.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`; unreadable slots never get
            weight, whatever their scores.
        k_top: Python int, number of slots to keep. `0` gives all-zero weights.

    Returns:
        Weights of the shape and dtype of `scores`; each row sums to 1, or
        to 0 when nothing is readable or all readable scores are tied.

    Example:

    >>> scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    >>> readable = tf.constant([[True, True, True, True]])
    >>> w = sparse_attention_weights(scores, readable, k_top=2)
    >>> [round(float(v), 2) for v in w[0]]
    [0.0, 0.25, 0.0, 0.75]
    """
    if k_top == 0:
        return tf.zeros_like(scores)
    uniform = uniform_weights(readable, scores.dtype)
    slots = scores.shape[-1]
    if slots is not None and slots <= k_top:
        return uniform
    threshold, few = top_k_threshold(scores, readable, k_top)
    sparse = weights_from_threshold(scores, threshold, readable)
    if k_top == 1:
        # The lone selected weight is the constant 1: its score's gradient
        # is exactly zero (rather than rounding noise of r/r).
        sparse = tf.stop_gradient(sparse)
    return tf.where(few, uniform, sparse)


def dense_attention_weights(scores, readable):
    """Softmax over the readable slots (the paper's self-attention baseline).

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`.

    Returns:
        Weights of the shape and dtype of `scores`; unreadable slots get 0
        and a row with nothing readable is all zeros.
    """
    masked = _masked_scores(scores, readable)
    peak = tf.stop_gradient(tf.reduce_max(masked, axis=-1, keepdims=True))
    exp = tf.where(readable, tf.exp(masked - peak), tf.zeros_like(scores))
    return tf.math.divide_no_nan(exp, tf.reduce_sum(exp, -1, keepdims=True))


def attention_weights(scores, readable, k_top, attention="sparse"):
    """Dispatches to the sparse (top-k) or dense (softmax) weights.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`.
        k_top: Python int, slots kept by the sparse mode (`0`: no attention,
            in either mode).
        attention: `"sparse"` or `"dense"`. Defaults to `"sparse"`.

    Returns:
        Weights of the shape and dtype of `scores`.
    """
    if k_top == 0:
        return tf.zeros_like(scores)
    if attention == "dense":
        return dense_attention_weights(scores, readable)
    return sparse_attention_weights(scores, readable, k_top)
