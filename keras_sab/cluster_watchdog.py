"""The watchdog of `keras_sab.multi_worker.connect`, run as its own process.

    python cluster_watchdog.py PARENT_PID TIMEOUT "worker 1@host:port" ...

Creating a `MultiWorkerMirroredStrategy` blocks inside TensorFlow until every
worker is up, holding the interpreter: no thread or signal handler of the
waiting process can run. This script, which imports nothing heavy, sleeps
`TIMEOUT` seconds, then names on stderr the workers that do not answer and
kills the waiting process; `connect` kills the watchdog first when the
cluster comes up in time.
"""

import os
import signal
import socket
import sys
import time


def answers(address):
    """Whether something accepts connections at `host:port`."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
        return True
    except OSError:
        return False


def main(argv):
    """Waits, then reports the silent workers of `argv[2:]` and kills `argv[0]`."""
    parent, timeout, others = int(argv[0]), float(argv[1]), argv[2:]
    time.sleep(timeout)
    missing = [entry for entry in others if not answers(entry.split("@")[1])] or others
    named = ", ".join(entry.replace("@", " at ") for entry in missing)
    sys.stderr.write(
        f"TimeoutError: the cluster did not come up within {timeout:.0f} s: no answer "
        f"from {named}. Start the same command on each with its own index.\n"
    )
    sys.stderr.flush()
    os.kill(parent, signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1:])
