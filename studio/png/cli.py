"""`studio png read FILE [--json]`: the generation settings stored in a PNG (the studio's or another tool's)."""

from __future__ import annotations

import argparse
import json
from typing import Any

_SHOWN = ("source", "prompt", "negative", "seed", "steps", "guidance", "sampler", "scheduler", "width", "height",
          "model", "model_hash", "strength")


def register(subparsers: Any) -> None:
    png = subparsers.add_parser("png", help="read generation settings from PNG files")
    sub = png.add_subparsers(dest="png_command", metavar="ACTION", required=True)
    read = sub.add_parser("read", help="show the settings of a PNG (studio, A1111/Forge, ComfyUI, InvokeAI, "
                                       "Fooocus, NovelAI)")
    read.add_argument("file")
    read.add_argument("--json", action="store_true", help="print JSON (prompt, negative, seed, steps, guidance, "
                                                          "sampler, width, height, model, loras, controlnets, ...)")
    read.set_defaults(func=_read)


def _read(args: argparse.Namespace) -> int:
    from studio.png.read import read_png_settings

    settings = read_png_settings(args.file)
    if settings is None:
        if args.json:
            print("null")
        else:
            print(f"{args.file} carries no generation settings.")
        return 1
    if args.json:
        print(json.dumps(settings.to_json_dict(), ensure_ascii=False, indent=2))
        return 0
    for name in _SHOWN:
        value = getattr(settings, name)
        if value not in (None, ""):
            print(f"{name}: {value}")
    for lora in settings.loras:
        print(f"lora: {lora['name']} (weight {lora['weight']:g})")
    for index, unit in enumerate(settings.controlnets):
        print(f"controlnet {index}: " + ", ".join(f"{k}={v}" for k, v in unit.items()))
    for note in settings.notes:
        print(f"note: {note}")
    return 0
