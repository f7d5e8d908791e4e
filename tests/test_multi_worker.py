"""Training across workers (`keras_sab.multi_worker`, `examples/multi_worker.py`):
two worker processes on localhost, compared with one process, and resumed
after one of them is killed."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from keras_sab import multi_worker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "multi_worker.py")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(workers, index, out, *flags):
    return subprocess.Popen(
        [sys.executable, SCRIPT, "--workers", workers, "--worker-index", str(index),
         "--out", str(out), "--quick", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT},
    )


def _finish(processes, timeout=240):
    """Waits for every process; kills them all if one overruns."""
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [(p.returncode, p.stdout.read(), p.stderr.read()) for p in processes]


def _cluster(count):
    return ",".join(f"127.0.0.1:{port}" for port in _free_ports(count))


def _log_steps(out):
    with open(out / "checkpoints" / multi_worker.LOG, newline="") as stream:
        return [int(row["step"]) for row in csv.DictReader(stream)]


def test_two_workers_match_one_process(tmp_path):
    """Two workers end with identical weights, and their losses are those of
    one process on the same global batches."""
    workers = _cluster(2)
    results = _finish([_start(workers, i, tmp_path / "two") for i in (0, 1)])
    for code, _, stderr in results:
        assert code == 0, stderr[-3000:]
    alone = _finish([_start(_cluster(1), 0, tmp_path / "one")])
    assert alone[0][0] == 0, alone[0][2][-3000:]
    two = [json.loads((tmp_path / "two" / f"worker_{i}.json").read_text()) for i in (0, 1)]
    one = json.loads((tmp_path / "one" / "worker_0.json").read_text())
    assert two[0]["weights_sha256"] == two[1]["weights_sha256"]
    assert len(two[0]["losses"]) == 20
    assert two[0]["losses"] == pytest.approx(one["losses"], rel=1e-5)
    assert (tmp_path / "two" / "model.keras").exists()
    assert _log_steps(tmp_path / "two") == list(range(1, 21))


def test_killed_worker_resumes_from_the_last_checkpoint(tmp_path):
    """Kill worker 1 mid-training, then stop the chief, restart both with the
    same command: training resumes from the last checkpoint, ends at the same
    step, and the log has every step exactly once."""
    workers = _cluster(2)
    flags = ("--steps", "60", "--checkpoint-every", "5")
    processes = [_start(workers, i, tmp_path, *flags) for i in (0, 1)]
    log = tmp_path / "checkpoints" / multi_worker.LOG
    deadline = time.monotonic() + 180
    while not (log.exists() and len(_log_steps(tmp_path)) >= 12):
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    os.kill(processes[1].pid, signal.SIGKILL)
    processes[0].send_signal(signal.SIGTERM)
    _finish(processes, timeout=30)
    interrupted = _log_steps(tmp_path)
    assert 12 <= interrupted[-1] < 60
    results = _finish([_start(workers, i, tmp_path, *flags) for i in (0, 1)])
    for code, _, stderr in results:
        assert code == 0, stderr[-3000:]
    resumed = [json.loads((tmp_path / f"worker_{i}.json").read_text()) for i in (0, 1)]
    checkpoint = 60 - len(resumed[0]["losses"])
    assert checkpoint % 5 == 0 and 10 <= checkpoint <= interrupted[-1]
    assert resumed[0]["weights_sha256"] == resumed[1]["weights_sha256"]
    assert _log_steps(tmp_path) == list(range(1, 61))


def test_a_worker_that_never_comes_up_times_out_naming_it(tmp_path):
    workers = _cluster(2)
    code, _, stderr = _finish([_start(workers, 0, tmp_path, "--timeout", "3")], timeout=120)[0]
    assert code == -9  # killed by the watchdog, not by this test's timeout
    assert f"within 3 s: no answer from worker 1 at {workers.split(',')[1]}" in stderr


@pytest.mark.parametrize(
    "workers, message",
    [
        ("127.0.0.1", "entry '127.0.0.1'"),
        ("127.0.0.1:80,host:port", "entry 'host:port'"),
        ("127.0.0.1:0", "ports in 1..65535"),
        ("a:1,a:1", "lists an address twice"),
    ],
)
def test_malformed_workers_are_named(workers, message):
    with pytest.raises(ValueError, match=f"`workers`.*{message}"):
        multi_worker.parse_workers(workers)


def test_worker_index_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"`index` must be an integer in 0\.\.1"):
        multi_worker.set_cluster(["a:1", "b:2"], 2)


def test_set_cluster_writes_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    multi_worker.set_cluster("a:1,b:2", 1)
    assert multi_worker.cluster_from_environment() == (["a:1", "b:2"], 1)


@pytest.mark.parametrize("value", ["{not json", '{"cluster": {}}', '["a:1"]'])
def test_malformed_tf_config_is_named(monkeypatch, value):
    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match="`TF_CONFIG` must be JSON like"):
        multi_worker.cluster_from_environment()


JIT_SCRIPT = """
import keras, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras_sab
from keras_sab import multi_worker, tasks
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = keras.Sequential([keras.Input((None, 10)), keras_sab.SAB(4, return_sequences=True),
                              keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=True)
try:
    multi_worker.train_multi_worker(model, tasks.copy_dataset(5, 4), 1, "unused", strategy)
except ValueError as error:
    print(error)
"""


def test_jit_compile_over_several_cpu_devices_is_refused(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", JIT_SCRIPT], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT},
    )
    assert "`jit_compile=True` fails with several CPU devices per worker" in completed.stdout
