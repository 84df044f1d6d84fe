"""Checking the directories Headwater is told to keep its data in, before anything is written there.

A data directory named on the command line, in ``headwater.connect`` or by the server may be a file, sit
under a file, or be unwritable. The operating system reports each of these as a different ``OSError``
from deep inside the first ``mkdir``; this module turns them into one :class:`StorageError` that names
the directory and says what is wrong with it, so every front end shows the same sentence.

Example:
    >>> prepare_directory(tmp_path / "data", "data directory")          # doctest: +SKIP
    PosixPath('.../data')
"""

from __future__ import annotations

import os
from pathlib import Path

from headwater.storage.errors import StorageError

__all__ = ["prepare_directory"]


def prepare_directory(path: str | os.PathLike[str], what: str) -> Path:
    """Create ``path`` (and its parents) when missing and check that it is a usable directory.

    Args:
        path: the directory.
        what: what the directory is for, as the message should call it ("data directory").

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        StorageError: ``path`` is not a path, is a file, lies under a file, or cannot be created.
    """
    if not isinstance(path, str | os.PathLike):
        raise StorageError(f"The {what} must be a path (str or os.PathLike), not {type(path).__name__}: {path!r}")
    directory = Path(path)
    if str(path) == "":
        raise StorageError(f"The {what} must not be empty")
    if directory.exists() and not directory.is_dir():
        raise StorageError(f"The {what} {str(directory)!r} is a file, not a directory")
    for parent in directory.parents:
        if parent.exists() and not parent.is_dir():
            raise StorageError(f"The {what} {str(directory)!r} cannot be created: {str(parent)!r} is a file")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(f"The {what} {str(directory)!r} cannot be created: {error.strerror or error}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageError(f"The {what} {str(directory)!r} is not writable")
    return directory
