"""The engine: a `GenerationRequest` in, a `GenerationResult` out, through diffusers ControlNet pipelines.

    engine = Engine(ModelSettings.for_model("tiny"))
    result = engine.generate(request, on_progress=print, cancel=token)

- Models are found from the settings (ControlNets bundled in a base folder's `controlnets/` are used for kinds the
  settings leave open), loaded once and reused (`ModelCache`), keyed by their identity (path + fingerprint).
- Seeds: image i of a batch uses seed + i with its own CPU generator, so it equals a single image made with
  seed + i, and the same request + seed on the same device gives the same pixels. Seed None picks one at random.
- Progress: `on_progress(Progress)` after every step (from `callback_on_step_end`), with a latent preview image
  every `preview_every` steps. Cancellation: `cancel.cancel()` from any thread stops the run after the current
  step (the pipeline's `_interrupt` flag); the result then has `cancelled=True` and no images.
- CUDA out of memory becomes `DeviceOutOfMemoryError` after the cache is freed; the engine stays usable.
- Thread safety: one generation at a time (a lock); call from a worker thread, cancel from any thread.
- Speed-ups: `optimize` (e.g. `accel.Accelerator`) is applied once to each newly built pipeline; if it offers
  `plan_run`, each run also takes its `RunPlan` (guess mode, step-end work, previews, a context; see run_plan.py).
- Model identity: locating a model starts hashing it in the background (`model_hash.ModelHasher`; cached by
  path, size and mtime), so the sha256 / A1111 `Model hash` is ready or nearly so when the run ends; the result's
  identities carry it (a finished run waits for it, drafts and cancelled runs take it only when already known).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from studio.engine.cache import ModelCache, Optimizer, free_memory
from studio.engine.control_images import fit_image
from studio.engine.control_modes import install_guess_mode_hooks, install_mode_hooks, remove_hooks
from studio.engine.device import DeviceChoice, choose_device
from studio.engine.errors import DeviceOutOfMemoryError, GenerationError, ModelError
from studio.engine.hires import second_pass_request, tiled_decode, upscale_latents
from studio.engine.inpaint import plan_inpaint
from studio.engine.lora import resolve_request_loras
from studio.engine.model_hash import ModelHasher, default_hasher, hashed_identity
from studio.engine.preview import latents_to_preview, wants_preview
from studio.engine.prompt_weights import parse_weighted, prompt_embeddings
from studio.engine.request import GenerationRequest
from studio.engine.run_plan import RunPlan
from studio.engine.schedulers import make_scheduler
from studio.engine.settings import ModelSettings
from studio.engine.sources import LocatedModel, bundled_controlnets, locate_base, locate_controlnet
from studio.engine.union import is_union_pipeline, union_arguments


class CancelToken:
    """Set from any thread to stop a running generation after its current step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the generation to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once `cancel()` was called."""
        return self._event.is_set()


@dataclass(frozen=True)
class Progress:
    """One finished denoising step; `preview` is a small RGB image on some steps, else None."""

    step: int
    total: int
    elapsed_s: float
    preview: Image.Image | None = None


@dataclass
class GenerationResult:
    """What a generation produced and how.

    seeds: the seed of each image (seed + i). timings: seconds for "load", "prepare", "run" and "total".
    models: identities of the base model and ControlNets used. device: e.g. "cuda float16" or a CPU note.
    """

    request: GenerationRequest
    images: list[Image.Image]
    seed: int
    seeds: list[int]
    cancelled: bool
    timings: dict[str, float]
    models: list[dict[str, Any]]
    device: str
    family: str
    notes: list[str] = field(default_factory=list)


ProgressCallback = Callable[[Progress], None]


class Engine:
    """Runs generation requests on the models named by `settings`, one at a time."""

    def __init__(self, settings: ModelSettings, *, preview_every: int = 5, optimize: Optimizer | None = None,
                 device: DeviceChoice | None = None, hasher: ModelHasher | None = None) -> None:
        settings.validate()
        self.hasher = hasher or default_hasher()
        self.settings = settings
        self.preview_every = preview_every
        self.optimize = optimize
        self.device = device or choose_device(settings.device, settings.dtype)
        self._cache = ModelCache(self.device, allow_pickle=settings.allow_pickle, optimize=optimize)
        self._lock = threading.Lock()
        self._located_base: LocatedModel | None = None

    # ----------------------------------------------------------------------------------------- models
    def locate_models(self, kinds: list[str]) -> tuple[LocatedModel, list[LocatedModel]]:
        """Find (not load) the base model and the ControlNets for `kinds`, in that order."""
        entry = self.settings.active_entry()
        allow = self.settings.allow_pickle
        base = locate_base(entry.base, allow_pickle=allow, config=entry.config)
        sources = {kind: str(path) for kind, path in bundled_controlnets(base.path).items()} if \
            base.layout == "folder" else {}
        sources.update(entry.controlnets)
        controlnets = []
        for kind in kinds:
            if kind not in sources:
                raise ModelError(f"No {kind} ControlNet is set up for the model {entry.base}; add one with "
                                 f"--controlnet {kind}=PATH or `studio models set --controlnet {kind}=PATH`.")
            controlnets.append(locate_controlnet(kind, sources[kind], allow_pickle=allow, base_family=base.family))
        for model in (base, *controlnets):
            self.hasher.start(model.path)
        return base, controlnets

    def identities(self, located: list[Any], *, wait: bool) -> list[dict[str, Any]]:
        """The identities of `located` models with their sha256 and `Model hash` (see the module docstring)."""
        return [hashed_identity(m.identity(), self.hasher, wait=wait) for m in located]

    def prepare(self, request: GenerationRequest) -> Any:
        """Load and assemble the pipeline `request` needs (e.g. to warm up before the first run)."""
        with self._lock:
            return self._prepare(request)[0]

    def _prepare(self, request: GenerationRequest) -> tuple[Any, str, list[Any], str]:
        """The pipeline, family, located models (base, ControlNets, LoRAs) and the prompt without LoRA tags."""
        base, controlnets = self.locate_models([c.kind for c in request.controls])
        bundled = base.path / "loras" if base.layout == "folder" else None
        lora_dir = self.settings.lora_dir or (str(bundled) if bundled is not None and bundled.is_dir() else None)
        prompt, loras = resolve_request_loras(request.prompt, list(request.loras), lora_dir)
        pipe, family = self._cache.pipeline(base, controlnets, refine=request.is_refine, inpaint=request.is_inpaint)
        if pipe.unet.config.in_channels != 4 and not request.is_inpaint:
            raise ModelError(f"{base.path} is an inpainting model ({pipe.unet.config.in_channels}-channel UNet); "
                             "it only repaints masked areas: give an image and a mask (--init, --mask).")
        located_loras = self._cache.apply_loras(loras)
        for lora in located_loras:
            self.hasher.start(lora.path)
        return pipe, family, [base, *controlnets, *located_loras], prompt

    def unload(self) -> None:
        """Drop all loaded models and free memory."""
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------------------------------- generation
    def generate(self, request: GenerationRequest, *, on_progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None, draft: bool = False) -> GenerationResult:
        """Run `request`; raises `StudioError` subclasses for bad requests, models or out of memory.

        `draft` marks a live-mode render: the optimizer may then decode with a faster, softer decoder.
        """
        request.validate()
        with self._lock:
            return self._generate(request, on_progress=on_progress, cancel=cancel, draft=draft)

    def _generate(self, request: GenerationRequest, *, on_progress: ProgressCallback | None,
                  cancel: CancelToken | None, draft: bool) -> GenerationResult:
        started = time.perf_counter()
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        seeds = [seed + i for i in range(request.batch_size)]
        try:
            pipe, family, located, prompt = self._prepare(request)
        except _oom_errors() as exc:
            raise self._out_of_memory(request, exc) from exc
        loaded = time.perf_counter()
        kwargs = self._call_arguments(pipe, request, seeds, prompt=prompt, family=family)
        prepared = time.perf_counter()
        result = GenerationResult(
            request=request, images=[], seed=seed, seeds=seeds, cancelled=False, timings={},
            models=[m.identity() for m in located], device=self.device.describe(), family=family,
            notes=[self.device.note] if self.device.note else [],
        )
        if cancel is not None and cancel.cancelled:
            result.cancelled = True
        else:
            plan = self._plan(pipe, request, draft=draft)
            result.notes.extend(plan.notes)
            hires = request.hires_scale > 1.0
            if hires and request.hires_upscaler == "latent":
                kwargs["output_type"] = "latent"
            result.images, result.cancelled = self._run(pipe, request, kwargs, family=family, plan=plan,
                                                        on_progress=on_progress, cancel=cancel)
            if hires and not result.cancelled:
                result.images, result.cancelled = self._hires_pass(request, result.images, seeds,
                                                                   on_progress=on_progress, cancel=cancel)
        result.models = self.identities(located, wait=not (draft or result.cancelled))
        done = time.perf_counter()
        result.timings = {"load": loaded - started, "prepare": prepared - loaded, "run": done - prepared,
                          "total": done - started}
        return result

    def _call_arguments(self, pipe: Any, request: GenerationRequest, seeds: list[int], *,
                        prompt: str, family: str) -> dict[str, Any]:
        """Keyword arguments for the pipeline call (control maps fitted to the output size, generators...)."""
        import torch

        width, height = request.width, request.height
        pipe.scheduler = make_scheduler(request.scheduler, pipe.scheduler.config)
        kwargs: dict[str, Any] = {
            "num_inference_steps": request.steps, "guidance_scale": request.guidance_scale,
            "num_images_per_prompt": request.batch_size,
            "generator": [torch.Generator("cpu").manual_seed(s) for s in seeds],
            "output_type": "pil",
        }
        embeddings = prompt_embeddings(pipe, family, prompt, request.negative_prompt)
        if embeddings is None:
            kwargs.update(prompt=parse_weighted(prompt).plain_text,
                          negative_prompt=parse_weighted(request.negative_prompt).plain_text)
        else:
            kwargs.update(embeddings)
        controls = request.controls
        maps = [Image.fromarray(fit_image(c.image, width=width, height=height, mode=c.resize_mode))
                for c in controls]
        if controls:
            single = len(controls) == 1
            kwargs.update({
                "controlnet_conditioning_scale": float(controls[0].weight) if single else
                [float(c.weight) for c in controls],
                "control_guidance_start": [float(c.start) for c in controls],
                "control_guidance_end": [float(c.end) for c in controls],
            })
        if request.is_inpaint:
            job = plan_inpaint(request)
            kwargs.update({"image": Image.fromarray(job.image), "mask_image": Image.fromarray(job.mask),
                           "strength": float(request.strength), "width": width, "height": height})
            if controls:
                inpaint_maps = [Image.fromarray(m) for m in job.control_maps]
                kwargs["control_image"] = inpaint_maps[0] if len(inpaint_maps) == 1 else inpaint_maps
            kwargs["_inpaint_job"] = job
        elif request.is_refine:
            init = Image.fromarray(fit_image(request.init_image, width=width, height=height, mode="crop_and_resize"))
            kwargs.update({"image": init, "strength": float(request.strength)})
            if controls:
                kwargs.update({"control_image": maps[0] if len(maps) == 1 else maps, "width": width,
                               "height": height})
        else:
            kwargs.update({"width": width, "height": height})
            if controls:
                kwargs["image"] = maps[0] if len(maps) == 1 else maps
        if controls and is_union_pipeline(pipe):
            union_arguments(kwargs, [c.kind for c in controls], controlnet=pipe.controlnet,
                            inpaint_or_refine=request.is_inpaint or request.is_refine)
        return kwargs

    def _hires_pass(self, request: GenerationRequest, first: list[Any], seeds: list[int], *,
                    on_progress: ProgressCallback | None, cancel: CancelToken | None) -> tuple[list[Any], bool]:
        """The hires-fix second pass of every image (see hires.py); progress continues the first pass's count."""
        latent = request.hires_upscaler == "latent"
        images: list[Any] = []
        first_steps = max(1, int(request.steps))
        for index, (output, seed) in enumerate(zip(first, seeds)):
            second = second_pass_request(request, seed=seed, image=None if latent else output)
            try:
                pipe, family, _, prompt = self._prepare(second)
            except _oom_errors() as exc:
                raise self._out_of_memory(second, exc) from exc
            kwargs = self._call_arguments(pipe, second, [seed], prompt=prompt, family=family)
            if latent:
                kwargs["image"] = upscale_latents(output, second.width, second.height).to(pipe.unet.device,
                                                                                          pipe.unet.dtype)

            def shifted(progress: Progress, index: int = index) -> None:
                if on_progress is not None:
                    total = first_steps + progress.total * len(first)
                    on_progress(Progress(step=first_steps + index * progress.total + progress.step, total=total,
                                         elapsed_s=progress.elapsed_s, preview=progress.preview))

            with tiled_decode(pipe, second.width, second.height):
                done, cancelled = self._run(pipe, second, kwargs, family=family, plan=self._plan(pipe, second,
                                            draft=False), on_progress=shifted, cancel=cancel)
            if cancelled:
                return [], True
            images.extend(done)
        return images, False

    def _plan(self, pipe: Any, request: GenerationRequest, *, draft: bool) -> RunPlan:
        """The optimizer's plan for this run, or a plan that changes nothing."""
        plan_run = getattr(self.optimize, "plan_run", None)
        return plan_run(pipe, request, draft=draft) if plan_run is not None else RunPlan()

    def _run(self, pipe: Any, request: GenerationRequest, kwargs: dict[str, Any], *, family: str, plan: RunPlan,
             on_progress: ProgressCallback | None, cancel: CancelToken | None) -> tuple[list[Image.Image], bool]:
        """Call the pipeline with progress, previews, cancellation, control-mode hooks and the run plan."""
        start = time.perf_counter()
        state = {"interrupted": False}
        job = kwargs.pop("_inpaint_job", None)
        make_preview = plan.preview or latents_to_preview

        def on_step_end(pipeline: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if on_progress is not None:
                total = pipeline.num_timesteps
                show = wants_preview(step + 1, total, self.preview_every)
                preview = make_preview(tensors["latents"], family=family) if show else None
                on_progress(Progress(step=step + 1, total=total, elapsed_s=time.perf_counter() - start,
                                     preview=preview))
            if cancel is not None and cancel.cancelled:
                pipeline._interrupt = True
                state["interrupted"] = True
            return plan.step_end(pipeline, step, tensors) if plan.step_end is not None else tensors

        controlnet = getattr(pipe, "controlnet", None)
        nets = list(getattr(controlnet, "nets", [controlnet] if controlnet is not None else []))
        if plan.guess_mode:
            kwargs["guess_mode"] = True
        handles = install_guess_mode_hooks(nets) if plan.guess_mode else install_mode_hooks(
            nets, [c.mode for c in request.controls], uses_cfg=lambda: pipe.do_classifier_free_guidance)
        try:
            with plan.context:
                output = pipe(**kwargs, callback_on_step_end=on_step_end,
                              callback_on_step_end_tensor_inputs=["latents", *plan.tensor_inputs])
        except _oom_errors() as exc:
            raise self._out_of_memory(request, exc) from exc
        except (RuntimeError, ValueError) as exc:
            raise GenerationError(f"Generation failed: {exc}") from exc
        finally:
            remove_hooks(handles)
        if state["interrupted"]:
            return [], True
        if job is not None:
            return [job.finish(image) for image in output.images], False
        return list(output.images), False

    def _out_of_memory(self, request: GenerationRequest, exc: BaseException) -> DeviceOutOfMemoryError:
        """Free the accelerator's cache and describe the failure in one sentence."""
        free_memory(self.device)
        return DeviceOutOfMemoryError(
            f"The {self.device.device.upper()} ran out of memory making {request.batch_size} image(s) of "
            f"{request.width}x{request.height}; try a smaller size or batch, or close other GPU programs."
        )


def _oom_errors() -> tuple[type[BaseException], ...]:
    import torch

    return (torch.OutOfMemoryError,)
