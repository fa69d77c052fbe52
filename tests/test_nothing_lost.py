"""Nothing a user saved is lost: atomic writes, refused overwrites, untouched shipped priors.

Every file the project writes goes through :func:`toe_twitch.files.write_atomic`. These tests
kill a writer halfway, make writes fail, and run the command line and the Tune priors
page against the shipped ``priors/default.yaml``, then compare bytes, permissions and
file-system identity with what was there before.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, VIGNETTES
from toe_twitch import files
from toe_twitch.errors import OutputExistsError

DEFAULT_PRIORS = ROOT / "priors" / "default.yaml"
OLD = b"the priors a clinician saved last week\n" * 30_000  # about 1 MB
NEW = b"a new, much larger export that is being written\n" * 200_000  # about 10 MB

#: The writer, run in a child process. It calls write_atomic and stops for good at
#: ``stage``, after saying so in the ready file, so that the parent kills it exactly there:
#: ``writing`` after half of the new bytes reached the disk, ``renaming`` after all of
#: them did (fsync'd) but before the rename.
WRITER = """
import os, sys, time
from pathlib import Path
from toe_twitch import files

target, ready, stage, size = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
line = b"a new, much larger export that is being written\\n"
new = line * (size // len(line))

def stop_here():
    ready.write_text(stage)
    time.sleep(600)

if stage == "writing":
    real_fdopen = os.fdopen

    class HalfWritten:
        def __init__(self, handle):
            self.handle = handle
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)
        def __getattr__(self, name):
            return getattr(self.handle, name)
        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            os.fsync(self.handle.fileno())
            stop_here()

    os.fdopen = lambda fd, *a, **k: HalfWritten(real_fdopen(fd, *a, **k))
elif stage == "renaming":
    real_replace = os.replace

    def replace(src, dst):
        stop_here()
        real_replace(src, dst)

    os.replace = replace

files.write_atomic(target, new, overwrite=True)
print("finished", flush=True)
"""


def fingerprint(path: Path) -> tuple[str, int, int, int, int]:
    """Content hash, size, modification time, inode and permissions of a file.

    A rewrite with the same bytes still changes the modification time or the inode.
    """
    info = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, info.st_size, info.st_mtime_ns, info.st_ino, stat.S_IMODE(info.st_mode)


def leftovers(folder: Path, name: str) -> list[str]:
    """Names in the folder other than the target and write_atomic's hidden temporary files."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name != name and not (p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))
    )


def temporary_files(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


# ---------------------------------------------------------------- (a) a writer killed midway
@pytest.mark.parametrize("stage", ["writing", "renaming"])
def test_writer_killed_midway_leaves_the_old_file_intact(tmp_path, stage):
    """A save killed halfway (half the bytes written, or all written but not yet renamed)
    leaves the previous file byte for byte, and no half file under its name.

    Would catch: writing straight into the target (it would hold part of the new bytes or
    be truncated), or renaming before the bytes are complete.
    """
    target = tmp_path / "priors-tuned.yaml"
    target.write_bytes(OLD)
    os.chmod(target, 0o644)
    before = fingerprint(target)
    ready = tmp_path.parent / f"{tmp_path.name}-ready"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(ready), stage, str(len(NEW))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if not ready.exists():
            child.kill()
            output = child.communicate(timeout=10)
            pytest.fail(
                f"the writer never reached the {stage!r} point (exit {child.returncode}): "
                f"write_atomic no longer writes through os.fdopen and os.replace; {output}"
            )
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert fingerprint(target) == before
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path, target.name) == []
    partial = temporary_files(tmp_path, target.name)
    assert len(partial) == 1, "the killed writer's bytes should be in one hidden temporary file"
    written = len(NEW) // 2 if stage == "writing" else len(NEW)
    assert partial[0].stat().st_size == written, "the kill did not come at the planned point"


# ---------------------------------------------------------------- (b) refused overwrites
def test_existing_file_is_not_replaced_without_permission(tmp_path):
    """Saving over an existing file without overwrite=True is refused, naming the fix, and
    the file keeps its bytes and its modification time.

    Would catch: a writer that silently replaces what a user saved.
    """
    target = tmp_path / "my-priors.yaml"
    target.write_bytes(OLD)
    before = fingerprint(target)
    with pytest.raises(
        OutputExistsError, match=r"my-priors\.yaml: the file exists; replace it with --force"
    ):
        files.write_atomic(target, NEW)
    assert fingerprint(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-priors.yaml"]


def test_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    """A save that fails on the disk (full: ENOSPC at fsync) raises, leaves the old file
    as it was and cleans up its temporary file.

    Would catch: a temporary file left behind on every failed save, or a target already
    replaced before the bytes were safely on disk.
    """
    target = tmp_path / "export.json"
    target.write_bytes(OLD)
    before = fingerprint(target)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        files.write_atomic(target, NEW, overwrite=True)
    monkeypatch.undo()
    assert fingerprint(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]


def test_replaced_file_keeps_its_permissions(tmp_path):
    """A file saved over another keeps the other's permissions (a shared 0640 stays 0640).

    Would catch: the temporary file's private mode (0600) ending up on the user's file.
    """
    target = tmp_path / "shared-priors.yaml"
    target.write_bytes(OLD)
    os.chmod(target, 0o640)
    files.write_atomic(target, NEW, overwrite=True)
    assert target.read_bytes() == NEW
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_permissions_open_would_give(tmp_path):
    """A new file gets 0666 less the umask, as any program's open() would give it.

    Would catch: every saved export being readable by its owner only (mkstemp's 0600).
    """
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "new-export.json"
    files.write_atomic(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


# ---------------------------------------------------------------- (c) the shipped priors
@pytest.fixture
def assert_shipped_priors_unchanged():
    """Fingerprints priors/default.yaml and lists the priors folder now; the returned check
    asserts that both are still the same."""
    before = fingerprint(DEFAULT_PRIORS)
    folder = sorted(p.name for p in DEFAULT_PRIORS.parent.iterdir())

    def check() -> None:
        assert fingerprint(DEFAULT_PRIORS) == before, "priors/default.yaml was rewritten"
        assert sorted(p.name for p in DEFAULT_PRIORS.parent.iterdir()) == folder

    return check


COMMANDS = {
    "diagnose": ["diagnose", "leg_pain=present", "fever=absent"],
    "diagnose --json": ["diagnose", "--json", "onset_falling_asleep=present"],
    "diagnose --priors": [
        "diagnose",
        "--priors",
        "priors/default.yaml",
        "persists_2_weeks=present",
    ],
    "evaluate": ["evaluate", str(VIGNETTES.relative_to(ROOT))],
    "evaluate --priors": [
        "evaluate",
        "--priors",
        "priors/default.yaml",
        "--json",
        str(VIGNETTES.relative_to(ROOT)),
    ],
    "validate-priors": ["validate-priors", "priors/default.yaml"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_command_line_never_changes_the_shipped_priors(command, assert_shipped_priors_unchanged):
    """Every command of the command line reads priors/default.yaml and never writes it
    (same bytes, modification time, inode and permissions; no new file beside it).

    Would catch: a command that saves, normalises or caches into the shipped priors.
    """
    result = subprocess.run(
        [sys.executable, "-m", "toe_twitch", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert_shipped_priors_unchanged()


def test_tune_priors_page_never_changes_the_shipped_priors(assert_shipped_priors_unchanged):
    """Editing a number, loading another priors file and going back to the shipped ones on
    the Tune priors page leaves priors/default.yaml as it was.

    Would catch: the page saving its edits (or an upload) into the shipped priors.
    """
    from tests.test_ui_app import click, go, open_app
    from tests.test_ui_pages import edit_value, grid, upload
    from toe_twitch.ui import keys

    at = open_app(page="tune")
    table = grid(at)
    path = next(p for p in table.index if p.startswith("risk_factors."))
    low, high, value = (float(table.at[path, c]) for c in ("low", "high", "value"))
    new = (low + high) / 2 if value != (low + high) / 2 else low
    edit_value(at, path, new)
    assert at.session_state[keys.PRIORS_EDITS] == {path: new}, "the edit was not applied"
    assert_shipped_priors_unchanged()

    text = DEFAULT_PRIORS.read_text().replace("name:", "name: uploaded-", 1)
    upload(at, keys.TUNE_UPLOAD, "clinic.yaml", text.encode())
    assert at.success, [e.value for e in at.error]
    assert keys.PRIORS_BASE in at.session_state
    assert_shipped_priors_unchanged()
    click(at, keys.TUNE_BACK_TO_DEFAULT)
    go(at, "explore")
    assert_shipped_priors_unchanged()


# ---------------------------------------------------------------- (d) benchmark output
def test_benchmark_output_goes_through_the_atomic_writer(tmp_path, monkeypatch):
    """benchmarks/run.py writes its JSON with model.files.write_atomic, replacing the last run.

    Would catch: the benchmark going back to a plain open(..., "w") of its output.
    """
    from benchmarks import run

    calls = []
    monkeypatch.setattr(files, "write_atomic", lambda *a, **k: calls.append((a, k)))
    out = tmp_path / "latest.json"
    run.write_atomic(out, "{}")
    assert calls == [((out, "{}"), {"overwrite": True})]


def test_benchmark_that_fails_to_serialise_keeps_the_last_results(tmp_path, monkeypatch, capsys):
    """A benchmark run whose result cannot be written as JSON raises and leaves the previous
    results file as it was, with no partial file beside it.

    Would catch: opening (and so truncating) the output before the JSON is complete.
    """
    from benchmarks import run

    out = tmp_path / "latest.json"
    previous = json.dumps({"rows": [], "machine": {"cpus": 2}}).encode()
    out.write_bytes(previous)
    before = fingerprint(out)
    monkeypatch.setattr(
        run, "run", lambda quick: {"machine": {"cpus": 2}, "rows": [], "when": object()}
    )
    with pytest.raises(TypeError, match="not JSON serializable"):
        run.main(["--quick", "--out", str(out)])
    assert fingerprint(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json"]


def test_load_benchmark_that_fails_to_write_keeps_the_last_results(tmp_path, monkeypatch):
    """The load benchmark (benchmarks/load.py) keeps its previous results file when the
    new one cannot be written (the disk fails at the last step), and leaves no temporary
    file behind.

    Would catch: the load benchmark writing its output piece by piece, or in place.
    """
    from benchmarks import load

    out = tmp_path / "load.json"
    out.write_bytes(b'{"sessions": 20}')
    before = fingerprint(out)
    monkeypatch.setattr(load, "run", lambda *a, **k: {"errors": 0, "sessions": 1})
    monkeypatch.setattr(load, "format_table", lambda result: "table")

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        load.main(["--out", str(out)])
    assert fingerprint(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["load.json"]
