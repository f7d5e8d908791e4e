"""What a stateful SAB carries from call to call (`keras_sab.stream_state`):
masked calls, padded segments, the kept memories (ALGORITHM.md §4b, §6)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab
from keras_sab.memory_buffer import kept_positions

BATCH, FEATURES = 2, 3


def _stream(use_fused, keep="latest", **kwargs):
    """A stateful layer with fixed weights and an empty stream."""
    keras.utils.set_random_seed(1)
    settings = dict(k_top=2, k_att=3, k_trunc=4, max_memories=4, stream_credit=False)
    settings.update(kwargs)
    layer = keras_sab.SAB(
        6, stateful=True, keep=keep, use_fused=use_fused, return_sequences=True, **settings
    )
    layer(tf.zeros((BATCH, 1, FEATURES)))
    layer.reset_state()
    return layer


def _carried(layer):
    """The values of every variable the stream carries, by name."""
    return {name: v.numpy().copy() for name, v in layer.stream.carried_variables.items()}


def _segments(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, t, FEATURES)).astype("float32") for t in (9, 7, 8)]


@pytest.mark.parametrize("keep", ["latest", "most_read"])
@pytest.mark.parametrize("use_fused", [True, False])
def test_a_fully_masked_call_leaves_the_stream_exactly_as_it_was(use_fused, keep):
    """Regression (issue 32): a call whose every step is masked used to add
    `T // k_att` empty "memories" per row and evict real ones: the next call
    then differed by 0.46 (fused) and 0.37 (cell loop). As for a stateful
    `keras.layers.LSTM`, nothing changes, exactly."""
    first, padding, after = _segments()
    fed = _stream(use_fused, keep)
    weights = fed.get_weights()
    fed(first)
    before = _carried(fed)
    fed(padding, mask=tf.zeros(padding.shape[:2], tf.bool))
    for name, value in _carried(fed).items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    reference = _stream(use_fused, keep)
    reference.set_weights(weights)
    reference(first)
    np.testing.assert_array_equal(fed(after), reference(after))


@pytest.mark.parametrize("keep", ["latest", "most_read"])
@pytest.mark.parametrize("use_fused", [True, False])
def test_a_segment_padded_at_its_end_carries_on_as_the_segment_cut(use_fused, keep):
    """Regression (issue 32): padding the last steps of a segment (how a
    stream's last segment is usually fed) gave a next call 0.23 / 0.15 away
    from the one after the same segment cut before its padding. Row 0 is
    padded by 3 of its 7 steps, row 1 by 1: the rows write 1 and 2
    memories in the same call."""
    first, second, after = _segments(1)
    lengths = np.array([4, 6])
    padded = np.where(np.arange(7)[None, :, None] < lengths[:, None, None], second, 99.0)
    mask = np.arange(7)[None, :] < lengths[:, None]
    fed = _stream(use_fused, keep)
    weights = fed.get_weights()
    fed(first)
    fed(padded.astype("float32"), mask=tf.constant(mask))
    outputs = fed(after).numpy()
    carried = _carried(fed)
    for row, length in enumerate(lengths):
        cut = _stream(use_fused, keep, max_memories=4)
        cut.set_weights(weights)
        cut(first)
        cut(second[:, :length])
        expected = cut(after).numpy()
        np.testing.assert_allclose(outputs[row], expected[row], atol=1e-6)
        for name, value in _carried(cut).items():
            np.testing.assert_allclose(carried[name][row], value[row], atol=1e-6, err_msg=name)


@pytest.mark.parametrize("use_fused", [True, False])
def test_memory_ids_count_only_the_memories_each_row_wrote(use_fused):
    """Rows that run 7 and 3 of 7 steps write 2 and 1 memories (`k_att=3`):
    their ids run on from there, where they used to advance by 2 for every
    row."""
    layer = _stream(use_fused, max_memories=6)
    x = _segments(2)[1]
    layer(x, mask=tf.constant(np.arange(7)[None, :] < np.array([[7], [3]])))
    np.testing.assert_array_equal(layer.stream.next_memory_id.numpy(), [2, 1])
    np.testing.assert_array_equal(layer.states.counters.numpy(), [2, 1])
    np.testing.assert_array_equal(layer.stream.memory_ids.numpy()[:, :2], [[0, 1], [0, -1]])
    layer(x)
    np.testing.assert_array_equal(
        layer.stream.memory_ids.numpy()[:, :4], [[0, 1, 2, 3], [0, 1, 2, -1]]
    )


def test_most_read_breaks_ties_towards_the_newest_at_any_usage():
    """Regression (issue 32): with usage past about 8, float32 dropped the
    `1e-6` tie-break and `"most_read"` kept the oldest of equally read
    memories; documented (and now kept at any magnitude): the newest."""
    ids = tf.constant([[0, 1, 2, 3, 4, 5]])
    for usage in (0.5, 9.0, 3e4):
        tied = tf.constant([[usage] * 4 + [0.0, 0.0]])
        positions, count = kept_positions(ids, tied, 4, "most_read")
        # The 2 newest (4, 5), then the newest of the tied older ones (2, 3).
        assert positions.numpy().tolist() == [[2, 3, 4, 5]], usage
        assert count.numpy().tolist() == [4]


@pytest.mark.parametrize("use_fused", [True, False])
def test_initial_state_on_a_stateful_layer_keeps_the_carried_memories(use_fused):
    """As documented: `initial_state` replaces `h` and `c`; the memories
    carried from earlier calls stay readable (`reset_state()` empties
    them)."""
    first, second, _ = _segments(3)
    zeros = [tf.zeros((BATCH, 6)), tf.zeros((BATCH, 6))]
    layer = _stream(use_fused)
    layer(first)
    with_memory = layer(second, initial_state=zeros).numpy()
    layer.reset_state()
    without = layer(second, initial_state=zeros).numpy()
    assert np.abs(with_memory - without).max() > 1e-3
    # The first step has nothing to read (no memory written in this call
    # yet) only in the reset stream: both start from the given h and c.
    fresh = _stream(use_fused)
    fresh.set_weights(layer.get_weights())
    np.testing.assert_array_equal(fresh(second, initial_state=zeros), without)


def test_stateful_attention_columns_put_the_carried_memories_first():
    """`return_attention` of a stateful layer: `max_memories` more columns;
    column `i` is the `i`-th readable memory, the `n` carried in first, then
    the call's own from column `n`."""
    layer = _stream(True, return_attention=True)
    first, second, _ = _segments(4)
    _, attention = layer(first)
    assert attention.shape == (BATCH, 9, 4 + 3)
    # Nothing carried in: the call's 3 memories are columns 0-2 (the last
    # one, written at the last step, is never read).
    assert np.any(attention[:, :, :2] > 0) and np.all(attention[:, :, 2:] == 0)
    _, attention = layer(second)
    assert attention.shape == (BATCH, 7, 4 + 2)
    # 3 memories carried in (columns 0-2, read from the first step), the
    # call's own in columns 3 and 4, written at steps 2 and 5; column 5 is
    # never used.
    assert np.all(np.abs(attention[:, 0, :3].numpy().sum(-1) - 1) < 1e-6)
    assert np.all(attention[:, :3, 3:] == 0) and np.any(attention[:, 3:, 3] > 0)
    assert np.all(attention[:, :6, 4] == 0) and np.any(attention[:, 6, 4] > 0)
    assert np.all(attention[:, :, 5] == 0)


@pytest.mark.parametrize("kwargs", [dict(k_top=0, k_trunc=None), dict(k_trunc=None)])
def test_the_default_stream_credit_accepts_every_valid_layer(kwargs):
    """Regression (issue 32): `SAB(k_top=0, k_trunc=None, stateful=True,
    max_memories=M)`, the stateful LSTM, raised "`stream_credit=True` needs
    `k_trunc`" unless `stream_credit=False` was added. `"auto"` credits
    only where there is credit to carry."""
    layer = keras_sab.SAB(4, stateful=True, max_memories=3, **kwargs)
    outputs = layer(tf.ones((2, 5, 3)))
    assert outputs.shape == (2, 4) and layer.stream.records is None
    credited = keras_sab.SAB(4, stateful=True, max_memories=3)
    credited(tf.ones((2, 5, 3)))
    assert credited.stream.records is not None
    with pytest.raises(ValueError, match="`stream_credit=True` needs `k_trunc`"):
        keras_sab.SAB(4, stateful=True, max_memories=3, k_trunc=None, stream_credit=True)
    with pytest.raises(ValueError, match="`stream_credit` must be one of"):
        keras_sab.SAB(4, stateful=True, max_memories=3, stream_credit="yes")


def test_a_mask_on_the_default_credited_stream_says_how_to_feed_padding():
    """The default (`"auto"`) credits a stream with `k_trunc` set: a mask is
    refused with a message that names the setting and the way out, and the
    way out takes the padded segment."""
    layer = keras_sab.SAB(4, stateful=True, max_memories=3)
    x, mask = tf.ones((2, 6, 3)), tf.constant([[True] * 6, [True] * 3 + [False] * 3])
    with pytest.raises(ValueError, match="stream_credit='auto'.*Use stream_credit=False"):
        layer(x, mask=mask)
    padded = keras_sab.SAB(4, stateful=True, max_memories=3, stream_credit=False)
    assert padded(x, mask=mask).shape == (2, 4)
