"""The README's `make-tiny` + `generate` example runs as written (sample maps and LoRA come from make-tiny)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
from engine_fixtures import config_home  # noqa: F401
from PIL import Image

from studio.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_commands() -> list[list[str]]:
    block = README.read_text(encoding="utf-8").split("## Command line", 1)[1].split("```")[1]
    lines = block.replace("\\\n", " ").splitlines()
    wanted = [line for line in lines if line.startswith(("studio models make-tiny", "studio generate"))]
    commands = []
    for line in wanted:
        line = re.sub(r"\s{2,}\(.*\)\s*$", "", line)  # trailing "(comment)"
        line = re.sub(r"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]", "", line)  # optional [...] parts
        commands.append(shlex.split(line)[1:])
    return commands


def test_readme_generate_example_runs_as_written(tmp_path, monkeypatch, config_home, capsys):
    make_tiny, generate = _readme_commands()[:2]  # the later generate lines are variants with placeholders
    monkeypatch.chdir(tmp_path)
    assert main(make_tiny) == 0
    assert Image.open("tiny/samples/sketch.png").size == (512, 512)
    pose = np.asarray(Image.open("tiny/samples/pose.png"))
    assert pose.shape == (512, 512, 3) and (pose > 0).any(axis=2).mean() > 0.01
    assert main(generate) == 0
    out = Image.open("out.png")
    assert out.size == (64, 64) and "<lora:tiny-style:0.8>" in out.text["parameters"]
    assert main([*generate[:generate.index("--prompt") + 1], "a cat", *generate[generate.index("--prompt") + 2:-2],
                 "--lora", "tiny/loras/tiny-style.safetensors:0.8", "--out", "by-flag.png"]) == 0
    assert np.array_equal(np.asarray(Image.open("by-flag.png")), np.asarray(out))
    output = capsys.readouterr().out
    assert "lora (kohya format): tiny/loras/tiny-style.safetensors" in output and "\r" not in output
