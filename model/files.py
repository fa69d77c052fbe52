"""Writing files so that nothing a user saved is lost.

Every file the project writes (exports, saved priors, benchmark output) goes through
:func:`write_atomic`: the bytes go to a temporary file in the target's folder, are flushed
to disk, and only then replace the target by a rename. A writer killed midway leaves the
old file intact (and at worst a hidden ``.name.*.tmp`` file beside it, never a half file
under the target name). An existing target is replaced only with ``overwrite=True``.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(folder / "a.txt", "one")
>>> write_atomic(folder / "a.txt", "two")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
model.errors.OutputExistsError: ...a.txt: the file exists; pass overwrite (--force) to replace it
>>> write_atomic(folder / "a.txt", "two", overwrite=True)
>>> (folder / "a.txt").read_text()
'two'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from model.errors import OutputExistsError


def write_atomic(path: str | os.PathLike, data: str | bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    Raises :class:`~model.errors.OutputExistsError` if ``path`` exists and ``overwrite``
    is false; the existing file is left untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: the file exists; pass overwrite (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
