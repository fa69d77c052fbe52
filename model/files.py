"""Reading files so that no input can hang the project, writing them so that nothing a
user saved is lost.

Every file the project reads (priors, vignettes, network files) goes through
:func:`read_bounded`. It refuses anything that is not a regular file before reading it (a
FIFO would wait forever for a writer, ``/dev/zero`` never ends) and reads at most the limit
plus one byte, so that no file can hang the reader or fill its memory. Errors are
:class:`~toe_twitch.errors.FileReadError`, whose message is ``path: rule``.

Every file the project writes (exports, saved priors, benchmark output) goes through
:func:`write_atomic`: the bytes go to a temporary file in the target's folder, are flushed
to disk, and only then replace the target by a rename. A writer killed midway leaves the
old file intact (and at worst a hidden ``.name.*.tmp`` file beside it, never a half file
under the target name). An existing target (a file, or a symbolic link even if it points
nowhere) is replaced only with ``overwrite=True``; a symbolic link is then replaced itself,
never written through. A directory, FIFO, device or socket is never replaced, and a missing
folder is never created.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(folder / "a.txt", "one")
>>> write_atomic(folder / "a.txt", "two")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
toe_twitch.errors.OutputExistsError: ...a.txt: the file exists; replace it with --force (overwrite=True from Python)
>>> write_atomic(folder / "a.txt", "two", overwrite=True)
>>> read_bounded(folder / "a.txt", max_bytes=10)
b'two'
>>> read_bounded(folder / "a.txt", max_bytes=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
toe_twitch.errors.FileReadError: ...a.txt: file is larger than the limit of 2 bytes (it has 3 bytes)
>>> write_atomic(folder / "new" / "b.txt", "three")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
toe_twitch.errors.OutputFolderMissingError: ...b.txt: the folder .../new does not exist; create it first...
"""

from __future__ import annotations

import errno
import os
import shlex
import stat
import tempfile
from pathlib import Path

from toe_twitch.errors import (
    FileReadError,
    OutputExistsError,
    OutputFolderMissingError,
    OutputIsDirectoryError,
    OutputNotRegularError,
)

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
#: What os.link fails with on a file system without hard links (FAT, some network shares).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


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
            f"file is larger than the limit of {max_bytes} bytes (more than that was read, "
            f"although its size said {info.st_size} bytes)",
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
def check_target(path: str | os.PathLike, *, overwrite: bool = False) -> os.stat_result | None:
    """Refuse a target that :func:`write_atomic` must not write; say what is there.

    Callers that do expensive work before writing call this first, so that a refused
    target costs nothing; :func:`write_atomic` calls it again.

    Parameters
    ----------
    path
        The file to write.
    overwrite
        Whether an existing file (or symbolic link) may be replaced.

    Returns
    -------
    os.stat_result or None
        ``os.lstat`` of what is at ``path`` (a regular file or a symbolic link, itself
        rather than its target), or None if nothing is there.

    Raises
    ------
    model.errors.OutputExistsError
        A file or a symbolic link (even one pointing nowhere) is there and ``overwrite``
        is false.
    model.errors.OutputIsDirectoryError
        A directory is there (with or without ``overwrite``).
    model.errors.OutputNotRegularError
        A FIFO, device or socket is there (with or without ``overwrite``).
    model.errors.OutputFolderMissingError
        The folder that would hold the file does not exist (or is not a folder).
    """
    path = Path(path)
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    if info is None:
        folder = path.parent
        if os.path.lexists(folder) and not folder.is_dir():
            raise OutputFolderMissingError(
                f"{path}: {folder} is not a folder (expected the folder to write into); "
                "give a path in an existing folder"
            )
        if not folder.is_dir():
            raise OutputFolderMissingError(
                f"{path}: the folder {folder} does not exist; create it first "
                f"(mkdir -p {shlex.quote(str(folder))}) or give a path in an existing folder"
            )
        return None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise _is_directory(path)
    if stat.S_ISLNK(mode):
        if not overwrite:
            raise OutputExistsError(
                f"{path}: a symbolic link is there (to {os.readlink(path)}); replace it with "
                "--force (overwrite=True from Python): the link itself is replaced, what it "
                "points to is left as it is"
            )
        return info
    if not stat.S_ISREG(mode):
        raise OutputNotRegularError(
            f"{path}: expected a regular file, got {_kind(mode)}; give the path of an "
            "ordinary file (this one is never replaced, not even with overwrite (--force))"
        )
    if not overwrite:
        raise OutputExistsError(
            f"{path}: the file exists; replace it with --force (overwrite=True from Python)"
        )
    return info


def _is_directory(path: Path) -> OutputIsDirectoryError:
    return OutputIsDirectoryError(
        f"{path}: expected a file name, got a directory; give the path of a file "
        "(a directory is never replaced, not even with overwrite (--force))"
    )


def write_atomic(path: str | os.PathLike, data: str | bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    A replaced file keeps its permissions; a new one (also one that replaces a symbolic
    link) gets those ``open()`` would give it. The target's folder must exist.

    Parameters
    ----------
    path
        The file to write. A symbolic link there is replaced by the new file (with
        ``overwrite``); the file it pointed to is not changed.
    data
        The content; text is written as UTF-8.
    overwrite
        Whether an existing file or symbolic link may be replaced.

    Raises
    ------
    model.errors.OutputExistsError
        A file or symbolic link is there and ``overwrite`` is false.
    model.errors.OutputIsDirectoryError
        A directory is there.
    model.errors.OutputNotRegularError
        A FIFO, device or socket is there.
    model.errors.OutputFolderMissingError
        The folder does not exist; nothing is created.
    OSError
        The write itself failed (disk full, no permission on the folder); any existing
        file is left untouched and the temporary file is removed.
    """
    path = Path(path)
    info = check_target(path, overwrite=overwrite)
    if info is not None and stat.S_ISREG(info.st_mode):
        mode = stat.S_IMODE(info.st_mode)
    else:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes the file private (0600)
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except IsADirectoryError as exc:  # a directory appeared there since check_target
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OutputIsDirectoryError):
            raise
        raise _is_directory(path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _link_new(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if nothing has that name (a hard link fails if
    anything appeared there since :func:`check_target`; a rename would replace it)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        check_target(path, overwrite=False)  # raises, saying what is there now
        raise OutputExistsError(
            f"{path}: the file exists; replace it with --force (overwrite=True from Python)"
        ) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        os.replace(tmp, path)  # a file system without hard links
        return
    os.unlink(tmp)


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
