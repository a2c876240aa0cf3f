"""`studio generate` and `studio models ...`: the engine from the command line.

    studio models make-tiny DIR [--family sd15|sdxl]
    studio models add NAME SOURCE [--controlnet KIND=SOURCE ...] [--config DIR] [--activate]
    studio models set [--active NAME] [--model NAME --controlnet KIND=SOURCE ...] [--allow-pickle on|off]
                      [--device auto|cuda|cpu] [--dtype auto|fp16|bf16|fp32] [--lora-dir DIR]
    studio models remove NAME
    studio models list
    studio models hash PATH ...            (sha256 and A1111 `Model hash` of model files or folders, cached)
    studio generate [--model SOURCE] [--controlnet KIND=SOURCE ...] --control KIND=IMAGE[,weight=W,start=S,end=E,
                    mode=M,resize=R] ... --prompt TEXT | --from-png PNG [--negative TEXT] [--steps N] [--guidance X] [--seed N]
                    [--width W --height H] [--scheduler NAME] [--batch N] [--init IMAGE --strength S]
                    [--mask MASK.png [--mask-blur PX] [--only-masked --padding PX]]
                    [--hires SCALE [--hires-strength S] [--hires-steps N] [--hires-upscaler lanczos|latent]]
                    [--lora FILE[:WEIGHT] ...] [--lora-dir DIR] [--accel auto|off] --out FILE.png
                    [--document DOC.studio]
    studio accel show|clear-cache          (see accel_cli.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.engine.errors import RequestError, SettingsError
from studio.errors import StudioError
from studio.engine.request import CONTROL_KINDS, SCHEDULERS


def register(subparsers: Any) -> None:
    """Add the `generate`, `models` and `accel` commands."""
    from studio.engine import accel_cli

    _register_generate(subparsers)
    _register_models(subparsers)
    accel_cli.register(subparsers)


# ------------------------------------------------------------------------------------------------ parsing helpers
def _kind_value(text: str) -> tuple[str, str]:
    kind, sep, value = text.partition("=")
    if not sep or not value:
        raise argparse.ArgumentTypeError(f"expected KIND=VALUE, got {text!r}")
    if kind not in CONTROL_KINDS:
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r}; kinds: {', '.join(CONTROL_KINDS)}")
    return kind, value


def _lora_arg(text: str) -> Any:
    from studio.engine.lora import parse_lora_arg

    return parse_lora_arg(text)


def _on_off(text: str) -> bool:
    if text.lower() in ("on", "yes", "true", "1"):
        return True
    if text.lower() in ("off", "no", "false", "0"):
        return False
    raise argparse.ArgumentTypeError("expected on or off")


_CONTROL_OPTIONS = {"weight": float, "start": float, "end": float, "mode": str, "resize": str}


def parse_control(kind: str, spec: str) -> Any:
    """`--control KIND=IMAGE[,weight=W,start=S,end=E,mode=M,resize=R]` -> ControlInput (image read)."""
    from studio.engine.control_images import read_rgb_image
    from studio.engine.request import ControlInput

    path, *options = spec.split(",")
    values: dict[str, Any] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or name not in _CONTROL_OPTIONS:
            raise RequestError(f"Unknown control option {option!r}; use {', '.join(_CONTROL_OPTIONS)}.")
        try:
            values["resize_mode" if name == "resize" else name] = _CONTROL_OPTIONS[name](value)
        except ValueError as exc:
            raise RequestError(f"Control option {name} needs a number, got {value!r}.") from exc
    return ControlInput(kind=kind, image=read_rgb_image(path), **values)


# ----------------------------------------------------------------------------------------------------- generate
def _register_generate(subparsers: Any) -> None:
    p = subparsers.add_parser("generate", help="generate images from a prompt and control maps")
    p.add_argument("--model", help="base model: diffusers folder, .safetensors file or cached hub id "
                                   "(default: the active model of the settings)")
    p.add_argument("--controlnet", action="append", type=_kind_value, default=[], metavar="KIND=SOURCE",
                   help="ControlNet for a kind (folder, file or hub id); a --model folder's controlnets/ are used too")
    p.add_argument("--control", action="append", type=_kind_value, default=[], metavar="KIND=IMAGE[,opt=v]",
                   help="control map; options weight, start, end, mode (balanced|prompt|control), "
                        "resize (just_resize|crop_and_resize|resize_and_fill)")
    p.add_argument("--from-png", metavar="PNG", help="start from the settings stored in a PNG (the studio's own "
                   "remakes the same pixels with the same models; other tools' give prompt, seed, steps, size...); "
                   "other flags given override them")
    p.add_argument("--prompt", help="the prompt (required unless --from-png)")
    p.add_argument("--negative", help="negative prompt (default empty)")
    p.add_argument("--steps", type=int, help="steps (default 20)")
    p.add_argument("--guidance", type=float, help="guidance scale (default 7)")
    p.add_argument("--seed", type=int)
    p.add_argument("--width", type=int, help="default 512")
    p.add_argument("--height", type=int, help="default 512")
    p.add_argument("--scheduler", choices=SCHEDULERS, help="default unipc")
    p.add_argument("--batch", type=int, help="default 1")
    p.add_argument("--lora", action="append", type=_lora_arg, default=[], metavar="FILE[:WEIGHT]",
                   help="apply a LoRA (.safetensors, kohya/A1111 or diffusers format) with a weight (default 1); "
                        "repeatable. <lora:NAME:WEIGHT> in the prompt also works, found in the LoRA folder")
    p.add_argument("--lora-dir", metavar="DIR", help="LoRA folder for <lora:NAME:W> tags (default: the settings')")
    p.add_argument("--init", metavar="IMAGE", help="refine this image (img2img)")
    p.add_argument("--strength", type=float, help="how much of --init to repaint (0..1, default 0.6)")
    p.add_argument("--mask", metavar="MASK.png", help="inpaint: repaint only the white area of --init (the rest "
                                                       "stays exactly as it was)")
    p.add_argument("--mask-blur", type=int, help="feather of the pasted-back edge in pixels, inside the mask "
                                                 "(default 4)")
    p.add_argument("--only-masked", action="store_true", help="inpaint the masked area (plus --padding) at the "
                                                              "full --width/--height and paste it into --init")
    p.add_argument("--padding", type=int, help="pixels around the mask for --only-masked (default 32)")
    p.add_argument("--hires", type=float, metavar="SCALE", help="hires fix: upscale the result by SCALE (e.g. 2) "
                   "and refine it with the same prompt and ControlNets (text-to-image only)")
    p.add_argument("--hires-strength", type=float, metavar="S", help="how much the hires pass repaints "
                   "(0..1, default 0.5)")
    p.add_argument("--hires-steps", type=int, metavar="N", help="steps of the hires pass before the strength "
                   "(default: --steps)")
    p.add_argument("--hires-upscaler", choices=("lanczos", "latent"),
                   help="lanczos: upscale the picture (default); latent: upscale the latents (one decode less)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"))
    p.add_argument("--dtype", choices=("auto", "fp16", "bf16", "fp32"))
    p.add_argument("--allow-pickle", action="store_true", help="allow pickle checkpoints (.ckpt .pt .pth .bin)")
    p.add_argument("--accel", choices=("auto", "off"), default="auto",
                   help="speed-ups that keep the picture (auto: chosen for the device; off: plain diffusers)")
    p.add_argument("--out", required=True, help="output PNG (a batch adds -1, -2, ... to the name)")
    p.add_argument("--document", metavar="DOC",
                   help="also log the generation (request, control images, results) into this .studio document")
    p.set_defaults(func=_generate)


def _settings_for(args: argparse.Namespace) -> Any:
    from studio.engine.settings import ModelSettings

    stored = ModelSettings.load()
    if args.model:
        settings = ModelSettings.for_model(args.model, allow_pickle=stored.allow_pickle, device=stored.device,
                                           dtype=stored.dtype)
    else:
        settings = stored
    entry = settings.active_entry()
    entry.controlnets.update(dict(args.controlnet))
    settings.allow_pickle = settings.allow_pickle or args.allow_pickle
    settings.device = args.device or settings.device
    settings.dtype = args.dtype or settings.dtype
    settings.lora_dir = getattr(args, "lora_dir", None) or stored.lora_dir
    settings.validate()
    return settings


def _output_paths(out: str, count: int) -> list[Path]:
    path = Path(out)
    if path.suffix.lower() != ".png":
        raise RequestError(f"The output {out} must be a .png file.")
    if not path.parent.is_dir():
        raise RequestError(f"The output folder {path.parent} does not exist.")
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i + 1}{path.suffix}") for i in range(count)]


_FLAG_FIELDS = {"prompt": "prompt", "negative": "negative_prompt", "width": "width", "height": "height",
                "steps": "steps", "guidance": "guidance_scale", "seed": "seed", "scheduler": "scheduler",
                "batch": "batch_size", "strength": "strength", "hires": "hires_scale",
                "hires_strength": "hires_strength", "hires_steps": "hires_steps", "hires_upscaler": "hires_upscaler"}


def _request_for(args: argparse.Namespace) -> Any:
    """The request of the flags, on top of --from-png's settings when given."""
    import dataclasses

    from studio.engine.control_images import read_rgb_image
    from studio.engine.request import GenerationRequest

    if args.from_png:
        from studio.png.read import read_png_settings
        from studio.png.remake import request_from_settings

        settings = read_png_settings(args.from_png)
        if settings is None:
            raise RequestError(f"{args.from_png} carries no generation settings to start from.")
        request, notes = request_from_settings(settings)
        args.png_model_hash = settings.model_hash
        print(f"settings from {args.from_png} ({settings.source})")
        for note in notes:
            print(f"note: {note}")
    elif args.prompt is None:
        raise RequestError("Give --prompt (or --from-png with a PNG that has generation settings).")
    else:
        request = GenerationRequest(prompt=args.prompt)
    changes = {field: getattr(args, flag) for flag, field in _FLAG_FIELDS.items() if getattr(args, flag) is not None}
    if args.control:
        changes["controls"] = [parse_control(kind, spec) for kind, spec in args.control]
    if args.init:
        changes["init_image"] = read_rgb_image(args.init)
    if args.mask:
        changes["mask"] = read_rgb_image(args.mask)
    if args.mask_blur is not None:
        changes["mask_blur"] = args.mask_blur
    if args.only_masked:
        changes["inpaint_only_masked"] = True
    if args.padding is not None:
        changes["inpaint_padding"] = args.padding
    if args.lora:
        changes["loras"] = list(request.loras) + list(args.lora)
    return dataclasses.replace(request, **changes)


def _generate(args: argparse.Namespace) -> int:
    from studio.cli_output import step_progress
    from studio.engine.metadata import save_png
    from studio.history.record import log_generation_to_document

    request = _request_for(args)
    request.validate()
    outputs = _output_paths(args.out, request.batch_size)
    from studio.engine.factory import make_engine

    engine = make_engine(_settings_for(args), args.accel)
    try:
        print("loading models...", flush=True)
        engine.prepare(request)
        with step_progress(request.steps, "generating") as update:
            result = engine.generate(request, on_progress=lambda progress: update(progress.step, progress.total))
    except StudioError as exc:
        if args.document:
            log_generation_to_document(args.document, request, error=exc)
        raise
    if args.document:
        logged = log_generation_to_document(args.document, request, result=result)
        print(f"logged in {args.document} (revision {logged.revision})")
    for note in [*result.notes, *_model_hash_notes(args, result.models)]:
        print(f"note: {note}")
    if result.cancelled:
        print("cancelled")
        return 1
    for image, seed, path in zip(result.images, result.seeds, outputs):
        save_png(image, path, request=request, seed=seed, models=result.models)
        print(f"wrote {path} (seed {seed}, {result.timings['run']:.2f} s, {result.device})")
    return 0


def _model_hash_notes(args: argparse.Namespace, models: list[dict[str, Any]]) -> list[str]:
    """A note when --from-png's PNG names another `Model hash` (A1111 AutoV2) than the base model used now."""
    wanted = (getattr(args, "png_model_hash", None) or "").strip().lower()
    used = next((m.get("model_hash") for m in models if m.get("role") == "base"), None)
    if not wanted or not used or used.startswith(wanted) or wanted.startswith(used):
        return []
    return [f"the PNG was made with Model hash {wanted}; this run used {used} (another model, or another "
            "version of it), so the pixels will differ"]


# ------------------------------------------------------------------------------------------------------- models
def _register_models(subparsers: Any) -> None:
    models = subparsers.add_parser("models", help="set up base models and ControlNets")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    p = sub.add_parser("make-tiny", help="write tiny random models (for tests and demos) into DIR")
    p.add_argument("dir")
    p.add_argument("--family", choices=("sd15", "sdxl"), default="sd15")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_make_tiny)

    p = sub.add_parser("list", help="show the model settings and check each model")
    p.set_defaults(func=_list)

    p = sub.add_parser("add", help="add (or replace) a model in the settings")
    p.add_argument("name")
    p.add_argument("source", help="diffusers folder, .safetensors file or cached hub id")
    p.add_argument("--controlnet", action="append", type=_kind_value, default=[], metavar="KIND=SOURCE")
    p.add_argument("--config", help="diffusers config folder for a single-file base model")
    p.add_argument("--activate", action="store_true", help="make it the active model")
    p.set_defaults(func=_add)

    p = sub.add_parser("set", help="change settings")
    p.add_argument("--active", metavar="NAME", help="make NAME the active model")
    p.add_argument("--model", metavar="NAME", help="model whose ControlNets --controlnet sets (default: active)")
    p.add_argument("--controlnet", action="append", type=_kind_value, default=[], metavar="KIND=SOURCE")
    p.add_argument("--allow-pickle", type=_on_off, metavar="on|off")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"))
    p.add_argument("--dtype", choices=("auto", "fp16", "bf16", "fp32"))
    p.add_argument("--lora-dir", metavar="DIR", help="folder of LoRA files (for <lora:NAME:W> and the window's list)")
    p.set_defaults(func=_set)

    p = sub.add_parser("remove", help="remove a model from the settings")
    p.add_argument("name")
    p.set_defaults(func=_remove)

    p = sub.add_parser("hash", help="print the sha256 and the A1111/Civitai `Model hash` (AutoV2) of models")
    p.add_argument("paths", nargs="+", metavar="PATH", help="model file or diffusers folder")
    p.set_defaults(func=_hash)


def _hash(args: argparse.Namespace) -> int:
    from studio.engine.model_hash import autov2, model_sha256

    status = 0
    for path in args.paths:
        try:
            digest = model_sha256(path)
        except StudioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{autov2(digest)}  {digest}  {path}")
    return status


def _make_tiny(args: argparse.Namespace) -> int:
    from studio.engine.tiny import describe, make_tiny
    from studio.engine.tiny_lora import write_tiny_lora
    from studio.engine.tiny_samples import write_samples

    tiny = make_tiny(args.dir, family=args.family, seed=args.seed)
    print(describe(tiny))
    lora = write_tiny_lora(tiny.base, tiny.base / "loras" / "tiny-style.safetensors", seed=args.seed)
    print(f"lora (kohya format): {lora}")
    for kind, path in write_samples(tiny.base).items():
        print(f"sample {kind} map: {path}")
    return 0


def _check(entry: Any, allow_pickle: bool) -> str:
    from studio.engine.errors import StudioError
    from studio.engine.sources import FAMILY_NAMES, locate_base

    try:
        located = locate_base(entry.base, allow_pickle=allow_pickle, config=entry.config)
    except StudioError as exc:
        return f"problem: {exc}"
    family = FAMILY_NAMES.get(located.family or "", "SD")
    return f"ok ({located.layout}, {family}, {located.size_bytes / 2**20:.1f} MiB)"


def _list(_args: argparse.Namespace) -> int:
    from studio.engine.settings import ModelSettings, settings_path

    settings = ModelSettings.load()
    print(f"settings: {settings_path()}")
    print(f"device: {settings.device}, dtype: {settings.dtype}, allow pickle: {settings.allow_pickle}")
    print(f"LoRA folder: {settings.lora_dir or 'none'}")
    if not settings.models:
        print("no models; add one with `studio models add NAME PATH`")
    for name, entry in settings.models.items():
        mark = "*" if name == (settings.active or next(iter(settings.models))) else " "
        print(f"{mark} {name}: {entry.base}  [{_check(entry, settings.allow_pickle)}]")
        for kind, source in entry.controlnets.items():
            print(f"    {kind}: {source}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from studio.engine.settings import ModelEntry, ModelSettings

    settings = ModelSettings.load()
    settings.models[args.name] = ModelEntry(base=args.source, controlnets=dict(args.controlnet), config=args.config)
    if args.activate or settings.active is None:
        settings.active = args.name
    print(f"saved {settings.save()}")
    return 0


def _set(args: argparse.Namespace) -> int:
    from studio.engine.settings import ModelSettings

    settings = ModelSettings.load()
    if args.active is not None:
        if args.active not in settings.models:
            raise SettingsError(f"No model named {args.active!r}; known: {', '.join(settings.models) or 'none'}.")
        settings.active = args.active
    if args.controlnet:
        name = args.model or settings.active
        if name not in settings.models:
            raise SettingsError(f"No model named {name!r} to set ControlNets for.")
        settings.models[name].controlnets.update(dict(args.controlnet))
    if args.allow_pickle is not None:
        settings.allow_pickle = args.allow_pickle
    settings.device = args.device or settings.device
    settings.dtype = args.dtype or settings.dtype
    if args.lora_dir is not None:
        settings.lora_dir = str(Path(args.lora_dir).expanduser().resolve())
    print(f"saved {settings.save()}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from studio.engine.settings import ModelSettings

    settings = ModelSettings.load()
    if args.name not in settings.models:
        raise SettingsError(f"No model named {args.name!r}.")
    del settings.models[args.name]
    if settings.active == args.name:
        settings.active = next(iter(settings.models), None)
    print(f"saved {settings.save()}")
    return 0
