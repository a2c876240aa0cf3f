"""Loaded models and assembled pipelines, kept between requests and keyed by model identity.

One base model is held at a time (they are large); switching base models drops the old one with its ControlNets
and pipelines. ControlNets are held per identity. A pipeline (text-to-image or refine, with the request's
ControlNets in order) is assembled once with `from_pipe`, which shares the loaded modules, and passed once
through the `optimize` callback: the single place where speed-ups (see `accel.py`) touch a built pipeline.
An `optimize` object may also offer `placement(pipe, device) -> "cuda" | "cpu"`, asked once per loaded base
model, to keep weights in CPU memory for offloading (low-VRAM mode); ControlNets follow the base model.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.engine.device import DeviceChoice
from studio.engine.errors import ModelError
from studio.engine.lora import LocatedLora, LoraInput, LoraState, locate_lora
from studio.engine.models import check_controlnet_fits, family_of, load_base, load_controlnet
from studio.engine.sources import LocatedModel, check_union_family

Optimizer = Callable[[Any, DeviceChoice], Any]


def _key(located: LocatedModel) -> tuple[str, str, str]:
    # a union ControlNet serving several kinds is loaded once
    return (str(located.path), located.fingerprint, "union" if located.is_union else located.role)


@dataclass
class _LoadedBase:
    key: tuple[str, str, str]
    located: LocatedModel
    pipe: Any
    family: str
    placed_on: str


class ModelCache:
    """Holds the loaded base model, ControlNets and assembled pipelines for one device choice."""

    def __init__(self, device: DeviceChoice, *, allow_pickle: bool, optimize: Optimizer | None = None) -> None:
        self.device = device
        self.allow_pickle = allow_pickle
        self.optimize = optimize
        self._base: _LoadedBase | None = None
        self._controlnets: dict[tuple[str, str, str], Any] = {}
        self._pipelines: dict[tuple[Any, ...], Any] = {}
        self._loras = LoraState()

    def base(self, located: LocatedModel) -> tuple[Any, str]:
        """The base text-to-image pipeline for `located` and its family, loading it if needed."""
        key = _key(located)
        if self._base is None or self._base.key != key:
            self.clear()
            pipe = load_base(located, dtype=self.device.dtype, allow_pickle=self.allow_pickle)
            placement = getattr(self.optimize, "placement", None)
            placed_on = placement(pipe, self.device) if placement is not None else self.device.device
            pipe.to(placed_on)
            self._base = _LoadedBase(key=key, located=located, pipe=pipe, family=family_of(pipe.unet.config),
                                     placed_on=placed_on)
        return self._base.pipe, self._base.family

    def controlnet(self, located: LocatedModel) -> Any:
        """The ControlNet for `located`, loaded, checked against the current base and moved to the device."""
        assert self._base is not None, "load the base model first"
        key = _key(located)
        if key not in self._controlnets:
            check_union_family(located.path, located.union_sizes, family=located.family, base_family=self._base.family)
            model = load_controlnet(located, dtype=self.device.dtype, allow_pickle=self.allow_pickle)
            check_controlnet_fits(controlnet=model, controlnet_at=located, unet=self._base.pipe.unet,
                                  base_at=self._base.located)
            self._controlnets[key] = model.to(self._base.placed_on)
        return self._controlnets[key]

    def pipeline(self, base: LocatedModel, controlnets: list[LocatedModel], *, refine: bool,
                 inpaint: bool = False) -> tuple[Any, str]:
        """The pipeline for this base, these ControlNets (in request order) and mode, and the model family."""
        base_pipe, family = self.base(base)
        models = [self.controlnet(c) for c in controlnets]
        union = _union_request(controlnets)
        key = (_key(base), tuple(_key(c) for c in controlnets), refine, inpaint)
        if key not in self._pipelines:
            cls = _pipeline_class(family, with_control=bool(models), refine=refine, inpaint=inpaint, union=union)
            extra = {}
            if models and union:
                from diffusers.models.controlnets.multicontrolnet_union import MultiControlNetUnionModel

                extra["controlnet"] = models[0] if len(models) == 1 else MultiControlNetUnionModel(models)
            elif models:
                from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

                extra["controlnet"] = models[0] if len(models) == 1 else MultiControlNetModel(models)
            pipe = cls.from_pipe(base_pipe, **extra)
            pipe.set_progress_bar_config(disable=True)
            if self.optimize is not None:
                pipe = self.optimize(pipe, self.device) or pipe
            self._pipelines[key] = pipe
        return self._pipelines[key], family

    def apply_loras(self, loras: list[LoraInput]) -> list[LocatedLora]:
        """Check `loras` against the loaded base model and make exactly them active, with their weights, in every
        pipeline built from it (adapters live in the shared UNet and text encoders); [] turns LoRAs off."""
        assert self._base is not None, "load the base model first"
        unet = self._base.pipe.unet
        located = [locate_lora(lora, allow_pickle=self.allow_pickle, base_family=self._base.family,
                               context_width=unet.config.cross_attention_dim) for lora in loras]
        self._loras.apply(self._base.pipe, located, allow_pickle=self.allow_pickle)
        return located

    def clear(self) -> None:
        """Drop every loaded model and free accelerator memory."""
        self._loras = LoraState()
        self._base = None
        self._controlnets.clear()
        self._pipelines.clear()
        free_memory(self.device)


def free_memory(device: DeviceChoice) -> None:
    """Collect garbage and return cached accelerator memory."""
    gc.collect()
    if device.device == "cuda":
        import torch

        torch.cuda.empty_cache()


def _union_request(controlnets: list[LocatedModel]) -> bool:
    """True when the ControlNets are union models; refuses a mix of union and plain ControlNets."""
    unions = [c for c in controlnets if c.is_union]
    if unions and len(unions) != len(controlnets):
        plain = next(c for c in controlnets if not c.is_union)
        raise ModelError(f"The {unions[0].role} ControlNet {unions[0].path} is a ControlNet Union model and the "
                         f"{plain.role} ControlNet {plain.path} a plain one; diffusers cannot run both in one "
                         "generation. Use the union model for every kind (it has a control type for each), or none.")
    return bool(unions)


def _pipeline_class(family: str, *, with_control: bool, refine: bool, inpaint: bool = False,
                    union: bool = False) -> Any:
    import diffusers

    if union:
        if family != "sdxl":
            raise ModelError("ControlNet Union models run with SDXL base models only.")
        return getattr(diffusers, "StableDiffusionXLControlNetUnion" +
                       ("InpaintPipeline" if inpaint else "Img2ImgPipeline" if refine else "Pipeline"))
    prefix = "StableDiffusionXL" if family == "sdxl" else "StableDiffusion"
    control = "ControlNet" if with_control else ""
    if inpaint:
        name = f"{prefix}{control}InpaintPipeline"
    elif with_control:
        name = f"{prefix}ControlNetImg2ImgPipeline" if refine else f"{prefix}ControlNetPipeline"
    else:
        name = f"{prefix}Img2ImgPipeline" if refine else f"{prefix}Pipeline"
    return getattr(diffusers, name)
