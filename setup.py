from setuptools import find_packages
from setuptools import setup

with open("README.md", encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="keras-sab",
    version="0.1.0",
    description=(
        "Sparse Attentive Backtracking (Ke et al., NeurIPS 2018) for Keras 3 "
        "on TensorFlow"
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_sab", "keras_sab.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.10,<4",
        "numpy",
    ],
    extras_require={
        "examples": [
            "matplotlib",
            "tensorflow-datasets==4.9.10",
            "scikit-learn",
            "gensim",
        ],
        "datasets": ["tensorflow-datasets==4.9.10", "scikit-learn", "gensim"],
        "tuning": ["keras-tuner==1.4.8", "tensorboard>=2.21,<2.22", "scipy", "scikit-learn"],
        "tests": [
            "pytest",
            "pytest-xdist",
            "matplotlib",
            "tensorflow-datasets==4.9.10",
            "scikit-learn",
            "gensim",
            "keras-tuner==1.4.8",
            "tensorboard>=2.21,<2.22",
            "scipy",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
