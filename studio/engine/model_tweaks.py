"""Speed-ups that change how a loaded model computes, not what: memory layout, fused projections, kernels.

- channels-last: convolutions on NHWC tensors use the tensor-core cuDNN kernels without layout transposes.
- fused QKV: one matrix product for query, key and value of self-attention (key and value for cross-attention)
  instead of three, with diffusers' `FusedAttnProcessor2_0` (still `scaled_dot_product_attention`). diffusers
  offers this for the UNet and the VAE; the ControlNet has the same `Attention` modules and gets the same.
- attention kernel: PyTorch's SDPA picks flash attention for fp16/bf16 on its own; `attention_context` can pin a
  backend ("flash", "efficient", "cudnn", "math") around a run to compare them.
- TF32 matmuls and cuDNN autotuning (process-wide switches): faster fp32 parts (an upcast VAE) and convolution
  algorithms chosen by timing.
Each tweak is applied once per model (models are shared between the pipelines built from one base).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

ATTENTION_KERNELS = ("auto", "flash", "efficient", "cudnn", "math")
_MARK = "_studio_tweaks"


def _once(model: Any, name: str) -> bool:
    """True the first time `name` is asked for `model` (and records it)."""
    done = model.__dict__.setdefault(_MARK, set())
    if name in done:
        return False
    done.add(name)
    return True


def to_channels_last(model: Any) -> None:
    """Store the model's 4-D weights channels-last (NHWC)."""
    import torch

    if _once(model, "channels_last"):
        model.to(memory_format=torch.channels_last)


def fuse_qkv(model: Any) -> int:
    """Fuse the attention projections of every `Attention` module that uses the plain SDPA processor; returns
    how many modules were fused (0 for models with added KV projections, which diffusers cannot fuse)."""
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0, FusedAttnProcessor2_0

    if not _once(model, "fuse_qkv"):
        return 0
    fused = 0
    for module in model.modules():
        if isinstance(module, Attention) and type(module.processor) is AttnProcessor2_0 \
                and getattr(module, "add_k_proj", None) is None:
            module.fuse_projections(fuse=True)
            module.set_processor(FusedAttnProcessor2_0())
            fused += 1
    return fused


def attention_context(kind: str) -> AbstractContextManager[Any]:
    """A context that restricts SDPA to one backend ("auto": no restriction)."""
    if kind == "auto":
        return nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
                "cudnn": SDPBackend.CUDNN_ATTENTION, "math": SDPBackend.MATH}
    return sdpa_kernel([backends[kind]])


def enable_fast_cuda_math() -> None:
    """TF32 for fp32 matrix products and cuDNN autotuning of convolution algorithms (process-wide)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
