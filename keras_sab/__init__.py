"""Sparse Attentive Backtracking (SAB) for Keras 3.

`SAB` is the layer to put in a model; `SABCell` is its one-step cell, for use
in `keras.layers.RNN`. See ALGORITHM.md §1-§6 of the project for what they compute.

References:
    Ke et al., "Sparse Attentive Backtracking: Temporal Credit Assignment
    Through Reminding", NeurIPS 2018. https://arxiv.org/abs/1809.03702
"""

from keras_sab.sab_cell import SABCell
from keras_sab.sab_layer import SAB

__version__ = "0.1.0"

__all__ = ["SAB", "SABCell", "__version__"]
