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
tests = ["pytest", "pytest-xdist", "hypothesis", "ruff==0.17.6", *examples, *tuning]

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
        "tests": sorted(set(tests), key=tests.index),
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
