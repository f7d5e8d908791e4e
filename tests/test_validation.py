"""Bad arguments raise a ValueError naming the argument (ALGORITHM.md §6)."""

import keras
import numpy as np
import pytest

import keras_sab

BAD_ARGUMENTS = [
    ("k_att", 0, "k_att"),
    ("k_att", -3, "k_att"),
    ("k_top", -1, "k_top"),
    ("k_trunc", 0, "k_trunc"),
    ("k_att", 2.5, "k_att"),
    ("k_top", 1.0, "k_top"),
    ("k_trunc", "10", "k_trunc"),
    ("k_top", True, "k_top"),
    ("attention", "softmax", "attention"),
    ("attention_units", 0, "attention_units"),
    ("scorer", "additive", "scorer"),
    ("scorer", None, "scorer"),
    ("dropout", 1.0, "dropout"),
    ("temperature", 0.0, "temperature"),
    ("temperature", -2.0, "temperature"),
    ("temperature", float("inf"), "temperature"),
    ("temperature", "1", "temperature"),
]


@pytest.mark.parametrize("name,value,quoted", BAD_ARGUMENTS)
@pytest.mark.parametrize("cls", [keras_sab.SAB, keras_sab.SABCell])
def test_bad_hyper_parameter_raises_value_error_naming_it(cls, name, value, quoted):
    with pytest.raises(ValueError, match=f"`{quoted}` must be") as info:
        cls(8, **{name: value})
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("units", [0, -4, 3.5, None])
def test_bad_units(units):
    with pytest.raises(ValueError, match="`units` must be an integer >= 1"):
        keras_sab.SAB(units)


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 5, 3), (5,)])
def test_input_not_rank_3_raises_at_first_call(shape):
    with pytest.raises(ValueError, match="rank 3"):
        keras_sab.SAB(4)(np.zeros(shape, "float32"))


def test_input_not_rank_3_raises_in_a_model():
    with pytest.raises(ValueError, match="rank 3, \\(batch, timesteps, features\\)"):
        keras.Sequential([keras.Input((5,)), keras_sab.SAB(4)])


def test_cell_in_rnn_needs_max_memories():
    with pytest.raises(ValueError, match="`max_memories` must be an integer >= 1"):
        keras.layers.RNN(keras_sab.SABCell(4))


def test_k_trunc_none_and_k_top_zero_are_allowed():
    layer = keras_sab.SAB(4, k_top=0, k_trunc=None)
    assert layer(np.zeros((1, 3, 2), "float32")).shape == (1, 4)


@pytest.mark.parametrize("cls", [keras_sab.SAB, keras_sab.SABCell])
def test_temperature_with_the_paper_rule_raises(cls):
    """`attention="sparse"` has no temperature: another value is refused
    rather than ignored."""
    with pytest.raises(ValueError, match="attention='sparse' has none") as info:
        cls(8, attention="sparse", temperature=0.5)
    assert "temperature=0.5" in str(info.value)
    assert cls(8, attention="sparse", temperature=1.0).temperature == 1.0
