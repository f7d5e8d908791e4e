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
- `--read hybrid_matrix`: the hybrid with a matrix: `ĥ_t + s_t A` is carried
  on, `A` (`units x units`) trainable from 0, so that the read reaches the
  next step's gates through their recurrent product (`s_t A R`), as in the
  SAB group's follow-up (Kerg et al. 2020: the read as the gates' recurrent
  input), and the model starts as the LSTM on its recurrent path. The package
  has it as `SAB(read="projected")`, on every path.
- `--read gates`: the read enters only the next step's gates: the step
  outputs and writes to memory the LSTM's `ĥ_t` and carries `ĥ_t + s_t A`,
  `A` trainable from 0 (as the SAB group's follow-up, Kerg et al. 2020:
  memories are raw LSTM states, the read is the gates' recurrent input).
  With `A = 0` it is the truncated LSTM, output included.
- `--read gated_add`: `h_t = ĥ_t + g_t ⊙ s_t` everywhere, with a gate per
  unit `g_t = σ(W_g [ĥ_t; s_t] + b_g)`, `b_g` starting at `--gate-bias`
  (default 0: half the read): the LSTM's path `ĥ_t` is never scaled (unlike
  the convex GTrXL gate `(1 - z) ĥ + z s`), and each step decides, from what
  it has and what it read, how much of the read to take.

`--null-slot` (with any `--read`) adds an empty memory that is always
readable: a zero state whose key is the scorer's key of zero (`b`, or 0 with
the dot-product scorer). It competes in the top k like any memory (a seat it
wins leaves `k - 1` memories); the weight it takes reads nothing, so a step
can decline to read (the read's mass, the weights of the real memories, may
fall below 1), as the authors' code's all-zero first slot allows. It adds
no weight. It is the package's `SAB(null_slot=True)`: the flag passes
`--null-slot` on to the example script. (The committed `--null-slot` runs
were made when this patch prepended the empty memory to the buffer itself,
before the package had the setting; on their tasks, where the memories
outnumber the seats, that is the same read.)

`--null-offset C` (with `--null-slot`) adds the constant `C` to the empty
memory's score, so that with `C < 0` it starts out losing its seat to the
memories and the step reads a whole memory, as the package's step does,
until the scorer learns to raise it (`vᵀtanh(W_q ĥ_t + b)` is still
trained). The offset is not a weight; the patch wraps
`keras_sab.sab_step.select_memories`, which every path's read calls, so it
runs on the fused path too.

`--memory-grad S` (with any `--read`) scales by `S` the gradient that
crosses from the memories (and their keys) into the steps that wrote them,
the forward pass unchanged: `S = 0` keeps SAB's reads, and the scorer's
`W_m` still learns, but drops its backtracking (the gradients from a reading
step into the steps that wrote what it read), so that the two can be told
apart. It runs the cell loop.

`--whole-read-gradient` (with `--null-slot`) keeps the read's value, `m s̃_t` with
`m` its mass (the real memories' weights summed) and `s̃_t` the read of the
memories' weights renormalised to 1, but sends the gradient into `s̃_t` (so
into the scores and the memories) as if the read had its whole weight, not
`m` times it: a step that declines still teaches the scorer what it would
have read (the mass keeps its true gradient). It runs the cell loop.

The patched reads (every `--read` but `add`, `--memory-grad` and
`--whole-read-gradient`) run the
cell loop (`use_fused=False`, differentiated by TensorFlow), whose routing is
the package's: the patches change only what the read is added to. They
wrap `keras_sab.sab_step.memory_read` (the read, as the step
`keras_sab.sab_step.sab_step` looks it up) and that step where `SABCell` and
`SAB`'s cell loop call it; the fused path, whose backward is derived for the
package's step, is not used.
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

# The examples' model zoo, `examples/model_zoo.py`, where the harness builds SAB.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "examples"))
import model_zoo  # noqa: E402


def patch(read, alpha_init=0.0, gate_bias=0.0):
    """Patches `keras_sab`'s step so that the step's read is `read`."""
    if read == "add":
        return
    model_zoo.SAB = functools.partial(SAB, use_fused=False)
    original_read = step_module.memory_read
    original_step = step_module.sab_step
    reads = {}
    scale = {}

    def memory_read(weights, settings, h_hat, memory, keys, readable):
        read, selection = original_read(weights, settings, h_hat, memory, keys, readable)
        read = tf.cast(read, h_hat.dtype)
        if read_mode == "rezero":
            read = read * keras.ops.cast(scale["alpha"], read.dtype)
        if read_mode == "gated_add":
            kernel = keras.ops.cast(scale["gate_kernel"], read.dtype)
            bias = keras.ops.cast(scale["gate_bias"], read.dtype)
            read = read * tf.sigmoid(tf.matmul(tf.concat([h_hat, read], -1), kernel) + bias)
        reads["last"] = read
        if read_mode == "gates":  # The step's output and memory stay `ĥ_t`.
            return tf.zeros_like(read), selection
        return read, selection

    def sab_step(weights, settings, projected_input, state, step_mask=None, recurrent_mask=None):
        output, new_state, selection = original_step(
            weights, settings, projected_input, state, step_mask, recurrent_mask
        )
        if settings.k_top == 0 or read_mode in ("add", "rezero", "gated_add"):
            return output, new_state, selection
        if read_mode == "output":
            carried = output - reads["last"]
        elif read_mode == "gates":
            alpha = keras.ops.cast(scale["alpha"], output.dtype)
            carried = output + tf.matmul(reads["last"], alpha)
        elif read_mode == "hybrid_matrix":
            alpha = keras.ops.cast(scale["alpha"], output.dtype)
            carried = output - reads["last"] + tf.matmul(reads["last"], alpha)
        else:  # hybrid, hybrid_units
            alpha = keras.ops.cast(scale["alpha"], output.dtype)
            carried = output - (1 - alpha) * reads["last"]
        if step_mask is not None:  # A skipped step carries its state unchanged.
            carried = tf.where(step_mask[:, None], carried, state.h)
        return output, new_state._replace(h=carried), selection

    original_build = sab_cell.SABCell.build

    def build(self, input_shape):
        original_build(self, input_shape)
        if read_mode == "gated_add" and self.k_top > 0:
            scale["gate_kernel"] = self.add_weight(
                shape=(2 * self.units, self.units), name="read_gate_kernel",
                initializer="glorot_uniform",
            )
            scale["gate_bias"] = self.add_weight(
                shape=(self.units,), name="read_gate_bias",
                initializer=keras.initializers.Constant(gate_bias),
            )
        elif read_mode not in ("add", "output") and self.k_top > 0:
            shapes = {
                "hybrid_units": (self.units,),
                "hybrid_matrix": (self.units, self.units),
                "gates": (self.units, self.units),
            }
            scale["alpha"] = self.add_weight(
                shape=shapes.get(read_mode, ()),
                name="read_scale",
                initializer=keras.initializers.Constant(
                    alpha_init if read_mode.startswith("hybrid") else 0.0
                ),
            )

    read_mode = read
    # `sab_step` looks the read up in its module; `SABCell.call` and `SAB`'s
    # cell loop call the step by the name they imported.
    step_module.memory_read = memory_read
    sab_cell.sab_step = sab_step
    sab_layer.sab_step = sab_step
    sab_cell.SABCell.build = build


def scale_memory_gradient(scale):
    """Patches the step's write so that the gradient crossing from a memory
    and its key into the step that wrote it is scaled by `scale` (the
    forward pass unchanged)."""
    model_zoo.SAB = functools.partial(SAB, use_fused=False)
    original = step_module.write_memory

    def write_memory(memory, keys, index, value, *args):
        value_scale = tf.cast(scale, value.dtype)
        value = value_scale * value + (1 - value_scale) * tf.stop_gradient(value)
        return original(memory, keys, index, value, *args)

    step_module.write_memory = write_memory


def whole_read_gradient():
    """Patches the step's read so that the gradient into the renormalised
    read is not scaled by the read's mass (the value unchanged)."""
    model_zoo.SAB = functools.partial(SAB, use_fused=False)
    original = step_module.memory_read

    def memory_read(weights, settings, h_hat, memory, keys, readable):
        read, selection = original(weights, settings, h_hat, memory, keys, readable)
        mass = tf.reduce_sum(tf.cast(selection.weights, read.dtype), -1, keepdims=True)
        whole = read / tf.maximum(mass, tf.cast(1e-3, read.dtype))
        read += (1 - tf.stop_gradient(mass)) * (whole - tf.stop_gradient(whole))
        return read, selection

    step_module.memory_read = memory_read


def offset_null(offset):
    """Patches the step's selection so that the empty memory's score is the
    scorer's plus `offset`."""
    original = step_module.select_memories

    def select_memories(scores, readable, k_top, attention, temperature, null_scores=None):
        if null_scores is not None:
            null_scores = null_scores + tf.cast(offset, null_scores.dtype)
        return original(scores, readable, k_top, attention, temperature, null_scores)

    step_module.select_memories = select_memories


def main():
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--read",
        choices=(
            "add", "output", "rezero", "hybrid", "hybrid_units", "hybrid_matrix", "gates",
            "gated_add",
        ),
        default="add",
    )
    parser.add_argument("--alpha-init", type=float, default=0.0)
    parser.add_argument("--gate-bias", type=float, default=0.0)
    parser.add_argument("--null-slot", action="store_true")
    parser.add_argument("--null-offset", type=float, default=0.0)
    parser.add_argument("--memory-grad", type=float, default=1.0)
    parser.add_argument("--whole-read-gradient", action="store_true")
    args = parser.parse_args(argv[:split])
    if split + 1 >= len(argv):
        parser.error("give the example script and its flags after `--`")
    patch(args.read, args.alpha_init, args.gate_bias)
    if args.memory_grad != 1.0:
        scale_memory_gradient(args.memory_grad)
    if args.whole_read_gradient:
        whole_read_gradient()
    if args.null_offset:
        if "--null-slot" not in argv[split + 1 :] and not args.null_slot:
            parser.error("--null-offset needs an empty memory: give --null-slot")
        offset_null(args.null_offset)
    script, *script_args = argv[split + 1 :]
    if args.null_slot:
        script_args.append("--null-slot")
    sys.argv = [script, *script_args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
