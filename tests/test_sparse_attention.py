"""The sparsifier and dense weights as pure functions (ALGORITHM.md §3)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_sab import defaults
from keras_sab.sparse_attention import NORMALISER_EPSILON
from keras_sab.sparse_attention import attention_weights
from keras_sab.sparse_attention import select_memories
from keras_sab.sparse_attention import selection_weights


def _all_readable(shape):
    return tf.ones(shape, tf.bool)


@pytest.mark.parametrize("k_top", [1, 2, 3, 5])
def test_exactly_k_top_nonzero_and_sum_to_one(k_top):
    """ALGORITHM.md §3: n > k_top distinct scores give exactly k_top non-zero weights,
    on the k_top best slots, summing to Σr / (Σr + ε): 1 but for the ε."""
    scores = tf.constant(np.random.default_rng(k_top).normal(size=(4, 9)), tf.float32)
    weights = attention_weights(scores, _all_readable((4, 9)), k_top, "sparse").numpy()
    assert np.all((weights > 0).sum(-1) == k_top)
    delta = -np.sort(-scores.numpy(), axis=-1)[:, k_top : k_top + 1]
    shifted = np.maximum(scores.numpy() - delta, 0).sum(-1)
    np.testing.assert_allclose(weights.sum(-1), shifted / (shifted + NORMALISER_EPSILON), rtol=1e-5)
    best = np.argsort(-scores.numpy(), axis=-1)[:, :k_top]
    for row, chosen in zip(weights, best):
        assert set(np.flatnonzero(row)) == set(chosen)


def test_weights_follow_the_shifted_relu_rule():
    """ALGORITHM.md §3: w_i = max(a_i - δ, 0) / (Σ_j max(a_j - δ, 0) + ε), δ the
    (k+1)-th score."""
    scores = tf.constant([[0.1, 0.5, 0.3, 0.9, -1.0]])
    weights = attention_weights(scores, _all_readable((1, 5)), 2, "sparse").numpy()[0]
    expected = np.array([0.0, 0.2, 0.0, 0.6, 0.0]) / (0.8 + NORMALISER_EPSILON)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def test_read_fades_out_continuously_as_scores_tie():
    """As the best scores close in on δ the read shrinks continuously, to 0 at
    the tie (ALGORITHM.md §3's value there), instead of jumping from a full read to
    none: r = (gap, 2 gap) gives a read of 3 gap / (3 gap + ε)."""
    gaps = np.array([1e-1, 1e-4, 1e-6, 1e-7, 1e-8, 0.0])
    scores = tf.constant([[gap, 2 * gap, 0.0, 0.0] for gap in gaps], tf.float32)
    weights = attention_weights(scores, _all_readable((len(gaps), 4)), 2, "sparse").numpy()
    read = weights.sum(-1)
    assert np.all(np.diff(read) < 0) and read[-1] == 0
    expected = 3 * gaps / (3 * gaps + NORMALISER_EPSILON)
    np.testing.assert_allclose(read, expected, rtol=1e-5)
    assert read[0] > 1 - 1e-5 and read[-2] < 0.5


@pytest.mark.parametrize("n,k_top", [(1, 3), (3, 3), (2, 5)])
def test_uniform_when_few_readable(n, k_top):
    """ALGORITHM.md §3: n <= k_top readable memories each get 1/n."""
    scores = tf.constant(np.random.default_rng(n).normal(size=(2, 6)), tf.float32)
    readable = tf.constant(np.repeat(np.arange(6)[None, :] < n, 2, axis=0))
    weights = attention_weights(scores, readable, k_top, "sparse").numpy()
    np.testing.assert_allclose(weights[:, :n], 1.0 / n, rtol=1e-6)
    assert np.all(weights[:, n:] == 0)


def test_unreadable_slots_never_weighted_whatever_their_scores():
    """ALGORITHM.md §3: slots beyond the readable ones get 0, even with huge scores."""
    scores = tf.constant([[0.0, 1.0, 2.0, 1e30, 1e30, 1e30]])
    readable = tf.constant([[True, True, True, False, False, False]])
    for fn in (
        lambda: attention_weights(scores, readable, 1, "sparse"),
        lambda: attention_weights(scores, readable, 2, "sparse"),
        lambda: attention_weights(scores, readable, 1, "dense"),
    ):
        weights = fn().numpy()[0]
        assert np.all(weights[3:] == 0)
        np.testing.assert_allclose(weights.sum(), 1.0, atol=NORMALISER_EPSILON)


def test_nothing_readable_gives_zero_weights():
    """ALGORITHM.md §2: an empty memory is read as s_t = 0."""
    scores = tf.constant([[0.3, 0.2, 0.1]])
    readable = tf.zeros((1, 3), tf.bool)
    for mode in ("sparse", "dense"):
        weights = attention_weights(scores, readable, 2, mode).numpy()
        assert np.all(weights == 0)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float16, tf.bfloat16])
def test_tied_scores_give_zeros_not_nan(dtype):
    """ALGORITHM.md §3: all-tied scores give all-zero weights, finite gradients."""
    scores = tf.constant([[0.7] * 6], dtype)
    with tf.GradientTape() as tape:
        tape.watch(scores)
        weights = attention_weights(scores, _all_readable((1, 6)), 2, "sparse")
        loss = tf.reduce_sum(weights * tf.range(6, dtype=dtype))
    grad = tape.gradient(loss, scores)
    assert np.all(tf.cast(weights, tf.float32).numpy() == 0)
    assert np.all(np.isfinite(tf.cast(grad, tf.float32).numpy()))


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_low_precision_is_finite_and_normalised(dtype):
    """ALGORITHM.md §3: no NaN/Inf in float16 and bfloat16, with some slots unreadable
    (their masked scores sit at the dtype's lowest value) and few readable."""
    rng = np.random.default_rng(3)
    # Distinct values (exact in both dtypes), so no row is tied.
    scores = tf.constant([rng.permutation(10) * 7.0 - 30 for _ in range(8)], dtype)
    counts = np.arange(8)[:, None] + 1
    readable = tf.constant(np.arange(10)[None, :] < counts)
    for k_top, mode in ((3, "sparse"), (1, "sparse"), (3, "dense")):
        with tf.GradientTape() as tape:
            tape.watch(scores)
            weights = attention_weights(scores, readable, k_top, mode)
            loss = tf.reduce_sum(weights * tf.cast(scores, weights.dtype))
        grad = tf.cast(tape.gradient(loss, scores), tf.float32).numpy()
        weights = tf.cast(weights, tf.float32).numpy()
        assert np.all(np.isfinite(weights)) and np.all(np.isfinite(grad))
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=2e-2)


@pytest.mark.parametrize("k_top", [1, 2, 4])
def test_non_selected_scores_get_exactly_zero_gradient(k_top):
    """ALGORITHM.md §3-§4: every non-selected score, the (k_top+1)-th included, gets
    exactly zero gradient (δ is a constant); selected ones get gradient
    (but with k_top=1: the lone weight is held constant)."""
    scores = tf.constant(np.random.default_rng(k_top).normal(size=(3, 7)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(scores)
        weights = attention_weights(scores, _all_readable((3, 7)), k_top, "sparse")
        loss = tf.reduce_sum(weights * tf.range(1, 8, dtype=tf.float32) ** 2)
    grad = tape.gradient(loss, scores, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()
    order = np.argsort(-scores.numpy(), axis=-1)
    for row in range(3):
        assert np.all(grad[row, order[row, k_top:]] == 0)
        assert np.all(grad[row, order[row, :k_top]] != 0) == (k_top > 1)


def test_threshold_is_a_constant_for_differentiation():
    """ALGORITHM.md §3: with δ held fixed, ∂w_i/∂a_i matches the analytic formula."""
    scores = tf.constant([[2.0, 1.0, 0.5, 0.0]])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        w0 = attention_weights(scores, _all_readable((1, 4)), 2, "sparse")[0, 0]
    grad = tape.gradient(w0, scores).numpy()[0]
    # w0 = r0 / S, S = r0 + r1 + ε, r = a - 0.5: dw0/da0 = (S - r0) / S^2,
    # dw0/da1 = -r0 / S^2.
    r0, r1 = 1.5, 0.5
    total = r0 + r1 + NORMALISER_EPSILON
    np.testing.assert_allclose(grad, [(total - r0) / total**2, -r0 / total**2, 0.0, 0.0], rtol=1e-6)


def test_dense_is_softmax_over_readable():
    """ALGORITHM.md §5: dense attention is a softmax over the readable memories."""
    scores = tf.constant([[1.0, 2.0, 3.0, 4.0]])
    readable = tf.constant([[True, True, True, False]])
    weights = attention_weights(scores, readable, 1, "dense").numpy()[0]
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(weights[:3], expected, rtol=1e-6)
    assert weights[3] == 0


def test_k_top_zero_means_no_attention():
    """ALGORITHM.md §5: k_top=0 is a plain LSTM, in every mode."""
    scores = tf.constant([[1.0, 2.0]])
    for mode in ("sparse", "dense", "sparse_softmax"):
        assert np.all(attention_weights(scores, _all_readable((1, 2)), 0, mode).numpy() == 0)


def _softmax_selected(scores, selected):
    exp = np.where(selected, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    return exp / exp.sum(-1, keepdims=True)


@pytest.mark.parametrize("k_top", [1, 2, 5])
def test_sparse_softmax_is_a_softmax_over_the_sparse_selection(k_top):
    """`"sparse_softmax"` keeps exactly the slots `"sparse"` keeps and weighs
    them by a softmax of their scores, summing to 1."""
    rng = np.random.default_rng(10 + k_top)
    scores = tf.constant(rng.normal(size=(4, 9)), tf.float32)
    readable = tf.constant(rng.random((4, 9)) < 0.8)
    sparse = attention_weights(scores, readable, k_top, "sparse").numpy()
    weights = attention_weights(scores, readable, k_top, "sparse_softmax").numpy()
    expected = _softmax_selected(scores.numpy(), sparse > 0)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


def test_sparse_softmax_splits_tied_scores_and_weighs_few_rows():
    """Tied best scores share the weight evenly (the paper's rule reads nothing
    there); a row with n <= k_top readable slots weighs all n by softmax;
    a row with nothing readable reads nothing."""
    scores = tf.constant([[1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 2.0, 9.0], [1.0, 2.0, 3.0, 4.0]])
    readable = tf.constant([[True] * 4, [True, True, False, False], [False] * 4])
    weights = attention_weights(scores, readable, 2, "sparse_softmax").numpy()
    assert sorted(weights[0]) == [0.0, 0.0, 0.5, 0.5]
    few = _softmax_selected(np.array([3.0, 1.0]), True)
    np.testing.assert_allclose(weights[1], [*few, 0, 0], rtol=1e-6)
    assert np.all(weights[2] == 0)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64])
def test_sparse_softmax_is_finite_in_every_dtype(dtype):
    """Never NaN or Inf, with tied and unreadable scores, in low precision."""
    scores = tf.constant([[5.0, 5.0, 5.0, -6e4], [1.0, 2.0, 3.0, 4.0]], dtype)
    readable = tf.constant([[True, True, True, True], [False, True, False, True]])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        weights = attention_weights(scores, readable, 2, "sparse_softmax")
        loss = tf.reduce_sum(weights * tf.cast([[1, 2, 3, 4]], dtype))
    grad = tape.gradient(loss, scores)
    assert weights.dtype == dtype
    assert np.all(np.isfinite(weights.numpy().astype("float32")))
    assert np.all(np.isfinite(grad.numpy().astype("float32")))
    np.testing.assert_allclose(weights.numpy().astype("float32").sum(-1), 1.0, atol=1e-2)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 4.0])
def test_sparse_softmax_gradient_is_bounded_where_sparse_explodes(temperature):
    """Near a tie the paper's weights have a gradient of order 1 / Σr; the softmax
    weights' is at most 1 / (4τ) per score, and it still reaches only the
    selected slots (the non-selected ones get exactly 0)."""
    scores = tf.constant([[1.0 + 2e-6, 1.0 + 1e-6, 1.0, 0.0]])
    gradients = {}
    for name, weigh in (
        ("sparse", lambda *a: attention_weights(*a, "sparse")),
        ("softmax", lambda *a: attention_weights(*a, "sparse_softmax", temperature)),
    ):
        with tf.GradientTape() as tape:
            tape.watch(scores)
            first = weigh(scores, _all_readable((1, 4)), 2)[0, 0]
        gradients[name] = tape.gradient(first, scores).numpy()[0]
    assert np.abs(gradients["sparse"]).max() > 1e4
    assert np.abs(gradients["softmax"]).max() <= 0.25 / temperature + 1e-6
    assert np.abs(gradients["softmax"]).max() >= 0.24 / temperature
    assert np.all(gradients["softmax"][:2] != 0) and np.all(gradients["softmax"][2:] == 0)


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_temperature_divides_the_scores_of_the_softmax_modes(temperature):
    """`w_i = exp(a_i / τ) / Σ exp(a_j / τ)`, over the top-k selection
    (`"sparse_softmax"`, the same slots at every τ) or every readable slot
    (`"dense"`)."""
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(4, 7))
    readable = rng.random((4, 7)) < 0.8
    selected = (
        attention_weights(tf.constant(scores), tf.constant(readable), 3, "sparse").numpy() > 0
    )
    for mode, kept in (("sparse_softmax", selected), ("dense", readable)):
        weights = attention_weights(
            tf.constant(scores), tf.constant(readable), 3, mode, temperature
        ).numpy()
        np.testing.assert_allclose(
            weights, _softmax_selected(scores / temperature, kept), rtol=1e-10
        )


def test_lower_temperature_sharpens_and_keeps_routing():
    """A lower τ puts more weight on the best slot; at every τ the
    non-selected slots get exactly zero weight and zero gradient, and the
    gradient of a weight is the τ = 1 gradient scaled by 1 / τ when the
    scores are scaled by τ."""
    scores = tf.constant([[0.3, 1.2, -0.5, 0.9, 0.1]], tf.float64)
    readable = _all_readable((1, 5))
    best = {}
    for temperature in (0.5, 1.0, 2.0):
        with tf.GradientTape() as tape:
            tape.watch(scores)
            weights = attention_weights(
                scores * temperature, readable, 2, "sparse_softmax", temperature
            )
            first = attention_weights(scores, readable, 2, "sparse_softmax", temperature)[0, 1]
        gradient = tape.gradient(first, scores).numpy()[0]
        np.testing.assert_allclose(
            weights.numpy(),
            attention_weights(scores, readable, 2, "sparse_softmax").numpy(),
            rtol=1e-12,
        )
        assert np.all(gradient[[0, 2, 4]] == 0) and np.all(gradient[[1, 3]] != 0)
        best[temperature] = (first.numpy(), gradient)
    assert best[0.5][0] > best[1.0][0] > best[2.0][0]
    # d w / d a at τ is (1 / τ) w (1 - w) at that τ's own weights.
    for temperature, (weight, gradient) in best.items():
        np.testing.assert_allclose(gradient[1], weight * (1 - weight) / temperature, rtol=1e-12)


def test_default_attention_is_the_softmax_selection():
    """The mode a layer gets unnamed is `"sparse_softmax"` (the one that
    learned the copy task in docs/RESULTS.md)."""
    assert defaults.ATTENTION == "sparse_softmax"
    scores = tf.constant([[0.1, 0.5, 0.3, 0.9]])
    readable = _all_readable((1, 4))
    np.testing.assert_array_equal(
        attention_weights(scores, readable, 2).numpy(),
        attention_weights(scores, readable, 2, "sparse_softmax").numpy(),
    )


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
@pytest.mark.parametrize("mode", ["sparse_softmax", "dense"])
def test_small_temperature_stays_finite_in_low_precision(dtype, mode):
    """`a / τ` would overflow float16 here (70 / 1e-3 > 65504): the softmax
    runs in float32, so the weights and their gradient stay finite and the
    best slot takes the weight."""
    scores = tf.constant([[70.0, 69.0, 1.0, 0.0]], dtype)
    readable = _all_readable((1, 4))
    with tf.GradientTape() as tape:
        tape.watch(scores)
        weights = attention_weights(scores, readable, 2, mode, temperature=1e-3)
        loss = tf.reduce_sum(weights * tf.cast([[1, 2, 3, 4]], dtype))
    grad = tape.gradient(loss, scores)
    assert weights.dtype == dtype
    np.testing.assert_allclose(weights.numpy().astype("float32"), [[1, 0, 0, 0]], atol=1e-3)
    assert np.all(np.isfinite(grad.numpy().astype("float32")))


def _reference_with_null(scores, readable, null_scores, k_top, attention, temperature):
    """Plain autodiff reference: a softmax over the readable slots and the
    empty memory (last column) that hold the `k_top` best scores (all of
    them with `"dense"`), whose weight is dropped."""
    lowest = tf.cast(scores.dtype.min, scores.dtype)
    masked = tf.where(readable, scores, lowest)
    if attention == "sparse_softmax":
        kth = tf.math.top_k(tf.concat([masked, null_scores], -1), k_top).values[:, -1:]
        readable = readable & (masked >= kth)
        null_scores = tf.where(null_scores >= kth, null_scores, lowest)
    logits = tf.concat([tf.where(readable, scores, lowest), null_scores], -1) / temperature
    return tf.nn.softmax(logits)[:, :-1]


@pytest.mark.parametrize("attention", ["sparse_softmax", "dense"])
@pytest.mark.parametrize("k_top", [1, 2, 4])
@pytest.mark.parametrize("temperature", [0.5, 1.0])
def test_null_slot_weights_and_gradients_are_a_softmax_with_an_empty_memory(
    attention, k_top, temperature
):
    """With an empty memory, the weights are a softmax over the slots and
    the empty memory that won the `k_top` seats (`"dense"`: all of them),
    without the empty memory's column, and the gradients of the scores and
    of the empty memory's score are autodiff's of that softmax: the empty
    memory's moves exactly where it took weight."""
    rng = np.random.default_rng(40 + k_top)
    scores = tf.constant(rng.normal(size=(5, 7)))
    null_scores = tf.constant(rng.normal(size=(5, 1)))
    readable = rng.random((5, 7)) < 0.7
    readable[4] = False  # A row with nothing to read.
    readable = tf.constant(readable)
    upstream = tf.constant(rng.normal(size=(5, 7)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([scores, null_scores])
        selection = select_memories(scores, readable, k_top, attention, temperature, null_scores)
        weights = selection_weights(selection, 7)
        expected = _reference_with_null(
            scores, readable, null_scores, k_top, attention, temperature
        )
        loss = tf.reduce_sum(weights * upstream)
        expected_loss = tf.reduce_sum(expected * upstream)
    np.testing.assert_allclose(weights.numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)
    mass = weights.numpy().sum(-1)
    assert np.all(mass <= 1 + 1e-12) and mass[:4].min() < 1 - 1e-6
    assert np.all(weights.numpy()[4] == 0)
    for variable in (scores, null_scores):
        got = tape.gradient(loss, variable).numpy()
        want = tape.gradient(expected_loss, variable).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    # Where the empty memory shares the weight with memories, its score
    # moves the read; where it took none (or all), it does not.
    shared = (mass[:4] < 1 - 1e-12) & (mass[:4] > 1e-12)
    null_gradient = np.abs(tape.gradient(loss, null_scores).numpy()[:4, 0])
    assert np.all(null_gradient[shared] > 0) and np.all(null_gradient[~shared] < 1e-12)


def test_null_slot_lets_a_step_read_nothing():
    """A row whose memories all score far below the empty memory reads almost
    nothing; far above it, a whole memory."""
    scores = tf.constant([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    selection = select_memories(scores, tf.constant(True), 2, null_scores=[[30.0], [-30.0]])
    mass = selection.weights.numpy().sum(-1)
    assert mass[0] < 1e-12
    np.testing.assert_allclose(mass[1], 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_null_slot_is_finite_in_low_precision(dtype):
    """Large scores and a small temperature stay finite with an empty memory."""
    scores = tf.constant([[60000.0, -60000.0, 3.0]], dtype)
    null_scores = tf.constant([[60000.0]], dtype)
    with tf.GradientTape() as tape:
        tape.watch([scores, null_scores])
        weights = select_memories(
            scores, tf.constant(True), 2, "sparse_softmax", 0.1, null_scores
        ).weights
        loss = tf.reduce_sum(weights * tf.cast([[1.0, 2.0]], dtype))
    gradients = tape.gradient(loss, [scores, null_scores])
    assert np.all(np.isfinite(weights.numpy().astype(np.float32)))
    assert all(np.all(np.isfinite(g.numpy().astype(np.float32))) for g in gradients)
    np.testing.assert_allclose(weights.numpy().astype(np.float32).sum(), 0.5, atol=1e-2)


def test_null_slot_refuses_the_papers_rule():
    """The paper's piecewise-linear weights have no softmax for the empty memory to join."""
    with pytest.raises(ValueError, match="attention.*sparse_softmax"):
        select_memories(tf.zeros((1, 4)), tf.constant(True), 2, "sparse", null_scores=[[0.0]])
