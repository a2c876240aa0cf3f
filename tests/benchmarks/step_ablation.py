"""One denoising step (ControlNet + UNet on the CFG batch), timed eagerly with each lossless speed-up added in turn.

Shows which tweak pays on the machine at hand, apart from torch.compile: plain -> channels-last -> + fused QKV,
then the SDPA backends on that setup, then + CUDA graphs (CUDA only). It changes the models in place, so the
benchmark runs it on the diffusers baseline's models after timing them.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from studio.engine.cuda_graphs import GraphedForward
from studio.engine.model_tweaks import attention_context, fuse_qkv, to_channels_last

ATTENTION_BACKENDS = ("flash", "efficient", "cudnn", "math")


def _inputs(pipe: Any, *, size: int, device: str, dtype: Any) -> dict[str, Any]:
    generator = torch.Generator("cpu").manual_seed(0)
    latent = size // 8
    text_width = pipe.unet.config.cross_attention_dim
    make = lambda *shape: torch.randn(*shape, generator=generator).to(device, dtype)  # noqa: E731
    return {"latents": make(2, 4, latent, latent), "t": torch.tensor(500, device=device),
            "text": make(2, 77, text_width), "cond": make(2, 3, size, size).clamp(0, 1)}


def _timed_ms(step: Any, *, iterations: int, cuda: bool) -> float:
    with torch.no_grad():
        for _ in range(3):
            step()
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(iterations):
            step()
        if cuda:
            torch.cuda.synchronize()
    return round(1000 * (time.perf_counter() - started) / iterations, 3)


def ablate(pipe: Any, *, size: int, cuda: bool, iterations: int = 10) -> dict[str, Any]:
    """Milliseconds per step for each setup (SD 1.x/2.x ControlNet pipelines: no SDXL added conditions)."""
    dtype = pipe.unet.dtype
    inputs = _inputs(pipe, size=size, device="cuda" if cuda else "cpu", dtype=dtype)
    controlnet = pipe.controlnet

    def step() -> Any:
        down, mid = controlnet(inputs["latents"], inputs["t"], encoder_hidden_states=inputs["text"],
                               controlnet_cond=inputs["cond"], conditioning_scale=1.0, return_dict=False)
        return pipe.unet(inputs["latents"], inputs["t"], encoder_hidden_states=inputs["text"],
                         down_block_additional_residuals=down, mid_block_additional_residual=mid,
                         return_dict=False)[0]

    result: dict[str, Any] = {"eager_ms": _timed_ms(step, iterations=iterations, cuda=cuda)}
    for model in (pipe.unet, controlnet):
        to_channels_last(model)
    result["channels_last_ms"] = _timed_ms(step, iterations=iterations, cuda=cuda)
    for model in (pipe.unet, controlnet):
        fuse_qkv(model)
    result["channels_last_fused_qkv_ms"] = _timed_ms(step, iterations=iterations, cuda=cuda)
    attention: dict[str, Any] = {}
    for backend in ATTENTION_BACKENDS if cuda else ():
        try:
            with attention_context(backend):
                attention[backend] = _timed_ms(step, iterations=iterations, cuda=cuda)
        except RuntimeError as exc:  # a backend that does not support these shapes or this GPU
            attention[backend] = f"unavailable: {str(exc).splitlines()[0][:120]}"
    result["attention_backends_ms"] = attention
    if cuda:
        graphed = [GraphedForward.install(pipe.unet, clone_outputs=True),
                   GraphedForward.install(controlnet, clone_outputs=False)]
        result["channels_last_fused_qkv_cuda_graphs_ms"] = _timed_ms(step, iterations=iterations, cuda=cuda)
        result["graph_failures"] = [f for g in graphed for f in g.failures]
    return result
