"""Attention weights over the memory: the top-k sparsifier and its variants.

Every function is pure: it maps scores (and which slots may be read) to
weights. Their gradient is `scores_gradient`, written once here: autodiff uses
it through the weights functions, the fused path calls it. The modes:
`"sparse"`, ALGORITHM.md §3's top-k rule; `"dense"`, a softmax over every memory (the
paper's self-attention baseline); `"sparse_softmax"`, the same top-k selection
with softmax weights. The routing rules of ALGORITHM.md §3 (only the selected slots
get weight *and* gradient, the threshold is a constant for differentiation,
never NaN) live here and nowhere else.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import tensorflow as tf

from keras_sab.attention_scorer import scorer_dtype

ATTENTION_MODES = ("sparse", "dense", "sparse_softmax")
# The mode a layer gets when none is named: it learned the copy task, which
# the paper's weights did not (docs/RESULTS.md, "The default attention").
DEFAULT_ATTENTION = "sparse_softmax"

# ε of the top-k normaliser Σ_j max(a_j - δ, 0) + ε, the authors' 1e-7. It
# makes the weights continuous where ALGORITHM.md §3's rule jumps (all-tied scores
# read nothing; scores a hair apart, a full read), without the 0 / 0 branch,
# and leaves every row whose best scores stand clear of δ by more than float32
# rounding as it was. A larger ε (1e-3 was tried) lets training fade reads out
# by bringing scores close, which changes what the model learns.
NORMALISER_EPSILON = 1e-7

TopK = collections.namedtuple(
    "TopK", ["indices", "weights", "threshold", "total", "few"]
)
TopK.__doc__ = """The top-k selection of one step (see `sparse_top_k`).

Fields:
    indices: int32 `(batch, k_top)`, the selected slots, best first.
    weights: `(batch, k_top)`, their weights.
    threshold: `(batch, 1)`, `δ`, without gradient (0 in few rows).
    total: `(batch, 1)`, the normaliser `Σ_j max(a_j - δ, 0) + ε`.
    few: bool `(batch, 1)`, rows with `k_top` or fewer readable slots.
"""


def _masked_scores(scores, readable):
    """Replaces the scores of unreadable slots by the dtype's lowest value."""
    lowest = tf.cast(scores.dtype.min, scores.dtype)
    return tf.where(readable, scores, lowest)


def scores_gradient(d_weights, weights, attention, temperature=1.0, total=None, few=None):
    """The gradient of the weighed slots' scores, given their weights' gradient.

    The one statement of each mode's backward, used by autodiff (the weights
    functions below carry it as their gradient) and by the fused path. With
    `g` the weights' gradient and `c = g - Σ_j w_j g_j`:

    - softmax modes (`"sparse_softmax"`, `"dense"`): `w c / τ`, bounded;
    - `"sparse"`, ALGORITHM.md §3's rule `w = r / (Σr + ε)`: `c / (Σr + ε)`
      on the slots with `w > 0`, 0 elsewhere and in the few rows (their
      uniform weights do not depend on the scores); it grows as the best
      scores tie.

    With `k_top = 1` the lone weight is constant: the callers give its score
    no gradient at all.

    Args:
        d_weights: `(batch, k)`, `g`.
        weights: `(batch, k)`, `w`.
        attention: the mode.
        temperature: the softmax modes' `τ`. Defaults to `1.0`.
        total: `(batch, 1)`, `Σr + ε`, for `"sparse"`. Defaults to `None`.
        few: bool `(batch, 1)`, the few rows, for `"sparse"`. Defaults to
            `None`.

    Returns:
        `(batch, k)`, the scores' gradient.
    """
    centred = d_weights - tf.reduce_sum(weights * d_weights, axis=-1, keepdims=True)
    if attention != "sparse":
        return weights * centred / temperature
    d_scores = tf.math.divide_no_nan(centred, total)
    return tf.where((weights > 0) & ~few, d_scores, tf.zeros_like(d_scores))


def _masked_softmax(scores, mask, temperature=1.0):
    """Softmax of `scores / temperature` over the entries where `mask` holds,
    0 elsewhere (a row where it never holds is all zeros), with
    `scores_gradient` as its gradient. Computed in float32 at least: in
    float16, `scores / temperature` overflows for a small temperature."""
    dtype = scores.dtype

    @tf.custom_gradient
    def softmax(scores):
        if temperature != 1.0:
            # A Python float converts straight to the scores' dtype (`tf.cast`
            # of it would round it to float32 first).
            scores = scores / temperature
        masked = _masked_scores(scores, mask)
        peak = tf.reduce_max(masked, axis=-1, keepdims=True)
        exp = tf.where(mask, tf.exp(masked - peak), tf.zeros_like(scores))
        weights = tf.math.divide_no_nan(exp, tf.reduce_sum(exp, -1, keepdims=True))

        def gradient(d_weights):
            return scores_gradient(d_weights, weights, "sparse_softmax", temperature)

        return weights, gradient

    return tf.cast(softmax(tf.cast(scores, scorer_dtype(dtype))), dtype)


def sparse_top_k(scores, readable, k_top):
    """The top-k rule of ALGORITHM.md §3, in compact form: which slots, what weights.

    With `n` readable slots in a row and `n > k_top`, `δ` is the
    `(k_top + 1)`-th largest readable score and the `k_top` best slots get
    `max(a_i - δ, 0) / (Σ_j max(a_j - δ, 0) + ε)`, `ε = NORMALISER_EPSILON`:
    the weights sum to `Σr / (Σr + ε)`, 1 once the best scores stand clear of
    `δ` by much more than `ε`, and fall continuously to all zero as they tie.
    With `n <= k_top` the row is *few*: its `n` readable slots get `1 / n`
    and `δ` is reported as 0. `δ` carries no
    gradient, so the `(k_top + 1)`-th slot gets none. With `k_top = 1` the
    lone weight, `r / (r + ε)`, is the paper's constant 1 but for the ε, and is
    held constant: its score gets no gradient (what the ε would give it is
    float32 cancellation noise, `1 - w` with `w` a few ulps from 1).

    Args:
        scores: float tensor `(batch, slots)`, `slots > k_top`.
        readable: bool tensor broadcastable to `(batch, slots)`.
        k_top: Python int `>= 1`.

    Returns:
        A `TopK`; in few rows the selected slots beyond the readable ones
        have weight 0.
    """
    readable = tf.broadcast_to(readable, tf.shape(scores))
    values, indices = tf.math.top_k(_masked_scores(scores, readable), k=k_top + 1)
    count = tf.reduce_sum(tf.cast(readable, scores.dtype), -1, keepdims=True)
    few = count <= k_top
    threshold = tf.stop_gradient(
        tf.where(few, tf.zeros_like(values[:, k_top:]), values[:, k_top:])
    )
    # The shift and normalisation run in float32 at least: in float16, 1 / ε
    # overflows and the gradient of a tied row would be inf * 0 = NaN.
    dtype = scorer_dtype(scores.dtype)

    @tf.custom_gradient
    def normalised(top_values):
        shifted = tf.nn.relu(top_values - tf.cast(threshold, dtype))
        total = tf.reduce_sum(shifted, axis=-1, keepdims=True) + NORMALISER_EPSILON
        weights = shifted / total

        def gradient(d_weights, _):
            # The normaliser, like δ, is reported without gradient.
            if k_top == 1:
                return tf.zeros_like(d_weights)
            return scores_gradient(d_weights, weights, "sparse", total=total, few=few)

        return (weights, total), gradient

    weights, total = normalised(tf.cast(values[:, :k_top], dtype))
    weights, total = tf.cast(weights, scores.dtype), tf.cast(total, scores.dtype)
    position = tf.cast(tf.range(k_top), scores.dtype)[None, :]
    uniform = tf.math.divide_no_nan(tf.cast(position < count, scores.dtype), count)
    weights = tf.where(few, uniform, weights)
    return TopK(indices[:, :k_top], weights, threshold, total, few)


def top_k_softmax(scores, readable, k_top, temperature=1.0):
    """The `k_top` best readable slots, weighted by a softmax of their scores.

    The selection, and so the gradient routing, is `sparse_top_k`'s: only the
    selected slots get weight and gradient. The weights are
    `exp(a_i / τ) / Σ_selected exp(a_j / τ)` instead of
    `max(a_i - δ, 0) / Σ r`: they stay smooth where the best scores tie (a tie
    splits the weight evenly) and their gradient, `w (g - Σ w g) / τ` for
    upstream gradients `g`, is bounded, where ALGORITHM.md §3's grows as `1 / Σ r`. A
    row with `n <= k_top` readable slots weighs all of them. With `k_top = 1`
    the lone weight is 1 whatever the score: the scorer gets no gradient.

    Args:
        scores: float tensor `(batch, slots)`, `slots >= k_top`.
        readable: bool tensor broadcastable to `(batch, slots)`.
        k_top: Python int `>= 1`.
        temperature: positive float `τ`; lower is sharper. Defaults to `1.0`.

    Returns:
        `(indices, weights)`, both `(batch, k_top)`: the selected slots, best
        first, and their weights (0 beyond a row's readable slots).
    """
    readable = tf.broadcast_to(readable, tf.shape(scores))
    values, indices = tf.math.top_k(_masked_scores(scores, readable), k=k_top)
    count = tf.reduce_sum(tf.cast(readable, tf.int32), -1, keepdims=True)
    selected = tf.range(k_top)[None, :] < count
    return indices, _masked_softmax(values, selected, temperature)


def _scatter(indices, weights, slots):
    """Compact `(batch, k)` weights of slots `indices` as `(batch, slots)`."""
    one_hot = tf.one_hot(indices, slots, dtype=weights.dtype)
    return tf.matmul(weights[:, None, :], one_hot)[:, 0]


def uniform_weights(readable, dtype):
    """Weight `1 / n` on each of the `n` readable slots of a row (0 if none)."""
    readable = tf.cast(readable, dtype)
    count = tf.reduce_sum(readable, axis=-1, keepdims=True)
    return tf.math.divide_no_nan(readable, count)


def sparse_attention_weights(scores, readable, k_top):
    """Top-k sparse attention weights over all slots (ALGORITHM.md §3).

    When a row has more than `k_top` readable slots, with `δ` the
    `(k_top + 1)`-th largest readable score, slot `i` gets
    `max(a_i - δ, 0) / (Σ_j max(a_j - δ, 0) + ε)`: exactly the `k_top` best slots
    are non-zero (ties aside), and every other slot, the `(k_top + 1)`-th
    included, gets zero weight and exactly zero gradient. With `k_top` or
    fewer readable slots, each gets `1 / n`. See `sparse_top_k`.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`; unreadable slots never get
            weight, whatever their scores.
        k_top: Python int, number of slots to keep. `0` gives all-zero weights.

    Returns:
        Weights of the shape and dtype of `scores`; each row sums to 1 (but
        for the ε), or to 0 when nothing is readable or all readable scores
        are tied.

    Example:

    >>> scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    >>> readable = tf.constant([[True, True, True, True]])
    >>> w = sparse_attention_weights(scores, readable, k_top=2)
    >>> [round(float(v), 2) for v in w[0]]
    [0.0, 0.25, 0.0, 0.75]
    """
    if k_top == 0:
        return tf.zeros_like(scores)
    slots = scores.shape[-1]
    if slots is not None and slots <= k_top:
        return uniform_weights(readable, scores.dtype)
    top = sparse_top_k(scores, readable, k_top)
    return _scatter(top.indices, top.weights, tf.shape(scores)[-1])


def sparse_softmax_weights(scores, readable, k_top, temperature=1.0):
    """Top-k selection with softmax weights, over all slots (see `top_k_softmax`).

    Slot `i` among the `k_top` best readable ones gets
    `exp(a_i / τ) / Σ_selected exp(a_j / τ)`; every other slot gets 0 and
    exactly zero gradient.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`; unreadable slots never get
            weight, whatever their scores.
        k_top: Python int `>= 1`, number of slots to keep.
        temperature: positive float `τ`. Defaults to `1.0`.

    Returns:
        Weights of the shape and dtype of `scores`: the `k_top` best readable
        slots share 1 by a softmax of their scores, the others get 0; a row
        with nothing readable is all zeros.

    Example:

    >>> scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    >>> readable = tf.constant([[True, True, True, True]])
    >>> w = sparse_softmax_weights(scores, readable, k_top=2)
    >>> [round(float(v), 2) for v in w[0]]
    [0.0, 0.4, 0.0, 0.6]
    """
    slots = scores.shape[-1]
    if slots is not None and slots <= k_top:
        return dense_attention_weights(scores, readable, temperature)
    indices, weights = top_k_softmax(scores, readable, k_top, temperature)
    return _scatter(indices, weights, tf.shape(scores)[-1])


def dense_attention_weights(scores, readable, temperature=1.0):
    """Softmax over the readable slots (the paper's self-attention baseline).

    Slot `i` gets `exp(a_i / τ) / Σ_readable exp(a_j / τ)`.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`.
        temperature: positive float `τ`. Defaults to `1.0`.

    Returns:
        Weights of the shape and dtype of `scores`; unreadable slots get 0
        and a row with nothing readable is all zeros.
    """
    return _masked_softmax(scores, readable, temperature)


def attention_weights(
    scores, readable, k_top, attention=DEFAULT_ATTENTION, temperature=1.0
):
    """Dispatches to the weights of one attention mode.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor `(batch, slots)`.
        k_top: Python int, slots kept by the sparse modes (`0`: no
            attention, in every mode).
        attention: `"sparse_softmax"`, `"sparse"` or `"dense"`. Defaults to
            `"sparse_softmax"`.
        temperature: positive float, the softmax modes' `τ` (`"sparse"` has
            none). Defaults to `1.0`.

    Returns:
        Weights of the shape and dtype of `scores`.
    """
    if k_top == 0:
        return tf.zeros_like(scores)
    if attention == "dense":
        return dense_attention_weights(scores, readable, temperature)
    if attention == "sparse_softmax":
        return sparse_softmax_weights(scores, readable, k_top, temperature)
    return sparse_attention_weights(scores, readable, k_top)
