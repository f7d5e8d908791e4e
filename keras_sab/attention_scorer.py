"""The paper's additive (MLP) scorer of memories against the current state.

`a_i = vᵀ tanh(W_q ĥ_t + W_m m_i + b)` (ALGORITHM.md §2). The `W_m m_i + b` part is a
memory's *key*; it is computed once, when the memory is written.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import tensorflow as tf


def scorer_dtype(dtype):
    """The dtype the scorer and the attention weights are computed in.

    float64 stays; anything narrower becomes float32. Under a mixed policy
    the scorer's weights, keys, scores, weights and their gradients stay in
    float32 (in float16, `1 / ε` of the top-k rule, `a / τ` and the rule's
    gradient near tied scores overflow); only the read is cast to the
    compute dtype.
    """
    return tf.float64 if tf.as_dtype(dtype) == tf.float64 else tf.float32


def memory_keys(memories, memory_kernel, attention_bias):
    """Keys `key_i = W_m m_i + b` of one or more memories (ALGORITHM.md §2).

    Args:
        memories: tensor `(..., units)`.
        memory_kernel: tensor `(units, attention_units)`.
        attention_bias: tensor `(attention_units,)`.

    Returns:
        Tensor `(..., attention_units)`.
    """
    return tf.matmul(memories, memory_kernel) + attention_bias


def scorer_hidden(query, keys):
    """The scoring MLP's hidden layer `u_i = tanh(W_q ĥ_t + key_i)` for every key.

    Args:
        query: tensor `(batch, attention_units)`, `W_q ĥ_t`.
        keys: tensor `(batch, slots, attention_units)`.

    Returns:
        Tensor `(batch, slots, attention_units)`.
    """
    return tf.tanh(query[:, None, :] + keys)


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
