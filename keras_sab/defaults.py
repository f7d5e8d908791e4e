"""The default hyper-parameters of SAB, defined once.

`SABCell`, `SAB`, the tuner's search space and the examples' flags all read
them from here.
"""

# Memories attended to per step, steps between memory writes, and the length
# of the truncation blocks: the paper's settings for the copy task.
K_TOP = 5
K_ATT = 10
K_TRUNC = 10
# How the selected memories are weighed: it learned the copy task, which the
# paper's piecewise-linear rule did not (docs/results/paper_weights.md).
ATTENTION = "sparse_softmax"
TEMPERATURE = 1.0
# The scorer, and the width of its queries and keys.
SCORER = "mlp"
ATTENTION_UNITS = 32
# Which memories a stateful layer keeps once `max_memories` are held.
KEEP = "latest"
# How the read enters the state: the paper's step (`"add"`: the read is added
# to the state carried on), or `"projected"` (carried through a learned matrix
# from zero), docs/results/read_variants.md.
READ = "add"
# Where `"projected"`'s matrix starts, a multiple of the identity (`None`:
# zero, the recurrence starting as the LSTM's); only `"projected"` takes one.
READ_GAIN = None
# Whether an empty memory shares the read's softmax, so that a step can read
# less than a whole memory, or nothing (docs/results/read_variants.md).
NULL_SLOT = False
