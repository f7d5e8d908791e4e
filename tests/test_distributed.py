"""SAB under `tf.distribute.MirroredStrategy`.

Two logical CPU devices must be configured before TensorFlow initializes its
devices, which the pytest process (and its xdist workers) has long done; the
check therefore runs in a fresh Python process and prints its results as one
JSON line, on which this test asserts.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

LENGTHS = (9, 25, 40)

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np
    import keras_sab

    def make_model(use_fused):
        model = keras.Sequential([
            keras.Input((None, 3)),
            keras_sab.SAB(
                8, k_top=2, k_att=3, k_trunc=4, return_sequences=True,
                use_fused=use_fused,
            ),
            keras.layers.Dense(5),
        ])
        model.compile(
            keras.optimizers.SGD(0.5),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    class BatchLosses(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses = []

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(float(logs["loss"]))

    def batches():
        for timesteps in json.loads(sys.argv[1]):
            rng = np.random.default_rng(timesteps)
            x = rng.normal(size=(8, timesteps, 3)).astype("float32")
            y = rng.integers(0, 5, size=(8, timesteps)).astype("int32")
            yield x, y

    data = tf.data.Dataset.from_generator(
        batches,
        output_signature=(
            tf.TensorSpec((8, None, 3), tf.float32),
            tf.TensorSpec((8, None), tf.int32),
        ),
    )
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {
        "replicas": strategy.num_replicas_in_sync,
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
    }
    for use_fused in (True, False):
        keras.utils.set_random_seed(0)
        single = make_model(use_fused)
        initial = single.get_weights()
        with strategy.scope():
            mirrored = make_model(use_fused)
        mirrored.set_weights(initial)
        run = {
            "mirrored_variables": isinstance(
                mirrored.trainable_weights[0].value,
                tf.distribute.DistributedValues,
            ),
            "initial": [w.tolist() for w in initial],
        }
        for name, model in (("single", single), ("mirrored", mirrored)):
            losses = BatchLosses()
            model.fit(data, epochs=2, verbose=0, callbacks=[losses])
            run[name] = {
                "losses": losses.losses,
                "weights": [w.tolist() for w in model.get_weights()],
            }
        results[f"use_fused={use_fused}"] = run
    print("RESULT " + json.dumps(results))
    """
)


def _run_check():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(LENGTHS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (line,) = [row for row in completed.stdout.splitlines() if row.startswith("RESULT ")]
    return json.loads(line[len("RESULT ") :])


def _per_batch(running_means, batches_per_epoch):
    """Per-batch losses from Keras's running mean over each epoch."""
    losses = []
    for epoch in range(len(running_means) // batches_per_epoch):
        start = epoch * batches_per_epoch
        means = np.asarray(running_means[start : start + batches_per_epoch])
        totals = np.arange(1, batches_per_epoch + 1) * means
        losses.extend(np.diff(totals, prepend=0.0))
    return np.asarray(losses)


def test_mirrored_training_matches_single_device_at_several_lengths():
    """Same weights, same global batches of 8 (4 per replica), one batch at
    each of T=9, 25, 40 (3, 8 and 13 memory slots for k_top=2: top-k
    selection, memory writes and truncation are all exercised), two epochs:
    the loss of every step and the final weights equal those of one device,
    on both the fused path and the generic loop."""
    results = _run_check()
    assert results["logical_cpus"] == 2
    assert results["replicas"] == 2
    for use_fused in (True, False):
        run = results[f"use_fused={use_fused}"]
        assert run["mirrored_variables"]
        single, mirrored = run["single"], run["mirrored"]
        assert len(single["losses"]) == 2 * len(LENGTHS)
        single_losses = _per_batch(single["losses"], len(LENGTHS))
        np.testing.assert_allclose(
            _per_batch(mirrored["losses"], len(LENGTHS)), single_losses, rtol=1e-5
        )
        # Batches of different lengths have different losses: the check is
        # per step, not of one repeated number.
        assert np.ptp(single_losses[: len(LENGTHS)]) > 1e-3
        changed = 0.0
        for before, one, two in zip(
            run["initial"], single["weights"], mirrored["weights"]
        ):
            np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-5)
            changed = max(changed, float(np.abs(np.subtract(one, before)).max()))
        assert changed > 1e-3
