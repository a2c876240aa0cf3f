"""GPU benchmark of `studio train lora`: the studio's own training loop (studio.train: peft LoRA of the UNet,
🤗 accelerate, mixed precision, gradient checkpointing) on full-size SD 1.5 (or SDXL) shapes with random weights,
built in memory from the configs in resources/model_configs (no download). Prints steps per second and peak GPU
memory; compute does not depend on weight values, so random weights time a real model.

    python tests/benchmarks/bench_train_gpu.py [--family sd15|sdxl] [--steps 40] [--warmup 5] [--batch 1]
                                               [--resolution 512] [--rank 8] [--precision auto|fp16|bf16|fp32]
                                               [--no-gradient-checkpointing] [--text-encoder] [--out FILE.json]
    python tests/benchmarks/bench_train_gpu.py --tiny     # the tiny test models on the CPU: a smoke run

Needs torch, transformers, diffusers, peft and accelerate (and what they bring: numpy, pillow, tqdm,
safetensors), plus this repository's `studio` package, found from this file's place. Without CUDA (and
without --tiny) it prints one SKIP line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
CONFIGS = ROOT / "resources" / "model_configs"


def _tokenizer(pad_token: str):
    from transformers import CLIPTokenizer

    from studio.engine.tiny import build_tiny_vocab

    vocab, merges = build_tiny_vocab()  # real-size text encoders only need ids below their vocabulary size
    return CLIPTokenizer(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], pad_token=pad_token,
                         model_max_length=77)


def _full_pipe(family: str, device: str):
    """Full-size random SD 1.5 / SDXL in fp32, built on `device` (the run casts it to its precision)."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    folder = CONFIGS / ("sd1" if family == "sd15" else "sdxl")
    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
        text_2 = CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(folder / "text_encoder_2")) \
            if family == "sdxl" else None
    scheduler = DDPMScheduler.from_config(DDPMScheduler.load_config(folder / "scheduler"))
    if family == "sd15":
        return StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=_tokenizer("<|endoftext|>"), unet=unet,
                                       scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    return StableDiffusionXLPipeline(vae=vae, text_encoder=text, text_encoder_2=text_2,
                                     tokenizer=_tokenizer("<|endoftext|>"), tokenizer_2=_tokenizer("!"), unet=unet,
                                     scheduler=scheduler, add_watermarker=False)


def _tiny_pipe(family: str, folder: Path):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from studio.engine.tiny import make_tiny

    made = make_tiny(folder / family, family=family)
    cls = StableDiffusionPipeline if family == "sd15" else StableDiffusionXLPipeline
    return cls.from_pretrained(made.base)


def _rows(count: int, resolution: int, seed: int):
    import numpy as np
    from PIL import Image

    from studio.train.data import Row

    rng = np.random.default_rng(seed)
    return [Row(Image.fromarray(rng.integers(0, 256, (resolution, resolution, 3), dtype=np.uint8)),
                f"a picture in the house style, number {index}", None) for index in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny test models on the CPU (smoke run)")
    parser.add_argument("--family", choices=("sd15", "sdxl"), default="sd15")
    parser.add_argument("--steps", type=int, default=40, help="timed steps (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=5, help="steps before timing starts")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--resolution", type=int, default=None, help="default 512 (SD 1.5), 1024 (SDXL), 64 tiny")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--precision", choices=("auto", "fp16", "bf16", "fp32"), default="auto")
    parser.add_argument("--no-gradient-checkpointing", action="store_true")
    parser.add_argument("--text-encoder", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    import torch

    if not args.tiny and not torch.cuda.is_available():
        print(f"SKIP: bench_train_gpu needs a CUDA device (torch {torch.__version__}, CUDA available: False); "
              "--tiny runs the same code on the CPU with the tiny test models.")
        return 0
    from studio.train.base import BaseModel
    from studio.train.data import TrainingSet
    from studio.train.lora import LoraTask
    from studio.train.loop import run_training
    from studio.train.options import TrainOptions

    device = "cpu" if args.tiny else "cuda"
    resolution = args.resolution or (64 if args.tiny else 512 if args.family == "sd15" else 1024)
    total = args.warmup + args.steps
    options = TrainOptions(steps=total, lr=1e-4, resolution=resolution, batch=args.batch, rank=args.rank,
                           text_encoder=args.text_encoder, precision=args.precision,
                           gradient_checkpointing=not args.no_gradient_checkpointing, validate_every=0,
                           checkpoint_every=0, device=device)
    options.validate()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as temp:
        temp_path = Path(temp)
        started = time.perf_counter()
        pipe = _tiny_pipe(args.family, temp_path) if args.tiny else _full_pipe(args.family, device)
        pipe.set_progress_bar_config(disable=True)
        from diffusers import DDPMScheduler

        base = BaseModel(pipe=pipe, family="sd1" if args.family == "sd15" else "sdxl",
                         identity={"source": f"random {args.family} ({'tiny' if args.tiny else 'full size'})"},
                         noise_scheduler=DDPMScheduler.from_config(pipe.scheduler.config))
        task = LoraTask(base, options)
        build_s = time.perf_counter() - started
        data = TrainingSet(path=temp_path, hash="random", train=_rows(max(8, args.batch * 2), resolution, 0),
                           held_out=[])
        stamps: list[float] = []

        def progress(step: int, _total: int, _loss: float) -> None:
            stamps.append(time.perf_counter())  # after the loss was read back: the step is done on the device

        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        report = run_training(task, data, options, work=temp_path / "work", out=temp_path / "bench.safetensors",
                              on_progress=progress, show_bar=False)
        peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
        reserved = torch.cuda.max_memory_reserved() / 2**30 if device == "cuda" else None
        lora_mb = (temp_path / "bench.safetensors").stat().st_size / 1e6
    timed = stamps[args.warmup:]
    steps_per_s = (len(timed) - 1) / (timed[-1] - timed[0]) if len(timed) > 1 else float("nan")
    trainable = sum(p.numel() for p in task.module.parameters() if p.requires_grad)
    figures = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "family": args.family,
        "tiny": args.tiny, "resolution": resolution, "batch": args.batch, "rank": args.rank,
        "precision": report.mixed_precision, "gradient_checkpointing": options.gradient_checkpointing,
        "text_encoder": args.text_encoder, "timed_steps": len(timed) - 1, "steps_per_s": round(steps_per_s, 3),
        "images_per_s": round(steps_per_s * args.batch, 3), "peak_allocated_gib": peak and round(peak, 2),
        "peak_reserved_gib": reserved and round(reserved, 2), "build_s": round(build_s, 1),
        "trainable_params_m": round(trainable / 1e6, 2), "lora_file_mb": round(lora_mb, 2),
        "losses_finite": all(v == v for _, v in report.losses), "torch": torch.__version__,
    }
    memory = (f"peak {figures['peak_allocated_gib']} GiB allocated, {figures['peak_reserved_gib']} GiB reserved"
              if device == "cuda" else "peak GPU memory: n/a on the CPU")
    print(f"train lora {args.family} {'tiny' if args.tiny else 'full size'} {resolution}x{resolution} batch "
          f"{args.batch} rank {args.rank} {report.mixed_precision} on {figures['device']}: "
          f"{figures['steps_per_s']} steps/s ({figures['images_per_s']} images/s) over {len(timed) - 1} steps "
          f"after {args.warmup} warm-up; {memory}; {figures['trainable_params_m']} M trained weights, "
          f"LoRA file {figures['lora_file_mb']} MB")
    print(json.dumps(figures))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
