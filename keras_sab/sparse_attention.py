"""Attention weights over the memory: the top-k sparsifier and its variants.

Every function is pure: it maps scores (and which slots may be read) to a
`Selection`, the slots that are read and their weights. Its gradient is
`scores_gradient`, written once here: autodiff uses it through the selection
functions, the fused path and a stream's records call it. The modes:
`"sparse"`, ALGORITHM.md §3's top-k rule; `"dense"`, a softmax over every
memory (the paper's self-attention baseline); `"sparse_softmax"`, the same
top-k selection with softmax weights. The softmax modes may weigh an empty
memory beside the selected ones (`null_scores`): the weight it takes reads
nothing, so the read's mass `Σ w` can fall below 1. The routing rules of ALGORITHM.md §3
(only the selected slots get weight *and* gradient, the threshold is a
constant for differentiation, a row with `k_top` or fewer readable slots reads
them all, a lone selected memory's weight is constant, never NaN) live here
and nowhere else.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import tensorflow as tf

from keras_sab import defaults
from keras_sab.precision import wide_dtype

ATTENTION_MODES = ("sparse", "dense", "sparse_softmax")

# ε of the top-k normaliser Σ_j max(a_j - δ, 0) + ε, the authors' 1e-7. It
# makes the weights continuous where ALGORITHM.md §3's rule jumps (all-tied
# scores read nothing; scores a hair apart, a full read), without the 0 / 0
# branch, and leaves every row whose best scores stand clear of δ by more
# than float32 rounding as it was. A larger ε (1e-3 was tried) lets training
# fade reads out by bringing scores close, which changes what the model learns.
NORMALISER_EPSILON = 1e-7

Selection = collections.namedtuple("Selection", ["indices", "weights", "total", "few"])
Selection.__doc__ = """The memories one step reads, in compact form.

Fields:
    indices: int32 `(batch, k)`, the selected slots, best first; `None` when
        every slot is weighed (`"dense"`, or a buffer of `k_top` slots or
        fewer).
    weights: `(batch, k)` (or `(batch, slots)` when `indices` is `None`),
        their weights, 0 beyond a row's readable slots.
    total: `(batch, 1)`, the normaliser `Σ_j max(a_j - δ, 0) + ε` of the
        paper's rule; `None` in the softmax modes.
    few: bool `(batch, 1)`, the rows with `k_top` or fewer readable slots,
        whose weights do not depend on the scores; `None` in the softmax
        modes.
"""


def _masked_scores(scores, readable):
    """Replaces the scores of unreadable slots by the dtype's lowest value."""
    lowest = tf.cast(scores.dtype.min, scores.dtype)
    return tf.where(readable, scores, lowest)


def scores_gradient(
    d_attention_weights,
    selection,
    k_top,
    attention,
    temperature=defaults.TEMPERATURE,
    weighted_sum=None,
    null_slot=False,
):
    """The gradient of the weighed slots' scores, given their weights' gradient.

    The one statement of each mode's backward, used by autodiff (the
    selection functions carry it as their gradient), by the fused path and
    by a stream's records. With `g` the weights' gradient and
    `c = g - Σ_j w_j g_j`:

    - softmax modes (`"sparse_softmax"`, `"dense"`): `w c / τ`, bounded;
    - `"sparse"`, ALGORITHM.md §3's rule `w = r / (Σr + ε)`: `c / (Σr + ε)`
      on the slots with `w > 0`, 0 elsewhere and in the few rows (their
      uniform weights do not depend on the scores); it grows as the best
      scores tie;
    - a lone selected memory (`k_top = 1`, sparse modes): its weight is
      constant, its score gets no gradient at all (unless an empty memory
      shares the softmax with it, `null_slot`).

    Args:
        d_attention_weights: `(batch, k)`, `g`.
        selection: the step's `Selection`.
        k_top: Python int, the memories selected per step.
        attention: the mode.
        temperature: the softmax modes' `τ`. Defaults to `1.0`.
        weighted_sum: optional `(batch, 1)`, `Σ_j w_j g_j` when some `g_j`
            are unknown (a stream's record of a memory no longer kept).
            Defaults to `None`: computed from `d_attention_weights`.
        null_slot: whether an empty memory shared the softmax (see
            `select_memories`). Defaults to `False`.

    Returns:
        `(batch, k)`, the scores' gradient.
    """
    weights = selection.weights
    if k_top == 1 and attention != "dense" and not null_slot:
        return tf.zeros_like(d_attention_weights)
    if weighted_sum is None:
        weighted_sum = tf.reduce_sum(weights * d_attention_weights, axis=-1, keepdims=True)
    centred = d_attention_weights - weighted_sum
    if attention != "sparse":
        return weights * centred / temperature
    d_scores = tf.math.divide_no_nan(centred, selection.total)
    return tf.where((weights > 0) & ~selection.few, d_scores, tf.zeros_like(d_scores))


def null_score_gradient(weights, weighted_sum, temperature=defaults.TEMPERATURE):
    """The gradient of the empty memory's score (see `select_memories`).

    The empty memory is read with weight `w_0 = 1 - Σ_j w_j` and its value
    is zero, so its weight's gradient is 0 and its score's is
    `-w_0 Σ_j w_j g_j / τ`.

    Args:
        weights: `(batch, k)`, the memories' weights.
        weighted_sum: `(batch, 1)`, `Σ_j w_j g_j` (see `scores_gradient`).
        temperature: the softmax's `τ`. Defaults to `1.0`.

    Returns:
        `(batch, 1)`.
    """
    null_weight = 1.0 - tf.reduce_sum(weights, axis=-1, keepdims=True)
    return -null_weight * weighted_sum / temperature


def _softmax_selection(
    scores, mask, k_top, attention, temperature, indices=None, null_scores=None
):
    """Softmax of `scores / τ` over the entries where `mask` holds (0
    elsewhere; all zeros where it never holds), with an empty memory scored
    `null_scores` `(batch, 1)` in the normaliser if given, and
    `scores_gradient` (and `null_score_gradient`) as its gradient. Computed
    in float32 at least: in float16, `scores / τ` overflows for a small
    temperature."""
    dtype = scores.dtype
    null_slot = null_scores is not None

    @tf.custom_gradient
    def softmax(scores, *null_scores):
        if temperature != 1.0:
            # A Python float converts straight to the scores' dtype (`tf.cast`
            # of it would round it to float32 first).
            scores = scores / temperature
        masked = _masked_scores(scores, mask)
        peak = tf.reduce_max(masked, axis=-1, keepdims=True)
        if null_slot:
            null = null_scores[0] / temperature
            peak = tf.maximum(peak, null)
        exp = tf.where(mask, tf.exp(masked - peak), tf.zeros_like(scores))
        total = tf.reduce_sum(exp, -1, keepdims=True)
        if null_slot:
            total += tf.exp(null - peak)
        weights = tf.math.divide_no_nan(exp, total)
        selection = Selection(indices, weights, None, None)

        def gradient(d_attention_weights):
            weighted_sum = tf.reduce_sum(weights * d_attention_weights, axis=-1, keepdims=True)
            d_scores = scores_gradient(
                d_attention_weights, selection, k_top, attention, temperature, weighted_sum,
                null_slot,
            )
            if not null_slot:
                return d_scores
            return d_scores, null_score_gradient(weights, weighted_sum, temperature)

        return weights, gradient

    wide = wide_dtype(dtype)
    null_scores = [tf.cast(null_scores, wide)] if null_slot else []
    weights = tf.cast(softmax(tf.cast(scores, wide), *null_scores), dtype)
    return Selection(indices, weights, None, None)


def _piecewise_linear_selection(values, indices, count, k_top):
    """The paper's weights of the `k_top + 1` best scores `values` (see
    `select_memories`)."""
    few = count <= k_top
    threshold = tf.stop_gradient(tf.where(few, tf.zeros_like(values[:, k_top:]), values[:, k_top:]))
    # The shift and normalisation run in float32 at least: in float16, 1 / ε
    # overflows and the gradient of a tied row would be inf * 0 = NaN.
    dtype = wide_dtype(values.dtype)

    @tf.custom_gradient
    def normalised(top_values):
        shifted = tf.nn.relu(top_values - tf.cast(threshold, dtype))
        total = tf.reduce_sum(shifted, axis=-1, keepdims=True) + NORMALISER_EPSILON
        weights = shifted / total

        def gradient(d_attention_weights, _):
            # The normaliser, like δ, is reported without gradient.
            selection = Selection(indices, weights, total, few)
            return scores_gradient(d_attention_weights, selection, k_top, "sparse")

        return (weights, total), gradient

    weights, total = normalised(tf.cast(values[:, :k_top], dtype))
    weights, total = tf.cast(weights, values.dtype), tf.cast(total, values.dtype)
    position = tf.cast(tf.range(k_top), values.dtype)[None, :]
    uniform = tf.math.divide_no_nan(tf.cast(position < count, values.dtype), count)
    return Selection(indices[:, :k_top], tf.where(few, uniform, weights), total, few)


def select_memories(
    scores,
    readable,
    k_top,
    attention=defaults.ATTENTION,
    temperature=defaults.TEMPERATURE,
    null_scores=None,
):
    """Which memories a step reads, and with what weights (ALGORITHM.md §3).

    - `"sparse"`: with `n` readable slots in a row and `n > k_top`, `δ` is
      the `(k_top + 1)`-th largest readable score and the `k_top` best slots
      get `max(a_i - δ, 0) / (Σ_j max(a_j - δ, 0) + ε)`, `ε =
      NORMALISER_EPSILON`: the weights sum to `Σr / (Σr + ε)` and fall
      continuously to all zero as the best scores tie. `δ` carries no
      gradient, so the `(k_top + 1)`-th slot gets none.
    - `"sparse_softmax"`: the same `k_top` slots, weighted by
      `exp(a_i / τ) / Σ_selected exp(a_j / τ)`: smooth where scores tie,
      with a bounded gradient.
    - `"dense"`: a softmax over every readable slot.

    In the sparse modes a row with `n <= k_top` readable slots reads all of
    them (`"sparse"`: `1 / n` each), and only the selected slots get weight
    and gradient.

    With `null_scores`, the softmax modes weigh an empty memory: its weight
    `1 - Σ w` reads nothing, so a step whose scores fall below `a_0` reads
    little (`Σ w < 1`), or nothing. In `"sparse_softmax"` it competes for
    the `k_top` seats like a slot (a seat it wins leaves `k_top - 1`
    memories; where it wins none, the memories' weights sum to 1, as the
    authors' all-zero first memory does); in `"dense"`, and where every slot
    fits in the seats, `exp(a_0 / τ)` joins the normaliser of all of them.

    Args:
        scores: float tensor `(batch, slots)`.
        readable: bool tensor broadcastable to `(batch, slots)`; unreadable
            slots never get weight, whatever their scores.
        k_top: Python int `>= 1`, the slots the sparse modes keep.
        attention: `"sparse_softmax"`, `"sparse"` or `"dense"`. Defaults to
            `"sparse_softmax"`.
        temperature: positive float, the softmax modes' `τ`. Defaults to
            `1.0`.
        null_scores: optional `(batch, 1)`, the empty memory's score
            (softmax modes only). Defaults to `None`: no empty memory.

    Returns:
        A `Selection`.

    Raises:
        ValueError: `null_scores` with the `"sparse"` mode.

    Example:

    >>> scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    >>> chosen = select_memories(scores, tf.constant(True), 2, "sparse")
    >>> chosen.indices.numpy().tolist(), chosen.weights.numpy().round(2).tolist()
    ([[3, 1]], [[0.75, 0.25]])
    >>> chosen = select_memories(scores, tf.constant(True), 2, null_scores=[[0.7]])
    >>> [round(float(w), 2) for w in chosen.weights[0]]  # The empty memory takes 0.45.
    [0.55, 0.0]
    """
    if null_scores is not None and attention == "sparse":
        raise ValueError(
            "An empty memory (`null_slot=True`) needs softmax weights: `attention` must be "
            f"'sparse_softmax' or 'dense'. Received: attention={attention!r}"
        )
    readable = tf.broadcast_to(readable, tf.shape(scores))
    slots = scores.shape[-1]
    if attention == "sparse" and slots is not None and slots <= k_top:
        # Every row is few: uniform weights, which no score moves.
        weights = uniform_weights(readable, scores.dtype)
        few = tf.ones_like(weights[:, :1], tf.bool)
        return Selection(None, weights, tf.ones_like(weights[:, :1]), few)
    if attention == "dense" or (slots is not None and slots <= k_top):
        return _softmax_selection(
            scores, readable, k_top, attention, temperature, null_scores=null_scores
        )
    count = tf.reduce_sum(tf.cast(readable, tf.int32), -1, keepdims=True)
    masked = _masked_scores(scores, readable)
    if attention == "sparse":
        values, indices = tf.math.top_k(masked, k=k_top + 1)
        return _piecewise_linear_selection(values, indices, tf.cast(count, scores.dtype), k_top)
    if null_scores is None:
        values, indices = tf.math.top_k(masked, k=k_top)
        selected = tf.range(k_top)[None, :] < count
        return _softmax_selection(values, selected, k_top, attention, temperature, indices)
    # The empty memory competes for the `k_top` seats, after the last slot.
    null_scores = tf.cast(null_scores, scores.dtype)
    values, indices = tf.math.top_k(tf.concat([masked, null_scores], -1), k=k_top)
    seat = tf.equal(indices, tf.shape(scores)[-1])
    selected = (tf.range(k_top)[None, :] < count + 1) & ~seat
    seated = tf.reduce_any(seat, -1, keepdims=True)
    return _softmax_selection(
        values,
        selected,
        k_top,
        attention,
        temperature,
        tf.where(seat, tf.zeros_like(indices), indices),
        tf.where(seated, null_scores, _masked_scores(null_scores, False)),
    )


def uniform_weights(readable, dtype):
    """Weight `1 / n` on each of the `n` readable slots of a row (0 if none)."""
    readable = tf.cast(readable, dtype)
    count = tf.reduce_sum(readable, axis=-1, keepdims=True)
    return tf.math.divide_no_nan(readable, count)


def selection_weights(selection, slots):
    """A `Selection`'s weights over all `slots` slots, `(batch, slots)`:
    zeros where not selected."""
    if selection.indices is None:
        return selection.weights
    one_hot = tf.one_hot(selection.indices, slots, dtype=selection.weights.dtype)
    return tf.matmul(selection.weights[:, None, :], one_hot)[:, 0]


def attention_weights(
    scores, readable, k_top, attention=defaults.ATTENTION, temperature=defaults.TEMPERATURE
):
    """The attention weights of every slot, `(batch, slots)` (ALGORITHM.md §3).

    `select_memories` spread over all slots: zeros (and zero gradient) where
    not selected; all zeros when `k_top` is 0.

    Example:

    >>> scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    >>> w = attention_weights(scores, tf.constant([[True] * 4]), 2)
    >>> [round(float(v), 2) for v in w[0]]
    [0.0, 0.4, 0.0, 0.6]
    """
    if k_top == 0:
        return tf.zeros_like(scores)
    selection = select_memories(scores, readable, k_top, attention, temperature)
    return selection_weights(selection, tf.shape(scores)[-1])
