"""Training across machines on TensorFlow's `MultiWorkerMirroredStrategy`.

`model.fit` under `tf.distribute.MultiWorkerMirroredStrategy` fails in Keras 3
for any model ("Attempt to convert a value (PerReplica:{...}) with an
unsupported type", keras-team/keras issue 20585). `train_multi_worker` is
TensorFlow's documented custom-loop route, packaged: each step runs the model
on every replica's slice of the global batch with `strategy.run`, sums the
gradients across replicas (each replica's loss is its share of the mean over
the global batch) and applies them once, so a step computes what one process
computes on the whole batch, gradient clipping included. The chief (worker 0)
shows the progress bar and writes the log and the checkpoints; a restart with
the same command resumes from the last checkpoint.

Example, on each of two machines (index 1 on the second):

    import keras, keras_sab, tensorflow as tf
    from keras_sab import multi_worker, tasks

    multi_worker.set_cluster(["host0:12345", "host1:12345"], index=0)
    strategy = multi_worker.connect()
    with strategy.scope():
        model = keras.Sequential([keras.Input((None, 10)),
                                  keras_sab.SAB(128, return_sequences=True),
                                  keras.layers.Dense(10)])
        model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = multi_worker.train_multi_worker(
        model, tasks.copy_dataset(100, 64), steps=1000, checkpoint_dir="shared/ckpt",
        strategy=strategy)
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import keras
import tensorflow as tf

from keras_sab import cluster_watchdog
from keras_sab import validation

LOG = "log.csv"


def parse_workers(workers):
    """Returns the `host:port` addresses of a comma-separated worker list.

    Raises:
        ValueError: naming `workers`, if an entry is not `host:port` with a
            port in 1..65535, or an address repeats.
    """
    addresses = [entry.strip() for entry in str(workers).split(",")]
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                "`workers` must be a comma-separated list of host:port "
                f"addresses, ports in 1..65535. Received: workers={workers!r} "
                f"(entry {address!r})"
            )
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"`workers` lists an address twice. Received: workers={workers!r}")
    return addresses


def set_cluster(workers, index):
    """Sets `TF_CONFIG` for worker `index` of `workers`, before the strategy
    is created.

    Args:
        workers: list of `host:port` strings, or one comma-separated string.
        index: int, this worker's position in `workers` (0 is the chief).

    Returns:
        The `TF_CONFIG` dict.

    Raises:
        ValueError: naming the argument, for a malformed list or an index out
            of range.
    """
    workers = parse_workers(workers if isinstance(workers, str) else ",".join(workers))
    if not validation.is_integer(index) or not 0 <= index < len(workers):
        raise ValueError(
            f"`index` must be an integer in 0..{len(workers) - 1} (one per "
            f"worker). Received: index={index!r}"
        )
    config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    os.environ["TF_CONFIG"] = json.dumps(config)
    return config


def cluster_from_environment():
    """The `(workers, index)` of a valid `TF_CONFIG`, or `None` if unset.

    Raises:
        ValueError: naming `TF_CONFIG`, if it is not JSON with
            `cluster.worker` (a list of `host:port`) and `task.index`.
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = config["task"]["index"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            "`TF_CONFIG` must be JSON like {\"cluster\": {\"worker\": "
            "[\"host:port\", ...]}, \"task\": {\"type\": \"worker\", \"index\": "
            f"0}}. Received: TF_CONFIG={raw!r} ({type(error).__name__}: {error})"
        ) from None
    return parse_workers(",".join(workers)), index


def connect(timeout=120.0):
    """Creates the `MultiWorkerMirroredStrategy` of `TF_CONFIG`, waiting at
    most `timeout` seconds for the other workers.

    Creating the strategy starts this worker's server and blocks inside
    TensorFlow until every worker is up: a worker that never comes up would
    hang the others for good. Here a watchdog process
    (`keras_sab/cluster_watchdog.py`) ends the wait after `timeout` seconds:
    it prints a `TimeoutError` line naming the workers that do not answer
    and kills this process.

    Args:
        timeout: seconds to wait for every worker. Defaults to `120.0`.

    Returns:
        A `tf.distribute.MultiWorkerMirroredStrategy`.

    Raises:
        ValueError: if `TF_CONFIG` is unset or malformed.
    """
    cluster = cluster_from_environment()
    if cluster is None:
        raise ValueError("`TF_CONFIG` is not set: call `set_cluster` first.")
    workers, index = cluster
    others = [f"worker {i}@{address}" for i, address in enumerate(workers) if i != index]
    watchdog = subprocess.Popen(
        [sys.executable, cluster_watchdog.__file__, str(os.getpid()), str(timeout), *others]
    )
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        for entry in others:
            while not cluster_watchdog.answers(entry.split("@")[1]):
                time.sleep(0.2)
    finally:
        watchdog.kill()
        watchdog.wait()
    return strategy


def is_chief(strategy):
    """Whether this process is the chief: worker 0 of a cluster, or the only one."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def _per_example(loss, targets, predictions):
    """Per-example values of a compiled Keras loss: the mean over every
    axis but the batch."""
    values = keras.losses.get(loss).call(targets, predictions)
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _replica_batches(dataset, strategy, start):
    """A distributed dataset: from global batch `start` on, worker `p` of `P`
    takes rows `[p G / P, (p + 1) G / P)` of each global batch of `G` rows,
    cut into one batch per local replica."""
    global_batch = dataset.element_spec[0].shape[0]
    replicas = strategy.num_replicas_in_sync
    if global_batch is None or global_batch % replicas:
        raise ValueError(
            "`dataset` must have a static global batch size divisible by the "
            f"{replicas} replicas (batch it with drop_remainder=True). "
            f"Received: element_spec={dataset.element_spec}"
        )

    def dataset_fn(context):
        rows = global_batch // context.num_input_pipelines
        first = context.input_pipeline_id * rows

        def worker_rows(*batch):
            return tuple(t[first : first + rows] for t in batch)

        batches = dataset.skip(start).map(worker_rows)
        return batches.unbatch().batch(global_batch // replicas, drop_remainder=True)

    return strategy.distribute_datasets_from_function(dataset_fn)


def _read_log(path, last_step):
    """The log's rows up to `last_step` (a restart drops the rest)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as stream:
        return [row for row in csv.DictReader(stream) if int(row["step"]) <= last_step]


def train_multi_worker(
    model, dataset, steps, checkpoint_dir, strategy=None, checkpoint_every=10, verbose=1
):
    """Trains a compiled model for `steps` global batches, resumably.

    Every worker runs the same call. Each step splits the global batch
    across the replicas, sums their gradients (each replica's loss is its
    share of the mean over the global batch, plus its share of the model's
    regularization losses) and applies the sum once with the model's
    optimizer, whose clipping then sees the gradient of the whole batch.
    Every `checkpoint_every` steps, and after the last, the model, the
    optimizer and the step count are checkpointed: the chief writes to
    `checkpoint_dir`, the other workers to temporary folders they delete.
    A call finds the latest checkpoint in `checkpoint_dir` and resumes from
    it, skipping the batches already trained on; the chief's log
    (`checkpoint_dir/log.csv`: step, loss) then drops the steps after that
    checkpoint, so each step is logged once. `checkpoint_dir` must be
    readable by every worker (a shared folder across machines).

    Args:
        model: a built Keras model, compiled (optimizer and loss) inside
            `strategy.scope()`.
        dataset: a `tf.data.Dataset` of `(inputs, targets)` global batches of
            a static size divisible by the number of replicas, long enough
            for `steps` batches; the same on every worker (each takes its
            rows).
        steps: int, the global batches to train on in all.
        checkpoint_dir: folder of the checkpoints and the log.
        strategy: the `tf.distribute` strategy the model was built under.
            Defaults to `None`: the current one.
        checkpoint_every: int, steps between checkpoints. Defaults to `10`.
        verbose: `1` for a progress bar on the chief, `0` for none. Defaults
            to `1`.

    Returns:
        The losses of the steps this call ran (the mean over each global
        batch), on every worker.

    Raises:
        ValueError: for an uncompiled model, a bad `steps` or
            `checkpoint_every`, a dataset without a static batch size that the
            replicas divide, or `jit_compile=True` over several CPU devices
            of one worker (TensorFlow fails there).
    """
    strategy = strategy or tf.distribute.get_strategy()
    if model.optimizer is None or model.loss is None:
        raise ValueError("`model` must be compiled with an optimizer and a loss.")
    validation.check_int("steps", steps, 1)
    validation.check_int("checkpoint_every", checkpoint_every, 1)
    default = strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
    local_devices = () if default else strategy.extended.worker_devices
    if model.jit_compile is True and len(local_devices) > 1 and all(
        "CPU" in device.upper() for device in local_devices
    ):
        raise ValueError(
            "`jit_compile=True` fails with several CPU devices per worker "
            "(TensorFlow: 'Trying to access resource ... located in device "
            "CPU:1 from device CPU:0'): compile with jit_compile=False."
        )
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        model.optimizer.build(model.trainable_variables)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=step)
    chief = is_chief(strategy)
    write_dir = checkpoint_dir if chief else tempfile.mkdtemp(prefix="keras_sab_worker_")
    manager = tf.train.CheckpointManager(checkpoint, write_dir, max_to_keep=2)
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
    start = int(step.numpy())
    log_path = os.path.join(checkpoint_dir, LOG)
    if chief:
        os.makedirs(checkpoint_dir, exist_ok=True)
        kept = _read_log(log_path, start)
        with open(log_path, "w", newline="") as stream:
            writer = csv.DictWriter(stream, ["step", "loss"])
            writer.writeheader()
            writer.writerows(kept)
    batches = iter(_replica_batches(dataset, strategy, start))
    global_batch = dataset.element_spec[0].shape[0]
    variables = model.trainable_variables

    def replica_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = tf.cast(model(inputs, training=True), tf.float32)
            per_example = _per_example(model.loss, targets, predictions)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, variables)
        return loss, [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]

    @tf.function
    def train_step(batch):
        loss, grads = strategy.run(replica_step, args=batch)
        loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        grads = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
        model.optimizer.apply(grads, variables)
        return loss

    progress = keras.utils.Progbar(steps, verbose=verbose) if chief and verbose else None
    if progress is not None and start:
        progress.update(start)
    losses = []
    for done in range(start + 1, steps + 1):
        loss = float(train_step(next(batches)))
        step.assign(done)
        losses.append(loss)
        if chief:
            with open(log_path, "a", newline="") as stream:
                csv.writer(stream).writerow([done, repr(loss)])
        if progress is not None:
            progress.update(done, [("loss", loss)])
        if done % checkpoint_every == 0 or done == steps:
            manager.save(checkpoint_number=done)
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
    return losses
