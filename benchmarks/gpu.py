"""The prepared GPU check: XLA benchmark at batch 256, then every example briefly.

Run once on a machine with a GPU (see DEVELOPERS.md); it finishes within 8
minutes and prints its figures, which go in the issue note and in
`docs/BENCHMARKS.md`:

    python benchmarks/gpu.py --out gpu_results

Each part runs in its own subprocess under its own time limit, so one slow or
failing part cannot stop the others; the summary says what each part did.
Examples whose data is absent on the machine (MNIST, CIFAR10 through
tensorflow-datasets) fail fast and are reported as such.
"""

import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parts(out):
    """`(name, command, seconds)` for each part of the check."""
    python = sys.executable
    brief = ["--epochs", "2", "--steps-per-epoch", "50"]
    return [
        (
            "benchmark",
            [python, "benchmarks/speed_memory.py", "--jit", "--batch-size", "256",
             "--timesteps", "100", "250", "500", "1000", "2000", "4000",
             "--steps", "3", "--time-cap-s", "60", "--memory-cap-mib", "60000",
             "--out", os.path.join(out, "benchmark")],
            240,
        ),
        ("copy", [python, "examples/copy_task.py", "-T", "200", *brief,
                  "--batch-size", "256", "--out", os.path.join(out, "copy")], 60),
        ("adding", [python, "examples/adding.py", *brief,
                    "--out", os.path.join(out, "adding")], 40),
        ("pixel_mnist", [python, "examples/pixel_mnist.py", "--source", "mnist",
                         "--permute", *brief, "--out", os.path.join(out, "mnist")], 40),
        ("cifar10", [python, "examples/cifar10.py", *brief,
                     "--out", os.path.join(out, "cifar10")], 40),
        ("text8", [python, "examples/text8.py", *brief,
                   "--out", os.path.join(out, "text8")], 40),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_results")
    args = parser.parse_args(argv)
    summary = []
    for name, command, seconds in parts(args.out):
        start = time.time()
        try:
            result = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=seconds
            )
            status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
            tail = (result.stdout + result.stderr)[-1500:]
        except subprocess.TimeoutExpired as error:
            status = f"stopped after {seconds} s"
            tail = ((error.stdout or b"").decode(errors="replace"))[-1500:]
        summary.append((name, status, time.time() - start))
        print(f"===== {name}: {status} ({time.time() - start:.0f} s)\n{tail}", flush=True)
    print("\nsummary")
    for name, status, seconds in summary:
        print(f"  {name:<12} {status:<24} {seconds:6.0f} s")


if __name__ == "__main__":
    main()
