"""The package as a user installs it: the sdist and wheel are built and checked, the wheel goes into a
fresh virtual environment, and from an empty folder a preset runs by name, the drug library lists every
drug, a centre's scenario extends a preset by name and the dashboard answers its health check.

All but the first test are slow (a build, a virtual environment and a pip install from the package
index: a few minutes). A failed build or install fails the tests; nothing here is skipped.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
# What a build copies from a checkout: the source tree without local state (venvs, outputs, caches).
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "results",
                                    "runs", "test-output", ".pytest_cache", ".hypothesis", ".import_linter_cache")
HEALTH_TIMEOUT_S = 180


def test_pyproject_lists_every_package_of_the_checkout():
    """``find`` cannot see the mapped sim/scenarios/, so the packages are listed by hand; a new one must be too."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {p.parent.relative_to(ROOT).as_posix().replace("/", ".")
             for d in ("sim", "dashboard") for p in (ROOT / d).rglob("__init__.py")}
    assert listed == found | {"sim.scenarios", "sim.scenarios.drugs"}


def check(cmd: list[str], timeout: int, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd``; fail the test with its output when it does not succeed."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel built from a copy of the checkout (the build writes egg-info into its source).

    ``python -m build`` builds the wheel from the sdist, so a file missing from the sdist shows here.
    """
    base = tmp_path_factory.mktemp("build")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    check([sys.executable, "-m", "build", "--outdir", str(base / "dist"), str(src)], timeout=600)
    return base / "dist"


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def user_env(bin_dir: Path) -> dict[str, str]:
    """The environment of a user of the fresh venv: nothing of this checkout on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the built wheel (and the app extra) installed; its bin folder."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    check([sys.executable, "-m", "venv", str(home)], timeout=300)
    bin_dir = home / ("Scripts" if os.name == "nt" else "bin")
    wheel = only(dist, "*.whl")
    check([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[app]"], timeout=1200,
          env=user_env(bin_dir))
    return bin_dir


@pytest.fixture
def user(venv, tmp_path):
    """Run ``btce-sim ARGS`` as a user would, in an empty folder; returns (runner, folder)."""
    folder = tmp_path / "work"
    folder.mkdir()

    def btce_sim(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return check([str(venv / "btce-sim"), *args], timeout=timeout, cwd=folder, env=user_env(venv))

    return btce_sim, folder


@pytest.mark.slow
def test_sdist_and_wheel_pass_twine_check(dist):
    r = check([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))], timeout=120)
    assert r.stdout.count("PASSED") == 2, r.stdout


@pytest.mark.slow
def test_wheel_and_sdist_carry_every_module_preset_and_drug_file(dist):
    source = {p.relative_to(ROOT).as_posix() for d in ("sim", "dashboard") for p in (ROOT / d).rglob("*.py")}
    data = {p.relative_to(SCENARIOS).as_posix() for p in SCENARIOS.rglob("*.toml")}
    assert {"tarlatamab_outpatient.toml", "base.toml", "drugs/tarlatamab.toml"} <= data
    with zipfile.ZipFile(only(dist, "*.whl")) as whl:
        in_wheel = set(whl.namelist())
        metadata = whl.read(f"btce_sim-{VERSION}.dist-info/METADATA").decode()
    assert source <= in_wheel, sorted(source - in_wheel)
    assert {f"sim/scenarios/{f}" for f in data} <= in_wheel, sorted(data)
    assert "License-Expression: MIT" in metadata
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        in_sdist = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {f"scenarios/{f}" for f in data} | source | {"CHANGELOG.md", "app.py", "pyproject.toml"} <= in_sdist


@pytest.mark.slow
def test_installed_run_of_a_preset_by_name_writes_its_outputs_and_version(user):
    btce_sim, folder = user
    r = btce_sim("run", "tarlatamab_outpatient", "--reps", "2", "--quiet", "--save", "--runs-dir", "runs")
    out = folder / "results" / "tarlatamab_outpatient"
    assert {"kpis.csv", "summary.csv", "occupancy.parquet", "scenario.toml"} <= {p.name for p in out.iterdir()}
    with open(out / "kpis.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and float(rows[0]["patients_started"]) > 0
    assert "95% CI" in r.stdout
    manifest = json.loads(only(folder / "runs", "*/manifest.json").read_text())
    assert manifest["package_version"] == VERSION
    assert btce_sim("--version").stdout.split() == ["btce-sim", VERSION]


@pytest.mark.slow
def test_installed_drugs_lists_every_drug_file(user):
    btce_sim, _ = user
    listed = {line.split()[0] for line in btce_sim("drugs").stdout.splitlines() if line.strip()}
    expected = {p.stem for p in (SCENARIOS / "drugs").glob("*.toml")}
    assert len(expected) >= 10 and expected <= listed, sorted(expected - listed)


@pytest.mark.slow
def test_installed_validate_of_a_centre_scenario_extending_a_preset_by_name(user):
    btce_sim, folder = user
    (folder / "my_centre.toml").write_text('extends = "tarlatamab_outpatient"\nname = "my_centre"\n'
                                           "[capacity]\nobservation_beds = 7\n", encoding="utf-8")
    r = btce_sim("validate", "my_centre.toml", "--print")
    resolved = tomllib.loads(r.stdout)
    assert resolved["name"] == "my_centre" and resolved["capacity"]["observation_beds"] == 7
    assert resolved["drug"]["name"].lower().startswith("tarlatamab")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, server: subprocess.Popen) -> str:
    """The health check's answer once the server gives one; fails if the server exits or the time runs out."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"btce-sim app exited with {server.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read().decode()
        except OSError:
            time.sleep(1)
    raise AssertionError(f"no answer from {url} within {HEALTH_TIMEOUT_S} s")


@pytest.mark.slow
def test_installed_app_serves_the_dashboard(venv, user):
    _, folder = user
    port = free_port()
    log = folder / "app.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([str(venv / "btce-sim"), "app", "--port", str(port), "--headless"], cwd=folder,
                                  env=user_env(venv), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            answer = wait_for_health(f"http://127.0.0.1:{port}/_stcore/health", server)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    assert answer == "ok", (answer, log.read_text())
    assert "Collecting usage statistics" not in log.read_text()   # btce-sim app switches them off


@pytest.mark.slow
def test_installed_dashboard_script_runs_on_the_packaged_presets(venv, user):
    """The health check says the server is up; this runs the installed entry script itself once."""
    _, folder = user
    probe = ("import importlib.util, pathlib\n"
             "from streamlit.testing.v1 import AppTest\n"
             "app = pathlib.Path(importlib.util.find_spec('dashboard').submodule_search_locations[0]) / 'app.py'\n"
             "at = AppTest.from_file(str(app), default_timeout=120)\n"
             "at.run()\n"
             "assert not at.exception, at.exception\n"
             "assert not at.error, [e.value for e in at.error]\n"
             "print(at.session_state['base'].name, app)\n")
    r = check([str(venv / "python"), "-c", probe], timeout=300, cwd=folder, env=user_env(venv))
    name, script = r.stdout.split()
    assert name == "tarlatamab_outpatient" and "site-packages" in script, r.stdout
