"""No input file can hang or flood the project; no write goes where the user did not mean.

:func:`toe_twitch.files.read_bounded` is the one reader of every file the project reads, and
:func:`toe_twitch.files.write_atomic` the one writer (issue 16). These tests give the reader
FIFOs, devices, sockets, directories, a 2 GB sparse file and symbolic links, and the
writer symbolic links, directories and missing folders, directly and through the command
line. Every read of something that could block runs under a time limit, so that a
regression fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from toe_twitch import files
from toe_twitch.errors import (
    FileReadError,
    OutputExistsError,
    OutputFolderMissingError,
    OutputIsDirectoryError,
    OutputNotRegularError,
)

#: Seconds a read or a command may take before the test counts it as hung.
LIMIT_S = 10
NOT_REGULAR = r"not a regular file \({}\); expected an ordinary file saved on disk"


def read_within(
    path: str | os.PathLike,
    max_bytes: int,
    *,
    unblock: Callable[[], None] | None = None,
) -> bytes:
    """``read_bounded(path, max_bytes)`` in a thread, failing the test after ``LIMIT_S``.

    The read's result is returned and its exception re-raised here. ``unblock`` is called
    if the read is still running at the limit, to release the thread (a FIFO's writer).
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = files.read_bounded(path, max_bytes)
        except BaseException as exc:  # handed to the test's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(LIMIT_S)
    if thread.is_alive():
        if unblock is not None:
            unblock()
        pytest.fail(f"read_bounded({str(path)!r}) was still running after {LIMIT_S} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def release_fifo(path: Path) -> Callable[[], None]:
    """Opens and closes the FIFO's writing end, which ends a reader waiting on it."""

    def release() -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    return release


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Every name under ``folder`` with its type and size, as lstat sees them."""
    return sorted(
        (str(p.relative_to(folder)), stat.S_IFMT(p.lstat().st_mode), p.lstat().st_size)
        for p in folder.rglob("*")
    )


def requires(device: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not os.path.exists(device), reason=f"{device} not on this system")


# ---------------------------------------------------------------------------- reading
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    """A FIFO (named pipe) is refused at once; the reader never waits for a writer."""
    fifo = tmp_path / "priors.yaml"
    os.mkfifo(fifo)
    with pytest.raises(FileReadError, match=NOT_REGULAR.format("a FIFO")):
        read_within(fifo, 1000, unblock=release_fifo(fifo))


@requires("/dev/zero")
def test_dev_zero_is_refused_as_a_device():
    """/dev/zero, which never ends, is refused as a character device before any read."""
    with pytest.raises(
        FileReadError, match=r"/dev/zero: " + NOT_REGULAR.format("a character device")
    ):
        read_within("/dev/zero", 1000)


@requires("/dev/urandom")
def test_dev_urandom_is_refused_as_a_device():
    """/dev/urandom, endless random bytes, is refused as a character device."""
    with pytest.raises(FileReadError, match=NOT_REGULAR.format("a character device")):
        read_within("/dev/urandom", 1000)


def test_a_unix_socket_is_refused(tmp_path):
    """A UNIX socket file is refused as a socket."""
    path = tmp_path / "s.yaml"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(FileReadError, match=NOT_REGULAR.format("a socket")):
            read_within(path, 1000)
    finally:
        server.close()


def test_a_directory_is_refused(tmp_path):
    """A directory is refused as a directory."""
    with pytest.raises(FileReadError, match=NOT_REGULAR.format("a directory")):
        read_within(tmp_path, 1000)


def test_a_2_gb_sparse_file_is_refused_from_its_size(tmp_path):
    """A 2 GB file (sparse: it takes no disk space) is refused from its size, unread."""
    path = tmp_path / "huge.bif"
    with path.open("wb") as handle:
        handle.truncate(2 * 2**30)
    with pytest.raises(
        FileReadError,
        match=r"huge\.bif: file is larger than the limit of 1000000 bytes "
        r"\(it has 2147483648 bytes\)",
    ):
        read_within(path, 1_000_000)


def test_a_symbolic_link_to_a_regular_file_is_followed(tmp_path):
    """A symbolic link to a regular file reads that file's bytes."""
    (tmp_path / "real.yaml").write_bytes(b"name: real\n")
    link = tmp_path / "link.yaml"
    link.symlink_to("real.yaml")
    assert read_within(link, 1000) == b"name: real\n"


@requires("/dev/zero")
def test_a_symbolic_link_to_dev_zero_is_refused(tmp_path):
    """A symbolic link to /dev/zero is refused, and the message says it is a link."""
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(
        FileReadError, match=NOT_REGULAR.format("a symbolic link to a character device")
    ):
        read_within(link, 1000)


def test_a_file_exactly_at_the_limit_is_read(tmp_path):
    """A file of exactly ``max_bytes`` bytes is read whole."""
    path = tmp_path / "full.yaml"
    path.write_bytes(b"x" * 100)
    assert read_within(path, 100) == b"x" * 100


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path):
    """A file of ``max_bytes + 1`` bytes is refused, naming the limit and the size."""
    path = tmp_path / "over.yaml"
    path.write_bytes(b"x" * 101)
    with pytest.raises(
        FileReadError, match=r"file is larger than the limit of 100 bytes \(it has 101 bytes\)"
    ):
        read_within(path, 100)


def test_a_file_longer_than_its_size_says_is_cut_at_the_limit():
    """A file that holds more than its size says (/proc files say 0) is refused after
    ``max_bytes + 1`` bytes, not read to the end."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc on this system")
    with pytest.raises(
        FileReadError,
        match=r"larger than the limit of 10 bytes \(more than that was read, "
        r"although its size said 0 bytes\)",
    ):
        read_within("/proc/self/status", 10)


def test_a_fifo_swapped_in_after_the_check_is_refused_on_the_open_file(tmp_path, monkeypatch):
    """A FIFO put in place of a regular file between the check and the open neither
    blocks the open nor gets read: the open descriptor is checked again."""
    regular = tmp_path / "regular.yaml"
    regular.write_bytes(b"name: x\n")
    fifo = tmp_path / "priors.yaml"
    os.mkfifo(fifo)
    real_stat = os.stat

    def stat_before_the_swap(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(fifo):
            return real_stat(regular)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "stat", stat_before_the_swap)
    with pytest.raises(FileReadError, match=r"not a regular file \(a FIFO\)"):
        read_within(fifo, 1000, unblock=release_fifo(fifo))


def test_a_missing_file_is_file_not_found(tmp_path):
    """A path where nothing is says "file not found"."""
    with pytest.raises(FileReadError, match=r"nothing\.yaml: file not found$"):
        read_within(tmp_path / "nothing.yaml", 1000)


def test_a_dangling_symbolic_link_is_file_not_found(tmp_path):
    """A symbolic link that points nowhere says "file not found"."""
    link = tmp_path / "gone.yaml"
    link.symlink_to("nowhere.yaml")
    with pytest.raises(FileReadError, match=r"gone\.yaml: file not found$"):
        read_within(link, 1000)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_says_permission_denied(tmp_path):
    """A file without read permission says "cannot read file: Permission denied"."""
    path = tmp_path / "secret.yaml"
    path.write_bytes(b"name: x\n")
    path.chmod(0)
    with pytest.raises(FileReadError, match=r"secret\.yaml: cannot read file: Permission denied"):
        read_within(path, 1000)


# ---------------------------------------------------------------------------- writing
def test_writing_onto_a_dangling_symbolic_link_is_refused_without_overwrite(tmp_path):
    """A symbolic link pointing nowhere counts as an existing file: refused, left as it is."""
    link = tmp_path / "out.bif"
    link.symlink_to("target.bif")
    with pytest.raises(
        OutputExistsError,
        match=r"out\.bif: a symbolic link is there \(to target\.bif\); replace it with --force",
    ):
        files.write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == "target.bif"
    assert not (tmp_path / "target.bif").exists()


def test_writing_onto_a_dangling_symbolic_link_with_overwrite_replaces_the_link(tmp_path):
    """With overwrite, the link itself becomes the new file; nothing is created where
    it pointed."""
    link = tmp_path / "out.bif"
    link.symlink_to("target.bif")
    files.write_atomic(link, "new", overwrite=True)
    assert not link.is_symlink() and link.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bif"]


def test_writing_onto_a_symbolic_link_to_a_file_is_refused_without_overwrite(tmp_path):
    """A symbolic link to a file is refused without overwrite; link and file unchanged."""
    target = tmp_path / "saved.bif"
    target.write_text("what the user saved")
    link = tmp_path / "out.bif"
    link.symlink_to("saved.bif")
    with pytest.raises(OutputExistsError, match=r"out\.bif: a symbolic link is there"):
        files.write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "what the user saved"


def test_writing_onto_a_symbolic_link_to_a_file_never_writes_through_it(tmp_path):
    """With overwrite, the link is replaced by the new file and the file it pointed to
    keeps its content."""
    target = tmp_path / "saved.bif"
    target.write_text("what the user saved")
    link = tmp_path / "out.bif"
    link.symlink_to("saved.bif")
    files.write_atomic(link, "new", overwrite=True)
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "what the user saved"


@pytest.mark.parametrize("overwrite", [False, True], ids=["without overwrite", "with overwrite"])
def test_writing_onto_a_directory_is_an_error(tmp_path, overwrite):
    """A directory at the target is an error, with or without overwrite; it keeps its
    content."""
    folder = tmp_path / "out.bif"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    before = snapshot(tmp_path)
    with pytest.raises(
        OutputIsDirectoryError, match=r"out\.bif: expected a file name, got a directory"
    ):
        files.write_atomic(folder, "new", overwrite=overwrite)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("overwrite", [False, True], ids=["without overwrite", "with overwrite"])
def test_writing_onto_a_fifo_is_an_error(tmp_path, overwrite):
    """A FIFO at the target is an error, with or without overwrite; it stays a FIFO."""
    fifo = tmp_path / "out.bif"
    os.mkfifo(fifo)
    with pytest.raises(
        OutputNotRegularError, match=r"out\.bif: expected a regular file, got a FIFO"
    ):
        files.write_atomic(fifo, "new", overwrite=overwrite)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bif"]


def test_writing_into_a_missing_folder_is_an_error_and_creates_nothing(tmp_path):
    """A target whose folder does not exist is an error naming the folder; no folder or
    file is created."""
    target = tmp_path / "no" / "such" / "out.bif"
    with pytest.raises(
        OutputFolderMissingError,
        match=r"out\.bif: the folder .*no/such does not exist; create it first",
    ):
        files.write_atomic(target, "new")
    assert list(tmp_path.iterdir()) == []


def test_writing_under_a_file_as_if_it_were_a_folder_is_an_error(tmp_path):
    """A target inside a regular file ("notes.txt/out.bif") is an error, the file kept."""
    (tmp_path / "notes.txt").write_text("kept")
    with pytest.raises(OutputFolderMissingError, match=r"notes\.txt is not a folder"):
        files.write_atomic(tmp_path / "notes.txt" / "out.bif", "new")
    assert (tmp_path / "notes.txt").read_text() == "kept"


def test_a_file_appearing_after_the_check_is_not_overwritten(tmp_path, monkeypatch):
    """Without overwrite, a file created by someone else between the check and the
    write is kept: the write fails instead of replacing it."""
    target = tmp_path / "out.bif"
    real_check = files.check_target

    def check_then_someone_saves(path, *, overwrite=False):
        info = real_check(path, overwrite=overwrite)
        target.write_text("saved meanwhile")
        return info

    monkeypatch.setattr(files, "check_target", check_then_someone_saves)
    with pytest.raises(OutputExistsError, match=r"out\.bif: the file exists"):
        files.write_atomic(target, "new")
    assert target.read_text() == "saved meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bif"]


def test_a_directory_appearing_before_the_rename_is_an_error(tmp_path, monkeypatch):
    """With overwrite, a directory created at the target before the rename is reported
    as a directory (no IsADirectoryError from the rename), and no temporary file stays."""
    target = tmp_path / "out.bif"
    real_check = files.check_target

    def check_then_someone_makes_a_folder(path, *, overwrite=False):
        info = real_check(path, overwrite=overwrite)
        target.mkdir()
        return info

    monkeypatch.setattr(files, "check_target", check_then_someone_makes_a_folder)
    with pytest.raises(OutputIsDirectoryError, match=r"out\.bif: expected a file name"):
        files.write_atomic(target, "new", overwrite=True)
    assert target.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bif"]


# ---------------------------------------------------------------------------- command line
def toe_twitch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Runs ``python -m toe_twitch ARGS`` from ``cwd`` with the worktree importable."""
    return subprocess.run(
        [sys.executable, "-m", "toe_twitch", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, line: str) -> None:
    """Exit status 2 and, on stderr, exactly ``line`` (the file and the rule)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [line]


@requires("/dev/zero")
def test_command_line_diagnose_refuses_dev_zero_as_priors(tmp_path):
    """``diagnose --priors /dev/zero`` stops at once with one line: file and rule."""
    result = toe_twitch("diagnose", "--priors", "/dev/zero", "leg_pain=present", cwd=tmp_path)
    assert_one_line_error(
        result,
        "/dev/zero: not a regular file (a character device); "
        "expected an ordinary file saved on disk",
    )


def test_command_line_validate_priors_refuses_a_fifo(tmp_path):
    """``validate-priors x.yaml`` on a FIFO stops at once with one line."""
    os.mkfifo(tmp_path / "x.yaml")
    result = toe_twitch("validate-priors", "x.yaml", cwd=tmp_path)
    assert_one_line_error(
        result, "x.yaml: not a regular file (a FIFO); expected an ordinary file saved on disk"
    )


def test_command_line_diagnose_refuses_a_fifo_as_network_file(tmp_path):
    """``diagnose --priors x.bif`` on a FIFO (read as a network file) stops with one line."""
    os.mkfifo(tmp_path / "x.bif")
    result = toe_twitch("diagnose", "--priors", "x.bif", "leg_pain=present", cwd=tmp_path)
    assert_one_line_error(
        result, "x.bif: not a regular file (a FIFO); expected an ordinary file saved on disk"
    )


def test_command_line_export_refuses_a_dangling_symbolic_link(tmp_path):
    """``export out.bif`` onto a link pointing nowhere is refused; the link stays."""
    (tmp_path / "out.bif").symlink_to("elsewhere.bif")
    result = toe_twitch("export", "out.bif", cwd=tmp_path)
    assert_one_line_error(
        result,
        "toe-twitch: error: out.bif: a symbolic link is there (to elsewhere.bif); replace it "
        "with --force: the link itself is replaced, what it "
        "points to is left as it is",
    )
    assert os.readlink(tmp_path / "out.bif") == "elsewhere.bif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bif"]


def test_command_line_export_force_refuses_a_directory(tmp_path):
    """``export --force out.bif`` onto a directory is refused; the directory stays."""
    (tmp_path / "out.bif").mkdir()
    result = toe_twitch("export", "--force", "out.bif", cwd=tmp_path)
    assert_one_line_error(
        result,
        "toe-twitch: error: out.bif: expected a file name, got a directory; give the path "
        "of a file (a directory is never replaced, not even with overwrite (--force))",
    )
    assert (tmp_path / "out.bif").is_dir() and list((tmp_path / "out.bif").iterdir()) == []


def test_command_line_export_refuses_a_missing_folder(tmp_path):
    """``export new/out.bif`` where new/ does not exist is refused and creates nothing."""
    result = toe_twitch("export", "new/out.bif", cwd=tmp_path)
    assert_one_line_error(
        result,
        "toe-twitch: error: new/out.bif: the folder new does not exist; create it first "
        "(mkdir -p new) or give a path in an existing folder",
    )
    assert list(tmp_path.iterdir()) == []
