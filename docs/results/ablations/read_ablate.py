"""How SAB's memory read enters the state: short ablations on the real-data tasks.

    python docs/results/ablations/read_ablate.py --read output -- \
        examples/pixel_mnist.py --source digits --permute --model sab --no-jit \
        --units 128 --epochs 30 --seed 0 --out docs/results/ablations/digits_read_output

Runs an example script (everything after `--`, unchanged) with the memory read
of SAB's step changed, a diagnostic patch and not a package feature:

- `--read add`: the package's step, `h_t = ĥ_t + s_t`, carried on and output.
- `--read output`: the step outputs `ĥ_t + s_t` and writes it to memory, but
  carries only the LSTM's `ĥ_t` to the next step: the read informs the
  output and the memories, never the recurrence.
- `--read rezero`: `h_t = ĥ_t + α s_t` with one trainable scalar `α`, starting
  at 0: SAB starts as the LSTM and learns how much to read.
- `--read hybrid`: the step outputs (and writes to memory) `ĥ_t + s_t`, and
  carries `ĥ_t + α s_t` with `α` trainable, starting at `--alpha-init`
  (default 0): the read informs the output at once and the recurrence as far
  as training finds it useful. With `--alpha-init 1` it starts as the
  package's step.
- `--read hybrid_units`: the hybrid with one `α` per unit (a vector of
  `units` values, all starting at `--alpha-init`), so that some units can
  take the read into the recurrence while others keep it out.

The patched variants run the cell loop (`use_fused=False`, differentiated by
TensorFlow), whose routing is the package's: the patches change only what
the read is added to. They wrap `keras_sab.sab_step.read_memories` (the read,
as the step `keras_sab.sab_step.sab_step` looks it up) and that step where
`SABCell` and `SAB`'s cell loop call it; the fused path, whose backward is
derived for the package's step, is not used.
"""

import argparse
import functools
import pathlib
import runpy
import sys

import keras
import tensorflow as tf

from keras_sab import sab_cell
from keras_sab import sab_layer
from keras_sab import sab_step as step_module
from keras_sab.sab_layer import SAB

# The examples' harness, `examples/experiment.py`.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "examples"))
import experiment  # noqa: E402


def patch(read, alpha_init=0.0):
    """Patches `keras_sab`'s step so that the step's read is `read`."""
    if read == "add":
        return
    experiment.SAB = functools.partial(SAB, use_fused=False)
    original_read = step_module.read_memories
    original_step = step_module.sab_step
    reads = {}
    scale = {}

    def read_memories(weights, settings, h_hat, memory, keys, readable):
        h, selection = original_read(weights, settings, h_hat, memory, keys, readable)
        read = h - h_hat
        if read_mode == "rezero":
            read = read * keras.ops.cast(scale["alpha"], read.dtype)
        reads["last"] = read
        return h_hat + read, selection

    def sab_step(weights, settings, projected_input, state, step_mask=None, recurrent_mask=None):
        output, new_state, selection = original_step(
            weights, settings, projected_input, state, step_mask, recurrent_mask
        )
        if settings.k_top == 0 or read_mode == "rezero":
            return output, new_state, selection
        if read_mode == "output":
            carried = output - reads["last"]
        else:  # hybrid, hybrid_units
            alpha = keras.ops.cast(scale["alpha"], output.dtype)
            carried = output - (1 - alpha) * reads["last"]
        if step_mask is not None:  # A skipped step carries its state unchanged.
            carried = tf.where(step_mask[:, None], carried, state.h)
        return output, new_state._replace(h=carried), selection

    original_build = sab_cell.SABCell.build

    def build(self, input_shape):
        original_build(self, input_shape)
        if read_mode != "output" and self.k_top > 0:
            scale["alpha"] = self.add_weight(
                shape=(self.units,) if read_mode == "hybrid_units" else (),
                name="read_scale",
                initializer=keras.initializers.Constant(
                    alpha_init if read_mode.startswith("hybrid") else 0.0
                ),
            )

    read_mode = read
    # `sab_step` looks the read up in its module; `SABCell.call` and `SAB`'s
    # cell loop call the step by the name they imported.
    step_module.read_memories = read_memories
    sab_cell.sab_step = sab_step
    sab_layer.sab_step = sab_step
    sab_cell.SABCell.build = build


def main():
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--read", choices=("add", "output", "rezero", "hybrid", "hybrid_units"), default="add"
    )
    parser.add_argument("--alpha-init", type=float, default=0.0)
    args = parser.parse_args(argv[:split])
    if split + 1 >= len(argv):
        parser.error("give the example script and its flags after `--`")
    patch(args.read, args.alpha_init)
    script, *script_args = argv[split + 1 :]
    sys.argv = [script, *script_args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
