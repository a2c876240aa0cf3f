"""The `studio` command prints Studio's messages only: no library warnings, no library progress bars, and its
own progress bar only on a terminal, ending its line before the next message."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from studio.cli_output import LIBRARY_ENVIRONMENT, quiet_libraries, step_progress

REPO = Path(__file__).resolve().parents[2]


def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items()
               if key not in LIBRARY_ENVIRONMENT and key != "PYTHONWARNINGS"}
    environ.update(PYTHONPATH=str(REPO), STUDIO_CONFIG_DIR=str(tmp_path / "config"), HOME=str(tmp_path))
    return environ


def test_quiet_libraries_keeps_the_users_own_settings():
    environ = {"TRANSFORMERS_VERBOSITY": "info"}
    quiet_libraries(environ)
    assert environ["TRANSFORMERS_VERBOSITY"] == "info"
    assert environ["DIFFUSERS_VERBOSITY"] == "error" and environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


def test_library_warnings_are_hidden_and_studios_are_not():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_libraries({})
        warnings.warn_explicit("from a library", FutureWarning, "x.py", 1, module="transformers.utils")
        warnings.warn_explicit("from torch", UserWarning, "x.py", 1, module="torch")
        warnings.warn_explicit("not a library", UserWarning, "x.py", 1, module="transformers_fork")
        warnings.warn_explicit("from studio", UserWarning, "x.py", 1, module="studio.engine")
    assert [str(w.message) for w in caught] == ["not a library", "from studio"]


def test_progress_prints_nothing_when_not_a_terminal():
    stream = io.StringIO()
    with step_progress(4, "generating", stream=stream) as update:
        for step in range(1, 5):
            update(step, 4)
    assert stream.getvalue() == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_ends_its_line_even_after_an_error():
    leader, follower = os.openpty()
    with open(follower, "w", closefd=True) as terminal:
        with pytest.raises(RuntimeError), step_progress(8, "generating", stream=terminal) as update:
            update(3, 8)
            update(5, 10)  # the engine may correct the total
            raise RuntimeError("cancelled")
        terminal.write("next message\n")
        terminal.flush()
        written = os.read(leader, 65536).decode()
    os.close(leader)
    assert "generating" in written and "5/10" in written
    before_next = written.split("next message")[0]
    assert before_next.replace("\r\n", "\n").endswith("\n"), repr(written[-200:])


def test_cli_prints_no_library_output_when_piped(tmp_path):
    """make-tiny and generate in a fresh process, as a user runs them, with stderr a pipe."""
    environ = _environ(tmp_path)
    make = subprocess.run([sys.executable, "-m", "studio.cli", "models", "make-tiny", "tiny"], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=300)
    assert make.returncode == 0 and make.stderr == "", make.stderr
    generate = subprocess.run(
        [sys.executable, "-m", "studio.cli", "generate", "--model", "tiny", "--control",
         "edge=tiny/samples/sketch.png", "--prompt", "a cat", "--seed", "3", "--steps", "3", "--width", "64",
         "--height", "64", "--out", "out.png"], cwd=tmp_path, env=environ, capture_output=True, text=True,
        timeout=300)
    assert generate.returncode == 0, generate.stderr
    assert generate.stderr == ""  # no warnings, no progress bar in a pipe
    assert generate.stdout.splitlines()[0] == "loading models..."
    assert generate.stdout.splitlines()[-1].startswith("wrote out.png (seed 3,")
    assert "\r" not in generate.stdout
