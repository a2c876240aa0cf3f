"""The `studio` command. Each area adds its own sub-commands from `studio/<area>/cli.py`.

An area module exposes `register(subparsers)`; it adds parsers whose `func` attribute takes the parsed
arguments and returns an exit code. Area modules import heavy libraries (torch, diffusers) inside their
handlers so that `studio --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from studio.cli_output import quiet_libraries
from studio.errors import StudioError

# Area modules, in the order their commands appear in `studio --help`.
AREAS = (
    "studio.engine.cli",      # generate, models, benchmark
    "studio.document.cli",    # pose, edges, depth
    "studio.history.cli",     # history
    "studio.assistant.cli",   # assistant
    "studio.png.cli",         # png read
    "studio.scorer.cli",      # scorer
    "studio.train.cli",       # train lora, train controlnet
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="ControlNet Studio command line.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 1
    try:
        return int(func(args) or 0)
    except StudioError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
