"""``btce-sim app``: start the dashboard from the installed package, in any folder.

Streamlit runs as its own program (``python -m streamlit run dashboard/app.py``), so :mod:`sim` never
imports it (the import-linter contract keeps Streamlit in ``dashboard``). The dashboard's entry script
is located with :func:`importlib.util.find_spec`, which finds a package without importing it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

DASHBOARD_PACKAGE = "dashboard"
ENTRY_SCRIPT = "app.py"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``app`` sub-command."""
    p = subparsers.add_parser("app", help="start the dashboard (Streamlit) and serve it in the browser")
    p.add_argument("--port", type=_port, default=None, help="port to serve on (default: Streamlit's, 8501)")
    p.add_argument("--address", default=None, help="address to listen on (default: Streamlit's, all interfaces)")
    p.add_argument("--headless", action="store_true",
                   help="do not open a browser (for a server; the URL is printed)")
    p.set_defaults(func=cmd_app)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is outside 1 to 65535")
    return value


def entry_script() -> Path:
    """The dashboard's entry script in the installed (or checked-out) ``dashboard`` package.

    Raises
    ------
    ValueError
        When the dashboard package or Streamlit is not installed; the message says what to install.
    """
    if importlib.util.find_spec("streamlit") is None:
        raise ValueError("the dashboard needs Streamlit, which is not installed; allowed: install the app "
                         "extra, e.g. pip install 'btce-sim[app]'")
    spec = importlib.util.find_spec(DASHBOARD_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        script = Path(folder) / ENTRY_SCRIPT
        if script.is_file():
            return script
    raise ValueError(f"the dashboard package ({DASHBOARD_PACKAGE}/{ENTRY_SCRIPT}) is not installed; allowed: "
                     "reinstall btce-sim with the app extra, e.g. pip install 'btce-sim[app]'")


def streamlit_command(script: Path, args: argparse.Namespace) -> list[str]:
    """``python -m streamlit run SCRIPT`` with the options asked for.

    Streamlit's usage statistics are switched off: a hospital's server should not call out to a third
    party because a planner opened a page; its developer toolbar (the Deploy button) is hidden from
    users wherever the command runs (the repository's .streamlit/config.toml serves only its own folder).
    """
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer"]
    if args.port is not None:
        cmd += ["--server.port", str(args.port)]
    if args.address is not None:
        cmd += ["--server.address", args.address]
    if args.headless:
        cmd += ["--server.headless", "true"]
    return cmd


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the dashboard until Streamlit stops (Ctrl+C); exit with Streamlit's status."""
    cmd = streamlit_command(entry_script(), args)
    if os.name == "posix":
        # Streamlit takes this process's place, so a service manager's SIGTERM or a Ctrl+C reaches the
        # server itself and no orphaned server is left behind.
        os.execv(cmd[0], cmd)
    server = subprocess.Popen(cmd)
    try:
        return server.wait()
    except KeyboardInterrupt:   # Ctrl+C reaches Streamlit too (same console); let it shut down cleanly
        return server.wait()
