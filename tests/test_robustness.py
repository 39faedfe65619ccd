"""Robustness against bad input: every scenario file either runs or is refused with exit status 2 and one
line naming the field, never a traceback; huge inputs are refused quickly; scenario files are data;
an interrupted run leaves nothing behind.

The bugs these tests found (unbounded hours, negative counts, unlimited risk factors, no combined size
limit, several lines for one bad field, a scenario name choosing the output folder, events without
patients, unbounded time on therapy and background demand, a warm start on a very short run) are
fixed; each keeps its test. Set ROBUSTNESS_EXAMPLES to search harder (default 150).
"""

from __future__ import annotations

import builtins
import copy
import datetime
import marshal
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.cli import main
from sim.config import loader
from sim.config.scenario import Scenario
from tests.conftest import REFERENCE, ROOT, SCENARIOS
from tests.faults.support import children, running, time_limit

TIME_LIMIT = 20  # seconds any single example may take; a hang is a failure, not a stuck suite


def resolved_reference(**run) -> dict:
    """The reference scenario fully resolved (drug included) as plain TOML data, with a short run."""
    data = tomllib.loads(loader.to_toml(loader.load(REFERENCE)))
    data["run"].update(run)
    return data


SHORT_RUN = dict(warmup_weeks=0, horizon_weeks=2, follow_up_weeks=0)
BASE = resolved_reference(**SHORT_RUN)


# ------------------------------------------------------------------------------------ helpers
def cli_in_process(capsys, *args: str) -> tuple[int, str, str]:
    """``python -m sim ARGS`` in this process: (status, stdout, stderr). Any exception escaping main()
    would be a traceback for the user, so it fails the test as it is."""
    capsys.readouterr()
    with time_limit(TIME_LIMIT):
        try:
            status = main(list(args))
        except SystemExit as exc:          # argparse usage errors
            status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


def cli_subprocess(*args: str, cwd: Path = ROOT, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def paths(node, prefix=()):
    """Every key path in nested tables and arrays: ("drug", "schedule", 0, "count"), ..."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from paths(value, prefix + (i,))


def get(node, path):
    for key in path:
        node = node[key]
    return node


def schema_field_exists(dotted: str) -> bool:
    """Does a dotted path (list indices as numbers) name a field of the scenario schema?"""
    model = Scenario
    for part in dotted.split("."):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return False
        annotation = fields[part].annotation
        model = next((a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return True
    return True


def _flatten(annotation):
    import typing

    stack, out = [annotation], []
    while stack:
        a = stack.pop()
        out.append(a)
        stack.extend(typing.get_args(a))
    return out


def error_field(line: str, where: str) -> str:
    """The field an error line starts with: 'error: FILE: capacity.chairs = -1: ...' -> 'capacity.chairs'."""
    rest = line.split(f"{where}: ", 1)[1]
    return re.split(r"[ :=\[]", rest, maxsplit=1)[0]


# ------------------------------------------------------------------------------------ generated edits
NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 0.5, 1e-300, float("nan"), float("inf"), float("-inf"), 2 ** 63]),
    st.integers(-1000, 10_000),
    st.floats(-1e4, 1e4, allow_nan=False),
)
SCALE = st.sampled_from([0.0, 0.5, 0.999, 1.001, 2.0, 10.0, 1000.0, -1.0])
OTHER_TYPES = st.sampled_from(["text", "", True, False, [1, 2], [], ["a"], {}, {"a": 1}, [[1], [2]],
                               datetime.date(2020, 1, 1), 3, 2.5])
NEW_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
TOML_BREAKS = st.sampled_from(["=", "[", "]]", '"', "{", "\nx = 1\nx = 2\n", "\x00", "key =\n", "[[", "\\u"])


def edit(doc: dict, data) -> tuple[str, tuple]:
    """Apply one random edit to ``doc`` in place; return (kind, path)."""
    kind = data.draw(st.sampled_from(["number", "number", "type", "delete", "unknown_key"]), label="kind")
    every = list(paths(doc))
    if kind == "number":
        numeric = [p for p in every if isinstance(get(doc, p), (int, float)) and not isinstance(get(doc, p), bool)]
        path = data.draw(st.sampled_from(numeric), label="path")
        old = get(doc, path)
        new = data.draw(st.one_of(NUMBERS, SCALE.map(lambda f: old * f)), label="value")
        get(doc, path[:-1])[path[-1]] = new
    elif kind == "type":
        path = data.draw(st.sampled_from(every), label="path")
        get(doc, path[:-1])[path[-1]] = data.draw(OTHER_TYPES, label="value")
    elif kind == "delete":
        path = data.draw(st.sampled_from(every), label="path")
        del get(doc, path[:-1])[path[-1]]
    else:
        tables = [()] + [p for p in every if isinstance(get(doc, p), dict)]
        table = data.draw(st.sampled_from(tables), label="table")
        key = data.draw(NEW_KEY.filter(lambda k: k not in get(doc, table)), label="key")
        get(doc, table)[key] = data.draw(st.one_of(NUMBERS.filter(lambda x: x == x), OTHER_TYPES), label="value")
        path = table + (key,)
    return kind, path


def check_names_field(kind: str, path: tuple, lines: list[str], where: str) -> None:
    text = " ".join(lines)
    if kind == "break":
        assert "not valid TOML" in text, lines
        return
    if kind == "unknown_key":
        if path[:-1] in FREE_TABLES:   # a new entry is a legitimate field there; a bad one names its table
            assert ".".join(map(str, path[:-1])) in text, (path, lines)
        else:
            assert ".".join(map(str, path)) in text and "unknown key" in text, (path, lines)
        return
    names = [str(p) for p in path if not isinstance(p, int) and p != "value"]
    leaf = names[-1] if names else ""
    if leaf and leaf in text:
        return
    # A number that breaks a cross-field rule (e.g. a longer infusion that no longer fits the opening day)
    # is reported on the field the rule is about; it must still be a real field of the schema.
    assert kind == "number" and schema_field_exists(error_field(lines[0], where)), (kind, path, lines)


# Tables whose keys are names chosen by the user (risk factors and their odds ratios): a new key is not
# an unknown key there.
FREE_TABLES = {("population", "risk_factors"), ("drug", "risk_odds_ratios", "crs"),
               ("drug", "risk_odds_ratios", "crs_grade2plus"), ("drug", "risk_odds_ratios", "icans"),
               ("drug", "prophylaxis"),   # named entries (before_dose_<k>, after_dose_<k>)
               ("programmes",)}           # a centre's programmes, by name


def is_section(value) -> bool:
    """A table of several settings (``[demand]``, a grade rule), as opposed to a sourced number."""
    return isinstance(value, dict) and not {"value", "source"} <= set(value)


EXAMPLES = int(os.environ.get("ROBUSTNESS_EXAMPLES", "150"))  # raise it to search harder


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_edited_scenario_runs_or_is_refused_in_one_line(data, capsys):
    """Random edits of the reference scenario's resolved TOML: numbers, types, deleted keys, unknown keys,
    broken TOML. Each file runs (one short replication) or exits 2 naming the field; never a traceback."""
    doc = copy.deepcopy(BASE)
    kind, path = edit(doc, data)
    before = get(BASE, path) if kind == "type" else None
    text = tomli_w.dumps(doc)
    if data.draw(st.integers(0, 9), label="break?") == 7:   # about one file in ten is broken TOML
        at = data.draw(st.integers(0, len(text)), label="at")
        broken = text[:at] + data.draw(TOML_BREAKS, label="fragment") + text[at:]
        try:
            tomllib.loads(broken)       # some insertions stay valid (inside a string): keep the plain edit
        except tomllib.TOMLDecodeError:
            text, kind = broken, "break"
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "edited.toml"
        scenario.write_text(text, encoding="utf-8")
        out = Path(tmp) / "out"
        status, stdout, stderr = cli_in_process(capsys, "run", str(scenario), "--reps", "1", "--executor",
                                                "serial", "--quiet", "--out", str(out))
        assert "Traceback" not in stderr
        assert status in (0, 2), (status, stderr)
        if status == 0:
            assert {p.name for p in out.iterdir()} == {"kpis.csv", "summary.csv", "occupancy.parquet", "scenario.toml",
                                                       "kpis_by_programme.csv", "summary_by_programme.csv",
                                                       "occupancy_by_programme.parquet"}
            assert "95% CI" in stdout
            return
        assert not out.exists()
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        assert lines and lines[0].startswith(f"error: {scenario}"), stderr
        assert all(ln.startswith((f"error: {scenario}", str(scenario))) for ln in lines), stderr
        if kind == "type" and is_section(before) and isinstance(get(doc, path), dict):
            # a whole section replaced by another table: one line per sub-field it lacks or adds
            assert all(".".join(map(str, path)) + "." in ln for ln in lines), (path, stderr)
        else:
            assert len(lines) == 1, (kind, path, stderr)
        new = get(doc, path) if kind == "type" else None
        numeric = isinstance(new, (int, float)) and not isinstance(new, bool)   # a plain number is valid input
        check_names_field("number" if numeric else kind, path, lines, str(scenario))


@pytest.mark.parametrize("field,value", [(("tocilizumab", "max_mg"), {"a": 1}),
                                         (("drug", "crs", "grade_mix"), ["a"]),
                                         (("drug", "management", "crs"), [1, 2])],
                         ids=["table-for-number", "text-in-vector", "numbers-for-rules"])
def test_one_bad_field_gives_one_line(tmp_path, capsys, field, value):
    doc = copy.deepcopy(BASE)
    get(doc, field[:-1])[field[-1]] = value
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    assert status == 2 and ".".join(field) in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_negative_grade_counts_are_refused_naming_the_field(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    doc["drug"]["crs"]["grade_counts"][0] = -2
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    assert status == 2 and "drug.crs.grade_counts" in stderr, stderr


def test_huge_time_on_therapy_is_refused(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    doc["drug"]["time_on_therapy_median_days"]["value"] = 1e9
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    assert status == 2 and "time_on_therapy_median_days" in stderr, stderr


def test_huge_background_demand_is_refused(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    doc["pharmacy"]["background_doses_per_week"]["value"] = 1e12
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    assert status == 2 and "background_doses_per_week" in stderr, stderr


def test_valid_schedule_runs_with_a_short_horizon(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    doc["drug"]["schedule"][3]["count"] = 8
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "run", str(scenario), "--reps", "1", "--executor", "serial",
                                       "--quiet", "--out", str(tmp_path / "o"))
    assert status == 0, stderr


def test_events_without_patients_are_refused_naming_the_field(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    del doc["drug"]["crs"]["patients"]
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    assert status == 2 and "drug.crs" in stderr, stderr


@pytest.mark.parametrize("change,needle", [
    (lambda d: None, None),                                                        # valid: runs
    (lambda d: d["capacity"].__setitem__("ward_beds", -3), "capacity.ward_beds = -3"),
    (lambda d: d["drug"]["crs"]["rate"].__setitem__("value", "high"), "drug.crs.rate"),
    (lambda d: d["strategy"]["monitoring"][0].__setitem__("plcae", "ward"), "strategy.monitoring.0.plcae"),
    (lambda d: d.pop("population"), "population"),
    ("broken", "not valid TOML"),
], ids=["valid", "negative", "type", "unknown", "missing", "broken"])
def test_real_command_line_on_edited_files(tmp_path, change, needle):
    """The same contract through a real ``python -m sim`` process, for run and validate."""
    doc = copy.deepcopy(BASE)
    if change == "broken":
        text = tomli_w.dumps(doc).replace("[capacity]", "[capacity", 1)
    else:
        change(doc)
        text = tomli_w.dumps(doc)
    scenario = tmp_path / "edited.toml"
    scenario.write_text(text)
    out = tmp_path / "out"
    for args in (["validate", str(scenario)], ["run", str(scenario), "--reps", "1", "--quiet", "--out", str(out)]):
        res = cli_subprocess(*args)
        assert "Traceback" not in res.stderr
        if needle is None:
            assert res.returncode == 0, res.stderr
            continue
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), res.stderr
        assert needle in lines[0], lines[0]
    assert out.exists() == (needle is None)


# ------------------------------------------------------------------------------------ huge inputs
@pytest.mark.parametrize("args,needle", [
    (["--reps", "1000000000"], "reps = 1000000000; allowed: 1 to 100000"),
    (["--set", "demand.patients_per_week=1000000"], "demand.patients_per_week = 1000000"),
    (["--set", "run.horizon_weeks=1000000"], "run.horizon_weeks = 1000000"),
    (["--set", "run.warmup_weeks=1000000"], "run.warmup_weeks = 1000000"),
    (["--set", "run.follow_up_weeks=1000000"], "run.follow_up_weeks = 1000000"),
    (["--set", "capacity.chairs=1000000000"], "capacity.chairs = 1000000000"),
    (["--set", "drug.schedule=[]"], "drug.schedule"),
], ids=["reps", "patients", "horizon", "warmup", "follow_up", "capacity", "empty-schedule"])
def test_huge_inputs_are_refused_quickly_with_the_limit(capsys, tmp_path, args, needle):
    started = time.monotonic()
    status, _, stderr = cli_in_process(capsys, "run", str(REFERENCE), "--quiet", "--executor", "serial",
                                       "--out", str(tmp_path / "o"), *args)
    assert time.monotonic() - started < 10
    lines = stderr.strip().splitlines()
    assert status == 2 and len(lines) == 1 and needle in lines[0], stderr
    assert re.search(r"allowed|less than or equal|at least", lines[0]), lines[0]
    assert not (tmp_path / "o").exists()


def _validate_doc(capsys, tmp_path, doc) -> tuple[int, str]:
    scenario = tmp_path / "big.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, stderr = cli_in_process(capsys, "validate", str(scenario))
    return status, stderr


def test_combined_size_is_refused(capsys, tmp_path):
    doc = resolved_reference(warmup_weeks=520, horizon_weeks=520, follow_up_weeks=104)
    doc["demand"]["patients_per_week"] = 500
    status, stderr = _validate_doc(capsys, tmp_path, doc)
    assert status == 2 and "Traceback" not in stderr, stderr


@pytest.mark.parametrize("where", ["schedule", "next_dose"])
def test_unbounded_hours_are_refused(capsys, tmp_path, where):
    doc = copy.deepcopy(BASE)
    if where == "schedule":
        doc["drug"]["schedule"][0]["monitor_hours"]["value"] = 1e20
    else:
        doc["drug"]["management"]["crs"][1]["next_dose_monitor_hours"]["value"] = 1e20
    status, stderr = _validate_doc(capsys, tmp_path, doc)
    assert status == 2, stderr


def test_many_risk_factors_are_refused(capsys, tmp_path):
    doc = copy.deepcopy(BASE)
    for j in range(30):
        doc["population"]["risk_factors"][f"factor_{j}"] = {"value": 0.1, "source": "test"}
    status, stderr = _validate_doc(capsys, tmp_path, doc)
    assert status == 2, stderr


# ------------------------------------------------------------------------------------ data only
MARKER = "EXECUTED_MARKER"


def test_scenario_text_is_never_executed(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = f"__import__('os').system('touch {MARKER}')"
    doc = copy.deepcopy(BASE)
    doc["name"] = "code-like"
    doc["description"] = f"{payload} $(touch {MARKER}) {{{{ 7*7 }}}} ${{HOME}}"
    doc["strategy"]["name"] = payload
    doc["population"]["weight_kg_mean"]["source"] = payload
    scenario = tmp_path / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, out, _ = cli_in_process(capsys, "validate", str(scenario), "--print")
    assert status == 0
    assert tomllib.loads(out)["description"] == doc["description"]          # kept as text, verbatim
    status, _, _ = cli_in_process(capsys, "run", str(scenario), "--reps", "1", "--executor", "serial", "--quiet",
                                  "--out", str(tmp_path / "o"))
    assert status == 0
    # a Python file offered as a scenario, an extends target or a drug file is refused as bad TOML
    code = tmp_path / "evil.py"
    code.write_text(f"open({str(tmp_path / MARKER)!r}, 'w').write('ran')\n")
    (tmp_path / "extends.toml").write_text('extends = "evil.py"\nname = "x"\n')
    (tmp_path / "drugfile.toml").write_text(f'extends = "{REFERENCE.as_posix()}"\n[drug]\nfile = "evil.py"\n')
    for target in ("evil.py", "extends.toml", "drugfile.toml"):
        status, _, err = cli_in_process(capsys, "validate", str(tmp_path / target))
        assert status == 2 and "not valid TOML" in err and "Traceback" not in err, err
    assert not list(tmp_path.rglob(f"*{MARKER}*"))


def test_loading_never_evaluates_code(monkeypatch):
    """Load every preset and an upload with eval/exec/pickle/marshal made to fail: none is used."""
    def refuse(*_a, **_k):
        raise AssertionError("code evaluation while loading a scenario")

    for target, name in ((builtins, "eval"), (builtins, "exec"), (pickle, "loads"), (marshal, "loads")):
        monkeypatch.setattr(target, name, refuse)
    for path in sorted(SCENARIOS.glob("*.toml")):
        loader.load(path)
    loader.loads(REFERENCE.read_text(), "upload", base_dir=SCENARIOS)
    source = (ROOT / "sim" / "config" / "loader.py").read_text()
    for call in ("eval(", "exec(", "pickle", "yaml", "import_module", "__import__", "subprocess", "os.system"):
        assert call not in source, call


def test_scenario_name_cannot_choose_where_output_goes(tmp_path, capsys, monkeypatch):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    doc = copy.deepcopy(BASE)
    doc["name"] = str(victim)
    scenario = work / "s.toml"
    scenario.write_text(tomli_w.dumps(doc))
    status, _, _ = cli_in_process(capsys, "run", str(scenario), "--reps", "1", "--executor", "serial", "--quiet")
    survived = (victim / "precious.txt").exists()
    assert status == 2 and survived


# ------------------------------------------------------------------------------------ interrupt
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to see worker processes")
@pytest.mark.parametrize("executor,target", [("processes", "group"), ("processes", "parent"), ("serial", "group")],
                         ids=["ctrl-c-processes", "sigint-parent-only", "ctrl-c-serial"])
def test_interrupted_run_exits_cleanly_and_leaves_nothing(tmp_path, executor, target):
    """SIGINT while replications are running: status 130, one 'interrupted' message, no traceback (also
    none from worker processes), no output folder and no temporary folder, no worker left running.
    'group' sends it to the whole process group, as Ctrl-C in a terminal does."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(REFERENCE), "--reps", "200", "--out", str(out),
                             "--executor", executor, "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        if executor == "processes":
            while not workers and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
                workers = children(proc.pid)
            assert workers, "no worker process appeared"
            time.sleep(2.0)                       # replications under way
            workers = children(proc.pid)
        else:
            time.sleep(6.0)                       # imports, loading, then ~0.15 s per replication of 200
        assert proc.poll() is None, "the run finished before it could be interrupted"
        if target == "group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert [ln for ln in stderr.splitlines() if ln.strip()] == ["interrupted: no output written"], stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    time.sleep(0.5)
    assert not [w for w in workers if running(w)], "worker processes left running"
