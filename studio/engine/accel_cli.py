"""`studio accel ...`: see and manage the speed-ups.

    studio accel show [--device cuda|cpu] [--free-gb X]   the auto options and the memory plan they lead to
    studio accel clear-cache                               delete the persistent torch.compile cache

`studio generate --accel auto|off` (see cli.py) picks the options for one generation; a one-shot command does not
compile in the background (the process ends before a compile would pay off).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `accel` command group."""
    accel = subparsers.add_parser("accel", help="show the speed-ups and manage the compile cache")
    sub = accel.add_subparsers(dest="accel_command", metavar="ACTION", required=True)
    p = sub.add_parser("show", help="print the automatic speed-up options and the low-VRAM plan")
    p.add_argument("--device", choices=("cuda", "cpu"), help="default: cuda when available")
    p.add_argument("--free-gb", type=float, help="free GPU memory to plan for (default: measured)")
    p.add_argument("--family", choices=("sd1", "sd2", "sdxl"), default="sd1")
    p.set_defaults(func=_show)
    p = sub.add_parser("clear-cache", help="delete the persistent torch.compile cache")
    p.set_defaults(func=_clear)


def accelerator_for(choice: str, device: str) -> Any:
    """The `optimize` object for `studio generate --accel CHOICE` on `device` (None for "off")."""
    from studio.engine.accel import Accelerator
    from studio.engine.accel_options import AccelOptions

    if choice == "off":
        return None
    return Accelerator(AccelOptions.auto("cuda" if device == "cuda" else "cpu", compile=False))


# Published weight sizes in fp16 (base = UNet + VAE + text encoders), used when no model is loaded.
_TYPICAL = {"sd1": (2.13, 1.72), "sd2": (2.6, 1.73), "sdxl": (6.94, 5.14)}


def _show(args: argparse.Namespace) -> int:
    import torch

    from studio.engine.accel_options import AccelOptions
    from studio.engine.compile_cache import cache_size_bytes, default_compile_cache_dir
    from studio.engine.lowvram import GIB, choose_memory_plan, free_memory_bytes

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    options = AccelOptions.auto(device)
    print(json.dumps(options.to_dict(), indent=2))
    if args.free_gb is not None:
        free = int(args.free_gb * GIB)
    elif device == "cuda" and torch.cuda.is_available():
        free = free_memory_bytes()[0]
    else:
        free = None
    if free is not None:
        weights, unet = (int(x * GIB) for x in _TYPICAL[args.family])
        plan = choose_memory_plan(requested=options.memory, free_bytes=free, weights=weights, unet_bytes=unet,
                                  family=args.family)
        on_off = {True: "on", False: "off"}
        print(f"memory plan for {args.family}: {plan.mode} ({plan.reason}); VAE tiling {on_off[plan.vae_tiling]}; "
              f"compile and CUDA graphs {on_off[plan.speedups_fit]}")
    folder = default_compile_cache_dir()
    print(f"compile cache: {folder} ({cache_size_bytes(folder) / 2**20:.1f} MiB)")
    return 0


def _clear(_args: argparse.Namespace) -> int:
    from studio.engine.compile_cache import clear_compile_cache

    print(f"deleted {clear_compile_cache()}")
    return 0
