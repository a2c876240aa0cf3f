"""`studio train lora`: a LoRA of the base UNet's attention projections (to_q, to_k, to_v, to_out.0), and
optionally of the first text encoder's (q/k/v/out_proj), added with peft as diffusers' own
`train_text_to_image_lora.py` does (Gaussian-initialised A, zero B, so step 0 is the base model; alpha = rank,
so the scale is 1). Everything else is frozen. The output is a diffusers-format `.safetensors` LoRA
(`unet.<module>.lora_A.weight` / `lora_B.weight`, `text_encoder.` keys when the encoder was adapted), written with
the pipeline's `save_lora_weights`: the file `--lora` and the Generate panel load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from studio.train.base import BaseModel, encode_prompts, freeze, mse, noisy_latents
from studio.train.errors import TrainError
from studio.train.options import TrainOptions

UNET_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


def _module_class():
    import torch

    class LoraModel(torch.nn.Module):
        """The adapted UNet (and text encoder); calling it on a batch gives the noise-prediction loss, so that
        accelerate's wrappers (autocast, DistributedDataParallel) see the whole trained forward pass."""

        def __init__(self, base: BaseModel, text_encoder: Any, resolution: int) -> None:
            super().__init__()
            self.unet = base.unet
            self.text_encoder = text_encoder
            self._base = [base]  # not a submodule: the frozen parts stay out of the wrapped model's state
            self.resolution = resolution

        def forward(self, batch: dict[str, Any], generator: Any = None) -> Any:
            import contextlib

            base = self._base[0]
            pixels = batch["pixels"]
            noisy, timesteps, target = noisy_latents(base, pixels, generator=generator)
            frozen_text = contextlib.nullcontext() if self.text_encoder is not None else torch.no_grad()
            with frozen_text:
                states, added = encode_prompts(base, batch["text"], device=pixels.device,
                                               resolution=self.resolution, text_encoder=self.text_encoder)
            prediction = self.unet(noisy, timesteps, states, added_cond_kwargs=added).sample
            return mse(prediction, target)

    return LoraModel


class LoraTask:
    name = "lora"

    def __init__(self, base: BaseModel, options: TrainOptions) -> None:
        from peft import LoraConfig, inject_adapter_in_model

        self.base, self.options = base, options
        pipe = base.pipe
        freeze(pipe.unet, pipe.vae, pipe.text_encoder, getattr(pipe, "text_encoder_2", None))
        if options.text_encoder and base.sdxl:
            raise TrainError("Adapting the text encoder is supported for SD 1.x/2.x; train SDXL LoRAs on the "
                             "UNet only (leave out --text-encoder).")
        pipe.unet.add_adapter(LoraConfig(r=options.rank, lora_alpha=options.rank, init_lora_weights="gaussian",
                                         target_modules=UNET_TARGETS))
        self.text_encoder = None
        if options.text_encoder:
            # peft's own injection: transformers' `add_adapter` wants a newer peft than the engine's pin
            self.text_encoder = inject_adapter_in_model(
                LoraConfig(r=options.rank, lora_alpha=options.rank, init_lora_weights="gaussian",
                           target_modules=TEXT_TARGETS), pipe.text_encoder)
        if options.gradient_checkpointing:
            pipe.unet.enable_gradient_checkpointing()
        self.module = _module_class()(base, self.text_encoder, options.resolution)
        self.device, self.dtype = None, None

    def place(self, device: Any, dtype: Any) -> None:
        import torch
        from diffusers.training_utils import cast_training_params

        self.device, self.dtype = device, dtype
        self.base.pipe.to(device, dtype)
        cast_training_params(self.module, dtype=torch.float32)  # trained weights stay fp32 under mixed precision

    def model(self) -> Any:
        return self.module

    def loss(self, model: Any, batch: dict[str, Any], *, generator: Any = None, eval_mode: bool = False) -> Any:
        return model(batch, generator=generator)

    def validation_images(self, model: Any, rows: list, *, seed: int) -> list[Any]:
        from studio.train.validation import generate_images

        return generate_images(self.base.pipe, rows, options=self.options, device=self.device, dtype=self.dtype,
                               seed=seed)

    def lora_layers(self, model: Any) -> dict[str, dict[str, Any]]:
        from peft.utils import get_peft_model_state_dict

        # PEFT's key spelling (`<module>.lora_A.weight` / `lora_B.weight`), which diffusers' loader reads as is
        layers = {"unet_lora_layers": get_peft_model_state_dict(model.unet)}
        if model.text_encoder is not None:
            # the CLIP module names with `text_model.` as the hub's diffusers LoRAs spell them (transformers 5
            # flattened it away; diffusers' loader takes both)
            text = get_peft_model_state_dict(model.text_encoder)
            layers["text_encoder_lora_layers"] = {
                key if key.startswith("text_model.") else f"text_model.{key}": value for key, value in text.items()}
        return {key: {k: v.detach().float().cpu().contiguous() for k, v in value.items()}
                for key, value in layers.items()}

    def write_output(self, model: Any, out: Path) -> None:
        pipeline_class = type(self.base.pipe)
        temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            pipeline_class.save_lora_weights(str(temp), weight_name=out.name, safe_serialization=True,
                                             **self.lora_layers(model))
            os.replace(temp / out.name, out)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
