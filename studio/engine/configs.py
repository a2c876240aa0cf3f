"""Config folders for single-file checkpoints, which carry weights but no configuration.

diffusers' `from_single_file` normally fetches a model's configs from the hub; Studio is offline, so it passes a
local diffusers config folder instead. When none sits next to the file (`NAME.config/`), the shipped configs in
`resources/model_configs/<family>/` are used (written by us from the published architectures of SD 1.5, SD 2.1
(768, v-prediction) and SDXL base, and their ControlNets). A base model also needs its CLIP tokenizer files, which
are not ours to ship: they are copied from the local Hugging Face cache, where any of the usual repositories holds
them. The assembled folder lives in `<config dir>/model_configs/<family>/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from studio.engine.errors import ModelError
from studio.engine.sources import FAMILY_NAMES, resolve_hub_id
from studio.engine.settings import config_dir

SHIPPED_CONFIGS = Path(__file__).resolve().parents[2] / "resources" / "model_configs"
# (hub id, subfolder) pairs that hold the tokenizer a family needs, in order of preference.
TOKENIZER_SOURCES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "sd1": {"tokenizer": [("stable-diffusion-v1-5/stable-diffusion-v1-5", "tokenizer"),
                          ("runwayml/stable-diffusion-v1-5", "tokenizer"), ("openai/clip-vit-large-patch14", "")]},
    "sd2": {"tokenizer": [("stabilityai/stable-diffusion-2-1", "tokenizer"),
                          ("stabilityai/stable-diffusion-2-1-base", "tokenizer")]},
    "sdxl": {"tokenizer": [("stabilityai/stable-diffusion-xl-base-1.0", "tokenizer"),
                           ("openai/clip-vit-large-patch14", "")],
             "tokenizer_2": [("stabilityai/stable-diffusion-xl-base-1.0", "tokenizer_2"),
                             ("laion/CLIP-ViT-bigG-14-laion2B-39B-b160k", "")]},
}
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def _unknown_family(file: Path) -> ModelError:
    return ModelError(
        f"Cannot tell which model family {file} belongs to; put its diffusers config folder next to it as "
        f"{file.with_name(file.stem + '.config').name}/."
    )


def _find_tokenizer(hub_sources: list[tuple[str, str]]) -> Path | None:
    for hub_id, subfolder in hub_sources:
        snapshot = resolve_hub_id(hub_id)
        if snapshot is None:
            continue
        folder = snapshot / subfolder if subfolder else snapshot
        if (folder / "tokenizer.json").is_file() or ((folder / "vocab.json").is_file()
                                                    and (folder / "merges.txt").is_file()):
            return folder
    return None


def prepare_base_config(family: str | None, *, file: Path) -> Path:
    """A complete config folder (shipped configs + cached tokenizer) for a single-file base model."""
    if family is None:
        raise _unknown_family(file)
    target = config_dir() / "model_configs" / family
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SHIPPED_CONFIGS / family, target)
    for name, hub_sources in TOKENIZER_SOURCES[family].items():
        folder = _find_tokenizer(hub_sources)
        if folder is None:
            wanted = " or ".join(hub_id for hub_id, _ in hub_sources)
            raise ModelError(
                f"{file} is a {FAMILY_NAMES[family]} checkpoint; loading it offline needs its CLIP tokenizer, "
                f"found neither in the Hugging Face cache ({wanted}) nor in a {file.stem}.config/ folder next to it."
            )
        (target / name).mkdir(exist_ok=True)
        for tokenizer_file in TOKENIZER_FILES:
            if (folder / tokenizer_file).is_file():
                shutil.copyfile(folder / tokenizer_file, target / name / tokenizer_file)
    return target


def shipped_controlnet_config(family: str | None, *, file: Path) -> Path:
    """The shipped config folder for a single-file ControlNet of `family`."""
    if family is None:
        raise _unknown_family(file)
    return SHIPPED_CONFIGS / f"{family}-controlnet"
