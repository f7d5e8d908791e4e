"""`import keras_sab` is the layer, light: no plotting, tuning or dataset libraries."""

import subprocess
import sys

import keras_sab

HEAVY = ("matplotlib", "keras_tuner", "tensorflow_datasets")

# The heavy libraries are made unimportable before anything else is imported
# (Keras itself imports matplotlib when it is installed, and copes without it):
# an import of one of them from `keras_sab` or `keras_sab.tasks` fails.
CHECK = f"""
import sys
for name in {HEAVY!r}:
    sys.modules[name] = None
import keras
import keras_sab
import keras_sab.tasks
print(sorted(name for name in sys.modules if name in ("experiment", "keras_sab.plots")))
"""


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)


def test_importing_the_package_needs_none_of_the_heavy_libraries():
    """`keras_sab` and `keras_sab.tasks` import without matplotlib, KerasTuner
    or TFDS, and load neither the plots nor the examples' harness."""
    completed = _run(CHECK)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_the_check_fails_for_a_module_that_needs_them():
    """The same check on `keras_sab.plots`, which needs matplotlib, fails."""
    completed = _run(CHECK.replace("import keras_sab.tasks", "import keras_sab.plots"))
    assert completed.returncode != 0
    assert "matplotlib" in completed.stderr


def test_the_public_names():
    assert keras_sab.__all__ == ["SAB", "SABCell", "__version__"]
