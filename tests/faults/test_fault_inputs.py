"""Hostile inputs are refused before they are parsed: a device or FIFO as a scenario, a file or upload
over the size limit, TOML nested thousands deep, a ``--set`` key of thousands of parts, a huge text.
Each refusal is one line naming the file (or field) and the limit, exit status 2, at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from sim.config import limits, loader
from sim.config.errors import ScenarioError
from tests.conftest import REFERENCE, ROOT

DEEP = 5000
QUICK = 5.0          # seconds; the refusals below take milliseconds once the program has started


def _extending(tmp_path, body: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(f'extends = "{REFERENCE.as_posix()}"\n{body}', encoding="utf-8")
    return path


def _cases(tmp_path) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments after ``validate``, text the one error line must hold)."""
    deep_arrays = tmp_path / "deep_arrays.toml"
    deep_arrays.write_text("a = " + "[" * DEEP + "]" * DEEP + "\n")
    deep_tables = tmp_path / "deep_tables.toml"
    deep_tables.write_text("a = " + "{b = " * DEEP + "1" + "}" * DEEP + "\n")
    deep_key = tmp_path / "deep_key.toml"
    deep_key.write_text(".".join(["k"] * DEEP) + " = 1\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    with open(big, "w") as f:                    # a 100 MB description
        f.write('description = "')
        f.write("x" * (100 * 1024**2))
        f.write('"\n')
    long_text = _extending(tmp_path, f'description = "{"x" * (limits.MAX_TEXT_CHARS + 1)}"\n', "long.toml")
    extends_device = tmp_path / "extends_device.toml"
    extends_device.write_text('extends = "/dev/zero"\n')
    key = ".".join(["a"] * DEEP)
    return {
        "dev-zero": (["/dev/zero"], "/dev/zero: is a character device; allowed: a regular file"),
        "fifo": ([fifo], "is a FIFO (named pipe); allowed: a regular file"),
        "folder": ([tmp_path], "is a folder; allowed: a regular file"),
        "drug-file-dev-zero": ([REFERENCE, "--set", "drug.file=/dev/zero"], "/dev/zero: is a character device"),
        "extends-dev-zero": ([extends_device], "/dev/zero: is a character device"),
        "100MB-description": ([big], f"too large ({big.stat().st_size:,} bytes); allowed: at most "
                                     f"{limits.MAX_FILE_BYTES:,} bytes"),
        "long-description": ([long_text], f"description: a text of {limits.MAX_TEXT_CHARS + 1:,} characters; "
                                          f"allowed: at most {limits.MAX_TEXT_CHARS:,}"),
        "deep-arrays": ([deep_arrays], f"nested more than {limits.MAX_NESTING_DEPTH} deep (line 1)"),
        "deep-inline-tables": ([deep_tables], f"nested more than {limits.MAX_NESTING_DEPTH} deep (line 1)"),
        "deep-dotted-key": ([deep_key], f"allowed: at most {limits.MAX_NESTING_DEPTH} levels"),
        "set-key-5000-parts": ([REFERENCE, "--set", f"{key}=1"],
                               f"a key of {DEEP:,} parts; allowed: at most {limits.MAX_NESTING_DEPTH}"),
        "set-value-5000-deep": ([REFERENCE, "--set", "capacity.chairs=" + "[" * DEEP],
                                f"nested more than {limits.MAX_NESTING_DEPTH} deep"),
    }


CASES = ["dev-zero", "fifo", "folder", "drug-file-dev-zero", "extends-dev-zero", "100MB-description",
         "long-description", "deep-arrays", "deep-inline-tables", "deep-dotted-key", "set-key-5000-parts",
         "set-value-5000-deep"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_is_refused_in_one_line_at_once(cli, tmp_path, case):
    args, needle = _cases(tmp_path)[case]
    status, _, err, took = cli("validate", *args)
    assert status == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert needle in err[0], err
    assert len(err[0]) < 500, err                # the refused text is never echoed back
    assert took < QUICK, took


def test_run_refuses_before_simulating(cli, tmp_path, no_replications):
    status, _, err, _ = cli("run", "/dev/zero", "--out", tmp_path / "o", "--quiet")
    assert status == 2 and err == ["error: /dev/zero: is a character device; allowed: a regular file"]
    assert not (tmp_path / "o").exists()


def test_upload_is_bounded_like_a_file():
    """The dashboard's upload goes through loader.loads: the same limits apply."""
    started = time.monotonic()
    text = 'description = "' + "x" * (100 * 1024**2) + '"\n'
    with pytest.raises(ScenarioError, match=rf"upload: too large \({len(text):,} bytes\)"):
        loader.loads(text)
    with pytest.raises(ScenarioError, match="nested more than 32 deep"):
        loader.loads("a = " + "[" * DEEP + "]" * DEEP)
    with pytest.raises(ScenarioError, match=r"k\.k\.k\.\.\.: nested 33 levels or more"):
        loader.loads(".".join(["k"] * DEEP) + " = 1\n")
    assert time.monotonic() - started < QUICK


def test_brackets_inside_strings_and_comments_do_not_count(tmp_path):
    """Only real nesting counts: a description or comment full of brackets is still a valid scenario."""
    many = "[{" * 100
    path = _extending(tmp_path, f'description = "{many} \\" [[[[ "\nname = \'{many}\'  # {many}\n'
                                f'[drug]\nprofile = """\n{many}""" # ]]]]\n', "brackets.toml")
    with pytest.raises(ScenarioError, match="unknown toxicity profile"):   # parsed; the profile is refused
        loader.load(path)
    ok = _extending(tmp_path, f'description = "{many}"  # {many}\n', "ok.toml")
    assert loader.load(ok).description.startswith("[{[{")


def test_every_preset_is_within_the_limits():
    """The limits only stop hostile input: every file of the library loads."""
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        loader.load(path)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["dev-zero", "100MB-description", "deep-arrays"])
def test_real_command_line_refuses_quickly(tmp_path, case):
    """The done-when of the issue: the real program exits 2 with one line in under 5 s."""
    args, needle = _cases(tmp_path)[case]
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "sim", "run", *map(str, args), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    took = time.monotonic() - started
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and needle in lines[0], res.stderr
    assert took < 5, took


def test_sidebar_edits_are_bounded_too():
    """The dashboard's sidebar validates edited data without the TOML parser: the text limit holds there."""
    import tomllib

    data = tomllib.loads(loader.to_toml(loader.load(REFERENCE)))
    data["description"] = "x" * (limits.MAX_TEXT_CHARS + 1)
    with pytest.raises(ScenarioError, match=f"sidebar: description: a text of {limits.MAX_TEXT_CHARS + 1:,} "):
        loader.validate(data, "sidebar")
