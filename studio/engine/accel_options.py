"""`AccelOptions`: which speed-ups the engine uses, with an `auto` choice per device.

    AccelOptions.auto("cuda")   # everything that keeps the picture: fused QKV, channels-last, TF32/cuDNN autotune,
                                # regional torch.compile in the background, CUDA graphs, low-VRAM mode when needed,
                                # guess mode where it gives the same picture
    AccelOptions.auto("cpu")    # only the lossless guess-mode shortcut (the rest does not pay on a CPU)
    AccelOptions.off()          # plain diffusers

The options that keep the picture (same seed: PSNR >= 30 dB against the plain pipeline at the same precision):
channels_last, fuse_qkv, attention, fast_cuda_math, compile, cuda_graphs, memory "full"/"model_offload"/
"sequential_offload" (the latter two with VAE tiling, which blends tile seams), guess_mode "lossless".
The ones that change it, for more speed, are off unless chosen: guess_mode "always", cfg_cutoff < 1, and the tiny
VAE decoder (previews always use it when configured; final images only for live-mode drafts).
Precision (fp16/bf16/fp32) is not an accel option: it comes from the model settings (`dtype`), fp16 by default on
CUDA, so the accelerated and the plain pipeline always run at the same precision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from studio.engine.errors import SettingsError
from studio.engine.lowvram import MEMORY_MODES
from studio.engine.model_tweaks import ATTENTION_KERNELS
from studio.engine.regional_compile import DEFAULT_REGIONS

GUESS_MODES = ("off", "lossless", "always")


@dataclass(frozen=True)
class AccelOptions:
    """Speed-ups for the engine (see the module docstring for which keep the picture).

    channels_last: NHWC weights and activations for the convolutions.
    fuse_qkv: fused attention projections (UNet, ControlNets, VAE).
    attention: SDPA backend: "auto" (PyTorch picks; flash for fp16/bf16), "flash", "efficient", "cudnn", "math".
    fast_cuda_math: TF32 matmuls and cuDNN autotuning (process-wide).
    compile: regional torch.compile of `compile_regions` in a background thread (first images come eager);
        `compile_backend`/`compile_mode` go to torch.compile; `compile_budget_s` bounds one burst of compiling;
        `compile_cache_dir` (None: the user's cache folder) keeps compiled kernels between runs.
    cuda_graphs: replay UNet and ControlNet steps from captured CUDA graphs.
    memory: "auto" (from free GPU memory), "full", "model_offload", "sequential_offload" (see lowvram.py).
    guess_mode: "off"; "lossless": when every control is in "control" mode, run the ControlNets on the conditional
        half only (the same picture, half the ControlNet work); "always": do so for every request (every control
        then leads like the "control" mode).
    cfg_cutoff: stop classifier-free guidance after this fraction of the steps (1.0: never).
    tiny_vae: folder of a diffusers AutoencoderTiny (TAESD) for previews; with `tiny_vae_for_drafts` it also
        decodes live-mode frames.
    """

    channels_last: bool = False
    fuse_qkv: bool = False
    attention: str = "auto"
    fast_cuda_math: bool = False
    compile: bool = False
    compile_regions: tuple[str, ...] = DEFAULT_REGIONS
    compile_backend: str = "inductor"
    compile_mode: str | None = None
    compile_budget_s: float = 240.0
    compile_cache_dir: str | None = None
    cuda_graphs: bool = False
    memory: str = "auto"
    guess_mode: str = "lossless"
    cfg_cutoff: float = 1.0
    tiny_vae: str | None = None
    tiny_vae_for_drafts: bool = True

    @classmethod
    def auto(cls, device: str = "cuda", **overrides: Any) -> AccelOptions:
        """The recommended options for `device` ("cuda" or "cpu"), with `overrides` applied."""
        if device == "cuda":
            base = cls(channels_last=True, fuse_qkv=True, fast_cuda_math=True, compile=True, cuda_graphs=True)
        elif device == "cpu":
            base = cls()
        else:
            raise SettingsError(f"Unknown device {device!r} for accel options; choose cuda or cpu.")
        options = replace(base, **overrides)
        options.validate()
        return options

    @classmethod
    def off(cls) -> AccelOptions:
        """No speed-ups: the plain diffusers pipeline (all weights on the device)."""
        return cls(memory="full", guess_mode="off")

    def validate(self) -> None:
        """Raise `SettingsError` for a value out of range."""
        choices = (("attention", ATTENTION_KERNELS), ("memory", MEMORY_MODES), ("guess_mode", GUESS_MODES))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise SettingsError(f"Unknown {name} {getattr(self, name)!r}; choose one of: {', '.join(allowed)}.")
        for name in ("channels_last", "fuse_qkv", "fast_cuda_math", "compile", "cuda_graphs", "tiny_vae_for_drafts"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"The accel option {name} must be true or false.")
        if isinstance(self.cfg_cutoff, bool) or not isinstance(self.cfg_cutoff, (int, float)) \
                or not 0.0 < self.cfg_cutoff <= 1.0:
            raise SettingsError(f"cfg_cutoff must be a fraction above 0 and at most 1, got {self.cfg_cutoff!r}.")
        if not isinstance(self.compile_budget_s, (int, float)) or self.compile_budget_s < 0:
            raise SettingsError(f"compile_budget_s must be a number of seconds >= 0, got {self.compile_budget_s!r}.")
        if not self.compile_regions or not all(isinstance(r, str) for r in self.compile_regions):
            raise SettingsError("compile_regions must name at least one block class.")
        for name in ("compile_mode", "compile_cache_dir", "tiny_vae"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise SettingsError(f"The accel option {name} must be text or null.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = asdict(self)
        data["compile_regions"] = list(self.compile_regions)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> AccelOptions:
        """Build from `to_dict` output; `SettingsError` for unknown keys or bad values."""
        if not isinstance(data, dict):
            raise SettingsError("The accel options must be a JSON object.")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise SettingsError(f"Unknown accel option(s): {', '.join(unknown)}.")
        values = dict(data)
        if "compile_regions" in values:
            if not isinstance(values["compile_regions"], (list, tuple)):
                raise SettingsError("compile_regions must be a list of block class names.")
            values["compile_regions"] = tuple(values["compile_regions"])
        options = cls(**values)
        options.validate()
        return options
