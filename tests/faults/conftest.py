"""Fixtures of the fault tests: the CLI run in this process with a time limit, replications made to
fail, and a read-only or full folder made with a tmpfs mount where this machine allows it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sim.cli import main
from tests.faults.support import time_limit

TIME_LIMIT = 20      # seconds an in-process command may take before the test fails rather than hangs


@pytest.fixture
def cli(capsys):
    """``cli(*args)`` runs ``python -m sim ARGS`` here: (status, stdout, stderr lines, seconds)."""
    def run(*args: str):
        capsys.readouterr()
        started = time.monotonic()
        with time_limit(TIME_LIMIT):
            try:
                status = main([str(a) for a in args])
            except SystemExit as exc:
                status = exc.code
        took = time.monotonic() - started
        out = capsys.readouterr()
        return status, out.out, [ln for ln in out.err.splitlines() if ln.strip()], took
    return run


@pytest.fixture
def no_replications(monkeypatch):
    """Make any replication fail the test: what is checked must be refused before the work starts."""
    from sim.analysis import runner

    def refuse(*_a, **_k):
        raise AssertionError("a replication ran before the output paths were checked")

    monkeypatch.setattr(runner, "run", refuse)


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, f"btce-fault-{uuid.uuid4().hex[:8]}", str(path)],
                         capture_output=True, timeout=10)
    return res.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, timeout=10)


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder no one can write in: a read-only tmpfs as root (chmod does not stop root), else a
    folder with mode 0555; skipped where neither holds."""
    path = tmp_path / "ro"
    path.mkdir()
    if _mount_tmpfs(path, "size=1m,ro"):
        yield path
        _umount(path)
        return
    if os.geteuid() == 0:
        pytest.skip("running as root without mount: no way to make a read-only folder")
    path.chmod(0o555)
    yield path
    path.chmod(0o755)


@pytest.fixture
def small_dir(tmp_path):
    """A writable folder on a 1 MB tmpfs (a disk that is nearly full); skipped without mount."""
    path = tmp_path / "small"
    path.mkdir()
    if not _mount_tmpfs(path, "size=1m"):
        pytest.skip("needs root and mount for a small tmpfs")
    yield path
    _umount(path)
