"""How a model reads its memory, step by step: the signs of an attention sink.

A softmax over the selected memories reads a full unit of memory at every
step. When nothing in memory is worth reading, a model may park every read
on one early memory and add it to every state (an attention sink, as in
Transformers: Xiao et al. 2023). `read_statistics` measures, per step, how
much is read, how many rows read the most-read memory, and the size of the
state, so that a sink shows in a user's own data (`keras_sab.plots` draws
them).

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

import collections

import numpy as np

ReadStatistics = collections.namedtuple(
    "ReadStatistics", ["read_mass", "sink_share", "sink_slot", "state_norm"]
)
ReadStatistics.__doc__ = """Per-step statistics of a batch of reads.

Fields:
    read_mass: `(timesteps,)`, the attention weight read at each step (the
        sum over memories), averaged over the batch.
    sink_share: `(timesteps,)`, the share of rows whose heaviest read at that
        step is the most-read memory (`sink_slot`); 0 where nothing is read.
    sink_slot: int, the memory slot that received the most weight over the
        batch and the steps.
    state_norm: `(timesteps,)`, the mean Euclidean norm `|h_t|` of the
        states.
"""


def read_statistics(attention, states):
    """Per-step read mass, share of reads on the most-read memory, and `|h|`.

    Args:
        attention: array `(batch, timesteps, slots)`, the weights returned
            with `return_attention=True`.
        states: array `(batch, timesteps, units)`, the outputs `h_t`
            (`return_sequences=True`).

    Returns:
        A `ReadStatistics`.

    Raises:
        ValueError: the arrays are not 3D, or their batch and steps differ.

    Example:

    >>> attention = np.zeros((2, 3, 2))
    >>> attention[:, 1:, 0] = 1.0  # every row reads slot 0 from step 1
    >>> stats = read_statistics(attention, np.ones((2, 3, 4)))
    >>> stats.read_mass.tolist(), stats.sink_share.tolist(), stats.sink_slot
    ([0.0, 1.0, 1.0], [0.0, 1.0, 1.0], 0)
    >>> stats.state_norm.tolist()
    [2.0, 2.0, 2.0]
    """
    attention = np.asarray(attention, np.float64)
    states = np.asarray(states, np.float64)
    if attention.ndim != 3 or states.ndim != 3 or attention.shape[:2] != states.shape[:2]:
        raise ValueError(
            "`attention` must be (batch, timesteps, slots) and `states` (batch, "
            "timesteps, units), with the same batch and timesteps. Received: "
            f"attention.shape={attention.shape}, states.shape={states.shape}"
        )
    mass = attention.sum(axis=-1)
    if attention.shape[-1] == 0:
        sink_slot, on_sink = -1, np.zeros(mass.shape, bool)
    else:
        sink_slot = int(np.argmax(attention.sum(axis=(0, 1))))
        on_sink = (np.argmax(attention, axis=-1) == sink_slot) & (mass > 0)
    return ReadStatistics(
        read_mass=mass.mean(axis=0),
        sink_share=on_sink.mean(axis=0),
        sink_slot=sink_slot,
        state_norm=np.linalg.norm(states, axis=-1).mean(axis=0),
    )
