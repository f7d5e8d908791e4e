"""The fused path computes what the generic cell loop computes (ALGORITHM.md §7).

Outputs, final states and gradients for the inputs and every weight agree to
1e-5 (relative, float32) across configurations, with and without XLA, and
(in float64) under `tf.distribute.MirroredStrategy`.
"""

import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab
from tests.numerics import assert_scaled_close

CONFIGS = [
    # k_top, k_att, k_trunc, attention, timesteps, batch
    (2, 3, 4, "sparse", 14, 3),
    (1, 2, 3, "sparse", 11, 2),
    (3, 4, None, "sparse", 14, 3),
    (5, 10, 10, "sparse", 37, 2),
    (0, 3, 5, "sparse", 12, 3),
    (0, 3, None, "sparse", 10, 2),
    (2, 3, 4, "dense", 13, 3),
    (2, 1, None, "dense", 9, 2),
    (2, 5, 4, "sparse", 4, 3),  # T < k_att: nothing is ever read
    (2, 3, 4, "sparse", 1, 2),  # T = 1
    (2, 3, 5, "sparse", 17, 1),  # batch 1
    (2, 3, 4, "sparse", 24, 2),  # T a multiple of k_att and k_trunc
]


def _pair(config, units=5, dtype="float32", temperature=1.0, scorer="mlp"):
    """A fused and a cell-loop layer with the same fixed weights (with other
    weights two scores may tie to within float32 rounding, and the paths,
    which sum in different orders, may select different memories)."""
    keras.utils.set_random_seed(len(config) + config[4])
    k_top, k_att, k_trunc, attention, timesteps, batch = config
    kwargs = dict(
        k_top=k_top, k_att=k_att, k_trunc=k_trunc, attention=attention,
        attention_units=6, return_sequences=True, return_state=True,
        return_attention=True, dtype=dtype, temperature=temperature, scorer=scorer,
    )
    fused = keras_sab.SAB(units, use_fused=True, **kwargs)
    loop = keras_sab.SAB(units, use_fused=False, **kwargs)
    x = np.random.default_rng(timesteps).normal(size=(batch, timesteps, 4))
    x = tf.constant(x.astype(dtype))
    fused(x)
    loop(x)
    loop.set_weights(fused.get_weights())
    return fused, loop, x


def _results(layer, x, jit_compile):
    timesteps = x.shape[1]
    step_weight = tf.range(1, timesteps + 1, dtype=x.dtype)[None, :, None]

    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs, attention, h, c = layer(x)
            loss = tf.reduce_sum(tf.sin(outputs) * step_weight) + tf.reduce_sum(h * c)
        grads = tape.gradient(loss, [x] + layer.trainable_weights)
        return [outputs, attention, h, c, loss] + grads

    if jit_compile is not None:
        run = tf.function(run, jit_compile=jit_compile)
    return run(x)


@pytest.mark.parametrize("jit_compile", [None, False, True])
@pytest.mark.parametrize("config", CONFIGS)
def test_fused_matches_cell_loop(config, jit_compile):
    """ALGORITHM.md §7: same outputs, states, attention and gradients (inputs and
    every weight), eagerly, in a graph and under XLA."""
    fused, loop, x = _pair(config)
    for got, want in zip(_results(fused, x, jit_compile), _results(loop, x, None)):
        if got is None or want is None:
            # A weight no step uses (attention when T < k_att) has no
            # gradient on the autodiff path; the fused path returns zeros.
            assert got is None or np.all(np.asarray(got) == 0)
            continue
        assert_scaled_close(got, want)


@pytest.mark.parametrize("jit_compile", [None, False, True])
@pytest.mark.parametrize(
    "config",
    [(2, 3, 4, "sparse_softmax", 14, 3), (1, 2, 3, "sparse_softmax", 11, 2),
     (3, 4, None, "sparse_softmax", 14, 3)],
)
def test_fused_matches_cell_loop_with_softmax_weights(config, jit_compile):
    """`attention="sparse_softmax"`: the fused path's hand-written backward is
    the softmax's exact gradient. Compared in float64, where both paths agree
    to rounding (~1e-14); in float32 the attention-bias gradient, a sum with
    cancellations, differs between the two summation orders by ~2e-5."""
    fused, loop, x = _pair(config, dtype="float64")
    for got, want in zip(_results(fused, x, jit_compile), _results(loop, x, None)):
        assert_scaled_close(got, want, rtol=1e-10)


@pytest.mark.parametrize(
    "attention,temperature",
    [("sparse_softmax", 0.3), ("sparse_softmax", 2.5), ("dense", 0.5)],
)
def test_fused_matches_cell_loop_with_temperature(attention, temperature):
    """A temperature scales the scores' gradient by `1 / τ` in the fused
    backward exactly as autodiff does in the loop (float64, to rounding)."""
    fused, loop, x = _pair(
        (2, 3, 4, attention, 14, 3), dtype="float64", temperature=temperature
    )
    for got, want in zip(_results(fused, x, None), _results(loop, x, None)):
        assert_scaled_close(got, want, rtol=1e-10)


@pytest.mark.parametrize("jit_compile", [None, True])
@pytest.mark.parametrize(
    "config",
    [(2, 3, 4, "sparse_softmax", 14, 3), (1, 2, 3, "sparse_softmax", 11, 2),
     (3, 4, None, "sparse", 14, 3), (2, 3, 4, "dense", 13, 3),
     (5, 10, 10, "sparse_softmax", 37, 2)],
)
def test_fused_matches_cell_loop_with_the_dot_product_scorer(config, jit_compile):
    """`scorer="dot"`: the fused backward's gradients of the query and the
    keys are the dot product's, as autodiff finds them in the loop (float64,
    to rounding), and the layer has no attention vector or key bias."""
    fused, loop, x = _pair(config, dtype="float64", scorer="dot")
    names = {w.name for w in fused.trainable_weights}
    assert names == {"kernel", "recurrent_kernel", "bias", "query_kernel", "memory_kernel"}
    for got, want in zip(_results(fused, x, jit_compile), _results(loop, x, None)):
        if want is None:
            assert got is None or np.all(np.asarray(got) == 0)
            continue
        assert_scaled_close(got, want, rtol=1e-10)


@pytest.mark.parametrize("scale", [0.0, 1e-6])
def test_fused_matches_cell_loop_at_tied_scores(scale):
    """Where the scorer is flat (every score tied: rows with more than k_top
    readable slots read nothing) or nearly so (score gaps ~1e-6, near the
    normaliser's ε), both paths still give the
    same outputs, weights and gradients: the rows trained models reach."""
    fused, loop, x = _pair((2, 3, 4, "sparse", 14, 3))
    for layer in (fused, loop):
        layer.cell.attention_vector.assign(layer.cell.attention_vector * scale)
    results = _results(fused, x, None), _results(loop, x, None)
    # From step 9 on, three slots are readable: more than k_top = 2.
    selected = (results[0][1].numpy()[:, 9:] > 0).sum(-1)
    assert np.all(selected == (0 if scale == 0 else 2))
    for got, want in zip(*results):
        assert_scaled_close(got, want)


def test_fused_selection_is_sparse_and_causal():
    """ALGORITHM.md §2-§3 on the fused path: k_top slots per step once more than k_top
    are readable, only slots written before the step, weights summing to 1
    (but for the normaliser's ε)."""
    fused, _, x = _pair((2, 3, 4, "sparse", 30, 2))
    attention = fused(x)[1].numpy()
    assert np.all((attention > 0).sum(-1) <= 2)
    written = np.arange(30)[:, None] // 3
    assert np.all(attention[:, np.arange(10)[None, :] >= written] == 0)
    assert np.all((attention[:, 9:] > 0).sum(-1) == 2)
    np.testing.assert_allclose(attention[:, 4:].sum(-1), 1.0, atol=1e-5)


def _masks(batch, timesteps):
    """Right padding, holes anywhere, a row masked throughout, a row masked
    at the start, and a row with no mask at all."""
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, timesteps + 1, size=batch)
    right = np.arange(timesteps)[None, :] < lengths[:, None]
    holes = rng.random((batch, timesteps)) > 0.35
    holes[0] = False
    holes[1, :5] = False
    holes[-1] = True
    return {"right_padded": right, "holes": holes}


@pytest.mark.parametrize("jit_compile", [None, False, True])
@pytest.mark.parametrize("kind", ["right_padded", "holes"])
@pytest.mark.parametrize(
    "config",
    [(2, 3, 4, "sparse_softmax", 17, 4), (2, 3, 4, "sparse", 14, 3),
     (3, 2, None, "dense", 13, 3), (0, 3, 5, "sparse", 12, 3)],
)
def test_fused_matches_cell_loop_with_masks(config, kind, jit_compile):
    """Masks run the fused path: outputs, final states, attention and every
    gradient (inputs, initial state, weights) agree with the cell loop, for
    right padding and for masked steps anywhere."""
    fused, loop, x = _pair(config)
    batch, timesteps = x.shape[0], x.shape[1]
    mask = tf.constant(_masks(batch, timesteps)[kind])
    rng = np.random.default_rng(7)
    h0, c0 = (tf.constant(rng.normal(size=(batch, 5)).astype("float32")) for _ in "hc")
    step_weight = tf.range(1.0, timesteps + 1.0)[None, :, None]

    def run(layer):
        def results(x, h0, c0):
            with tf.GradientTape() as tape:
                tape.watch([x, h0, c0])
                outputs, attention, h, c = layer(x, mask=mask, initial_state=[h0, c0])
                loss = tf.reduce_sum(tf.sin(outputs) * step_weight) + tf.reduce_sum(h * c)
            grads = tape.gradient(loss, [x, h0, c0] + layer.trainable_weights)
            return [outputs, attention, h, c] + grads

        if jit_compile is not None and layer is fused:
            results = tf.function(results, jit_compile=jit_compile)
        return results(x, h0, c0)

    for got, want in zip(run(fused), run(loop)):
        assert_scaled_close(got, want)


def test_bad_use_fused_value():
    with pytest.raises(ValueError, match="`use_fused` must be one of"):
        keras_sab.SAB(4, use_fused="yes")


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, keras_sab
    from tests.numerics import assert_scaled_close

    def grads(strategy, use_fused, x, weights):
        with strategy.scope():
            layer = keras_sab.SAB(6, k_top=2, k_att=3, k_trunc=4, dtype="float64",
                                  return_sequences=True, use_fused=use_fused)
            layer.build(x.shape)
            layer.set_weights(weights)

        def replica_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.sin(layer(x))) / 8.0
            return tape.gradient(loss, layer.trainable_weights)

        @tf.function
        def step(dataset_x):
            per_replica = strategy.run(replica_step, args=(dataset_x,))
            return [strategy.reduce("SUM", g, axis=None) for g in per_replica]

        dataset = tf.data.Dataset.from_tensor_slices(x).batch(8)
        dist = strategy.experimental_distribute_dataset(dataset)
        return [g.numpy() for g in step(next(iter(dist)))]

    x = np.random.default_rng(0).normal(size=(8, 19, 3))
    reference = keras_sab.SAB(6, k_top=2, k_att=3, k_trunc=4, dtype="float64",
                              return_sequences=True)
    reference(x)
    weights = reference.get_weights()
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    single = tf.distribute.get_strategy()
    want = grads(single, False, x, weights)
    for got in (grads(mirrored, True, x, weights), grads(mirrored, False, x, weights)):
        for g, w in zip(got, want):
            assert_scaled_close(g, w, rtol=1e-9)
    print("MIRRORED_OK")
    """
)


def test_fused_and_loop_agree_under_mirrored_strategy():
    """ALGORITHM.md §7: under MirroredStrategy over two logical CPUs, the summed
    gradients of both paths equal the single-device gradients (in float64: in
    float32 the replicas' sums in another order differ by a few ulps)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": root},
    )
    assert "MIRRORED_OK" in result.stdout, result.stderr[-3000:]


def _while_loops(hlo):
    """The `while` instructions of optimized HLO text, and how many of them
    have a trip count XLA knows."""
    loops = re.findall(r"= [^\n]*? while\([^\n]*", hlo)
    return len(loops), sum("known_trip_count" in loop for loop in loops)


@pytest.mark.parametrize(
    "kwargs, timesteps, masked",
    [
        (dict(), 30, False),
        (dict(), 25, False),  # T not a multiple of k_att
        (dict(k_trunc=None), 25, False),
        (dict(k_top=0), 30, False),
        (dict(scorer="dot", attention="sparse"), 25, False),
        (dict(attention="dense"), 30, False),
        (dict(), 25, True),
        (dict(stateful=True, max_memories=4), 30, False),  # with the records' loop
    ],
    ids=str,
)
def test_xla_knows_every_fused_loop_s_trip_count(kwargs, timesteps, masked):
    """Issue: on a GPU, XLA runs a loop it cannot count by asking the host,
    every iteration. Every `while` of a fused train step (forward, backward,
    and a stream's records) has a `known_trip_count` in the optimized HLO."""
    layer = keras_sab.SAB(8, k_att=10, return_sequences=True, **kwargs)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, timesteps, 3)).astype("float32"))
    mask = tf.constant(rng.random((2, timesteps)) > 0.3) if masked else None
    if kwargs.get("stateful"):
        layer(x)

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, mask=mask))
        return tape.gradient(loss, layer.trainable_weights)

    loops, counted = _while_loops(step.experimental_get_compiler_ir(x)(stage="optimized_hlo"))
    # Forward blocks and steps, backward blocks and steps; a stream's records
    # and their steps.
    assert (loops, counted) == ((6, 6) if kwargs.get("stateful") else (4, 4))


@pytest.mark.parametrize(
    "kwargs, timesteps, trip_counts",
    [
        (dict(k_att=200, k_trunc=200), 4000, [20, 20, 200, 200]),  # 200 steps a block
        (dict(), 4000, [10, 10, 400, 400]),  # 400 blocks
        (dict(scorer="dot"), 4000, [10, 10, 400, 400]),
        (dict(k_trunc=None), 4000, [10, 10, 400, 400]),
        # The records loop over 130 memories, each over its 10 steps.
        (dict(stateful=True, max_memories=130), 30, [3, 3, 10, 10, 10, 130]),
    ],
    ids=str,
)
def test_xla_knows_every_fused_loop_s_trip_count_past_128_iterations(
    kwargs, timesteps, trip_counts
):
    """XLA counts a loop that counts down (`j >= 0`, `j - 1`) only up to 128
    iterations; one that counts up from 0 at any length. Every `while` of a
    fused train step still has a `known_trip_count` with more than 128
    blocks, steps in a block, or kept memories. Only the compiled HLO is
    read: the step never runs (a stateful layer runs one call first, to
    build its state)."""
    layer = keras_sab.SAB(4, return_sequences=True, **{"k_att": 10, **kwargs})
    x = tf.zeros([2, timesteps, 3])
    if kwargs.get("stateful"):
        layer(x)

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_weights)

    hlo = step.experimental_get_compiler_ir(x)(stage="optimized_hlo")
    assert _while_loops(hlo) == (len(trip_counts), len(trip_counts))
    known = re.findall(r'"known_trip_count":\{"n":"(\d+)"\}', hlo)
    assert sorted(int(n) for n in known) == trip_counts
