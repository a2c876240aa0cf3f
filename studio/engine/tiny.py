"""Tiny random models for tests, benchmarks and demos, in the on-disk layouts the loader reads.

`make_tiny(dir, family="sd15")` writes, in a few seconds and from a fixed seed:

    dir/                       a diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/,
                               tokenizer/, scheduler/; SDXL adds text_encoder_2/ and tokenizer_2/)
    dir/controlnets/<kind>/    one ControlNet folder per kind (edge, pose, depth)

The models are random but shaped like the real ones (VAE down-scales by 8, 4 latent channels, CLIP text encoder
with a byte-level BPE tokenizer built here), so a 64x64, 4-step generation runs in well under a second on a CPU.
The ControlNets' zero convolutions are given small random weights so that their control images change the result.
`write_single_files(dir)` adds single-file checkpoints in the original (LDM) key layout for the loader's
single-file path (SD 1.x family only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.engine.errors import EngineError
from studio.engine.request import CONTROL_KINDS

FAMILIES = ("sd15", "sdxl")
CONTROLNETS_DIR = "controlnets"
TEXT_WIDTH = 32
_WORDS = ("a", "an", "the", "of", "in", "on", "cat", "dog", "photo", "red", "blue", "house", "tree", "portrait",
          "woman", "man", "city", "night", "painting", "sky", "blurry", "ugly")


@dataclass(frozen=True)
class TinyModels:
    """Where `make_tiny` put things."""

    base: Path
    controlnets: dict[str, Path]
    family: str


def byte_level_alphabet() -> list[str]:
    """The 256 printable characters byte-level BPE uses for the bytes 0..255 (GPT-2/CLIP convention)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def build_tiny_vocab() -> tuple[dict[str, int], list[str]]:
    """A small CLIP-style vocabulary and merge list: single bytes, word ends and merges for a few words."""
    alphabet = byte_level_alphabet()
    tokens = alphabet + [c + "</w>" for c in alphabet]
    merges: list[str] = []
    for word in _WORDS:
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            merge = f"{parts[0]} {parts[1]}"
            joined = parts[0] + parts[1]
            if merge not in merges:
                merges.append(merge)
                tokens.append(joined)
            parts = [joined] + parts[2:]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    return vocab, merges


def _tokenizer(pad_token: str):
    from transformers import CLIPTokenizer

    vocab, merges = build_tiny_vocab()
    pairs = [tuple(merge.split(" ")) for merge in merges]
    return CLIPTokenizer(vocab=vocab, merges=pairs, pad_token=pad_token, model_max_length=77)


def _text_encoder(vocab_size: int, *, with_projection: bool, seed: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    vocab, _ = build_tiny_vocab()
    config = CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=TEXT_WIDTH, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, projection_dim=TEXT_WIDTH, hidden_act="quick_gelu",
        bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    torch.manual_seed(seed)
    model_class = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return model_class(config).eval()


def _unet(family: str, *, seed: int, in_channels: int = 4):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    common = dict(sample_size=8, in_channels=in_channels, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
                  norm_num_groups=8)
    if family == "sd15":
        return UNet2DConditionModel(
            **common, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=TEXT_WIDTH,
            attention_head_dim=4,
        )
    return UNet2DConditionModel(
        **common, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=2 * TEXT_WIDTH,
        attention_head_dim=(2, 4), use_linear_projection=True, transformer_layers_per_block=(1, 1),
        addition_embed_type="text_time", addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + TEXT_WIDTH,
    )


def _vae(*, seed: int, scaling_factor: float):
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 16, 16), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=4,
        sample_size=64, scaling_factor=scaling_factor,
    ).eval()


def _scheduler():
    from diffusers import DDIMScheduler

    return DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                         set_alpha_to_one=False, steps_offset=1, num_train_timesteps=1000)


def _controlnet(unet, *, seed: int):
    """A ControlNet shaped after `unet`, random throughout (zero convolutions included)."""
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16),
                                           load_weights_from_unet=False)
    zero_initialised = list(controlnet.controlnet_down_blocks) + [controlnet.controlnet_mid_block,
                                                                   controlnet.controlnet_cond_embedding.conv_out]
    with torch.no_grad():
        for layer in zero_initialised:
            layer.weight.normal_(0.0, 0.2)
            layer.bias.normal_(0.0, 0.02)
    return controlnet.eval()


def make_tiny(directory: str | Path, *, family: str = "sd15", seed: int = 0, inpaint: bool = False) -> TinyModels:
    """Write a tiny random base model and edge, pose and depth ControlNets into `directory`.

    `inpaint` makes the UNet a 9-channel inpainting UNet (latents + mask + masked-picture latents, as SD
    inpainting checkpoints have); its ControlNets still take the 4 latent channels."""
    if family not in FAMILIES:
        raise EngineError(f"Unknown tiny model family {family!r}; choose one of: {', '.join(FAMILIES)}.")
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    base = Path(directory)
    base.mkdir(parents=True, exist_ok=True)
    vocab_size = len(build_tiny_vocab()[0])
    unet = _unet(family, seed=seed)
    control_source = unet
    if inpaint:
        unet = _unet(family, seed=seed, in_channels=9)
        StableDiffusionPipeline, StableDiffusionXLPipeline = _inpaint_classes()
    if family == "sd15":
        pipe = StableDiffusionPipeline(
            vae=_vae(seed=seed + 1, scaling_factor=0.18215), text_encoder=_text_encoder(
                vocab_size, with_projection=False, seed=seed + 2), tokenizer=_tokenizer("<|endoftext|>"),
            unet=unet, scheduler=_scheduler(), safety_checker=None, feature_extractor=None,
            requires_safety_checker=False,
        )
    else:
        pipe = StableDiffusionXLPipeline(
            vae=_vae(seed=seed + 1, scaling_factor=0.13025),
            text_encoder=_text_encoder(vocab_size, with_projection=False, seed=seed + 2),
            text_encoder_2=_text_encoder(vocab_size, with_projection=True, seed=seed + 3),
            tokenizer=_tokenizer("<|endoftext|>"), tokenizer_2=_tokenizer("!"), unet=unet,
            scheduler=_scheduler(), add_watermarker=False,
        )
    pipe.save_pretrained(base, safe_serialization=True)
    controlnets = {}
    for index, kind in enumerate(CONTROL_KINDS):
        path = base / CONTROLNETS_DIR / kind
        _controlnet(control_source, seed=seed + 10 + index).save_pretrained(path, safe_serialization=True)
        controlnets[kind] = path
    return TinyModels(base=base, controlnets=controlnets, family=family)


def _inpaint_classes():
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline

    return StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline


def write_single_files(tiny: TinyModels, directory: str | Path) -> dict[str, Path]:
    """Write `tiny`'s base model and ControlNets as single `.safetensors` files in the original (LDM) layout.

    Each file gets its diffusers config folder next to it (`NAME.config/`), which is where the loader looks for
    the configuration of a single file. Returns {"base": path, "<kind>": path, ...}.
    """
    from diffusers import ControlNetModel, StableDiffusionPipeline
    from safetensors.torch import save_file

    from studio.engine.ldm_layout import controlnet_to_ldm, pipeline_to_ldm

    if tiny.family != "sd15":
        raise EngineError("Single-file tiny models are written for the SD 1.x family only.")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    pipe = StableDiffusionPipeline.from_pretrained(tiny.base, local_files_only=True)
    written = {"base": out / "base.safetensors"}
    save_file(pipeline_to_ldm(pipe), written["base"])
    _copy_configs(tiny.base, out / "base.config")
    for kind, path in tiny.controlnets.items():
        controlnet = ControlNetModel.from_pretrained(path, local_files_only=True)
        written[kind] = out / f"controlnet-{kind}.safetensors"
        save_file(controlnet_to_ldm(controlnet), written[kind])
        _copy_configs(path, out / f"controlnet-{kind}.config")
    return written


def _copy_configs(source: Path, target: Path) -> None:
    """Copy the JSON and text files (configs, tokenizer) of a model folder, without weights or bundled ControlNets."""
    import shutil

    for file in source.rglob("*"):
        relative = file.relative_to(source)
        if file.is_file() and file.suffix in (".json", ".txt") and relative.parts[0] != CONTROLNETS_DIR:
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)


def describe(tiny: TinyModels) -> str:
    """A short human-readable summary of what `make_tiny` wrote."""
    lines = [f"base ({tiny.family}): {tiny.base}"]
    lines += [f"controlnet {kind}: {path}" for kind, path in tiny.controlnets.items()]
    return "\n".join(lines)

