"""Engine overhead benchmark: Studio's engine against plain diffusers on the same models and request.

    .venv/bin/python tests/benchmarks/bench_engine.py [--repeats N] [--steps N] [--size PX] [--controls N]

Both run in this process, alternating (engine, diffusers, engine, ...) so that drift in machine load hits both.
On CPU the models are the tiny random ones (`make_tiny`, written to a temp dir); with CUDA, a full-size SD 1.5
UNet + VAE + text encoder and ControlNets are built with random weights from `resources/model_configs/sd1*`
(compute does not depend on weight values) and saved as a diffusers folder the engine loads. Prints seconds per
image for both, the ratio engine / diffusers (target <= 1.05), and whether both made identical pixels.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.engine.pipeline import Engine
from studio.engine.request import CONTROL_KINDS, ControlInput, GenerationRequest
from studio.engine.settings import ModelSettings
from studio.engine.tiny import CONTROLNETS_DIR, build_tiny_vocab, make_tiny

CONFIGS = Path(__file__).resolve().parents[2] / "resources" / "model_configs"


def build_full_size_sd15(folder: Path, *, kinds: list[str]) -> Path:
    """Random-weight SD 1.5 (+ ControlNets for `kinds`) in fp16 as a diffusers folder, from our shipped configs."""
    from diffusers import (AutoencoderKL, ControlNetModel, PNDMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    with torch.device("cuda"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(CONFIGS / "sd1" / "unet")).half()
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(CONFIGS / "sd1" / "vae")).half()
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(CONFIGS / "sd1" / "text_encoder")).half()
        controlnets = {kind: ControlNetModel.from_config(ControlNetModel.load_config(CONFIGS / "sd1-controlnet"))
                       .half() for kind in kinds}
    vocab, merges = build_tiny_vocab()  # a real-size text encoder only needs token ids below its vocab size
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], model_max_length=77)
    scheduler = PNDMScheduler.from_config(PNDMScheduler.load_config(CONFIGS / "sd1" / "scheduler"))
    StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                            safety_checker=None, feature_extractor=None, requires_safety_checker=False
                            ).save_pretrained(folder)
    for kind, model in controlnets.items():
        model.save_pretrained(folder / CONTROLNETS_DIR / kind)
    return folder


def control_map(size: int, seed: int) -> np.ndarray:
    """White strokes on black, already at the output size (so neither side pays for resizing)."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), dtype=np.uint8)
    for _ in range(12):
        x, y = rng.integers(0, size, 2)
        image[max(0, y - 1):y + 1, :] = 255 if rng.random() < 0.5 else 0
        image[:, max(0, x - 1):x + 1] = 255
    return image


def plain_diffusers(base: Path, kinds: list[str], *, device: str, dtype: torch.dtype):
    """The same models loaded separately the ordinary diffusers way."""
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, UniPCMultistepScheduler
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

    nets = [ControlNetModel.from_pretrained(base / CONTROLNETS_DIR / k, dtype=dtype) for k in kinds]
    pipe = StableDiffusionControlNetPipeline.from_pretrained(
        base, controlnet=nets[0] if len(nets) == 1 else MultiControlNetModel(nets), dtype=dtype,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cuda = torch.cuda.is_available()
    parser.add_argument("--repeats", type=int, default=5 if cuda else 9)
    parser.add_argument("--steps", type=int, default=20 if cuda else 8)
    parser.add_argument("--size", type=int, default=512 if cuda else 64)
    parser.add_argument("--controls", type=int, default=1 if cuda else 2, choices=(1, 2, 3))
    parser.add_argument("--runs-per-repeat", type=int, default=1 if cuda else 5)
    args = parser.parse_args()
    if not cuda:
        torch.set_num_threads(1)
    kinds = list(CONTROL_KINDS[: args.controls])
    device, dtype = ("cuda", torch.float16) if cuda else ("cpu", torch.float32)

    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp) / "model"
        if cuda:
            build_full_size_sd15(base, kinds=kinds)
        else:
            make_tiny(base)
        request = GenerationRequest(
            prompt="a cat on a sofa, studio light", negative_prompt="blurry", width=args.size, height=args.size,
            steps=args.steps, guidance_scale=7.0, seed=3, scheduler="unipc",
            controls=[ControlInput(kind, control_map(args.size, i)) for i, kind in enumerate(kinds)])
        engine = Engine(ModelSettings.for_model(str(base), device="cuda" if cuda else "cpu"))
        engine.prepare(request)
        pipe = plain_diffusers(base, kinds, device=device, dtype=dtype)
        maps = [Image.fromarray(c.image) for c in request.controls]
        call = dict(prompt=request.prompt, negative_prompt=request.negative_prompt, width=args.size,
                    height=args.size, num_inference_steps=args.steps, guidance_scale=request.guidance_scale,
                    image=maps[0] if len(maps) == 1 else maps)

        def run_engine() -> Image.Image:
            return engine.generate(request, on_progress=lambda p: None).images[0]

        def run_diffusers() -> Image.Image:
            generator = [torch.Generator("cpu").manual_seed(request.seed)]
            return pipe(**call, generator=generator).images[0]

        def timed(fn) -> tuple[float, Image.Image]:
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(args.runs_per_repeat):
                image = fn()
            if cuda:
                torch.cuda.synchronize()
            return (time.perf_counter() - start) / args.runs_per_repeat, image

        timed(run_engine), timed(run_diffusers)  # warm-up (kernels, caches)
        engine_times, diffusers_times = [], []
        for _ in range(args.repeats):
            seconds, engine_image = timed(run_engine)
            engine_times.append(seconds)
            seconds, diffusers_image = timed(run_diffusers)
            diffusers_times.append(seconds)

    same = np.array_equal(np.asarray(engine_image), np.asarray(diffusers_image))
    e, d = statistics.median(engine_times), statistics.median(diffusers_times)
    name = torch.cuda.get_device_name() if cuda else "CPU (1 thread)"
    models = "full-size SD 1.5 (random weights)" if cuda else "tiny random SD 1.x"
    print(f"device: {name}; models: {models}; {args.size}x{args.size}, {args.steps} steps, "
          f"{len(kinds)} ControlNet(s) ({', '.join(kinds)}), UniPC, CFG 7; {args.repeats} alternating repeats "
          f"x {args.runs_per_repeat} run(s)")
    print(f"engine:   {e:.4f} s/image (median; min {min(engine_times):.4f})")
    print(f"diffusers: {d:.4f} s/image (median; min {min(diffusers_times):.4f})")
    print(f"ratio engine/diffusers: {e / d:.3f} (target <= 1.05); identical images: {same}")


if __name__ == "__main__":
    main()
