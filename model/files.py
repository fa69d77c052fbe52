"""Reading files so that no input can hang the project, writing them so that nothing a
user saved is lost.

Every file the project reads (priors, vignettes, network files) goes through
:func:`read_bounded`. It refuses anything that is not a regular file before reading it (a
FIFO would wait forever for a writer, ``/dev/zero`` never ends) and reads at most the limit
plus one byte, so that no file can hang the reader or fill its memory. Errors are
:class:`~model.errors.FileReadError`, whose message is ``path: rule``.

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
>>> read_bounded(folder / "a.txt", max_bytes=10)
b'two'
>>> read_bounded(folder / "a.txt", max_bytes=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
model.errors.FileReadError: ...a.txt: file is larger than the limit of 2 bytes (it has 3 bytes)
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from model.errors import FileReadError, OutputExistsError

#: Opening never waits: a FIFO opened for reading with O_NONBLOCK returns at once (and is
#: then refused); a terminal never becomes the process's controlling terminal.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------- reading
def read_bounded(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``, if it has at most ``max_bytes`` of them.

    A symbolic link is followed to the file it points to. Nothing is read from anything
    else: the file's type is checked before it is opened (``os.stat``) and again on the
    open descriptor (``os.fstat``), in case the file was swapped in between; the open
    itself cannot block. At most ``max_bytes + 1`` bytes are read, so a file that grows
    while it is read is refused too.

    Parameters
    ----------
    path
        The file to read.
    max_bytes
        The largest size accepted, in bytes.

    Returns
    -------
    bytes
        The whole content of the file.

    Raises
    ------
    model.errors.FileReadError
        The file is missing ("file not found"), unreadable ("cannot read file:
        Permission denied"), larger than ``max_bytes`` ("file is larger than the limit of
        N bytes"), or not a regular file ("not a regular file (a FIFO)"; likewise a
        character or block device, a socket, a directory).
    """
    where = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise FileReadError(where, _os_rule(exc)) from None
    except ValueError:  # os.stat refuses a name with a NUL character in it
        raise FileReadError(where, "cannot read file: the name contains a NUL character") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileReadError(where, _not_regular_rule(path, info.st_mode))
    _check_size(where, info.st_size, max_bytes)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise FileReadError(where, _os_rule(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError(where, _not_regular_rule(None, info.st_mode))
        _check_size(where, info.st_size, max_bytes)
        chunks, remaining = [], max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise FileReadError(where, _os_rule(exc)) from None
    finally:
        os.close(fd)
    if remaining <= 0:
        raise FileReadError(
            where,
            f"file is larger than the limit of {max_bytes} bytes (it grew while being read)",
        )
    return b"".join(chunks)


def _check_size(where: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileReadError(
            where, f"file is larger than the limit of {max_bytes} bytes (it has {size} bytes)"
        )


def _os_rule(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, NotADirectoryError):
        return "file not found (a part of the path is a file, not a folder)"
    return f"cannot read file: {exc.strerror or exc}"


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return f"a file of type {stat.S_IFMT(mode):o}"


def _not_regular_rule(path: str | os.PathLike | None, mode: int) -> str:
    kind = _kind(mode)
    try:
        if path is not None and stat.S_ISLNK(os.lstat(path).st_mode):
            kind = f"a symbolic link to {kind}"
    except (OSError, ValueError):
        pass
    return f"not a regular file ({kind}); expected an ordinary file saved on disk"


# ---------------------------------------------------------------------------- writing
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
