"""Ops per time step of SAB's fused path against `keras.layers.LSTM`.

    python benchmarks/op_count.py
    python benchmarks/op_count.py --attention sparse --by-kind

On a CPU in graph mode each TensorFlow op costs microseconds of dispatch
whatever its size, so at these sizes a recurrent layer's step time follows
the number of ops its loop body runs per step. This script traces one train
step (forward and backward) of each layer and counts the ops in the bodies
of its `tf.while_loop`s, read from the traced graph: the count is exact and
does not depend on the machine's load, unlike a timing.

SAB's fused path has two nested loops in each direction: the outer one runs
once per block of `k_att` steps, the inner one once per step. The LSTM's
forward body runs once per step, and so does its gradient (`..._grad`).
`Const` and `Identity` ops are counted apart: they are cheap bookkeeping.
"""

import argparse
import collections

CHEAP = ("Const", "Identity")


def loop_bodies(layer, timesteps, batch, features):
    """Op kinds in each `tf.while_loop` body of one traced train step.

    Args:
        layer: a Keras recurrent layer, unbuilt, `return_sequences=True`.
        timesteps: sequence length of the traced step.
        batch: batch size of the traced step.
        features: input features per step.

    Returns:
        A dict from loop-body function name to a `collections.Counter` of
        its op kinds.
    """
    import numpy as np
    import tensorflow as tf

    x = tf.constant(np.zeros((batch, timesteps, features), "float32"))
    layer(x)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_weights)

    graph = train_step.get_concrete_function(x).graph.as_graph_def()
    return {
        function.signature.name: collections.Counter(n.op for n in function.node_def)
        for function in graph.library.function
        if "body" in function.signature.name
    }


def describe(name):
    """A loop body's role, from the name TensorFlow gave its function."""
    if name.startswith("lstm"):
        if name.endswith("_rewritten"):
            return None
        return "lstm, per step, " + ("backward" if "_grad" in name else "forward")
    per = "per step" if "while_while" in name else "per block"
    return f"sab fused, {per}, " + ("forward" if name.startswith("sab") else "backward")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--attention", default="sparse_softmax")
    parser.add_argument("--k-top", type=int, default=5)
    parser.add_argument("--k-att", type=int, default=10)
    parser.add_argument("--k-trunc", type=int, default=10)
    parser.add_argument("--by-kind", action="store_true", help="list the op kinds")
    args = parser.parse_args(argv)

    import keras

    import keras_sab

    layers = {
        "sab": keras_sab.SAB(
            args.units, k_top=args.k_top, k_att=args.k_att, k_trunc=args.k_trunc,
            attention=args.attention, return_sequences=True,
        ),
        "lstm": keras.layers.LSTM(args.units, return_sequences=True),
    }
    rows = []
    for layer in layers.values():
        for name, kinds in loop_bodies(layer, 3 * args.k_att, 4, 10).items():
            role = describe(name)
            if role is not None:
                cheap = sum(kinds[kind] for kind in CHEAP)
                rows.append((role, sum(kinds.values()) - cheap, cheap, kinds))
    print("| loop body | ops | of which Const and Identity |")
    print("|---|---|---|")
    for role, ops, cheap, _ in sorted(rows):
        print(f"| {role} | {ops + cheap} | {cheap} |")
    if args.by_kind:
        for role, _, _, kinds in sorted(rows):
            listed = ", ".join(
                f"{kind} {n}" for kind, n in kinds.most_common() if kind not in CHEAP
            )
            print(f"\n{role}: {listed}")


if __name__ == "__main__":
    main()
