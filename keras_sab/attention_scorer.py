"""Scorers of memories against the current state, and their gradients.

The paper's additive (MLP) scorer, the default, is `a_i = vᵀ tanh(W_q ĥ_t +
W_m m_i + b)` (ALGORITHM.md §2). The cheaper option is the scaled dot product
`a_i = (W_q ĥ_t) · (W_m m_i) / √attention_units`: no `tanh` of every memory at
every step, and no `v` or `b` (a bias would shift every score alike, which
no weighting rule sees). In both the `W_m m_i (+ b)` part is a memory's *key*,
computed once, when the memory is written, and `W_q ĥ_t` is the step's
*query*.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf

SCORERS = ("mlp", "dot")


def memory_keys(memories, memory_kernel, attention_bias):
    """Keys `key_i = W_m m_i + b` of one or more memories (ALGORITHM.md §2).

    Args:
        memories: tensor `(..., units)`.
        memory_kernel: tensor `(units, attention_units)`.
        attention_bias: tensor `(attention_units,)`, or `None` (the
            dot-product scorer's keys have no bias).

    Returns:
        Tensor `(..., attention_units)`.
    """
    keys = tf.matmul(memories, memory_kernel)
    return keys if attention_bias is None else keys + attention_bias


def scorer_hidden(query, keys):
    """The scoring MLP's hidden layer `u_i = tanh(W_q ĥ_t + key_i)` for every key.

    Args:
        query: tensor `(..., attention_units)`, `W_q ĥ_t`.
        keys: tensor `(..., slots, attention_units)`.

    Returns:
        Tensor `(..., slots, attention_units)`.
    """
    return tf.tanh(query[..., None, :] + keys)


def scores_from_hidden(hidden, attention_vector):
    """The scoring MLP's output `vᵀ hidden_i`, `(batch, slots)`.

    A matrix product rather than a multiply-and-sum: on CPU it is several
    times faster, and scoring every memory at every step is what SAB's
    forward cost grows with.
    """
    return tf.matmul(hidden, attention_vector[:, None])[..., 0]


def additive_scores(query, keys, attention_vector):
    """Scores `vᵀ tanh(query + key_i)` of every key against the query.

    Args:
        query: tensor `(batch, attention_units)`, `W_q ĥ_t`.
        keys: tensor `(batch, slots, attention_units)`.
        attention_vector: tensor `(attention_units,)`, `v`.

    Returns:
        Tensor `(batch, slots)`.

    Example:

    >>> query = tf.zeros((1, 2))
    >>> keys = tf.constant([[[0.0, 0.0], [10.0, 10.0]]])
    >>> scores = additive_scores(query, keys, tf.constant([1.0, 1.0]))
    >>> [round(float(s), 3) for s in scores[0]]
    [0.0, 2.0]
    """
    return scores_from_hidden(scorer_hidden(query, keys), attention_vector)


def dot_product_scores(query, keys):
    """Scores `query · key_i / √attention_units` of every key against the query.

    Args:
        query: tensor `(batch, attention_units)`, `W_q ĥ_t`.
        keys: tensor `(batch, slots, attention_units)`.

    Returns:
        Tensor `(batch, slots)`.

    Example:

    >>> query = tf.constant([[1.0, 2.0, 0.0, 0.0]])
    >>> keys = tf.constant([[[1.0, 1.0, 5.0, 5.0], [0.0, -1.0, 0.0, 0.0]]])
    >>> [float(s) for s in dot_product_scores(query, keys)[0]]
    [1.5, -1.0]
    """
    return tf.matmul(keys, query[:, :, None])[..., 0] * keys.shape[-1] ** -0.5


def memory_scores(query, keys, attention_vector):
    """The scores of every key: additive with a vector `v`, else the dot product.

    Args:
        query: tensor `(batch, attention_units)`, `W_q ĥ_t`.
        keys: tensor `(batch, slots, attention_units)`.
        attention_vector: tensor `(attention_units,)`, the MLP scorer's `v`,
            or `None` for the scaled dot product.

    Returns:
        Tensor `(batch, slots)`.
    """
    if attention_vector is None:
        return dot_product_scores(query, keys)
    return additive_scores(query, keys, attention_vector)


def query_slopes(query, keys, attention_vector):
    """The slope of each key's score in the query, `∂a_i/∂query`, which
    the scores' backward needs and which does not depend on their gradient.

    Args:
        query: tensor `(..., attention_units)`.
        keys: tensor `(..., slots, attention_units)`.
        attention_vector: tensor `(attention_units,)` or `None` (see
            `memory_scores`).

    Returns:
        `(slopes, hidden)`: `(..., slots, attention_units)`, `v ⊙ (1 − u_i²)`
        for the MLP (also the slope in its key), `key_i / √attention_units`
        for the dot product; and the MLP's hidden layer `u_i` (`None` for the
        dot product).
    """
    if attention_vector is None:
        return keys * keys.shape[-1] ** -0.5, None
    hidden = scorer_hidden(query, keys)
    return attention_vector * (1.0 - hidden * hidden), hidden


def query_gradient(d_scores, slopes):
    """`∂L/∂query = Σ_i (∂L/∂a_i) ∂a_i/∂query` from `query_slopes`.

    Args:
        d_scores: tensor `(..., slots)`.
        slopes: tensor `(..., slots, attention_units)`.

    Returns:
        Tensor `(..., attention_units)`.
    """
    return tf.matmul(d_scores[..., None, :], slopes)[..., 0, :]


def key_gradients(d_scores, query, slopes, hidden, attention_vector):
    """The keys' and the vector's gradients from `query_slopes`.

    Args:
        d_scores: tensor `(..., slots)`.
        query: tensor `(..., attention_units)`.
        slopes, hidden: what `query_slopes` returned.
        attention_vector: tensor `(attention_units,)` or `None`.

    Returns:
        `(d_keys, d_vector)`: `(..., slots, attention_units)`, and
        `(attention_units,)` summed over every leading axis (`None` for the
        dot product).
    """
    if attention_vector is None:
        scale = slopes.shape[-1] ** -0.5
        return d_scores[..., None] * query[..., None, :] * scale, None
    d_vector = tf.reduce_sum(
        tf.reshape(d_scores[..., None] * hidden, [-1, hidden.shape[-1]]), axis=0
    )
    return d_scores[..., None] * slopes, d_vector


def memory_scores_gradient(d_scores, query, keys, attention_vector):
    """Gradients of `memory_scores` given the scores' gradient.

    Args:
        d_scores: tensor `(batch, slots)`.
        query: tensor `(batch, attention_units)`.
        keys: tensor `(batch, slots, attention_units)`.
        attention_vector: tensor `(attention_units,)` or `None` (see
            `memory_scores`).

    Returns:
        `(d_query, d_keys, d_vector)`, of the shapes of the arguments;
        `d_vector` is `None` for the dot product.
    """
    slopes, hidden = query_slopes(query, keys, attention_vector)
    d_keys, d_vector = key_gradients(d_scores, query, slopes, hidden, attention_vector)
    return query_gradient(d_scores, slopes), d_keys, d_vector
