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
import stat
import tempfile
from pathlib import Path

from model.errors import OutputExistsError


def write_atomic(path: str | os.PathLike, data: str | bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    A replaced file keeps its permissions; a new one gets those ``open()`` would give it.
    Raises :class:`~model.errors.OutputExistsError` if ``path`` exists and ``overwrite``
    is false; the existing file is left untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: the file exists; pass overwrite (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes the file private (0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _mode_for(path: Path) -> int:
    """The permissions the file should end with: those of the file it replaces, else what
    ``open()`` would give a new file (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for a moment, for every thread)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
