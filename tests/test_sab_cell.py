"""`SABCell`'s weights: independent initial values, reproducible under a seed."""

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

import keras_sab

SCORER_WEIGHTS = ("query_kernel", "memory_kernel", "attention_vector")


def _built_cell(**kwargs):
    cell = keras_sab.SABCell(16, attention_units=16, max_memories=4, **kwargs)
    cell.build((None, 3))
    return cell


def _values(cell):
    return {name: keras.ops.convert_to_numpy(getattr(cell, name)) for name in SCORER_WEIGHTS}


@pytest.mark.parametrize(
    "initializer",
    [
        "glorot_uniform",
        keras.initializers.RandomNormal(seed=7),
        keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(7)),
        lambda shape, dtype=None: keras.random.normal(shape, dtype=dtype),
    ],
    ids=["by name", "integer seed", "SeedGenerator seed", "function"],
)
def test_scorer_kernels_start_independent(initializer):
    """`W_q` and `W_m` have the same shape and one initializer: each must
    still draw its own values (a Keras initializer instance returns the same
    values on every call), however it is seeded; so must `v`."""
    values = _values(_built_cell(attention_initializer=initializer))
    assert not np.allclose(values["query_kernel"], values["memory_kernel"])
    column = values["query_kernel"][:, :1]
    assert not np.allclose(values["attention_vector"], column)


def test_cells_built_under_one_seed_are_identical():
    """`keras.utils.set_random_seed` makes the scorer's initial weights
    reproducible; another seed changes them."""
    runs = []
    for seed in (3, 3, 4):
        keras.utils.set_random_seed(seed)
        runs.append(_values(_built_cell()))
    for name in SCORER_WEIGHTS:
        np.testing.assert_array_equal(runs[0][name], runs[1][name])
        assert not np.allclose(runs[0][name], runs[2][name])


def test_seeded_initializer_gives_reproducible_distinct_weights():
    """A seeded initializer instance: two cells built with it are identical,
    and within a cell the scorer's weights differ."""
    initializer = keras.initializers.GlorotUniform(seed=11)
    first = _values(_built_cell(attention_initializer=initializer))
    second = _values(_built_cell(attention_initializer=initializer))
    for name in SCORER_WEIGHTS:
        np.testing.assert_array_equal(first[name], second[name])
    assert not np.allclose(first["query_kernel"], first["memory_kernel"])
    assert keras.initializers.serialize(initializer)["config"]["seed"] == 11


def test_default_attention_and_temperature_round_trip():
    """The cell's default mode is `"sparse_softmax"` at temperature 1, and
    both survive `get_config`/`from_config`."""
    cell = keras_sab.SABCell(4, temperature=0.7, max_memories=2)
    assert (cell.attention, cell.temperature) == ("sparse_softmax", 0.7)
    clone = keras_sab.SABCell.from_config(cell.get_config())
    assert (clone.attention, clone.temperature) == ("sparse_softmax", 0.7)


def test_settings_follow_the_hyper_parameters():
    """The step reads `settings` at call time: a hyper-parameter changed after
    construction is not silently ignored."""
    cell = keras_sab.SABCell(4, max_memories=2)
    cell.temperature = 0.5
    assert cell.settings.temperature == 0.5


class KerasLayerHarnessTest(TestCase):
    """Keras's own recurrent-layer checks on `keras.layers.RNN(SABCell(...))`,
    mixed precision included."""

    def test_run_layer_test(self):
        for return_sequences in (False, True):
            self.run_layer_test(
                keras.layers.RNN,
                init_kwargs=dict(
                    cell=keras_sab.SABCell(
                        3, k_top=2, k_att=2, k_trunc=3, max_memories=4, dropout=0.25
                    ),
                    return_sequences=return_sequences,
                ),
                input_shape=(3, 7, 4),
                call_kwargs={"training": True},
                expected_output_shape=(3, 7, 3) if return_sequences else (3, 3),
                expected_num_trainable_weights=7,
                expected_num_non_trainable_weights=0,
                expected_num_seed_generators=1,
                supports_masking=True,
            )


def test_counters_stay_exact_under_mixed_bfloat16():
    """`keras.layers.RNN` casts the step counters to bfloat16, exact up to
    256: the memory count is held at `max_memories`, so after 300 steps the
    counters read exactly what they would in int32."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    cell = keras_sab.SABCell(4, k_top=2, k_att=1, k_trunc=200, max_memories=200)
    rnn = keras.layers.RNN(cell, return_state=True)
    *_, counters = rnn(np.zeros((2, 300, 3), "float32"))
    # since_write (a write every step), since_cut (300 = 200 + 100), written.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.ops.cast(counters, "float32")),
        [[0, 100, 200]] * 2,
    )


@pytest.mark.parametrize(
    "policy, name, kwargs",
    [
        ("mixed_bfloat16", "max_memories", dict(max_memories=257)),
        ("mixed_bfloat16", "k_trunc", dict(k_trunc=300, max_memories=4)),
        ("mixed_float16", "k_att", dict(k_att=2049, max_memories=4)),
    ],
)
def test_counts_beyond_the_exact_range_raise(policy, name, kwargs):
    """A bound that a half-precision counter cannot hold is a `ValueError`
    naming the argument and the limit."""
    keras.mixed_precision.set_global_policy(policy)
    limit = 256 if policy == "mixed_bfloat16" else 2048
    with pytest.raises(ValueError, match=f"`{name}` must be <= {limit}"):
        keras_sab.SABCell(4, **kwargs)
