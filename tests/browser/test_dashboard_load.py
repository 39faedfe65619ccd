"""Several planners on one dashboard server at once (issue 18, item 7), driven in a real Chromium.

The server runs with a cap of CAP worker processes (BTCE_SIM_WORKERS). Each browser context is its own
Streamlit session; all press Run together. A sampler reads the server's child processes (psutil) all
the while: never more than CAP. Each session must show its own run (its own replication count), and
the time from its click to its KPI cards is written to test-output/pool-timing.txt at 1, 4 and 8
sessions. A session can cancel its run and the others still finish; when the server stops, no worker
is left.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM, OUT, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")
psutil = pytest.importorskip("psutil")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

CAP = 2
REPS = 20          # session i runs REPS + i replications of the reference preset (full length)
CARDS = 12
TIMING = OUT / "pool-timing.txt"


class WorkerSampler:
    """Counts the server's child processes every 0.1 s in a thread; remembers the peak and every pid."""

    def __init__(self, pid: int):
        self.server = psutil.Process(pid)
        self.peak = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def workers(self) -> list:
        try:
            kids = self.server.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        # multiprocessing's resource tracker is a helper, not a worker (it runs no replications)
        return [k for k in kids if "resource_tracker" not in " ".join(_cmdline(k))]

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.workers()
            self.peak = max(self.peak, len(now))
            self.pids.update(k.pid for k in now)
            time.sleep(0.1)

    def __enter__(self) -> WorkerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def _cmdline(proc) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


@pytest.fixture(scope="module")
def server():
    with serve("streamlit-load.log", env={"BTCE_SIM_WORKERS": str(CAP)}) as (url, proc):
        with WorkerSampler(proc.pid) as sampler:
            yield url, sampler
        # SIGTERM to the server alone (not its group): the pool must take its workers with it
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in sampler.pids):
            time.sleep(0.2)
        left = [p for p in sampler.pids if psutil.pid_exists(p)]
        assert not left, f"workers still running 10 s after the server stopped: {left}"


def open_session(browser, url: str, reps: int):
    context = browser.new_context(viewport={"width": 1300, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("button", name="Run simulation").wait_for()
    field = page.get_by_role("spinbutton", name="Replications").first
    field.fill(str(reps))
    field.press("Enter")
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")
    return context, page


def results_shown(page) -> bool:
    return page.locator('[data-testid="stMetric"]').count() >= CARDS


@pytest.mark.parametrize("sessions", [1, 4, 8])
def test_sessions_share_the_capped_pool_and_each_gets_its_own_results(browser, server, sessions):
    url, sampler = server
    opened = [open_session(browser, url, REPS + i) for i in range(sessions)]
    pages = [p for _, p in opened]
    try:
        clicked = []
        for page in pages:
            page.get_by_role("button", name="Run simulation").click()
            clicked.append(time.perf_counter())
        seen_queue = False
        took: dict[int, float] = {}
        deadline = time.perf_counter() + 60 + 30 * sessions
        while len(took) < sessions and time.perf_counter() < deadline:
            for i, page in enumerate(pages):
                if i not in took and results_shown(page):
                    took[i] = time.perf_counter() - clicked[i]
            seen_queue = seen_queue or any(p.get_by_text("sharing the server's").count() for p in pages)
            time.sleep(0.2)
        if len(took) < sessions:
            for i, page in enumerate(pages):
                page.screenshot(path=str(OUT / f"load-{sessions}-{i}.png"))
        assert len(took) == sessions, f"only {len(took)} of {sessions} sessions got results"
        for i, page in enumerate(pages):   # each its own run, none another session's
            caption = page.get_by_text(re.compile(r"\d+ replications · seed")).first.inner_text()
            assert f"· {REPS + i} replications ·" in caption, (i, caption)
        assert seen_queue, "no session was shown its place in the shared pool"
        assert sampler.peak <= CAP, f"{sampler.peak} worker processes at once; the cap is {CAP}"
        times = [took[i] for i in range(sessions)]
        line = (f"{sessions} session(s), {REPS}..{REPS + sessions - 1} replications each (reference preset), "
                f"cap {CAP} workers: time to results per session {', '.join(f'{t:.1f}' for t in times)} s "
                f"(mean {sum(times) / sessions:.1f}, max {max(times):.1f}); peak workers {sampler.peak}; "
                f"load average {os.getloadavg()[0]:.2f}\n")
        with TIMING.open("a") as f:
            f.write(line)
        print(line)
    finally:
        for context, _ in opened:
            context.close()


def test_a_cancelled_run_frees_the_workers_for_the_others(browser, server):
    url, sampler = server
    (big_ctx, big), (small_ctx, small) = open_session(browser, url, 3000), open_session(browser, url, REPS)
    try:
        big.get_by_role("button", name="Run simulation").click()
        big.get_by_text(re.compile(r"Running on \d worker")).first.wait_for(timeout=60_000)
        small.get_by_role("button", name="Run simulation").click()
        small.get_by_text("sharing the server's").first.wait_for(timeout=60_000)
        big.get_by_role("button", name="Cancel").click()
        big.get_by_text("Cancelled:").first.wait_for(timeout=30_000)
        t0 = time.perf_counter()
        small.locator('[data-testid="stMetric"]').nth(CARDS - 1).wait_for(timeout=120_000)
        assert big.locator('[data-testid="stMetric"]').count() == 0
        assert sampler.peak <= CAP
        with TIMING.open("a") as f:
            f.write(f"after a 3000-replication run was cancelled, the other session's {REPS} replications showed "
                    f"{time.perf_counter() - t0:.1f} s later\n")
    finally:
        big_ctx.close()
        small_ctx.close()
