"""`import keras_sab` is the layer, light: no plotting, tuning or dataset libraries;
and under a Keras backend other than TensorFlow it fails at once, saying how to
select TensorFlow."""

import inspect
import json
import os
import re
import subprocess
import sys

import keras
import pytest

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


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


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


# The public names, as the package's docstring and ALGORITHM.md §6 give them.
PUBLIC = ["SAB", "SABCell", "__version__"]


def test_the_public_names():
    """`from keras_sab import *` gives exactly the documented names: the
    layer and the cell, registered for saving under those names, and the
    version; no other public name but submodules."""
    assert keras_sab.__all__ == PUBLIC
    namespace = {}
    exec("from keras_sab import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(PUBLIC)
    public = sorted(
        name for name, value in vars(keras_sab).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    )
    assert public == ["SAB", "SABCell"]
    for name in ("SAB", "SABCell"):
        layer = namespace[name]
        assert isinstance(layer, type) and issubclass(layer, keras.layers.Layer)
        assert keras.saving.get_registered_object(f"keras_sab>{name}") is layer
    assert re.fullmatch(r"\d+\.\d+\.\d+", namespace["__version__"])


def _assert_backend_error(completed, backend):
    """The import failed with keras_sab's ImportError, naming the backend and the fix."""
    assert completed.returncode != 0
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: keras_sab needs Keras's TensorFlow backend"), (
        completed.stderr[-3000:]
    )
    assert f"active Keras backend is {backend!r}" in last
    assert "KERAS_BACKEND=tensorflow" in last
    assert '"backend": "tensorflow"' in last and "keras.json" in last


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_importing_under_another_backend_says_how_to_select_tensorflow(backend):
    """KERAS_BACKEND=jax or torch: a clear ImportError, not one from deep in Keras
    (whose import fails when JAX or PyTorch is missing) and not a half-working layer."""
    completed = _run("import keras_sab", KERAS_BACKEND=backend)
    _assert_backend_error(completed, backend)
    assert "from the KERAS_BACKEND environment variable" in completed.stderr


def test_the_backend_in_keras_json_is_checked_too(tmp_path):
    """With no KERAS_BACKEND, Keras takes the backend from keras.json: so does the check."""
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    completed = _run("import keras_sab", KERAS_BACKEND="", KERAS_HOME=str(tmp_path))
    _assert_backend_error(completed, "jax")
    assert str(tmp_path / "keras.json") in completed.stderr


def test_the_backend_keras_reports_is_checked_after_importing_it():
    """Keras already imported: its own `keras.backend.backend()` is what counts."""
    completed = _run(
        "import keras\nkeras.backend.backend = lambda: 'jax'\nimport keras_sab",
        KERAS_BACKEND="tensorflow",
    )
    _assert_backend_error(completed, "jax")
    assert "as reported by keras.backend.backend()" in completed.stderr


def test_the_tensorflow_backend_imports_whatever_the_keras_json_says(tmp_path):
    """KERAS_BACKEND=tensorflow wins over a keras.json asking for JAX, as in Keras."""
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    completed = _run(
        "import keras, keras_sab\nprint(keras.backend.backend(), keras_sab.SAB.__name__)",
        KERAS_BACKEND="tensorflow", KERAS_HOME=str(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == "tensorflow SAB"
