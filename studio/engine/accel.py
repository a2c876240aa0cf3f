"""CUDA speed-ups for the engine: `Accelerator` applies `AccelOptions` to the pipelines the engine builds.

    from studio.engine.accel import Accelerator, AccelOptions
    engine = Engine(settings, optimize=Accelerator())                       # AccelOptions.auto for the device
    engine = Engine(settings, optimize=Accelerator(AccelOptions.off()))     # plain diffusers
    accelerator.status()          # what is applied, the memory plan, background-compile progress, CUDA graphs

It plugs into the engine at three points (see cache.py and run_plan.py):
1. `placement(pipe, device)`: when a base model is loaded, picks the memory plan (`lowvram.py`) from the free GPU
   memory and the model's size; offloading plans keep the weights in CPU memory.
2. `__call__(pipe, device)`: once per newly built pipeline: channels-last and fused QKV (`model_tweaks.py`),
   offload hooks and VAE tiling, regional compile dispatchers (`regional_compile.py`), CUDA graphs for the UNet
   and ControlNets (`cuda_graphs.py`), the tiny VAE for previews (`tiny_vae.py`).
3. `plan_run(pipe, request, draft=...)`: per run: guess mode, CFG cut-off (`cfg_cutoff.py`), previews, and a
   context with the attention-kernel choice, the offload owner and the draft decoder.
CUDA graphs are captured only while no compile is pending, and recaptured when compiled blocks arrive, so the
graphs always hold the fastest code available; a generation never waits for a compile.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from studio.engine.accel_options import AccelOptions
from studio.engine.cfg_cutoff import CfgCutoff, cutoff_inputs
from studio.engine.compile_cache import use_compile_cache
from studio.engine.cuda_graphs import GraphedForward
from studio.engine.device import DeviceChoice
from studio.engine.lowvram import MemoryPlan, apply_memory_plan, choose_memory_plan, free_memory_bytes, weights_bytes
from studio.engine.model_tweaks import attention_context, enable_fast_cuda_math, fuse_qkv, to_channels_last
from studio.engine.models import family_of
from studio.engine.regional_compile import RegionalCompiler
from studio.engine.request import GenerationRequest
from studio.engine.run_plan import RunPlan
from studio.engine.tiny_vae import TinyVaePreview, load_tiny_vae

MemoryInfo = Callable[[], tuple[int, int]]


def controlnets_of(pipe: Any) -> list[Any]:
    """The ControlNet models of a pipeline (the members of a MultiControlNet), possibly none; each once (one
    ControlNet Union model may run several controls)."""
    controlnet = getattr(pipe, "controlnet", None)
    if controlnet is None:
        return []
    return list({id(net): net for net in getattr(controlnet, "nets", [controlnet])}.values())


def uses_guidance(pipe: Any, request: GenerationRequest) -> bool:
    """True when the run will double its batch for classifier-free guidance."""
    return request.guidance_scale > 1.0 and pipe.unet.config.get("time_cond_proj_dim") is None


class Accelerator:
    """Applies `AccelOptions` to the engine's pipelines (pass it as `Engine(optimize=...)`).

    options None means `AccelOptions.auto(<the engine's device>)`. memory_info returns (free, total) bytes of the
    GPU (default: `torch.cuda.mem_get_info`); inject figures to test the low-VRAM choice.
    """

    def __init__(self, options: AccelOptions | None = None, *, memory_info: MemoryInfo | None = None) -> None:
        if options is not None:
            options.validate()
        self.options = options
        self.memory_plan: MemoryPlan | None = None
        self.compiler: RegionalCompiler | None = None
        self.notes: list[str] = []
        self._memory_info = memory_info or free_memory_bytes
        self._graphs: weakref.WeakSet[GraphedForward] = weakref.WeakSet()  # dies with its model
        self._tiny_vae: Any = None
        self._preview: TinyVaePreview | None = None
        self._offload_owner: Callable[[], Any] = lambda: None  # weak reference to the pipeline with the hooks
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------- engine hooks
    def placement(self, pipe: Any, device: DeviceChoice) -> str:
        """Choose the memory plan for a freshly loaded base pipeline; returns where its weights go."""
        options = self._resolve(device)
        if device.device != "cuda":
            self.memory_plan = MemoryPlan(mode="full", vae_tiling=False, vae_slicing=False, speedups_fit=True,
                                          reason="running on the CPU")
            return device.device
        free, _total = self._memory_info()
        weights, unet = weights_bytes(pipe)
        self.memory_plan = choose_memory_plan(requested=options.memory, free_bytes=free, weights=weights,
                                              unet_bytes=unet, family=family_of(pipe.unet.config))
        return "cpu" if self.memory_plan.offloads else "cuda"

    def __call__(self, pipe: Any, device: DeviceChoice) -> Any:
        """Apply the speed-ups to a newly built pipeline (models shared with earlier pipelines keep theirs)."""
        options = self._resolve(device)
        cuda = device.device == "cuda"
        plan = self.memory_plan or MemoryPlan(mode="full", vae_tiling=False, vae_slicing=False, speedups_fit=True,
                                              reason="no placement was asked")
        models = [pipe.unet, *controlnets_of(pipe), pipe.vae]
        if cuda and options.fast_cuda_math:
            enable_fast_cuda_math()
        if options.channels_last:
            for model in models:
                to_channels_last(model)
        if options.fuse_qkv and not plan.offloads:
            for model in models:
                fuse_qkv(model)
        if cuda and plan.offloads:
            apply_memory_plan(pipe, plan, device="cuda")
            self._offload_owner = weakref.ref(pipe)
        speedups = not plan.offloads and plan.speedups_fit
        why_not = "weights are offloaded" if plan.offloads else f"too little free GPU memory ({plan.reason})"
        if options.compile and speedups:
            compiler = self._compiler(options)
            for model in models:
                compiler.attach(model)
        elif options.compile:
            self._note(f"torch.compile is off: {why_not}")
        if options.cuda_graphs and cuda and speedups:
            self._graphs.add(GraphedForward.install(pipe.unet, clone_outputs=True, enabled=self._graphs_enabled))
            for net in controlnets_of(pipe):
                self._graphs.add(GraphedForward.install(net, clone_outputs=False, enabled=self._graphs_enabled))
        elif options.cuda_graphs and cuda:
            self._note(f"CUDA graphs are off: {why_not}")
        if options.tiny_vae and self._tiny_vae is None:
            self._tiny_vae = load_tiny_vae(options.tiny_vae, device=device.device, dtype=device.dtype)
            self._preview = TinyVaePreview(self._tiny_vae)
        return pipe

    def plan_run(self, pipe: Any, request: GenerationRequest, *, draft: bool = False) -> RunPlan:
        """The per-run part: guess mode, CFG cut-off, previews and the run context."""
        options = self.options or AccelOptions.auto("cpu")
        plan = RunPlan(preview=self._preview)
        guided = uses_guidance(pipe, request)
        if request.controls and guided and options.guess_mode != "off":
            all_control = all(c.mode == "control" for c in request.controls)
            plan.guess_mode = options.guess_mode == "always" or all_control
        if options.cfg_cutoff < 1.0 and guided:
            plan.step_end = CfgCutoff(options.cfg_cutoff)
            plan.tensor_inputs = cutoff_inputs(pipe)
        offloading = self.memory_plan is not None and self.memory_plan.offloads
        tiny_decode = draft and options.tiny_vae_for_drafts and self._tiny_vae is not None and not offloading
        plan.context = self._run_context(pipe, options, tiny_decode=tiny_decode)
        if self.notes:
            plan.notes.extend(self.notes)
        return plan

    # ------------------------------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """Plain data: the options, the memory plan, compile progress, CUDA graph counts and notes."""
        plan = self.memory_plan
        return {
            "options": self.options.to_dict() if self.options else None,
            "memory": None if plan is None else {"mode": plan.mode, "vae_tiling": plan.vae_tiling,
                                                 "reason": plan.reason},
            "compile": self.compiler.status().to_dict() if self.compiler else None,
            "cuda_graphs": {"models": len(self._graphs), "graphs": sum(g.graph_count for g in self._graphs),
                            "captures": sum(g.captures for g in self._graphs),
                            "replays": sum(g.replays for g in self._graphs),
                            "failures": [f for g in self._graphs for f in g.failures]},
            "notes": list(self.notes),
        }

    def wait_compiled(self, timeout: float | None = None) -> bool:
        """Block until background compiling is idle (True at once when compiling is off)."""
        return self.compiler.wait(timeout) if self.compiler is not None else True

    def close(self) -> None:
        """Stop the background compiler."""
        if self.compiler is not None:
            self.compiler.close()

    # ------------------------------------------------------------------------------------------ helpers
    def _resolve(self, device: DeviceChoice) -> AccelOptions:
        if self.options is None:
            self.options = AccelOptions.auto("cuda" if device.device == "cuda" else "cpu")
        return self.options

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _compiler(self, options: AccelOptions) -> RegionalCompiler:
        with self._lock:
            if self.compiler is None:
                if options.compile_backend == "inductor":
                    use_compile_cache(options.compile_cache_dir)
                self.compiler = RegionalCompiler(classes=options.compile_regions, backend=options.compile_backend,
                                                 mode=options.compile_mode, budget_s=options.compile_budget_s,
                                                 run_context=lambda: attention_context(options.attention))
                self.compiler.add_listener(self._on_compiled)
            return self.compiler

    def _on_compiled(self) -> None:
        for graphed in list(self._graphs):
            graphed.reset()

    def _graphs_enabled(self) -> bool:
        return self.compiler is None or self.compiler.settled

    @contextmanager
    def _run_context(self, pipe: Any, options: AccelOptions, *, tiny_decode: bool) -> Iterator[None]:
        plan = self.memory_plan
        if plan is not None and plan.offloads and self._offload_owner() is not pipe:
            apply_memory_plan(pipe, plan, device="cuda")
            self._offload_owner = weakref.ref(pipe)
        full_vae = pipe.vae
        if tiny_decode:
            pipe.vae = self._tiny_vae
        compiling = self.compiler.generation() if self.compiler is not None else nullcontext()
        try:
            with compiling, attention_context(options.attention):
                yield
        finally:
            if tiny_decode:
                pipe.vae = full_vae
