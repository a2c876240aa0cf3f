"""The base model a run trains against: loaded through the engine's loader (diffusers folders, single
checkpoints, cached hub ids, as `--model` takes them everywhere), its prompt encoding for SD 1.x/2.x and SDXL,
and the noise-prediction loss of one batch.

The loss is diffusers' training recipe: encode the image to latents with the VAE (scaled by its scaling factor),
add Gaussian noise at a uniformly drawn timestep with the DDPM schedule of the model, and regress the UNet's
output on the noise (epsilon models) or on the velocity (v-prediction models such as SD 2.x 768).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.train.errors import TrainError


@dataclass
class BaseModel:
    pipe: Any  # the loaded StableDiffusion(XL)Pipeline; its unet/vae/text encoders are the parts trained against
    family: str  # "sd1" | "sd2" | "sdxl"
    identity: dict[str, Any]
    noise_scheduler: Any

    @property
    def unet(self) -> Any:
        return self.pipe.unet

    @property
    def sdxl(self) -> bool:
        return self.family == "sdxl"


def load_base_model(source: str, *, allow_pickle: bool = False) -> BaseModel:
    """Find and load `source` on the CPU in float32 (the run moves and casts it)."""
    import torch
    from diffusers import DDPMScheduler

    from studio.engine.models import family_of, load_base
    from studio.engine.sources import locate_base
    from studio.errors import StudioError

    try:
        located = locate_base(source, allow_pickle=allow_pickle)
        pipe = load_base(located, dtype=torch.float32, allow_pickle=allow_pickle)
    except StudioError as exc:
        raise TrainError(str(exc)) from exc
    if getattr(pipe.unet.config, "in_channels", 4) != 4:
        raise TrainError(f"{source} is an inpainting model (its UNet takes {pipe.unet.config.in_channels} "
                         "channels); train on the plain base model it was made from.")
    pipe.set_progress_bar_config(disable=True)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    return BaseModel(pipe=pipe, family=family_of(pipe.unet.config), identity=located.identity(),
                     noise_scheduler=noise_scheduler)


def freeze(*modules: Any) -> None:
    for module in modules:
        if module is not None:
            module.requires_grad_(False)


def text_encoders(base: BaseModel) -> list[tuple[Any, Any]]:
    pipe = base.pipe
    pairs = [(pipe.tokenizer, pipe.text_encoder)]
    if base.sdxl:
        pairs.append((pipe.tokenizer_2, pipe.text_encoder_2))
    return pairs


def encode_prompts(base: BaseModel, prompts: list[str], *, device: Any, resolution: int,
                   text_encoder: Any = None) -> tuple[Any, dict[str, Any] | None]:
    """(encoder_hidden_states, added_cond_kwargs) for `prompts`. `text_encoder` stands in for the first encoder
    (the trained one when the text encoder is adapted). SDXL: the penultimate hidden states of both encoders side
    by side, the second's pooled output and the size/crop time ids of a square, uncropped image."""
    import torch

    states, pooled = [], None
    for index, (tokenizer, encoder) in enumerate(text_encoders(base)):
        encoder = text_encoder if index == 0 and text_encoder is not None else encoder
        ids = tokenizer(prompts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids.to(device)
        if not base.sdxl:
            return encoder(ids)[0], None
        output = encoder(ids, output_hidden_states=True)
        states.append(output.hidden_states[-2])
        if index == 1:
            pooled = output[0]
    time_ids = torch.tensor([[resolution, resolution, 0, 0, resolution, resolution]], device=device)
    time_ids = time_ids.repeat(len(prompts), 1).to(pooled.dtype)
    return torch.cat(states, dim=-1), {"text_embeds": pooled, "time_ids": time_ids}


def noisy_latents(base: BaseModel, pixels: Any, *, generator: Any = None) -> tuple[Any, Any, Any]:
    """(noisy latents, timesteps, target) for a batch of [-1, 1] images."""
    import torch

    vae = base.pipe.vae
    with torch.no_grad():
        dist = vae.encode(pixels.to(vae.dtype)).latent_dist
        latents = (dist.mode() if generator is not None else dist.sample()) * vae.config.scaling_factor
    latents = latents.float()
    schedule = base.noise_scheduler
    steps = schedule.config.num_train_timesteps
    if generator is not None:  # a fixed draw (CPU generator) for comparable evaluation losses
        noise = torch.randn(latents.shape, generator=generator).to(latents.device)
        timesteps = torch.randint(0, steps, (latents.shape[0],), generator=generator).to(latents.device)
    else:
        noise = torch.randn_like(latents)
        timesteps = torch.randint(0, steps, (latents.shape[0],), device=latents.device)
    noisy = schedule.add_noise(latents, noise, timesteps)
    prediction = schedule.config.prediction_type
    if prediction == "epsilon":
        target = noise
    elif prediction == "v_prediction":
        target = schedule.get_velocity(latents, noise, timesteps)
    else:
        raise TrainError(f"The model predicts {prediction!r}; training supports epsilon and v_prediction models.")
    return noisy, timesteps, target


def mse(prediction: Any, target: Any) -> Any:
    import torch.nn.functional as F

    return F.mse_loss(prediction.float(), target.float(), reduction="mean")
