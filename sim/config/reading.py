"""Reading a file within a size limit, refusing what is not a regular file before a byte is read.

``/dev/zero`` given as a scenario used to be read until memory ran out, and a FIFO with no writer
blocks its reader for ever; both are refused here, as is a file larger than the caller's limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


class ReadRefused(ValueError):
    """The file is not a regular file, or is larger than the limit; the message says which, e.g.
    ``is a character device; allowed: a regular file``."""


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises
    ------
    FileNotFoundError
        No such file.
    ReadRefused
        A folder, device, FIFO or socket, or more than ``max_bytes`` bytes.
    OSError
        Any other failure to open or read.
    """
    # Opened without blocking so that a FIFO with no writer cannot hang the open, and checked on the
    # open descriptor (not the name) so the file cannot be swapped between the check and the read.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise ReadRefused(f"is {kind}; allowed: a regular file")
        check_size(info.st_size, max_bytes)
        with open(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)        # the file may have grown since fstat
        check_size(len(data), max_bytes)
        return data
    finally:
        os.close(fd)


def check_size(size: int, max_bytes: int) -> None:
    """Raise :class:`ReadRefused` for ``size`` bytes over ``max_bytes``."""
    if size > max_bytes:
        raise ReadRefused(f"too large ({size:,} bytes); allowed: at most {max_bytes:,} bytes")
