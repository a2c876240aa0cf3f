"""`studio train controlnet`: fine-tune an existing ControlNet (`--from`, a folder or file the loader reads) or
start a new one from the base UNet with `ControlNetModel.from_unet`, which copies the UNet's encoder and
zero-initialises the convolutions that feed the UNet (the paper's zero convolutions: step 0 changes nothing).

The base (UNet, VAE, text encoders) is frozen; only the ControlNet learns. As in the paper, a share of the
prompts (`prompt_dropout`, default 50 %) is replaced by the empty prompt, so the ControlNet learns to read the
control map on its own; `control_dropout` blacks out a share of the control maps. The output is a diffusers
ControlNet folder (config.json + diffusion_pytorch_model.safetensors), what `--controlnet KIND=DIR` loads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from studio.train.base import BaseModel, encode_prompts, freeze, mse, noisy_latents
from studio.train.errors import TrainError
from studio.train.options import TrainOptions


def load_start(base: BaseModel, kind: str, source: str | None, *, allow_pickle: bool = False) -> Any:
    """The ControlNet to train: `source` loaded (and checked against the base), or a new one from the UNet."""
    import torch
    from diffusers import ControlNetModel

    from studio.engine.models import check_controlnet_fits, load_controlnet
    from studio.engine.sources import locate_base, locate_controlnet
    from studio.errors import StudioError

    if source is None:
        return ControlNetModel.from_unet(base.unet)
    try:
        located = locate_controlnet(kind, source, allow_pickle=allow_pickle, base_family=base.family)
        controlnet = load_controlnet(located, dtype=torch.float32, allow_pickle=allow_pickle)
        base_at = locate_base(base.identity["source"], allow_pickle=allow_pickle)
        check_controlnet_fits(controlnet=controlnet, controlnet_at=located, unet=base.unet, base_at=base_at)
    except StudioError as exc:
        raise TrainError(str(exc)) from exc
    return controlnet


def _module_class():
    import torch

    class ControlNetTraining(torch.nn.Module):
        """The ControlNet with the frozen UNet it drives; calling it on a batch gives the loss."""

        def __init__(self, base: BaseModel, controlnet: Any, options: TrainOptions) -> None:
            super().__init__()
            self.controlnet = controlnet
            self._base = [base]  # the frozen base stays out of the wrapped model's state
            self.options = options

        def forward(self, batch: dict[str, Any], generator: Any = None, eval_mode: bool = False) -> Any:
            base, options = self._base[0], self.options
            pixels, control = batch["pixels"], batch["conditioning"]
            prompts = list(batch["text"])
            if not eval_mode:
                drop = torch.rand(len(prompts)) < options.prompt_dropout
                prompts = ["" if dropped else text for text, dropped in zip(prompts, drop.tolist())]
                if options.control_dropout > 0:
                    keep = (torch.rand(control.shape[0]) >= options.control_dropout).to(control)
                    control = control * keep.view(-1, 1, 1, 1)
            noisy, timesteps, target = noisy_latents(base, pixels, generator=generator)
            with torch.no_grad():
                states, added = encode_prompts(base, prompts, device=pixels.device, resolution=options.resolution)
            extra = {"added_cond_kwargs": added} if added is not None else {}
            down, mid = self.controlnet(noisy, timesteps, encoder_hidden_states=states,
                                        controlnet_cond=control.to(noisy.dtype), return_dict=False, **extra)
            dtype = base.unet.dtype
            prediction = base.unet(noisy.to(dtype), timesteps, encoder_hidden_states=states.to(dtype),
                                   down_block_additional_residuals=[d.to(dtype) for d in down],
                                   mid_block_additional_residual=mid.to(dtype), **extra).sample
            return mse(prediction, target)

    return ControlNetTraining


class ControlNetTask:
    name = "controlnet"

    def __init__(self, base: BaseModel, options: TrainOptions, controlnet: Any, kind: str) -> None:
        self.base, self.options, self.kind = base, options, kind
        pipe = base.pipe
        freeze(pipe.unet, pipe.vae, pipe.text_encoder, getattr(pipe, "text_encoder_2", None))
        if controlnet.config.cross_attention_dim != base.unet.config.cross_attention_dim:
            raise TrainError("The ControlNet does not fit the base model (cross-attention width "
                             f"{controlnet.config.cross_attention_dim} vs {base.unet.config.cross_attention_dim}).")
        controlnet.requires_grad_(True)
        controlnet.train()
        if options.gradient_checkpointing:
            controlnet.enable_gradient_checkpointing()
            pipe.unet.enable_gradient_checkpointing()
        self.controlnet = controlnet
        self.module = _module_class()(base, controlnet, options)
        self.device, self.dtype = None, None

    def place(self, device: Any, dtype: Any) -> None:
        import torch

        self.device, self.dtype = device, dtype
        self.base.pipe.to(device, dtype)
        self.controlnet.to(device, torch.float32)  # the trained weights stay fp32 under mixed precision

    def model(self) -> Any:
        return self.module

    def loss(self, model: Any, batch: dict[str, Any], *, generator: Any = None, eval_mode: bool = False) -> Any:
        return model(batch, generator=generator, eval_mode=eval_mode)

    def validation_images(self, model: Any, rows: list, *, seed: int) -> list[Any]:
        from diffusers import StableDiffusionControlNetPipeline, StableDiffusionXLControlNetPipeline

        from studio.train.validation import generate_images

        cls = StableDiffusionXLControlNetPipeline if self.base.sdxl else StableDiffusionControlNetPipeline
        pipe = cls.from_pipe(self.base.pipe, controlnet=model.controlnet)
        pipe.set_progress_bar_config(disable=True)
        return generate_images(pipe, rows, options=self.options, device=self.device, dtype=self.dtype, seed=seed,
                               control=True)

    def write_output(self, model: Any, out: Path) -> None:
        temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        shutil.rmtree(temp, ignore_errors=True)
        try:
            model.controlnet.save_pretrained(str(temp), safe_serialization=True)
            if out.exists():
                out.rmdir()  # an empty folder (checked before training)
            os.replace(temp, out)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
