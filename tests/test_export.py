"""SavedModel export of SAB models: `model.export(path)` then
`tf.saved_model.load(path).serve(x)` gives the Keras model's outputs at any
sequence length (ALGORITHM.md §6: the time dimension may be None)."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_sab

LENGTHS = (2, 13, 47)


def _inputs(batch, timesteps, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, timesteps, 3)).astype("float32")


def _trained_sequence_model(attention="sparse", use_fused="auto"):
    """A few SGD steps first, so the export holds trained (not initial)
    weights."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras_sab.SAB(
                8, k_top=2, k_att=3, k_trunc=4, attention=attention,
                use_fused=use_fused, return_sequences=True,
            ),
            keras.layers.Dense(5),
        ]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = _inputs(8, 12, seed=1)
    y = np.random.default_rng(2).integers(0, 5, size=(8, 12))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize(
    "attention, use_fused", [("sparse", True), ("sparse", False), ("dense", "auto")]
)
def test_served_outputs_match_keras_at_several_lengths(
    attention, use_fused, tmp_path
):
    model = _trained_sequence_model(attention, use_fused)
    path = str(tmp_path / "sab_export")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)

    (spec,), _ = reloaded.serve.concrete_functions[0].structured_input_signature
    assert spec.shape.as_list() == [None, None, 3]
    for batch, timesteps in zip((1, 3, 2), LENGTHS):
        x = _inputs(batch, timesteps, seed=timesteps)
        expected = model.predict(x, verbose=0)
        served = reloaded.serve(tf.constant(x)).numpy()
        assert served.shape == (batch, timesteps, 5)
        np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)


def test_attention_and_state_outputs_survive_export(tmp_path):
    """Dict outputs: logits, the attention weights (whose slot count depends
    on the length) and the final state, with a masked (padded) input (which
    takes the generic loop)."""
    inputs = keras.Input((None, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    sequences, attention, h, _ = keras_sab.SAB(
        8, k_top=2, k_att=3, k_trunc=4,
        return_sequences=True, return_attention=True, return_state=True,
    )(masked)
    model = keras.Model(
        inputs,
        {"logits": keras.layers.Dense(5)(sequences), "attention": attention, "h": h},
    )
    path = str(tmp_path / "sab_export")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)

    for timesteps in LENGTHS:
        x = _inputs(2, timesteps, seed=timesteps)
        x[1, timesteps // 2 :] = 0.0
        expected = model(x)
        served = reloaded.serve(tf.constant(x))
        assert served["attention"].shape == (2, timesteps, timesteps // 3)
        for key in ("logits", "attention", "h"):
            np.testing.assert_allclose(
                served[key].numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-6
            )
    assert np.abs(served["attention"].numpy()).sum() > 0


def test_serving_needs_only_tensorflow(tmp_path):
    """A fresh process in which keras_sab cannot be imported loads the
    SavedModel and reproduces the Keras outputs at two lengths."""
    model = _trained_sequence_model()
    path = str(tmp_path / "sab_export")
    model.export(path, verbose=False)
    inputs = {str(t): _inputs(2, t, seed=t) for t in LENGTHS[1:]}
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = textwrap.dedent(
        """
        import sys

        sys.modules["keras_sab"] = None  # any import of it now fails
        import numpy as np
        import tensorflow as tf

        served = tf.saved_model.load(sys.argv[1])
        inputs = np.load(sys.argv[2])
        np.savez(sys.argv[3], **{k: served.serve(inputs[k]).numpy() for k in inputs})
        print("OK")
        """
    )
    completed = subprocess.run(
        [
            sys.executable, "-c", script, path,
            str(tmp_path / "inputs.npz"), str(tmp_path / "outputs.npz"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1"),
        cwd=tmp_path,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().endswith("OK")
    outputs = np.load(tmp_path / "outputs.npz")
    for key, x in inputs.items():
        np.testing.assert_allclose(
            outputs[key], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
        )
