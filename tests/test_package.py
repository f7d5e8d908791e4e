"""`import keras_sab` is the layer, light: no plotting, tuning or dataset libraries."""

import subprocess
import sys

import keras_sab

HEAVY = ("matplotlib", "keras_tuner", "tensorflow_datasets", "experiment")

CHECK = f"""
import sys
import keras
before = set(sys.modules)
import keras_sab
import keras_sab.tasks
new = {{name.split(".")[0] for name in set(sys.modules) - before}}
print(sorted(new & set({HEAVY!r})))
print(sorted(new & {{"keras_sab"}}))
"""


def test_importing_the_package_loads_none_of_the_heavy_libraries():
    """Compared after `import keras`, which imports matplotlib itself when it
    is installed: `keras_sab` and `keras_sab.tasks` add none of the plotting,
    tuning or dataset libraries, nor the examples' harness."""
    completed = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    heavy, ours = completed.stdout.strip().splitlines()[-2:]
    assert heavy == "[]"
    assert ours == "['keras_sab']"


def test_the_public_names():
    assert keras_sab.__all__ == ["SAB", "SABCell", "__version__"]
