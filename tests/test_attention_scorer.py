"""The scorers and their gradients as pure functions (ALGORITHM.md §2)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_sab.attention_scorer import additive_scores
from keras_sab.attention_scorer import dot_product_scores
from keras_sab.attention_scorer import memory_scores
from keras_sab.attention_scorer import memory_scores_gradient


def _inputs(seed, batch=3, slots=5, units=4):
    rng = np.random.default_rng(seed)
    return [
        tf.constant(rng.normal(size=shape))
        for shape in ((batch, units), (batch, slots, units), (units,), (batch, slots))
    ]


def test_scores_follow_their_formulas():
    """`vᵀ tanh(q + k_i)` and `q · k_i / √units`, checked against NumPy."""
    query, keys, vector, _ = _inputs(0)
    q, k, v = query.numpy(), keys.numpy(), vector.numpy()
    np.testing.assert_allclose(
        additive_scores(query, keys, vector), np.tanh(q[:, None] + k) @ v, rtol=1e-12
    )
    np.testing.assert_allclose(
        dot_product_scores(query, keys),
        np.einsum("bu,bsu->bs", q, k) / np.sqrt(k.shape[-1]),
        rtol=1e-12,
    )
    np.testing.assert_allclose(memory_scores(query, keys, None), dot_product_scores(query, keys))
    np.testing.assert_allclose(
        memory_scores(query, keys, vector), additive_scores(query, keys, vector)
    )


@pytest.mark.parametrize("scorer", ["mlp", "dot"])
def test_hand_written_gradient_is_autodiff_s(scorer):
    """`memory_scores_gradient` is the vector-Jacobian product of
    `memory_scores` (float64, to rounding); the dot product has no vector."""
    query, keys, vector, d_scores = _inputs(1)
    vector = vector if scorer == "mlp" else None
    sources = [query, keys] + ([vector] if vector is not None else [])
    with tf.GradientTape() as tape:
        tape.watch(sources)
        scores = memory_scores(query, keys, vector)
    want = tape.gradient(scores, sources, output_gradients=d_scores)
    d_query, d_keys, d_vector = memory_scores_gradient(d_scores, query, keys, vector)
    np.testing.assert_allclose(d_query, want[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_keys, want[1], rtol=1e-12, atol=1e-14)
    if scorer == "mlp":
        np.testing.assert_allclose(d_vector, want[2], rtol=1e-12, atol=1e-14)
    else:
        assert d_vector is None
