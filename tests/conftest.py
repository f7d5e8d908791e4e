import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The examples' shared harness, `examples/experiment.py`, is tested as the
# scripts import it: as a module of that folder.
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)

import hypothesis  # noqa: E402
import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# The suite compares paths to 1e-5: on a recent NVIDIA GPU float32 matmuls
# would run in TF32 (about 1e-3 relative error).
tf.config.experimental.enable_tensor_float_32_execution(False)


@pytest.fixture(autouse=True)
def _clean_keras_state():
    """Every test starts with the default dtype policy and a fresh graph."""
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()
    yield
    keras.mixed_precision.set_global_policy("float32")


# `hypothesis` profiles (tests/test_invariants.py): the default run keeps the
# suite within its budget; `--hypothesis-profile=slow` runs many more examples.
# The explain phase reruns a failure for minutes here; the shrunk example is
# what a regression test needs.
_PHASES = [p for p in hypothesis.Phase if p != hypothesis.Phase.explain]
hypothesis.settings.register_profile("default", max_examples=40, deadline=None, phases=_PHASES)
hypothesis.settings.register_profile("slow", max_examples=400, deadline=None, phases=_PHASES)
hypothesis.settings.load_profile("default")
