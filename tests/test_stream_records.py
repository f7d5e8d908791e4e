"""Credit across a stream (ALGORITHM.md §4b): a stateful SAB trained call by
call gets the weight gradients of the whole sequence, from records bounded by
the memories it keeps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab
from keras_sab.memory_buffer import kept_positions
from keras_sab.sab_step import initial_sab_state
from keras_sab.sab_step import sab_step

SETTINGS = dict(k_top=2, k_att=3, k_trunc=6, attention_units=5)


def _loss(outputs, first_step):
    """A loss that weighs every step differently (step `first_step` on)."""
    steps = tf.range(first_step + 1, first_step + 1 + outputs.shape[1], dtype=outputs.dtype)
    return tf.reduce_sum(tf.sin(outputs) * steps[None, :, None])


def _whole_and_stream(calls=4, stream_credit=True, max_memories=None, timesteps=24, **kwargs):
    """The outputs and weight gradients of a whole sequence through `SAB`,
    and of the same sequence fed in `calls` calls to a stateful `SAB` with
    the same weights (gradients summed over the calls)."""
    settings = {**SETTINGS, **kwargs}
    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(2, timesteps, 3)))
    whole = keras_sab.SAB(4, return_sequences=True, dtype="float64", **settings)
    whole(x)
    with tf.GradientTape() as tape:
        outputs = whole(x)
        loss = _loss(outputs, 0)
    results = {"whole": (outputs, tape.gradient(loss, whole.trainable_weights))}
    stateful = keras_sab.SAB(
        4,
        return_sequences=True,
        dtype="float64",
        stateful=True,
        max_memories=max_memories or timesteps // settings["k_att"],
        stream_credit=stream_credit,
        **settings,
    )
    segment = timesteps // calls
    stateful(x[:, :segment])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    outputs, total = [], None
    for call in range(calls):
        with tf.GradientTape() as tape:
            y = stateful(x[:, call * segment : (call + 1) * segment])
            loss = _loss(y, call * segment)
        grads = tape.gradient(loss, stateful.trainable_weights)
        total = grads if total is None else [a + b for a, b in zip(total, grads)]
        outputs.append(y)
    results["stream"] = (tf.concat(outputs, 1), total)
    return results, stateful


def _relative_errors(results):
    (_, whole), (_, stateful) = results["whole"], results["stream"]
    return [float(np.abs(a - b).max() / np.abs(a).max()) for a, b in zip(whole, stateful)]


@pytest.mark.parametrize("use_fused", [True, False])
@pytest.mark.parametrize(
    "attention, scorer",
    [
        ("sparse_softmax", "mlp"),
        ("sparse", "mlp"),
        ("dense", "mlp"),
        ("sparse_softmax", "dot"),
        ("sparse", "dot"),
        ("dense", "dot"),
    ],
)
def test_summed_stream_gradients_are_the_whole_sequence_s(attention, scorer, use_fused):
    """§4b: weights unchanged, every memory kept, calls a multiple of `k_att`
    and `k_trunc`: outputs and summed weight gradients of the whole sequence
    (float64), for every attention mode, both scorers, both paths."""
    results, _ = _whole_and_stream(attention=attention, scorer=scorer, use_fused=use_fused)
    np.testing.assert_allclose(results["stream"][0], results["whole"][0], atol=1e-12)
    assert max(_relative_errors(results)) < 1e-10


@pytest.mark.parametrize("use_fused", [True, False])
def test_without_stream_credit_the_gradients_differ(use_fused):
    """The test above has teeth: with earlier memories as constants the
    outputs are the same, the gradients are not."""
    results, _ = _whole_and_stream(stream_credit=False, use_fused=use_fused)
    np.testing.assert_allclose(results["stream"][0], results["whole"][0], atol=1e-12)
    assert max(_relative_errors(results)) > 0.05


@pytest.mark.parametrize("use_fused", [True, False])
def test_with_recurrent_dropout_and_three_memories_a_block(use_fused, monkeypatch):
    """`k_trunc` a multiple of `k_att` (three memories share a block, each
    record overlaps the others) and, training, a recurrent dropout mask per
    call (a record is replayed with its own call's mask): still the whole
    sequence's gradients, that of the step loop over the 24 steps with the
    first call's mask on its 12 steps and the second call's on the others."""
    settings = {**SETTINGS, "k_att": 2, "k_trunc": 6}
    timesteps, segment = 24, 12
    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(2, timesteps, 3)))
    stateful = keras_sab.SAB(
        4, return_sequences=True, dtype="float64", stateful=True, stream_credit=True,
        max_memories=timesteps // settings["k_att"], recurrent_dropout=0.4,
        use_fused=use_fused, **settings,
    )
    stateful(x[:, :segment])
    stateful.reset_state()
    cell = stateful.cell
    masks, recurrent_mask = [], cell.recurrent_mask

    def keep_mask(h, training=False):
        masks.append(recurrent_mask(h, training))
        return masks[-1]

    monkeypatch.setattr(cell, "recurrent_mask", keep_mask)  # Each call's mask, kept.
    outputs, total = [], None
    for call in range(2):
        with tf.GradientTape() as tape:
            y = stateful(x[:, call * segment : (call + 1) * segment], training=True)
            loss = _loss(y, call * segment)
        grads = tape.gradient(loss, stateful.trainable_weights)
        total = grads if total is None else [a + b for a, b in zip(total, grads)]
        outputs.append(y)
    # Two masks, that drop units, and differ from call to call.
    assert len(masks) == 2 and all(np.any(np.asarray(m) == 0) for m in masks)
    assert np.any(np.asarray(masks[0]) != np.asarray(masks[1]))
    # The reference: the package's step (`SAB(use_fused=False)`'s), run over
    # the whole sequence by autodiff, no records involved.
    with tf.GradientTape() as tape:
        projected = cell.project_inputs(x)
        state = initial_sab_state(
            2, timesteps // settings["k_att"], 4, settings["attention_units"], "float64"
        )
        steps = []
        for t in range(timesteps):
            output, state, _ = sab_step(
                cell.step_weights(), cell.settings, projected[:, t], state,
                recurrent_mask=masks[t // segment],
            )
            steps.append(output)
        whole = tf.stack(steps, 1)
        loss = _loss(whole, 0)
    results = {
        "whole": (whole, tape.gradient(loss, stateful.trainable_weights)),
        "stream": (tf.concat(outputs, 1), total),
    }
    np.testing.assert_allclose(results["stream"][0], whole, atol=1e-12)
    assert max(_relative_errors(results)) < 1e-10


def _carried_ids_read(stateful, attention):
    """The stream ids of the carried memories a call's steps read (weight
    > 0), from its attention output."""
    count = int(stateful.states.counters.numpy()[0])
    read = np.asarray(attention)[0, :, :count].max(axis=0) > 0
    return set(stateful.stream.memory_ids.numpy()[0, :count][read].tolist())


def test_credit_reaches_an_earlier_call_only_through_selected_links():
    """A loss in the third call changes with memory m's record (the record's
    inputs scaled) exactly when m is reachable from the call's reads through
    selected links, memory to memory (§4's R, across calls); otherwise its
    record's contribution is exactly zero."""
    keras.utils.set_random_seed(3)
    x = tf.constant(np.random.default_rng(3).normal(size=(1, 18, 3)))
    stateful = keras_sab.SAB(
        4,
        k_top=1,
        k_att=3,
        k_trunc=3,
        attention_units=5,
        return_sequences=True,
        return_attention=True,
        dtype="float64",
        stateful=True,
        max_memories=6,
    )
    stateful(x[:, :6])
    stateful(x[:, 6:12])
    # The paper's read records no outputs (`records.outputs` is `None`).
    recorded = {
        name: v for name, v in stateful.stream.records._asdict().items() if v is not None
    }
    records = {name: v.numpy() for name, v in recorded.items()}
    ids = stateful.stream.memory_ids.numpy()[0]

    def last_call_gradients():
        saved = [v.numpy() for v in stateful.states] + [
            stateful.stream.memory_ids.numpy(),
            stateful.stream.memory_usage.numpy(),
            stateful.stream.next_memory_id.numpy(),
        ]
        with tf.GradientTape() as tape:
            outputs, attention = stateful(x[:, 12:])
            loss = tf.reduce_sum(tf.sin(outputs))
        grads = tape.gradient(loss, stateful.trainable_weights)
        variables = list(stateful.states) + [
            stateful.stream.memory_ids,
            stateful.stream.memory_usage,
            stateful.stream.next_memory_id,
        ]
        for variable, value in zip(variables, saved):
            variable.assign(value)
        for name, v in recorded.items():
            v.assign(records[name])
        return grads, attention

    reference, attention = last_call_gradients()
    # R: the carried memories read, then those their records' steps read.
    reachable, frontier = set(), _carried_ids_read(stateful, attention)
    while frontier:
        reachable |= frontier
        frontier = {
            int(read)
            for m in frontier
            for read, w in zip(
                records["chosen"][0, list(ids).index(m)].ravel(),
                records["chosen_w"][0, list(ids).index(m)].ravel(),
            )
            if w > 0 and read in ids
        } - reachable
    # The test needs both kinds two calls back (memories 0 and 1, of the first
    # call): one reached by hops through the second call's memories, one not.
    assert reachable & {0, 1} and {0, 1} - reachable, reachable
    for slot, memory_id in enumerate(ids[:4]):
        changed = records["inputs"].copy()
        changed[0, slot] *= 1.5
        stateful.stream.records.inputs.assign(changed)
        grads, _ = last_call_gradients()
        difference = max(float(np.abs(a - b).max()) for a, b in zip(grads, reference))
        if memory_id in reachable:
            assert difference > 1e-8, memory_id
        else:
            assert difference == 0.0, memory_id
    stateful.stream.records.inputs.assign(records["inputs"])


def test_records_do_not_grow_over_100_calls():
    """The state kept is fixed by `max_memories`, `k_trunc` and the batch:
    the same variables, of the same sizes, after 100 calls, and a finite
    gradient that still reaches the records."""
    layer = keras_sab.SAB(4, **SETTINGS, stateful=True, max_memories=5)
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    layer(x)
    records = [v for v in layer.stream.records if v is not None]
    sizes = [tuple(v.shape) for v in records] + [tuple(v.shape) for v in layer.states]
    k = SETTINGS["k_top"]
    assert layer.stream.records.chosen.shape == (2, 5, SETTINGS["k_trunc"], k)
    assert layer.stream.records.inputs.shape == (2, 5, SETTINGS["k_trunc"], 3)
    for _ in range(100):
        layer(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert [tuple(v.shape) for v in records] + [
        tuple(v.shape) for v in layer.states
    ] == sizes
    assert all(np.all(np.isfinite(g)) for g in grads)
    np.testing.assert_array_equal(layer.stream.next_memory_id.numpy(), [2 * 102] * 2)
    np.testing.assert_array_equal(layer.stream.memory_ids.numpy()[0], np.arange(199, 204))


def test_kept_positions_by_policy():
    ids = tf.constant([[3, 4, -1, 5, 6, 7, -1]])
    usage = tf.constant([[9.0, 0.0, 5.0, 0.5, 0.2, 0.0, 0.0]])
    latest, count = kept_positions(ids, usage, 4, "latest")
    assert latest.numpy().tolist() == [[1, 3, 4, 5]] and count.numpy().tolist() == [4]
    # The 2 newest (6, 7), then the most read of the older (3, then 5).
    most_read, _ = kept_positions(ids, usage, 4, "most_read")
    assert most_read.numpy().tolist() == [[0, 3, 4, 5]]
    few, count = kept_positions(tf.constant([[-1, 0, -1]]), tf.zeros((1, 3)), 2, "most_read")
    assert few.numpy()[0, 0] == 1 and count.numpy().tolist() == [1]


@pytest.mark.parametrize("keep", ["latest", "most_read"])
def test_eviction_keeps_what_the_policy_says(keep):
    """After each call, the kept ids are the newest (`"latest"`), or the
    newest half and the older ones with the most attention received,
    decayed per call (`"most_read"`), computed here from the layer's
    attention output."""
    capacity = 4
    layer = keras_sab.SAB(
        4,
        k_top=2,
        k_att=3,
        k_trunc=3,
        stateful=True,
        max_memories=capacity,
        keep=keep,
        return_sequences=True,
        return_attention=True,
        seed=0,
    )
    rng = np.random.default_rng(5)
    usage = {}
    for call in range(6):
        carried = layer.stream.memory_ids.numpy()[0].tolist() if layer.built else [-1] * capacity
        _, attention = layer(rng.normal(size=(1, 9, 2)).astype("float32"))
        received = np.asarray(attention)[0].sum(axis=0)
        count = sum(i >= 0 for i in carried)
        # Buffer position (attention column) p: the carried memories, then the new.
        columns = carried[:count] + list(range(3 * call, 3 * call + 3))
        usage = {i: 0.9 * usage.get(i, 0.0) + received[p] for p, i in enumerate(columns)}
        newest = sorted(columns)[-capacity // 2 :]
        if keep == "latest":
            expected = sorted(columns)[-capacity:]
        else:
            older = sorted((i for i in columns if i not in newest), key=lambda i: (usage[i], i))
            expected = sorted(newest + older[-(capacity - len(newest)) :])
        held = layer.stream.memory_ids.numpy()[0]
        assert held[: len(expected)].tolist() == expected and np.all(held[len(expected) :] == -1)
        usage = {i: usage[i] for i in expected}
        np.testing.assert_allclose(
            layer.stream.memory_usage.numpy()[0, : len(expected)],
            [usage[i] for i in expected],
            rtol=1e-5,
        )


def test_most_read_can_keep_what_latest_drops():
    """Over a long stream, `"most_read"` still holds a memory older than
    `max_memories * k_att` steps when it keeps being read; `"latest"` never."""
    ages = {}
    for keep in ("latest", "most_read"):
        keras.utils.set_random_seed(1)
        layer = keras_sab.SAB(
            8,
            k_top=2,
            k_att=2,
            k_trunc=2,
            stateful=True,
            max_memories=4,
            keep=keep,
            attention_units=4,
        )
        x = np.random.default_rng(1).normal(size=(1, 4, 3)).astype("float32") * 3
        for _ in range(30):
            layer(x)
        ages[keep] = int(
            layer.stream.next_memory_id.numpy()[0] - layer.stream.memory_ids.numpy()[0].min()
        )
    assert ages["latest"] == 4
    assert ages["most_read"] > 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(keep="oldest"), "`keep` must be one of"),
        (dict(k_trunc=None, stream_credit=True), "`stream_credit=True` needs `k_trunc`"),
    ],
)
def test_stream_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_sab.SAB(4, stateful=True, max_memories=3, **kwargs)


def test_a_mask_with_stream_credit_is_refused():
    """A mask is refused with stream credit (the records assume every step
    runs); without, it is accepted and honoured: a row whose last steps are
    masked carries the state (`h`, `c`, the memories) of a call on its
    unmasked steps only, and the next call continues from it."""
    settings = dict(k_top=2, k_att=3, k_trunc=3, stateful=True, max_memories=3, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    layer = keras_sab.SAB(4, stream_credit=True, **settings)
    with pytest.raises(ValueError, match="A mask is not supported with stateful=True"):
        layer(x, mask=np.ones((2, 6), bool))
    masked = keras_sab.SAB(4, stream_credit=False, **settings)
    prefix = keras_sab.SAB(4, stream_credit=False, **settings)
    masked(x)
    prefix(x)
    prefix.set_weights(masked.get_weights())
    masked.reset_state()
    prefix.reset_state()
    # Row 0 runs its 6 steps, row 1 only its first 3.
    mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    masked(x, mask=mask)
    prefix(x[:, :3])
    np.testing.assert_array_equal(masked.states.counters.numpy(), [2, 1])
    np.testing.assert_array_equal(prefix.states.counters.numpy(), [1, 1])
    for name in ("h", "c", "memory", "keys"):
        np.testing.assert_allclose(
            getattr(masked.states, name)[1], getattr(prefix.states, name)[1], atol=1e-6
        )
    after = np.random.default_rng(1).normal(size=(2, 3, 2)).astype("float32")
    np.testing.assert_allclose(masked(after)[1], prefix(after)[1], atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_trains_a_stream_and_the_config_round_trips(jit_compile, tmp_path):
    """`model.fit` on consecutive batches (`shuffle=False`), with and without
    XLA: the records fill and the weights move; a saved model keeps the
    configuration (not the records: a loaded model starts a new stream)."""
    layer = keras_sab.SAB(
        6, k_top=2, k_att=3, k_trunc=3, stateful=True, max_memories=4, keep="most_read"
    )
    model = keras.Sequential([keras.Input((6, 3), batch_size=4), layer, keras.layers.Dense(2)])
    model.compile("adam", "mse", jit_compile=jit_compile)
    x = np.random.default_rng(0).normal(size=(16, 6, 3)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, x[:, -1, :2], batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    assert layer.stream.records.valid.numpy().any()
    model.save(tmp_path / "stream.keras")
    loaded = keras.saving.load_model(tmp_path / "stream.keras")
    config = loaded.layers[0].get_config()
    assert config["stream_credit"] == "auto" and config["keep"] == "most_read"
    assert not loaded.layers[0].stream.records.valid.numpy().any()


# The relative error (by norm) allowed for each weight's gradient under a
# mixed policy: 8 rounding steps of the compute dtype (float16's is 2^-11,
# bfloat16's 2^-8); seen: at most 0.09% and 1.1%.
MIXED_TOLERANCE = {"mixed_float16": 8 * 2**-11, "mixed_bfloat16": 8 * 2**-8}


@pytest.mark.parametrize("policy", sorted(MIXED_TOLERANCE))
@pytest.mark.parametrize("use_fused", [True, False])
def test_stream_credit_under_mixed_precision(policy, use_fused):
    """Under a mixed policy the records are stored in float32 and used in
    the compute dtype (the weights in the scorer's): the second call's
    weight gradients are those of the whole sequence in float32 (a layer
    that is not stateful, with the same weights, the loss on the same steps),
    within a few rounding steps of the compute dtype; without credit they
    miss them by far more than that."""
    x = np.random.default_rng(0).normal(size=(2, 18, 3)).astype("float32")
    settings = dict(k_top=2, k_att=3, k_trunc=3, return_sequences=True)

    def loss_of(outputs):
        return tf.reduce_sum(tf.sin(tf.cast(outputs, tf.float32)))

    keras.utils.set_random_seed(0)
    whole = keras_sab.SAB(8, **settings)
    whole(x)
    with tf.GradientTape() as tape:
        loss = loss_of(whole(x)[:, 9:])
    reference = tape.gradient(loss, whole.trainable_weights)
    keras.mixed_precision.set_global_policy(policy)
    errors = {}
    for credit in (True, False):
        # Every memory kept (6 written), calls a multiple of k_att and k_trunc.
        layer = keras_sab.SAB(8, stateful=True, max_memories=6, use_fused=use_fused,
                              stream_credit=credit, **settings)
        layer(x[:, :9])
        layer.set_weights(whole.get_weights())
        layer.reset_state()
        layer(x[:, :9])
        with tf.GradientTape() as tape:
            outputs = layer(x[:, 9:])
            loss = loss_of(outputs)
        assert outputs.dtype == keras.mixed_precision.Policy(policy).compute_dtype
        grads = tape.gradient(loss, layer.trainable_weights)
        errors[credit] = [
            float(np.linalg.norm(g - r) / np.linalg.norm(r)) for g, r in zip(grads, reference)
        ]
    tolerance = MIXED_TOLERANCE[policy]
    assert max(errors[True]) < tolerance, errors[True]
    assert max(errors[False]) > 10 * tolerance, errors[False]
