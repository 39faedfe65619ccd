"""How the command line ends: SIGTERM handled like Ctrl-C, and usage errors in one line.

``kill PID`` (SIGTERM, what service managers and job schedulers send) used to end the CLI at once,
leaving its worker processes running and temporary folders behind. Under :func:`sigterm_as_interrupt`
it raises :class:`Terminated`, a ``KeyboardInterrupt``, so exactly the clean-up Ctrl-C gets runs
(the pool's workers are stopped, temporary output removed) and the CLI exits with status 143
(128 + SIGTERM), as a shell reports a process ended by SIGTERM. Once a command's output is in place
(:func:`writing`), an interruption says so ("terminated after writing results/x") instead of "no output
written"; the write itself is not cut.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from typing import Iterator, NoReturn

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130       # 128 + SIGINT
EXIT_TERMINATED = 143        # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


class _Interruptions:
    """The command's state as an interruption sees it: whether one must wait (``holding``), the one that
    waited (``pending``), and the output folders already in place (``written``)."""

    def __init__(self) -> None:
        self.holding = False
        self.pending: KeyboardInterrupt | None = None
        self.written: list[str] = []


_STATE = _Interruptions()


def _raise_terminated(_signum: int, _frame: object) -> None:
    # One clean-up is enough: a second SIGTERM while it runs is ignored (SIGKILL still ends the process).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if _STATE.holding:
        _STATE.pending = Terminated()
        return
    raise Terminated()


def _hold_interrupt(_signum: int, _frame: object) -> None:
    _STATE.pending = _STATE.pending or KeyboardInterrupt()


@contextlib.contextmanager
def writing(out: object) -> Iterator[None]:
    """Write the output ``out`` as one step that Ctrl-C or SIGTERM does not cut.

    An interruption that arrives while the block runs (the few seconds of writing and renaming the
    folder into place) is raised once it ends, and :func:`interrupted` then says the output was
    written: a signal at the end of a run used to report "no output written" beside a written output.
    """
    main = threading.current_thread() is threading.main_thread()
    old_int = signal.signal(signal.SIGINT, _hold_interrupt) if main else None
    _STATE.holding = True
    try:
        yield
        _STATE.written.append(str(out))
    finally:
        _STATE.holding = False
        if main:
            signal.signal(signal.SIGINT, old_int)
    pending, _STATE.pending = _STATE.pending, None
    if pending is not None:
        raise pending


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread; the previous handler
    is restored after. Outside the main thread (where Python cannot install handlers) it does nothing."""
    _STATE.written = []
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def interrupted(exc: KeyboardInterrupt) -> int:
    """Report an interrupted command in one line and return its exit status (130, or 143 for SIGTERM)."""
    word, status = ("terminated", EXIT_TERMINATED) if isinstance(exc, Terminated) else ("interrupted", EXIT_INTERRUPTED)
    written = _STATE.written
    print(f"{word} after writing {', '.join(written)}" if written else f"{word}: no output written", file=sys.stderr)
    return status


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``error: argument --reps: 0 is below 1``),
    like every other bad input, rather than the whole usage text; ``--help`` still shows it."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")
