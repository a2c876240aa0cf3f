"""Models for the GPU benchmark: full-size random weights from the shipped configs, or the tiny test models.

Compute does not depend on weight values, so random weights measure speed as real ones would. Layouts are the
ones the engine loads: a diffusers folder with the ControlNets in `controlnets/<kind>/`.

    build_models(folder, tiny=False, device="cuda", families=("sd15", "sdxl"))
        ->  {"sd15": path, "sdxl": path, "taesd": path}

Full size (fp16): SD 1.5 (UNet 0.86 B, CLIP ViT-L text encoder, VAE) + edge/pose/depth ControlNets; SDXL base
(UNet 2.6 B, CLIP ViT-L + OpenCLIP bigG text encoders, VAE) + an edge ControlNet; a TAESD-sized AutoencoderTiny.
Tokenizers are built from the tiny vocabulary (`studio.engine.tiny`): real-size text encoders only need token ids
below their vocabulary size. Each model is built once per folder (a marker file says it is complete) and reused.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.engine.request import CONTROL_KINDS
from studio.engine.tiny import CONTROLNETS_DIR, build_tiny_vocab, make_tiny
from studio.engine.tiny_vae import make_tiny_vae

CONFIGS = Path(__file__).resolve().parents[2] / "resources" / "model_configs"
DONE_MARK = "complete.txt"


def _tokenizer(pad_token: str = "<|endoftext|>"):
    from transformers import CLIPTokenizer

    vocab, merges = build_tiny_vocab()
    return CLIPTokenizer(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], pad_token=pad_token,
                         model_max_length=77)


def _model(cls, config_dir: Path, *, device: str):
    with torch.device(device):
        return cls.from_config(cls.load_config(config_dir)).half().eval()


def _text_encoder(cls, config_dir: Path, *, device: str):
    from transformers import CLIPTextConfig

    with torch.device(device):
        return cls(CLIPTextConfig.from_pretrained(config_dir)).half().eval()


def build_sd15(folder: Path, *, device: str, kinds: tuple[str, ...] = CONTROL_KINDS) -> Path:
    """Full-size random SD 1.5 with ControlNets for `kinds`, saved in fp16."""
    from diffusers import AutoencoderKL, ControlNetModel, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    pipe = StableDiffusionPipeline(
        vae=_model(AutoencoderKL, CONFIGS / "sd1" / "vae", device=device),
        text_encoder=_text_encoder(CLIPTextModel, CONFIGS / "sd1" / "text_encoder", device=device),
        tokenizer=_tokenizer(), unet=_model(UNet2DConditionModel, CONFIGS / "sd1" / "unet", device=device),
        scheduler=PNDMScheduler.from_config(PNDMScheduler.load_config(CONFIGS / "sd1" / "scheduler")),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder)
    del pipe
    for kind in kinds:
        net = _model(ControlNetModel, CONFIGS / "sd1-controlnet", device=device)
        net.save_pretrained(folder / CONTROLNETS_DIR / kind)
        del net
    return folder


def build_sdxl(folder: Path, *, device: str, kinds: tuple[str, ...] = ("edge",)) -> Path:
    """Full-size random SDXL base with ControlNets for `kinds`, saved in fp16."""
    from diffusers import (AutoencoderKL, ControlNetModel, EulerDiscreteScheduler, StableDiffusionXLPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    pipe = StableDiffusionXLPipeline(
        vae=_model(AutoencoderKL, CONFIGS / "sdxl" / "vae", device=device),
        text_encoder=_text_encoder(CLIPTextModel, CONFIGS / "sdxl" / "text_encoder", device=device),
        text_encoder_2=_text_encoder(CLIPTextModelWithProjection, CONFIGS / "sdxl" / "text_encoder_2",
                                     device=device),
        tokenizer=_tokenizer(), tokenizer_2=_tokenizer("!"),
        unet=_model(UNet2DConditionModel, CONFIGS / "sdxl" / "unet", device=device),
        scheduler=EulerDiscreteScheduler.from_config(
            EulerDiscreteScheduler.load_config(CONFIGS / "sdxl" / "scheduler")),
        add_watermarker=False)
    pipe.save_pretrained(folder)
    del pipe
    for kind in kinds:
        net = _model(ControlNetModel, CONFIGS / "sdxl-controlnet", device=device)
        net.save_pretrained(folder / CONTROLNETS_DIR / kind)
        del net
    return folder


def build_taesd(folder: Path) -> Path:
    """A random AutoencoderTiny with the TAESD architecture (diffusers' defaults), saved in fp16."""
    from diffusers import AutoencoderTiny

    torch.manual_seed(0)
    AutoencoderTiny().half().save_pretrained(folder)
    return folder


def build_models(folder: str | Path, *, tiny: bool, device: str,
                 families: tuple[str, ...] = ("sd15", "sdxl")) -> dict[str, Path]:
    """Build (or reuse) the benchmark's models for `families` (and the tiny VAE) under `folder`."""
    root = Path(folder)
    paths = {"sd15": root / "sd15", "sdxl": root / "sdxl", "taesd": root / "taesd"}
    builders = {
        "sd15": lambda: make_tiny(paths["sd15"], family="sd15") if tiny else build_sd15(paths["sd15"], device=device),
        "sdxl": lambda: make_tiny(paths["sdxl"], family="sdxl") if tiny else build_sdxl(paths["sdxl"], device=device),
        "taesd": lambda: make_tiny_vae(paths["taesd"]) if tiny else build_taesd(paths["taesd"]),
    }
    for name in (*families, "taesd"):
        if not (paths[name] / DONE_MARK).exists():
            builders[name]()
            (paths[name] / DONE_MARK).write_text("built\n")
            if device == "cuda":
                torch.cuda.empty_cache()
    return paths
