"""Invariants of SAB over many random configurations, with `hypothesis`.

In float64, for random lengths, `k_att`, `k_trunc`, `k_top`, scorers,
attention modes, both reads (`read="projected"` with a random matrix), with
and without an empty memory (`null_slot`), masks
(padded and with holes), `go_backwards` and streams cut into random calls:

- the fused path and the cell loop give the same outputs and gradients
  (ALGORITHM.md §7);
- a stream fed with credit, cut where blocks end, gives the outputs and the
  summed weight gradients of the whole sequence in one call (§4b);
- a fully masked call leaves a stateful layer exactly as it was, and a
  segment padded at its end carries on as the segment cut (§6).

The default profile runs a few examples per property (the suite's budget);
`pytest --hypothesis-profile=slow -m "slow or not slow" tests/test_invariants.py`
runs many more.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import keras_sab

UNITS, FEATURES, BATCH = 3, 2, 2


@st.composite
def configurations(draw, stream=False):
    """Layer settings: `k_top` 0-4, `k_att` 1-5, `k_trunc` None or 1-7 (for
    a credited stream, `k_att` and `k_trunc` 1-4, `k_trunc` set), both
    scorers, every attention mode, both reads."""
    attention = draw(st.sampled_from(["sparse_softmax", "sparse", "dense"]))
    settings = dict(
        k_top=draw(st.integers(0, 4)),
        k_att=draw(st.integers(1, 4 if stream else 5)),
        k_trunc=draw(st.integers(1, 4) if stream else st.none() | st.integers(1, 7)),
        attention=attention,
        scorer=draw(st.sampled_from(["mlp", "dot"])),
        read=draw(st.sampled_from(["add", "projected"])),
        attention_units=4,
    )
    if attention != "sparse":
        settings["temperature"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
        settings["null_slot"] = draw(st.booleans())
    return settings


@st.composite
def masks(draw, timesteps):
    """`None`, right padding, or any pattern of holes, per row."""
    kind = draw(st.sampled_from(["none", "padded", "holes"]))
    if kind == "none":
        return None
    if kind == "padded":
        lengths = draw(st.lists(st.integers(0, timesteps), min_size=BATCH, max_size=BATCH))
        return np.arange(timesteps)[None, :] < np.array(lengths)[:, None]
    rows = st.lists(st.booleans(), min_size=timesteps, max_size=timesteps)
    return np.array(draw(st.lists(rows, min_size=BATCH, max_size=BATCH)))


def _layer(settings, use_fused, **kwargs):
    keras.utils.set_random_seed(7)
    return keras_sab.SAB(
        UNITS, return_sequences=True, dtype="float64", use_fused=use_fused, **settings, **kwargs
    )


def _projection_drawn(layer):
    """Gives a built layer's `read_projection` (zeros at first) random values,
    so that the read reaches the carried state."""
    if layer.read == "projected" and layer.k_top > 0:
        shape = layer.cell.read_projection.shape
        layer.cell.read_projection.assign(np.random.default_rng(3).normal(size=shape) / 2)


def _outputs_and_gradients(layer, x, mask=None, start=0):
    """The outputs, and the gradients of the inputs and the weights of a
    loss that weighs step `t` (counted from `start`) by `cos(t)`."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x, mask=None if mask is None else tf.constant(mask))
        steps = tf.range(start, start + outputs.shape[1], dtype=x.dtype)
        loss = tf.reduce_sum(outputs * tf.cos(steps)[:, None])
    sources = [x, *layer.trainable_weights]
    # A weight nothing reached (no memory read yet) has a `None` gradient
    # on the cell loop, zeros on the fused path.
    gradients = tape.gradient(loss, sources)
    return outputs.numpy(), [
        np.zeros(s.shape) if g is None else g.numpy() for g, s in zip(gradients, sources)
    ]


def _assert_close(actual, desired):
    np.testing.assert_allclose(actual, desired, rtol=1e-9, atol=1e-9)


@given(
    data=st.data(),
    settings=configurations(),
    timesteps=st.integers(1, 24),
    go_backwards=st.booleans(),
)
def test_fused_and_cell_loop_agree(data, settings, timesteps, go_backwards):
    """Outputs, and gradients of the inputs and every weight, to 1e-9."""
    mask = data.draw(masks(timesteps))
    x = np.random.default_rng(timesteps).normal(size=(BATCH, timesteps, FEATURES))
    fused = _layer(settings, True, go_backwards=go_backwards)
    loop = _layer(settings, False, go_backwards=go_backwards)
    fused(x[:, :1])
    loop(x[:, :1])
    _projection_drawn(fused)
    loop.set_weights(fused.get_weights())
    fused_outputs, fused_gradients = _outputs_and_gradients(fused, x, mask)
    loop_outputs, loop_gradients = _outputs_and_gradients(loop, x, mask)
    _assert_close(fused_outputs, loop_outputs)
    for fused_gradient, loop_gradient in zip(fused_gradients, loop_gradients):
        _assert_close(fused_gradient, loop_gradient)


@given(
    settings=configurations(stream=True),
    blocks=st.lists(st.integers(1, 2), min_size=1, max_size=3),
    use_fused=st.booleans(),
)
def test_a_credited_stream_cut_where_blocks_end_is_the_whole_sequence(settings, blocks, use_fused):
    """Calls whose lengths are multiples of both `k_att` and `k_trunc`, every
    memory kept: outputs equal, and the weight gradients summed over the
    calls equal the whole sequence's."""
    period = math.lcm(settings["k_att"], settings["k_trunc"])
    cuts = np.cumsum([0] + [b * period for b in blocks])
    x = np.random.default_rng(len(blocks)).normal(size=(BATCH, cuts[-1], FEATURES))
    whole = _layer(settings, use_fused)
    whole(x[:, :1])
    _projection_drawn(whole)
    memories = max(cuts[-1] // settings["k_att"], 1)
    stream = _layer(settings, use_fused, stateful=True, max_memories=memories)
    stream(x[:, :1])
    stream.set_weights(whole.get_weights())
    stream.reset_state()
    whole_outputs, whole_gradients = _outputs_and_gradients(whole, x)
    outputs, summed = [], None
    for start, stop in zip(cuts[:-1], cuts[1:]):
        call_outputs, gradients = _outputs_and_gradients(stream, x[:, start:stop], start=start)
        outputs.append(call_outputs)
        # The inputs' gradients are per call; the weights' are summed.
        weights = gradients[1:]
        summed = weights if summed is None else [a + b for a, b in zip(summed, weights)]
    _assert_close(np.concatenate(outputs, axis=1), whole_outputs)
    for gradient, expected in zip(summed, whole_gradients[1:]):
        _assert_close(gradient, expected)


def _carried(layer):
    return [v.numpy().copy() for v in layer.stream.carried_variables.values()]


@given(
    data=st.data(),
    settings=configurations(),
    lengths=st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 6)),
    keep=st.sampled_from(["latest", "most_read"]),
    use_fused=st.booleans(),
)
def test_masked_calls_leave_a_stream_as_the_steps_they_ran(data, settings, lengths, keep,
                                                           use_fused):
    """After a first call with a random mask: a fully masked call changes
    no variable of the stream, and a call padded at its end leaves each row
    as the call cut before its padding does."""
    first_length, second_length, padding = lengths
    rng = np.random.default_rng(sum(lengths))
    first = rng.normal(size=(BATCH, first_length, FEATURES))
    second = rng.normal(size=(BATCH, second_length, FEATURES))
    first_mask = data.draw(masks(first_length))
    kwargs = dict(stateful=True, max_memories=3, keep=keep, stream_credit=False)
    layer = _layer(settings, use_fused, **kwargs)
    layer(first[:, :1])
    _projection_drawn(layer)
    layer.reset_state()
    layer(first, mask=first_mask)
    before = _carried(layer)
    layer(second, mask=np.zeros((BATCH, second_length), bool))
    for value, expected in zip(_carried(layer), before):
        np.testing.assert_array_equal(value, expected)
    padded = np.concatenate([second, rng.normal(size=(BATCH, padding, FEATURES))], axis=1)
    padded_mask = np.arange(second_length + padding)[None, :] < second_length
    layer(padded, mask=np.repeat(padded_mask, BATCH, axis=0))
    after_padded = _carried(layer)
    cut = _layer(settings, use_fused, **kwargs)
    cut(first[:, :1])
    cut.set_weights(layer.get_weights())
    cut.reset_state()
    cut(first, mask=first_mask)
    cut(second)
    for value, expected in zip(after_padded, _carried(cut)):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
