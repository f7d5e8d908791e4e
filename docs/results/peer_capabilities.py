"""What SAB's peers and the baselines can do, as tests/test_peers.py measures it.

`CAPABILITIES` maps a capability to `{model: expected}`. Its cells are
asserted by `test_<capability>` in tests/test_peers.py, which builds each layer
and measures the behaviour, so a package that changes fails its cell;
docs/results/tables.py draws the table of docs/results/peers.md from them.
Nothing here imports TensorFlow, so that the table is drawn without it.
"""

# Each capability's row: its label on the page and what its test measures, in
# the order the page shows them.
ROWS = {
    "masks": (
        "masks",
        "the output with padding masked (`keras.layers.Masking`) equals the output without "
        "the padding",
    ),
    "stateful": (
        "streaming",
        "`stateful=True` is accepted and two calls on halves give the outputs of one call on "
        "the whole",
    ),
    "credit_across_calls": (
        "credit across calls",
        "a loss on a stateful layer's second call gives the weights the gradient the same "
        "loss gives them on the whole sequence in one call",
    ),
    "unbounded_horizon": (
        "unbounded horizon",
        "the output depends on inputs further back than the model's window (the TCN's "
        "receptive field, the LMU's `theta`)",
    ),
    "mixed_bfloat16": ("mixed_bfloat16", "the `mixed_bfloat16` policy trains"),
    "xla": ("XLA", "`compile(jit_compile=True)` trains"),
    "save_load": ("save/load", "a `.keras` file loads back to identical predictions"),
    "bidirectional": ("Bidirectional", "`keras.layers.Bidirectional` builds and trains"),
}
# The models measured, in the order the page shows them: `keras_sab.SAB` (with
# its default read and weights; `k_att=k_trunc=3`, so that the stateful test's
# calls of 3 steps end where blocks end, as a stream's credit needs), Keras's LSTM and GRU,
# keras-tcn's TCN, keras-lmu's LMU and ncps's CfC as the harness builds them, and
# the harness's keras-hub Transformer. `lmu` is `keras_lmu.LMU` as the harness
# configures it; `lmu_cell` is `keras.layers.RNN(LMUCell(...))`, the form
# keras-lmu streams with. A model missing from a row cannot be asked: the
# Transformer has no state to carry and no `go_backwards`, and a layer that
# refuses `stateful` has no previous call to send credit to. On masks, the
# Transformer is as the harness builds it: keras-hub's `SinePositionEncoding`
# drops the Keras mask (its blocks would take an explicit `padding_mask`).
MODELS = ("sab", "lstm", "gru", "tcn", "lmu", "lmu_cell", "cfc", "transformer")
CAPABILITIES = {
    "masks": {
        "sab": True, "lstm": True, "gru": True, "tcn": False, "lmu": False, "lmu_cell": True,
        "cfc": True, "transformer": False,
    },
    "stateful": {
        "sab": True, "lstm": True, "gru": True, "tcn": False, "lmu": False, "lmu_cell": True,
        "cfc": True,
    },
    "unbounded_horizon": {
        "sab": True, "lstm": True, "gru": True, "tcn": False, "lmu": True, "lmu_cell": True,
        "cfc": True, "transformer": True,
    },
    "save_load": {model: True for model in MODELS},
    "xla": {model: True for model in MODELS},
    "mixed_bfloat16": {
        "sab": True, "lstm": True, "gru": True, "tcn": True, "lmu": False, "lmu_cell": False,
        "cfc": True, "transformer": True,
    },
    "bidirectional": {
        "sab": True, "lstm": True, "gru": True, "tcn": True, "lmu": False, "lmu_cell": True,
        "cfc": True,
    },
    "credit_across_calls": {
        "sab": True, "lstm": False, "gru": False, "lmu_cell": False, "cfc": False,
    },
}
