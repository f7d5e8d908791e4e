"""Sparse Attentive Backtracking (SAB) for Keras 3.

`SAB` is the layer to put in a model; `SABCell` is its one-step cell, for use
in `keras.layers.RNN`. See ALGORITHM.md §1-§6 of the project for what they compute.

The layers are written with TensorFlow (`tf.custom_gradient`, `tf.while_loop`,
`tf.data`): they need Keras's TensorFlow backend, and importing the package
under another backend raises an `ImportError` that says how to select it.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import json
import os
import sys


def _backend_error(backend, source):
    return ImportError(
        f"keras_sab needs Keras's TensorFlow backend, but the active Keras backend is "
        f"{backend!r} ({source}). Select TensorFlow before Keras is imported: set the "
        f"environment variable KERAS_BACKEND=tensorflow (e.g. `KERAS_BACKEND=tensorflow "
        f"python script.py`, or os.environ['KERAS_BACKEND'] = 'tensorflow' before "
        f"`import keras`), or set \"backend\": \"tensorflow\" in ~/.keras/keras.json "
        f"($KERAS_HOME/keras.json if KERAS_HOME is set)."
    )


def _configured_backend():
    """The backend Keras will choose when imported, and where it comes from.

    Keras fails to import at all when the chosen backend's library (JAX,
    PyTorch) is missing, before `keras.backend.backend()` could be asked, so
    this reads the two settings Keras reads, in Keras's order: the
    `backend` entry of `$KERAS_HOME/keras.json` (else `~/.keras/keras.json`,
    else `/tmp/.keras/keras.json` when the home folder is not writable), then
    the `KERAS_BACKEND` environment variable, which wins when not empty.
    """
    backend = os.environ.get("KERAS_BACKEND")
    if backend:
        return backend, "from the KERAS_BACKEND environment variable"
    if "KERAS_HOME" in os.environ:
        keras_dir = os.environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        keras_dir = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    path = os.path.expanduser(os.path.join(keras_dir, "keras.json"))
    try:
        with open(path) as stream:
            config = json.load(stream)
    except (OSError, ValueError):
        return "tensorflow", "the default"
    backend = config.get("backend", "tensorflow") if isinstance(config, dict) else None
    if not isinstance(backend, str):
        return "tensorflow", "the default"
    return backend, f"from {path}"


# Before Keras is imported (once imported, Keras says which backend it runs).
if "keras" not in sys.modules:
    _backend, _source = _configured_backend()
    if _backend != "tensorflow":
        raise _backend_error(_backend, _source)

import keras  # noqa: E402

# After: Keras's own answer, whatever selected it.
if keras.backend.backend() != "tensorflow":
    raise _backend_error(keras.backend.backend(), "as reported by keras.backend.backend()")

from keras_sab.sab_cell import SABCell  # noqa: E402
from keras_sab.sab_layer import SAB  # noqa: E402

__version__ = "0.1.0"

__all__ = ["SAB", "SABCell", "__version__"]
