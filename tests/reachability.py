"""The reachable set `R(t)` of ALGORITHM.md §4, computed from attention weights.

Shared by the gradient-routing tests: a Jacobian `∂y_t/∂x_s` must be exactly
zero for `s` outside `R(t)` and non-zero inside.
"""

import functools

import numpy as np


def reachable_sets(attention, k_att, k_trunc):
    """Returns `R` with `R[t]` the set of steps (1-based) that step `t` reaches.

    Args:
        attention: array `(timesteps, slots)` of one sequence's weights.
        k_att: steps between memory writes.
        k_trunc: truncation block length, or `None`.
    """
    timesteps = attention.shape[0]

    @functools.lru_cache(maxsize=None)
    def reach(t):
        start = 1 if k_trunc is None else ((t - 1) // k_trunc) * k_trunc + 1
        steps = set()
        for u in range(start, t + 1):
            steps.add(u)
            for slot in np.flatnonzero(attention[u - 1] > 0):
                steps |= reach((int(slot) + 1) * k_att)
        return frozenset(steps)

    return {t: reach(t) for t in range(1, timesteps + 1)}


def check_jacobian_routing(jacobian, attention, k_att, k_trunc):
    """Asserts the routing rule; returns how many (t, s) pairs are reachable
    through memory links only (outside t's own block).

    Args:
        jacobian: array `(timesteps, units, timesteps, features)`, `∂y_t/∂x_s`.
        attention: array `(timesteps, slots)`.
    """
    sets = reachable_sets(attention, k_att, k_trunc)
    timesteps = jacobian.shape[0]
    through_memory = 0
    for t in range(1, timesteps + 1):
        start = 1 if k_trunc is None else ((t - 1) // k_trunc) * k_trunc + 1
        for s in range(1, timesteps + 1):
            block = np.abs(jacobian[t - 1, :, s - 1, :])
            if s in sets[t]:
                assert block.max() > 0, f"dy_{t}/dx_{s} is zero but {s} is in R({t})"
                through_memory += s < start
            else:
                assert block.max() == 0, (
                    f"dy_{t}/dx_{s} = {block.max()} but {s} is not in R({t})"
                )
    return through_memory
