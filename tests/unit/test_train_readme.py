"""The README's training commands are ones the parsers take: `studio train ...` as written (placeholders
filled in), and the `accelerate launch` lines' own flags and the studio command they start."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from studio.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Training from the history", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```")[1::2]
    return [[re.sub(r"\s{2,}\(.*\)\s*$", "", line) for line in block.replace("\\\n", " ").splitlines()]
            for block in blocks]


def test_the_studio_train_lines_parse():
    lines = [line for line in _blocks()[0] if line.startswith("studio train")]
    assert len(lines) == 2
    for line in lines:
        optional = re.findall(r"\[([^\[\]]*)\]", line)
        line = re.sub(r"\[[^\[\]]*\]", "", line).replace("MODEL", "m").replace("CONTROLNET", "c")
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.document == Path("poster.studio")
        for part in optional:  # the optional parts parse too
            build_parser().parse_args([*shlex.split(line)[1:], *shlex.split(part.replace("CONTROLNET", "c"))])


def test_the_accelerate_lines_use_real_flags():
    from accelerate.commands.launch import launch_command_parser

    lines = [line for line in _blocks()[1] if line.startswith("accelerate launch")]
    assert len(lines) == 2 and any("--multi_gpu" in line for line in lines)
    assert any("--num_machines" in line for line in lines)
    for line in lines:
        words = shlex.split(line.replace("HOST", "10.0.0.1"))[2:]
        split = words.index("-m")
        launch = launch_command_parser().parse_args([*words[:split], "-m", "studio.cli"])
        assert launch.multi_gpu
        studio = [w.replace("DIR", "d").replace("MODEL", "m").replace("F.safetensors", "f.safetensors")
                  for w in words[split + 2:] if w != "..."]
        if studio[:2] == ["train", "controlnet"]:
            studio += ["--data", "d", "--model", "m", "--kind", "edge", "--out", "o"]
        build_parser().parse_args(studio)
