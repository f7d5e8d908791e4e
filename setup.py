import re

from setuptools import find_packages
from setuptools import setup

with open("README.md", encoding="utf-8") as f:
    long_description = f.read()
with open("keras_sab/__init__.py", encoding="utf-8") as f:
    version = re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)

# Each extra is composed from the smaller ones, so that a package is named once.
datasets = ["tensorflow-datasets==4.9.10", "scikit-learn", "gensim", "mlxtend"]
examples = ["matplotlib", *datasets]
tuning = ["keras-tuner==1.4.8", "tensorboard>=2.21,<2.22", "scipy", "scikit-learn"]
# The layers the examples compare SAB with (`examples/peer_models.py`); the package never
# imports them. keras-tcn 3.5.7's wheel requires `tensorflow-macos` on every platform, so
# it is installed from its source distribution, whose setup.py asks for `tensorflow` off
# Apple silicon.
peers = [
    "keras-tcn @ https://files.pythonhosted.org/packages/02/e1/"
    "b1cc0a473d85a2f9cf75774117a40303e917628749b79a21790af1a19bcf/keras_tcn-3.5.7.tar.gz"
    "#sha256=d312bc2ff01d0634d245ac2f8c778c15a9613e62c060069ec9236565d0119863",
    "keras-lmu==0.9.0",
    "ncps==1.0.1",
    "keras-hub==0.32.0",
]
tests = ["pytest", "pytest-xdist", "hypothesis", "ruff==0.17.6", *examples, *tuning, *peers]

setup(
    name="keras-sab",
    version=version,
    description=(
        "Sparse Attentive Backtracking (Ke et al., NeurIPS 2018) for Keras 3 "
        "on TensorFlow"
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["keras_sab", "keras_sab.*"]),
    python_requires=">=3.10",
    # The versions the test suite runs on: TensorFlow 2.21 with Keras 3.15.
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<3.16",
        "numpy",
    ],
    extras_require={
        "datasets": datasets,
        "examples": examples,
        "tuning": tuning,
        "peers": peers,
        "tests": sorted(set(tests), key=tests.index),
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
