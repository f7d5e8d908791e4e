"""The GPU check, in one process and under four minutes: correctness, speed, memory.

    python benchmarks/gpu.py --out gpu_results
    python benchmarks/gpu.py --dry-run --out /tmp/gpu    # the same code on a CPU, tiny sizes

Run once on a machine with a GPU; its figures go in the issue note and in
docs/BENCHMARKS.md. Each measurement is appended to `--out`/results.json as
soon as it is made, so a run that is stopped keeps what it measured. In order:

1. correctness, with TF32 off (float32 matmuls in TF32 differ by about 1e-3):
   the fused path against the cell loop (outputs and every gradient, under
   XLA), and a stream fed in 4 calls against the whole sequence (summed
   weight gradients, float64);
2. speed and peak GPU memory of one train step (Adam), median of
   `--steps` after compilation: SAB with its defaults under XLA, and
   `keras.layers.LSTM` on cuDNN (Keras compiles a cuDNN model without XLA),
   at T=1000 and 4000, batch 32 and 256, 128 units;
3. controls at T=1000, batch 32: SAB with `k_top=0` (the LSTM inside SAB),
   `scorer="dot"`, and under `mixed_bfloat16`.

A configuration that would start after `--budget-s` is skipped and listed as
such. Everything runs in this process: nothing is left running when it stops.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

FEATURES = 10
CLASSES = 10


def _settings(dry_run):
    if dry_run:
        return dict(lengths=(20, 40), batches=(2, 4), units=16, steps=2, check_t=24)
    return dict(lengths=(1000, 4000), batches=(32, 256), units=128, steps=5, check_t=200)


class Report:
    """Collects results and rewrites `results.json` after each one."""

    def __init__(self, out, header):
        os.makedirs(out, exist_ok=True)
        self.path = os.path.join(out, "results.json")
        self.results = {**header, "measurements": []}
        self.write()

    def add(self, **entry):
        self.results["measurements"].append(entry)
        self.write()
        print(json.dumps(entry), flush=True)

    def write(self):
        with open(self.path, "w") as f:
            json.dump(self.results, f, indent=1)


def _device():
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "/CPU:0"


def _peak_mib(device):
    """Peak memory since the last reset: the GPU's allocator, else this
    process's resident memory (on a CPU)."""
    import tensorflow as tf

    if "GPU" in device:
        return tf.config.experimental.get_memory_info(device.split("device:")[-1])["peak"] / 2**20
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak(device):
    import tensorflow as tf

    if "GPU" in device:
        tf.config.experimental.reset_memory_stats(device.split("device:")[-1])


def check_paths(report, settings):
    """The fused path against the cell loop, under XLA."""
    import keras
    import tensorflow as tf

    import keras_sab

    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(8, settings["check_t"], FEATURES)),
                    tf.float32)
    layers = [keras_sab.SAB(32, return_sequences=True, use_fused=fused) for fused in (True, False)]
    for layer in layers:
        layer(x)
    layers[1].set_weights(layers[0].get_weights())
    results = []
    for layer in layers:

        @tf.function(jit_compile=True)
        def run(x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outputs = layer(x)
                loss = tf.reduce_sum(tf.sin(outputs))
            return [outputs] + tape.gradient(loss, [x] + layer.trainable_weights)

        results.append([t.numpy() for t in run(x)])
    worst = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))
                for a, b in zip(*results))
    report.add(check="fused vs cell loop, XLA, float32", max_relative_difference=worst,
               within_1e_5=worst < 1e-5)


def check_stream(report, settings):
    """A stream in 4 calls against the whole sequence, float64."""
    import keras
    import tensorflow as tf

    import keras_sab

    keras.utils.set_random_seed(0)
    kwargs = dict(k_top=2, k_att=3, k_trunc=6, return_sequences=True, dtype="float64")
    x = tf.constant(np.random.default_rng(1).normal(size=(2, 24, FEATURES)))
    whole = keras_sab.SAB(16, **kwargs)
    stream = keras_sab.SAB(16, stateful=True, max_memories=8, **kwargs)
    whole(x)
    stream(x[:, :6])
    stream.set_weights(whole.get_weights())
    stream.reset_state()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(whole(x)))
    reference = tape.gradient(loss, whole.trainable_weights)
    total = [tf.zeros_like(g) for g in reference]
    for call in range(4):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(stream(x[:, 6 * call:6 * (call + 1)])))
        total = [t + g for t, g in zip(total, tape.gradient(loss, stream.trainable_weights))]
    worst = max(float(np.abs(a - b).max() / np.abs(a).max()) for a, b in zip(reference, total))
    report.add(check="stream of 4 calls vs whole sequence, float64",
               max_relative_difference=worst, within_1e_10=worst < 1e-10)


def train_step(report, device, name, timesteps, batch, units, steps, policy="float32",
               **layer_kwargs):
    """Times one model's train step; adds its entry to `report`."""
    import keras

    import keras_sab

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((timesteps, FEATURES), batch_size=batch)
    if name == "lstm":
        recurrent = keras.layers.LSTM(units)
        jit = False
    else:
        recurrent = keras_sab.SAB(units, **layer_kwargs)
        jit = True
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, dtype="float32")(recurrent(inputs)))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, timesteps, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=(batch,))
    _reset_peak(device)
    start = time.perf_counter()
    model.train_on_batch(x, y)
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    keras.mixed_precision.set_global_policy("float32")
    report.add(model=name, T=timesteps, batch=batch, units=units, policy=policy,
               xla=jit, layer_kwargs=layer_kwargs, first_step_s=compile_s,
               step_ms=1000 * statistics.median(times), peak_mib=_peak_mib(device))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_results")
    parser.add_argument("--dry-run", action="store_true",
                        help="Tiny sizes, on whatever device there is (a CPU in the tests).")
    parser.add_argument("--budget-s", type=float, default=210.0,
                        help="No configuration starts after this many seconds.")
    args = parser.parse_args(argv)
    began = time.time()
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
    settings = _settings(args.dry_run)
    device = _device()
    report = Report(args.out, {
        "device": device, "machine": platform.node(), "dry_run": args.dry_run,
        "tensorflow": tf.__version__, "settings": settings, "skipped": [],
    })
    units, steps = settings["units"], settings["steps"]
    plan = [("correctness", lambda: check_paths(report, settings)),
            ("stream", lambda: check_stream(report, settings))]
    for timesteps in settings["lengths"]:
        for batch in settings["batches"]:
            for name in ("sab", "lstm"):
                plan.append((f"{name} T={timesteps} batch={batch}",
                             lambda n=name, t=timesteps, b=batch:
                             train_step(report, device, n, t, b, units, steps)))
    t0, b0 = settings["lengths"][0], settings["batches"][0]
    controls = [("k_top=0", {"k_top": 0}), ("scorer=dot", {"scorer": "dot"}),
                ("mixed_bfloat16", {"policy": "mixed_bfloat16"})]
    for label, kwargs in controls:
        plan.append((f"sab {label} T={t0} batch={b0}",
                     lambda kw=kwargs: train_step(report, device, "sab", t0, b0, units, steps,
                                                  **kw)))
    for label, run in plan:
        if time.time() - began > args.budget_s:
            report.results["skipped"].append(label)
            report.write()
            continue
        try:
            run()
        except Exception as error:  # a failed part is reported; the others still run
            report.add(part=label, error=f"{type(error).__name__}: {str(error)[:300]}")
    report.results["seconds"] = time.time() - began
    report.write()
    print(f"done in {report.results['seconds']:.0f} s; skipped: {report.results['skipped']}")


if __name__ == "__main__":
    main()
