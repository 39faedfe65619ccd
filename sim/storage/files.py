"""File-system helpers shared by the output folder and the saved-run store.

Temporary folders that honour the umask, removal of the ones a killed run left behind, a check that
a folder can be written (and has room) before any work, and the one error a failed write raises.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from sim.config.errors import UsageError

STALE_AFTER_SECONDS = 3600
"""A temporary folder untouched for this long was left by a run that was killed: writing a run's
files takes seconds (a minute for the largest occupancy table), so no live run owns one this old."""


class OutputError(UsageError):
    """An output folder cannot be written: one line naming the folder and the cause. A ValueError, so
    the command line reports it like any other bad argument (exit status 2)."""


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new, empty, uniquely named folder ``parent/PREFIX<random>``.

    Created with mode 0777 less the umask, like any folder the user makes (``tempfile.mkdtemp``
    forces 0700, which the finished output kept after its rename).
    """
    for _ in range(100):
        path = Path(parent) / f"{prefix}{secrets.token_hex(6)}"
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name {prefix}* in {parent}")


def remove_stale_temps(parent: Path, prefix: str, max_age: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Remove the folders ``parent/PREFIX*`` not modified for ``max_age`` seconds; return them.

    Best effort: a folder that vanishes meanwhile (another run cleaning) or cannot be removed is
    left alone, since a clean-up must never stop the run that does it.
    """
    removed = []
    cutoff = time.time() - max_age
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        try:
            stale = (entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False)
                     and entry.stat(follow_symlinks=False).st_mtime < cutoff)
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def check_writable(folder: Path, label: str, bytes_needed: int = 0) -> None:
    """Refuse, before any work, a folder that cannot be created or written, or whose file system has
    less free space than ``bytes_needed``.

    Nothing is created: the nearest existing ancestor of ``folder`` is probed with a temporary folder
    made and removed at once (permission bits alone say nothing for root or on a read-only mount).

    Raises
    ------
    OutputError
        Naming ``label`` (e.g. ``--out results/x``) and the cause.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{label}: {folder} is a file; allowed: a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{label}: {existing} is a file, so {folder} cannot be created; allowed: a folder path")
    try:
        probe = make_temp_dir(existing, ".write-check-")
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{label}: cannot write in {existing} ({exc.strerror or exc}); "
                          "allowed: a folder you can write to") from None
    free = shutil.disk_usage(existing).free
    if bytes_needed > free:
        raise OutputError(f"{label}: needs about {_mb(bytes_needed)} but {existing} has {_mb(free)} free")


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.1f} MB"


@contextmanager
def temp_dir(parent: Path, prefix: str, what: str, failed: str, nothing: str):
    """Yield a new temporary folder in ``parent``, removed again if the block fails.

    Temporary folders a killed run left there (older than :data:`STALE_AFTER_SECONDS`) are removed
    first. An ``OSError`` (read-only, disk full) becomes one :class:`OutputError` line,
    ``"{what}: cannot write (reason); {nothing}"`` before the folder exists and
    ``"{what}: {failed} (reason); {nothing}"`` after.
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(parent, prefix)
        tmp = make_temp_dir(parent, prefix)
    except OSError as exc:
        raise OutputError(f"{what}: cannot write ({exc.strerror or exc}); {nothing}") from None
    try:
        yield tmp
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{what}: {failed} ({exc.strerror or exc}); {nothing}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
