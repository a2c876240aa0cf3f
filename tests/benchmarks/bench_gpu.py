"""GPU benchmark: Studio's accelerated engine against diffusers defaults, with cold and warm compile caches.

    python tests/benchmarks/bench_gpu.py [--tiny] [--sections sd15_cn,sd15_3cn,live,sdxl_cn,lowvram]
                                         [--out DIR] [--deadline-s 420] [--repeats 3] [--no-compile]

Sections (full size on CUDA, random weights from resources/model_configs; `--tiny`: the tiny test models at
64x64 through the same code, so the script itself is tested on a CPU):
  sd15_cn   SD 1.5 + 1 ControlNet, 512x512, 20 steps UniPC, CFG 7, batch 1
  sd15_3cn  SD 1.5 + 3 ControlNets, same
  live      SD 1.5 + 1 ControlNet, LCM 4 steps 512x512, guidance 1 (LiveRenderer frames, TAESD-size draft decoder)
  sdxl_cn   SDXL + 1 ControlNet, 1024x1024, 30 steps UniPC, CFG 7
  lowvram   SD 1.5 + 1 ControlNet with model offload: seconds per image and peak GPU memory
Per section, in the same process: diffusers defaults (plain pipeline, fp16, same scheduler and seed) and our
engine (`Engine(optimize=Accelerator(AccelOptions.auto(...)))`): seconds per image, steps per second (whole
image, and denoising loop only), peak GPU memory, first-image time, background-compile time, the speed-up, and
the PSNR of our image against diffusers' (same seed, same precision; target >= 30 dB).

Processes: a "build" child writes the models (in-process for --tiny); a "cold" child runs all sections with an
empty compile cache; a "warm" child (a second app start) reruns sd15_cn and live reusing that cache. Each child appends its results
after every section, so a child stopped by its time limit still reports what it finished. Compile waits are
bounded per section (the engine keeps serving eager results meanwhile; what is not compiled in time stays eager
and is recorded). Writes `<out>/gpu-<device>-<time>.json` and prints a summary with the targets:
SD1.5+CN >= 3x diffusers and > 73 steps/s; first image < 60 s cold, < 15 s warm; no generation waits for a
compile (foreground compiles = 0); live frame < 100 ms.
"""

from __future__ import annotations

import time

START = time.perf_counter()  # "app start" for the first-image figures: before the heavy imports

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

# In the order they run: the figures the targets name first, the heaviest model last.
SECTIONS = {
    "sd15_cn": dict(model="sd15", kinds=("edge",), size=512, steps=20, guidance=7.0, scheduler="unipc"),
    "live": dict(model="sd15", kinds=("edge",), size=512, steps=4, guidance=1.0, scheduler="lcm"),
    "sd15_3cn": dict(model="sd15", kinds=("edge", "pose", "depth"), size=512, steps=20, guidance=7.0,
                     scheduler="unipc"),
    "lowvram": dict(model="sd15", kinds=("edge",), size=512, steps=20, guidance=7.0, scheduler="unipc",
                    memory="model_offload"),
    "sdxl_cn": dict(model="sdxl", kinds=("edge",), size=1024, steps=30, guidance=7.0, scheduler="unipc"),
}
WARM_SECTIONS = ("sd15_cn", "live")
COMPILE_WAIT_S = {"cold": {"sd15_cn": 120, "live": 75, "sd15_3cn": 40, "lowvram": 0, "sdxl_cn": 100},
                  "warm": {"sd15_cn": 60, "live": 45}}
SECTION_RESERVE_S = 35  # time a section needs besides compiling (timed runs, diffusers baseline)
WARM_MIN_S = 90.0  # the warm child: imports, model load, first image, compile from cache, timed runs
PROMPT, NEGATIVE, SEED = "a cat on a sofa, studio light", "blurry", 3


# ============================================================================================ child: sections
class Bench:
    """State of one child process: engines (per model), options and timing helpers."""

    def __init__(self, args: argparse.Namespace, paths: dict[str, Path]) -> None:
        import torch

        self.args = args
        self.paths = paths
        self.cuda = torch.cuda.is_available()
        self.engines: dict[str, tuple] = {}
        self.reference_images: dict = {}
        self.first_image_done = False
        self.deadline = START + args.deadline_s

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def sync(self) -> None:
        import torch

        if self.cuda:
            torch.cuda.synchronize()

    def options(self, memory: str = "auto"):
        from studio.engine.accel_options import AccelOptions

        common = dict(compile_cache_dir=str(self.args.cache), compile_budget_s=self.args.compile_budget_s,
                      tiny_vae=str(self.paths["taesd"]))
        if self.cuda:
            return AccelOptions.auto("cuda", memory=memory, compile=not self.args.no_compile, **common)
        return AccelOptions.auto("cpu", channels_last=True, fuse_qkv=True, compile=not self.args.no_compile,
                                 compile_regions=("BasicTransformerBlock",), **common)

    def engine(self, model: str, memory: str = "auto"):
        """Our engine for `model` (one per model and memory mode; others are unloaded to free the GPU)."""
        from studio.engine.accel import Accelerator
        from studio.engine.pipeline import Engine
        from studio.engine.settings import ModelSettings

        key = f"{model}-{memory}"
        if key not in self.engines:
            for other in list(self.engines):
                self.engines.pop(other)[0].unload()
            accelerator = Accelerator(self.options(memory))
            settings = ModelSettings.for_model(str(self.paths[model]), device="cuda" if self.cuda else "cpu",
                                               dtype="fp16" if self.cuda else "auto")
            self.engines[key] = (Engine(settings, preview_every=0, optimize=accelerator), accelerator)
        return self.engines[key]

    def request(self, config: dict):
        from bench_engine import control_map

        from studio.engine.request import ControlInput, GenerationRequest

        size = 64 if self.args.tiny else config["size"]
        controls = [ControlInput(kind, control_map(size, i)) for i, kind in enumerate(config["kinds"])]
        return GenerationRequest(prompt=PROMPT, negative_prompt=NEGATIVE, width=size, height=size,
                                 steps=config["steps"], guidance_scale=config["guidance"], seed=SEED,
                                 scheduler=config["scheduler"], controls=controls)

    def peak_gb(self, since: int = 0) -> float | None:
        import torch

        return round((torch.cuda.max_memory_allocated() - since) / 2**30, 3) if self.cuda else None

    def reset_peak(self) -> int:
        import torch

        if not self.cuda:
            return 0
        self.sync()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()

    def timed(self, run, *, repeats: int) -> dict:
        """Median seconds per image and denoising steps/s of `run(on_step)` (on_step(step, total) per step)."""
        seconds, rates, image = [], [], None
        for _ in range(repeats):
            marks: dict[int, float] = {}

            def on_step(step: int, total: int) -> None:
                if step in (1, total):
                    self.sync()
                    marks[step] = time.perf_counter()
                marks["total"] = total

            self.sync()
            started = time.perf_counter()
            image = run(on_step)
            self.sync()
            seconds.append(time.perf_counter() - started)
            total = marks.get("total", 0)
            if total > 1 and 1 in marks and total in marks:
                rates.append((total - 1) / (marks[total] - marks[1]))
        per_image = statistics.median(seconds)
        return {"s_per_image": round(per_image, 4), "min_s": round(min(seconds), 4),
                "denoise_steps_per_s": round(statistics.median(rates), 2) if rates else None,
                "image": image}


def diffusers_pipeline(bench: Bench, config: dict):
    """The same models loaded the ordinary diffusers way (fp16 on CUDA), with the section's scheduler."""
    import diffusers
    import torch
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

    from studio.engine.schedulers import make_scheduler

    dtype = torch.float16 if bench.cuda else torch.float32
    base = bench.paths[config["model"]]
    nets = [diffusers.ControlNetModel.from_pretrained(base / "controlnets" / k, dtype=dtype) for k in config["kinds"]]
    cls = diffusers.StableDiffusionXLControlNetPipeline if config["model"] == "sdxl" else \
        diffusers.StableDiffusionControlNetPipeline
    extra = {"add_watermarker": False} if config["model"] == "sdxl" else {
        "safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    pipe = cls.from_pretrained(base, controlnet=nets[0] if len(nets) == 1 else MultiControlNetModel(nets),
                               dtype=dtype, **extra)
    pipe.scheduler = make_scheduler(config["scheduler"], pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to("cuda" if bench.cuda else "cpu")


@contextlib.contextmanager
def default_cuda_math():
    """PyTorch's default TF32 and cuDNN autotuning switches (our engine turns them on process-wide)."""
    import torch

    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = \
        False, True, False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = saved


def run_diffusers(bench: Bench, config: dict, request, *, ablation: bool) -> dict:
    """Diffusers defaults on the section's request: first image, timed runs, peak memory (its own); then, with
    `ablation`, the per-tweak step timings on its models (`step_ablation.py`)."""
    with default_cuda_math():
        return _run_diffusers(bench, config, request, ablation=ablation)


def _run_diffusers(bench: Bench, config: dict, request, *, ablation: bool) -> dict:
    import gc

    import torch
    from PIL import Image

    before = bench.reset_peak()
    pipe = diffusers_pipeline(bench, config)
    maps = [Image.fromarray(c.image) for c in request.controls]
    call = dict(prompt=request.prompt, negative_prompt=request.negative_prompt, width=request.width,
                height=request.height, num_inference_steps=request.steps, guidance_scale=request.guidance_scale,
                image=maps[0] if len(maps) == 1 else maps)

    def run(on_step):
        def callback(pipeline, step, _t, tensors):
            on_step(step + 1, pipeline.num_timesteps)
            return tensors

        generator = [torch.Generator("cpu").manual_seed(request.seed)]
        return pipe(**call, generator=generator, callback_on_step_end=callback).images[0]

    started = time.perf_counter()
    run(lambda step, total: None)
    bench.sync()
    first = time.perf_counter() - started
    figures = bench.timed(run, repeats=bench.args.repeats)
    figures.update(first_image_s=round(first, 3), peak_gb=bench.peak_gb(before))
    if ablation:
        from step_ablation import ablate

        try:
            figures["step_ablation"] = ablate(pipe, size=request.width, cuda=bench.cuda)
        except Exception as exc:  # noqa: BLE001 - recorded; the section's main figures stand
            figures["step_ablation"] = {"error": f"{type(exc).__name__}: {exc}"}
    del pipe
    gc.collect()
    if bench.cuda:
        torch.cuda.empty_cache()
    return figures


def run_ours(bench: Bench, name: str, config: dict, request, phase: str) -> dict:
    """Our engine: first image (eager), bounded wait for the background compile, then timed runs."""
    engine, accelerator = bench.engine(config["model"], config.get("memory", "auto"))
    figures: dict = {}
    before = bench.reset_peak()
    started = time.perf_counter()
    first = engine.generate(request).images[0]
    figures["first_image_s"] = round(time.perf_counter() - started, 3)
    if not bench.first_image_done:
        figures["first_image_after_start_s"] = round(time.perf_counter() - START, 3)
        bench.first_image_done = True
    wait = max(0.0, min(COMPILE_WAIT_S[phase].get(name, 60), bench.left() - SECTION_RESERVE_S))
    started = time.perf_counter()
    figures["compile_settled"] = accelerator.wait_compiled(timeout=wait)
    figures["compile_wait_s"] = round(time.perf_counter() - started, 3)
    figures["compile_ready_after_start_s"] = round(time.perf_counter() - START, 3)
    for _ in range(2):  # graphs are captured on the first runs after the compiled blocks arrive
        engine.generate(request)

    def run(on_step):
        return engine.generate(request, on_progress=lambda p: on_step(p.step, p.total)).images[0]

    figures.update(bench.timed(run, repeats=bench.args.repeats))
    figures["peak_gb"] = bench.peak_gb(before)
    figures["first_image"] = first
    figures["accel"] = accelerator.status()
    return figures


def run_live(bench: Bench, config: dict, request) -> dict:
    """Frame times through `LiveRenderer` (drafts decoded by the tiny VAE), after `run_ours` warmed everything."""
    import threading

    from studio.engine.live import LiveRenderer, LiveSettings

    engine, _ = bench.engine(config["model"])
    frames, errors, arrived = [], [], threading.Event()

    def on_frame(frame):
        frames.append(frame)
        arrived.set()

    settings = LiveSettings(steps=config["steps"], guidance_scale=config["guidance"], scheduler=config["scheduler"],
                            seed=SEED)
    with LiveRenderer(engine, on_frame=on_frame, on_error=errors.append, debounce_s=0.0, settings=settings) as live:
        for i in range(bench.args.repeats + 2):
            arrived.clear()
            live.request_changed(request)
            if not arrived.wait(120):
                raise RuntimeError(f"no live frame within 120 s ({errors})")
    if errors:
        raise RuntimeError(f"live errors: {errors}")
    times = [f.frame_time for f in frames[2:]]
    return {"live_frame_s": round(statistics.median(times), 4), "live_frame_min_s": round(min(times), 4),
            "live_frames": len(frames)}


def run_section(bench: Bench, name: str, phase: str) -> dict:
    from studio.engine.quality import psnr

    config = SECTIONS[name]
    if config.get("memory", "auto") != "auto" and not bench.cuda:
        return {"skipped": "needs CUDA (offloading moves weights between CPU and GPU memory)"}
    request = bench.request(config)
    ours = run_ours(bench, name, config, request, phase)
    first, image = ours.pop("first_image"), ours.pop("image")
    result = {"config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
              "size": request.width, "ours": ours}
    if name == "live":  # ours' timed runs above are full-VAE drafts; the live frames use the draft decoder
        result["ours"].update(run_live(bench, config, request))
    steps = request.steps
    result["ours"]["steps_per_s"] = round(steps / ours["s_per_image"], 2)
    if phase == "warm":
        return result
    if name == "lowvram":
        reference = bench.reference_images.get("sd15_cn")
        if reference is not None:
            result["psnr_vs_diffusers_sd15_cn"] = _db(psnr(reference, image))
        return result
    baseline = run_diffusers(bench, config, request, ablation=name == "sd15_cn")
    reference = baseline.pop("image")
    bench.reference_images[name] = reference
    baseline["steps_per_s"] = round(steps / baseline["s_per_image"], 2)
    result["diffusers"] = baseline
    result["speedup"] = round(baseline["s_per_image"] / ours["s_per_image"], 3)
    result["psnr_vs_diffusers"] = _db(psnr(reference, image))
    result["psnr_first_image_vs_diffusers"] = _db(psnr(reference, first))
    return result


def _db(value: float) -> float | str:
    return "inf" if value == float("inf") else round(value, 2)


def child_run(args: argparse.Namespace) -> None:
    """A cold or warm child: run the sections, writing the part file after each one."""
    import torch

    from gpu_models import build_models
    from gpu_report import brief

    torch.set_num_threads(1 if not torch.cuda.is_available() else torch.get_num_threads())
    paths = build_models(args.models, tiny=args.tiny, device="cuda" if torch.cuda.is_available() else "cpu",
                         families=_families(args.sections))
    bench = Bench(args, paths)
    part = {"phase": args.phase, "device": _device_name(), "sections": {}, "errors": []}
    names = [n for n in args.sections if args.phase == "cold" or n in WARM_SECTIONS]
    for name in names:
        if bench.left() < SECTION_RESERVE_S:
            part["sections"][name] = {"skipped": "out of time"}
        else:
            print(f"[{args.phase}] {name} ...", flush=True)
            try:
                part["sections"][name] = run_section(bench, name, args.phase)
            except Exception as exc:  # noqa: BLE001 - a failing section is recorded; the others still run
                part["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
                part["errors"].append(traceback.format_exc(limit=6))
            print(f"[{args.phase}] {name}: {brief(part['sections'][name])}", flush=True)
        part["wall_s"] = round(time.perf_counter() - START, 2)
        Path(args.part).write_text(json.dumps(part, indent=1, default=str))


def child_build(args: argparse.Namespace) -> None:
    import torch

    from gpu_models import build_models

    cuda = torch.cuda.is_available()
    build_models(args.models, tiny=args.tiny, device="cuda" if cuda else "cpu", families=_families(args.sections))
    Path(args.part).write_text(json.dumps({"phase": "build", "wall_s": round(time.perf_counter() - START, 2)}))


def _families(sections: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(SECTIONS[name]["model"] for name in sections))


# ==================================================================================================== parent
def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"


def _child(args: argparse.Namespace, phase: str, work: Path, limit_s: float) -> dict:
    part = work / f"part-{phase}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--models", str(work / "models"),
               "--cache", str(work / "compile-cache"), "--part", str(part), "--sections", ",".join(args.sections),
               "--repeats", str(args.repeats), "--deadline-s", str(max(10.0, limit_s - 15)),
               "--compile-budget-s", str(args.compile_budget_s)]
    command += ["--tiny"] * args.tiny + ["--no-compile"] * args.no_compile
    started = time.perf_counter()
    try:
        completed = subprocess.run(command, timeout=max(10.0, limit_s), check=False)
        status = f"exit {completed.returncode}"
    except subprocess.TimeoutExpired:
        status = f"stopped after {limit_s:.0f} s"
    data = json.loads(part.read_text()) if part.exists() else {"phase": phase, "sections": {}}
    data.update(process=status, process_wall_s=round(time.perf_counter() - started, 2))
    return data


def parent(args: argparse.Namespace) -> Path:
    import torch
    from gpu_report import print_summary, targets

    started = time.perf_counter()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    shutil.rmtree(work / "compile-cache", ignore_errors=True)  # cold means cold
    report = {"benchmark": "bench_gpu", "version": 1, "tiny": args.tiny, "device": _device_name(),
              "torch": torch.__version__, "started": datetime.datetime.now().isoformat(timespec="seconds"),
              "sections_asked": args.sections, "phases": {}}
    try:
        import diffusers
        import transformers

        report.update(diffusers=diffusers.__version__, transformers=transformers.__version__)
    except ImportError as exc:
        report["import_error"] = str(exc)
    deadline = started + args.deadline_s
    if args.tiny:  # seconds in-process; full-size models are built in a child, away from this process's GPU memory
        from gpu_models import build_models

        build_models(work / "models", tiny=True, device="cpu", families=_families(args.sections))
        report["phases"]["build"] = {"phase": "build", "process": "in the parent",
                                     "process_wall_s": round(time.perf_counter() - started, 2)}
    else:
        report["phases"]["build"] = _child(args, "build", work, limit_s=args.deadline_s * 0.3)
    left = deadline - time.perf_counter()
    warm_share = max(WARM_MIN_S, 0.25 * left)
    cold = _child(args, "cold", work, limit_s=left - warm_share)
    warm = _child(args, "warm", work, limit_s=deadline - time.perf_counter())
    for phase in (cold, warm):
        report["phases"][phase["phase"]] = {k: v for k, v in phase.items() if k != "sections"}
    report["sections"] = cold.get("sections", {})
    for name, figures in warm.get("sections", {}).items():
        report["sections"].setdefault(name, {})["warm"] = figures.get("ours", figures)
    report["targets"] = targets(report["sections"], warm.get("sections", {}))
    report["wall_s"] = round(time.perf_counter() - started, 2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report["device"]).strip("-").lower()
    path = out / f"gpu-{'tiny-' if args.tiny else ''}{slug}-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print_summary(report, path)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random models at 64x64 (runs on a CPU)")
    parser.add_argument("--sections", default=",".join(SECTIONS), type=lambda s: [x for x in s.split(",") if x])
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--work", help="work folder to keep (models, compile cache, part files)")
    parser.add_argument("--deadline-s", type=float, default=420.0, help="wall-clock budget for everything")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile-budget-s", type=float, default=150.0, help="per burst of background compiling")
    parser.add_argument("--no-compile", action="store_true", help="leave torch.compile out (quick runs)")
    parser.add_argument("--phase", choices=("build", "cold", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.phase == "build":
        child_build(args)
    elif args.phase in ("cold", "warm"):
        child_run(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
