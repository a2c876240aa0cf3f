"""Speed-ups (accel): options, low-VRAM choice, lossless tweaks, guess mode, CFG cut-off, background compile,
compile cache, tiny VAE previews; CUDA-only paths are marked `gpu`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from engine_fixtures import stripes, tiny_engine, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401

from studio.engine.accel import Accelerator
from studio.engine.accel_options import AccelOptions
from studio.engine.cfg_cutoff import guided_steps
from studio.engine.compile_cache import (INDUCTOR_ENV, cache_size_bytes, clear_compile_cache,
                                         default_compile_cache_dir, use_compile_cache)
from studio.engine.device import DeviceChoice
from studio.engine.errors import ModelError, SettingsError
from studio.engine.lowvram import GIB, choose_memory_plan
from studio.engine.pipeline import Engine
from studio.engine.quality import psnr
from studio.engine.request import ControlInput
from studio.engine.settings import ModelSettings
from studio.engine.tiny_vae import make_tiny_vae

CPU = DeviceChoice("cpu", "float32")


def _engine(tiny, options: AccelOptions | None = None, **engine_options) -> tuple[Engine, Accelerator]:
    accelerator = Accelerator(options or AccelOptions.auto("cpu"))
    return Engine(ModelSettings.for_model(str(tiny.base)), optimize=accelerator, **engine_options), accelerator


def _batch_sizes(module) -> tuple[list[int], object]:
    """Record the batch size of every forward call of `module` (a measuring hook; removed by the caller)."""
    sizes: list[int] = []
    handle = module.register_forward_pre_hook(lambda _m, args, kwargs: sizes.append(
        (args[0] if args else kwargs["sample"]).shape[0]), with_kwargs=True)
    return sizes, handle


# ------------------------------------------------------------------------------------------------ options
def test_auto_options_per_device():
    cuda = AccelOptions.auto("cuda")
    assert cuda.channels_last and cuda.fuse_qkv and cuda.compile and cuda.cuda_graphs and cuda.fast_cuda_math
    assert cuda.memory == "auto" and cuda.guess_mode == "lossless" and cuda.cfg_cutoff == 1.0
    cpu = AccelOptions.auto("cpu")
    assert not (cpu.channels_last or cpu.fuse_qkv or cpu.compile or cpu.cuda_graphs)
    assert cpu.guess_mode == "lossless"
    off = AccelOptions.off()
    assert off.memory == "full" and off.guess_mode == "off" and not off.compile
    assert AccelOptions.auto("cuda", compile=False).compile is False


def test_options_round_trip_and_bad_values():
    options = AccelOptions.auto("cuda", cfg_cutoff=0.6, tiny_vae="/models/taesd")
    assert AccelOptions.from_dict(options.to_dict()) == options
    bad = [{"attention": "fastest"}, {"memory": "tiny"}, {"guess_mode": "sometimes"}, {"cfg_cutoff": 0.0},
           {"cfg_cutoff": 1.5}, {"compile_budget_s": -1}, {"compile": "yes"}, {"compile_regions": []},
           {"warp_speed": True}, {"compile_regions": "ResnetBlock2D"}]
    for values in bad:
        with pytest.raises(SettingsError):
            AccelOptions.from_dict(values)
    with pytest.raises(SettingsError):
        AccelOptions.from_dict(["not", "a", "dict"])
    with pytest.raises(SettingsError):
        AccelOptions.auto("tpu")


# ------------------------------------------------------------------------------------------- low VRAM
SD15_WEIGHTS, SD15_UNET = int(2.1 * GIB), int(1.72 * GIB)
SDXL_WEIGHTS, SDXL_UNET = int(6.9 * GIB), int(5.1 * GIB)


@pytest.mark.parametrize("free_gib, family, weights, unet, mode, speedups", [
    (70.0, "sd1", SD15_WEIGHTS, SD15_UNET, "full", True),
    (5.5, "sd1", SD15_WEIGHTS, SD15_UNET, "full", False),        # a 6 GB card holds SD 1.5 + a ControlNet
    (4.0, "sd1", SD15_WEIGHTS, SD15_UNET, "model_offload", False),
    (2.0, "sd1", SD15_WEIGHTS, SD15_UNET, "sequential_offload", False),
    (70.0, "sdxl", SDXL_WEIGHTS, SDXL_UNET, "full", True),
    (12.0, "sdxl", SDXL_WEIGHTS, SDXL_UNET, "model_offload", False),
    (7.5, "sdxl", SDXL_WEIGHTS, SDXL_UNET, "sequential_offload", False),  # an 8 GB card
])
def test_memory_plan_from_free_memory(free_gib, family, weights, unet, mode, speedups):
    plan = choose_memory_plan(requested="auto", free_bytes=int(free_gib * GIB), weights=weights, unet_bytes=unet,
                              family=family)
    assert plan.mode == mode and plan.speedups_fit == speedups
    assert plan.vae_tiling == plan.offloads == (mode != "full")
    assert f"{free_gib:.1f} GiB" in plan.reason


def test_memory_plan_user_choice_wins_and_unknown_mode_is_refused():
    plan = choose_memory_plan(requested="model_offload", free_bytes=80 * GIB, weights=SD15_WEIGHTS,
                              unet_bytes=SD15_UNET, family="sd1")
    assert plan.mode == "model_offload" and "settings" in plan.reason
    assert choose_memory_plan(requested="full", free_bytes=1 * GIB, weights=SDXL_WEIGHTS, unet_bytes=SDXL_UNET,
                              family="sdxl").mode == "full"
    with pytest.raises(SettingsError):
        choose_memory_plan(requested="half", free_bytes=GIB, weights=1, unet_bytes=1, family="sd1")


def test_placement_measures_the_loaded_model_and_keeps_weights_on_cpu_for_offload(tiny_engine):
    pipe = tiny_engine.prepare(tiny_request())
    cuda = DeviceChoice("cuda", "float16")
    roomy = Accelerator(AccelOptions.auto("cuda"), memory_info=lambda: (8 * GIB, 8 * GIB))
    assert roomy.placement(pipe, cuda) == "cuda" and roomy.memory_plan.mode == "full"
    tight = Accelerator(AccelOptions.auto("cuda"), memory_info=lambda: (GIB // 2, 2 * GIB))
    assert tight.placement(pipe, cuda) == "cpu" and tight.memory_plan.mode == "sequential_offload"
    forced = Accelerator(AccelOptions.auto("cuda", memory="model_offload"), memory_info=lambda: (80 * GIB, 80 * GIB))
    assert forced.placement(pipe, cuda) == "cpu"
    assert Accelerator(AccelOptions.auto("cpu")).placement(pipe, CPU) == "cpu"


def test_compile_and_graphs_need_memory_headroom_and_say_why(tiny_sd15):
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    controlnet = ControlNetModel.from_pretrained(tiny_sd15.controlnets["edge"])
    pipe = StableDiffusionControlNetPipeline.from_pretrained(tiny_sd15.base, controlnet=controlnet,
                                                             safety_checker=None, requires_safety_checker=False)
    cuda = DeviceChoice("cuda", "float32")
    options = AccelOptions.auto("cuda", fast_cuda_math=False, compile_backend="aot_eager")
    accelerator = Accelerator(options, memory_info=lambda: (2 * GIB, 4 * GIB))  # fits, without room to spare
    assert accelerator.placement(pipe, cuda) == "cuda" and not accelerator.memory_plan.speedups_fit
    accelerator(pipe, cuda)
    assert accelerator.compiler is None and accelerator.status()["cuda_graphs"]["models"] == 0
    assert any(n.startswith("torch.compile is off: too little free GPU memory") for n in accelerator.notes)
    assert any(n.startswith("CUDA graphs are off") for n in accelerator.notes)
    assert accelerator.plan_run(pipe, tiny_request()).notes == accelerator.notes  # reaches the result's notes


# ------------------------------------------------------------------------------------- lossless tweaks
def test_channels_last_and_fused_qkv_keep_the_picture(tiny_sd15, tiny_engine):
    from diffusers.models.attention_processor import FusedAttnProcessor2_0

    plain = tiny_engine.generate(tiny_request()).images[0]
    engine, _ = _engine(tiny_sd15, AccelOptions(channels_last=True, fuse_qkv=True))
    fast = engine.generate(tiny_request()).images[0]
    assert psnr(plain, fast) >= 30.0
    pipe = engine.prepare(tiny_request())
    for model in (pipe.unet, *pipe.controlnet.nets, pipe.vae):
        processors = [type(p) for p in model.attn_processors.values()]
        assert processors and all(p is FusedAttnProcessor2_0 for p in processors)
    conv = pipe.unet.conv_in.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    # A second pipeline shares the models: the tweaks are not applied twice, and it still matches.
    request = tiny_request(controls=[ControlInput("depth", stripes(seed=5))])
    assert psnr(tiny_engine.generate(request).images[0], engine.generate(request).images[0]) >= 30.0


# ------------------------------------------------------------------------------------------ guess mode
def test_lossless_guess_mode_halves_controlnet_work_and_keeps_the_picture(tiny_sd15, tiny_engine):
    controls = [ControlInput("edge", stripes(), mode="control"), ControlInput("pose", stripes(vertical=False),
                                                                               mode="control")]
    request = tiny_request(controls=controls)
    plain = tiny_engine.generate(request).images[0]
    engine, accelerator = _engine(tiny_sd15)
    pipe = engine.prepare(request)
    assert accelerator.plan_run(pipe, request).guess_mode
    sizes, handle = _batch_sizes(pipe.controlnet.nets[0])
    try:
        fast = engine.generate(request).images[0]
    finally:
        handle.remove()
    assert sizes == [1] * request.steps  # the conditional half only (plain runs 2 per step)
    assert psnr(plain, fast) >= 30.0
    mixed = tiny_request(controls=[controls[0], ControlInput("pose", stripes(vertical=False))])
    assert not accelerator.plan_run(pipe, mixed).guess_mode
    assert np.array_equal(np.asarray(tiny_engine.generate(mixed).images[0]),
                          np.asarray(engine.generate(mixed).images[0]))
    assert not accelerator.plan_run(pipe, tiny_request(controls=controls, guidance_scale=1.0)).guess_mode


def test_guess_mode_always_runs_every_controlnet_on_half_the_batch(tiny_sd15):
    engine, accelerator = _engine(tiny_sd15, AccelOptions.auto("cpu", guess_mode="always"))
    request = tiny_request()
    pipe = engine.prepare(request)
    assert accelerator.plan_run(pipe, request).guess_mode
    sizes, handle = _batch_sizes(pipe.controlnet.nets[1])
    try:
        assert engine.generate(request).images[0].size == (64, 64)
    finally:
        handle.remove()
    assert sizes == [1] * request.steps


# --------------------------------------------------------------------------------------------- CFG cut-off
def test_guided_steps():
    assert guided_steps(1.0, 20) == 20 and guided_steps(0.5, 20) == 10 and guided_steps(0.01, 20) == 1
    assert guided_steps(0.34, 3) == 2


def test_cfg_cutoff_drops_the_unconditional_half_for_late_steps(tiny_sd15, tiny_engine):
    request = tiny_request(steps=8, batch_size=2)
    plain = tiny_engine.generate(request)
    engine, _ = _engine(tiny_sd15, AccelOptions.auto("cpu", cfg_cutoff=0.5))
    pipe = engine.prepare(request)
    unet_sizes, unet_handle = _batch_sizes(pipe.unet)
    net_sizes, net_handle = _batch_sizes(pipe.controlnet.nets[0])
    try:
        cut = engine.generate(request)
    finally:
        unet_handle.remove()
        net_handle.remove()
    assert unet_sizes == [4] * 4 + [2] * 4 and net_sizes == unet_sizes  # batch of 2 images, guided then not
    assert len(cut.images) == 2
    for before, after in zip(plain.images, cut.images):
        # Late steps without guidance: not identical, yet close (50-60 dB on the tiny model; a real model's
        # late steps react more to guidance, which is why the cut-off is opt-in).
        assert 30.0 <= psnr(before, after) < math.inf
    never = _engine(tiny_sd15, AccelOptions.auto("cpu", cfg_cutoff=1.0))[0]
    assert np.array_equal(np.asarray(never.generate(request).images[0]), np.asarray(plain.images[0]))


def test_cfg_cutoff_on_sdxl_and_refine(tiny_sdxl, tiny_sd15):
    engine, _ = _engine(tiny_sdxl, AccelOptions.auto("cpu", cfg_cutoff=0.5))
    result = engine.generate(tiny_request(controls=[ControlInput("edge", stripes())]))
    assert result.images[0].size == (64, 64)
    engine, _ = _engine(tiny_sd15, AccelOptions.auto("cpu", cfg_cutoff=0.5))
    init = np.full((64, 64, 3), 120, dtype=np.uint8)
    refined = engine.generate(tiny_request(init_image=init, strength=1.0, steps=6))
    assert refined.images[0].size == (64, 64)


# ------------------------------------------------------------------------------------ background compile
def _compile_options(**overrides) -> AccelOptions:
    values = dict(compile=True, compile_backend="aot_eager", compile_regions=("BasicTransformerBlock",))
    values.update(overrides)
    return AccelOptions.auto("cpu", **values)


def test_background_compile_serves_eager_first_then_compiled_blocks(tiny_sd15, tiny_engine):
    plain = tiny_engine.generate(tiny_request()).images[0]
    engine, accelerator = _engine(tiny_sd15, _compile_options())
    during = []
    first = engine.generate(tiny_request(), on_progress=lambda p: during.append(accelerator.status()["compile"]))
    first = first.images[0]  # eager blocks; signatures queued for the worker, which waits for the run to end
    assert all(s["waiting"] and s["pending"] >= 1 and s["seconds"] == 0 for s in during)
    assert psnr(plain, first) >= 30.0
    assert accelerator.wait_compiled(timeout=120)
    status = accelerator.status()["compile"]
    assert status["state"] == "ready" and status["ready"] >= 1 and status["regions"] == 8
    assert status["compiled_calls"] == 0 and status["foreground_compiles"] == 0
    second = engine.generate(tiny_request()).images[0]
    status = accelerator.status()["compile"]
    assert status["compiled_calls"] > 0 and status["pending"] == 0  # no new signature: nothing more to compile
    assert status["foreground_compiles"] == 0  # the generation never compiled anything itself
    assert psnr(plain, second) >= 30.0


def test_compile_over_budget_or_failing_stays_eager_and_says_so(tiny_sd15, tiny_engine):
    plain = np.asarray(tiny_engine.generate(tiny_request()).images[0])
    engine, accelerator = _engine(tiny_sd15, _compile_options(compile_budget_s=0.0))
    assert np.array_equal(np.asarray(engine.generate(tiny_request()).images[0]), plain)
    assert accelerator.wait_compiled(timeout=60)
    status = accelerator.status()["compile"]
    assert status["state"] == "partial" and status["skipped"] >= 1 and status["ready"] == 0
    engine, accelerator = _engine(tiny_sd15, _compile_options(compile_backend="no_such_backend"))
    assert np.array_equal(np.asarray(engine.generate(tiny_request()).images[0]), plain)
    assert accelerator.wait_compiled(timeout=60)
    status = accelerator.status()["compile"]
    assert status["state"] == "partial" and status["failed"] >= 1 and status["errors"]
    assert np.array_equal(np.asarray(engine.generate(tiny_request()).images[0]), plain)


def test_compile_cache_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(INDUCTOR_ENV, raising=False)
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    folder = use_compile_cache()
    assert folder == default_compile_cache_dir() and folder.is_dir()
    assert str(folder).startswith(str(tmp_path / "cache" / "torch-compile"))
    import os

    assert os.environ[INDUCTOR_ENV] == str(folder)
    (folder / "kernel.bin").write_bytes(b"x" * 10)
    assert cache_size_bytes(folder) == 10
    assert use_compile_cache() == folder  # a folder the environment names is kept
    explicit = use_compile_cache(tmp_path / "mine")
    assert os.environ[INDUCTOR_ENV] == str(explicit)
    assert clear_compile_cache(folder) == folder and not folder.exists() and cache_size_bytes(folder) == 0


# ----------------------------------------------------------------------------------------- tiny VAE
def test_tiny_vae_previews_at_full_size_and_draft_decode(tiny_sd15, tiny_engine, tmp_path):
    folder = make_tiny_vae(tmp_path / "taesd")
    engine, _ = _engine(tiny_sd15, AccelOptions.auto("cpu", tiny_vae=str(folder)), preview_every=2)
    previews = []
    result = engine.generate(tiny_request(), on_progress=lambda p: previews.append(p.preview))
    sizes = [p.size for p in previews if p is not None]
    assert sizes == [(64, 64)] * 3  # steps 1-3 of 4, full size (the latent-colour preview is 8x8)
    plain = tiny_engine.generate(tiny_request()).images[0]
    assert np.array_equal(np.asarray(result.images[0]), np.asarray(plain))  # final images keep the full VAE
    draft = engine.generate(tiny_request(), draft=True).images[0]
    assert draft.size == (64, 64) and psnr(draft, plain) < 30.0  # live drafts decode with the tiny VAE
    assert engine.prepare(tiny_request()).vae is not None and type(engine.prepare(tiny_request()).vae).__name__ \
        == "AutoencoderKL"


def test_missing_tiny_vae_is_a_clear_error(tiny_sd15, tmp_path):
    engine, _ = _engine(tiny_sd15, AccelOptions.auto("cpu", tiny_vae=str(tmp_path / "nowhere")))
    with pytest.raises(ModelError, match="tiny VAE"):
        engine.generate(tiny_request())


def test_status_reports_plan_and_options(tiny_sd15):
    engine, accelerator = _engine(tiny_sd15)
    engine.generate(tiny_request())
    status = accelerator.status()
    assert status["options"]["guess_mode"] == "lossless" and status["memory"]["mode"] == "full"
    assert status["compile"] is None and status["cuda_graphs"]["models"] == 0


def test_psnr():
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    assert psnr(image, image) == math.inf
    other = image.copy()
    other[0, 0, 0] = 255
    assert round(psnr(image, other), 2) == round(10 * math.log10(48), 2)
    with pytest.raises(Exception, match="different sizes"):
        psnr(image, np.zeros((2, 2, 3), dtype=np.uint8))


# ---------------------------------------------------------------------------------------------- CUDA
def _cuda_engine(tiny, options: AccelOptions | None):
    optimize = Accelerator(options) if options is not None else None
    settings = ModelSettings.for_model(str(tiny.base), device="cuda", dtype="fp16")
    return Engine(settings, optimize=optimize), optimize


@pytest.mark.gpu
def test_cuda_auto_speedups_match_eager_fp16(tiny_sd15, tmp_path):
    request = tiny_request(width=128, height=128, steps=6)
    plain, _ = _cuda_engine(tiny_sd15, None)
    reference = plain.generate(request).images[0]
    options = AccelOptions.auto("cuda", compile_cache_dir=str(tmp_path / "compile"), compile_budget_s=120,
                                compile_regions=("BasicTransformerBlock",))  # a few graphs: a short test
    engine, accelerator = _cuda_engine(tiny_sd15, options)
    first = engine.generate(request).images[0]
    assert psnr(reference, first) >= 30.0
    assert accelerator.wait_compiled(timeout=300)
    for _ in range(2):  # graphs are (re)captured once the compiled blocks are in
        image = engine.generate(request).images[0]
    status = accelerator.status()
    assert psnr(reference, image) >= 30.0
    assert status["compile"]["foreground_compiles"] == 0 and status["compile"]["compiled_calls"] > 0
    assert status["cuda_graphs"]["replays"] > 0 and not status["cuda_graphs"]["failures"]


@pytest.mark.gpu
@pytest.mark.parametrize("memory", ["model_offload", "sequential_offload"])
def test_cuda_low_vram_modes_match_full(tiny_sd15, memory):
    request = tiny_request(width=128, height=128)
    plain, _ = _cuda_engine(tiny_sd15, AccelOptions.off())
    engine, accelerator = _cuda_engine(tiny_sd15, AccelOptions.auto("cuda", memory=memory))
    image = engine.generate(request).images[0]
    assert accelerator.memory_plan.mode == memory
    assert psnr(plain.generate(request).images[0], image) >= 30.0
    assert next(engine.prepare(request).unet.parameters()).device.type == "cpu"  # weights wait in CPU memory


@pytest.mark.gpu
def test_cuda_graph_replay_equals_eager_forward(tiny_sd15):
    from studio.engine.cuda_graphs import GraphedForward

    engine, _ = _cuda_engine(tiny_sd15, AccelOptions.off())
    unet = engine.prepare(tiny_request()).unet
    torch.manual_seed(0)
    sample = torch.randn(2, 4, 16, 16, device="cuda", dtype=torch.float16)
    text = torch.randn(2, 77, 32, device="cuda", dtype=torch.float16)
    with torch.no_grad():
        eager = [unet(sample * k, torch.tensor(500 - 100 * k, device="cuda"), encoder_hidden_states=text,
                      return_dict=False)[0] for k in range(3)]
        graphed = GraphedForward.install(unet, clone_outputs=True)
        replayed = [unet(sample * k, torch.tensor(500 - 100 * k, device="cuda"), encoder_hidden_states=text,
                         return_dict=False)[0] for k in range(3)]
    assert graphed.captures == 1 and graphed.replays == 3
    for a, b in zip(eager, replayed):
        torch.testing.assert_close(a, b, rtol=1e-2, atol=1e-2)


def test_accel_command_line(tmp_path, monkeypatch, capsys):
    from studio.cli import main

    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["accel", "show", "--device", "cuda", "--free-gb", "7.5", "--family", "sdxl"]) == 0
    out = capsys.readouterr().out
    assert '"cuda_graphs": true' in out and "memory plan for sdxl: sequential_offload" in out
    assert "compile and CUDA graphs off" in out and str(tmp_path / "cache") in out
    assert main(["accel", "show", "--device", "cuda", "--free-gb", "70"]) == 0
    assert "memory plan for sd1: full" in capsys.readouterr().out
    folder = default_compile_cache_dir()
    folder.mkdir(parents=True)
    (folder / "x").write_text("x")
    assert main(["accel", "clear-cache"]) == 0 and not folder.exists()


# ------------------------------------------------------------------------------------------ benchmark
def test_gpu_benchmark_runs_on_tiny_models_and_writes_json(tmp_path):
    """The GPU benchmark's own code path, on the tiny models (compile left out to keep it short)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"
    command = [sys.executable, str(script), "--tiny", "--no-compile", "--sections", "sd15_cn,live,lowvram",
               "--repeats", "1", "--out", str(tmp_path / "results"), "--deadline-s", "400"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    written = list((tmp_path / "results").glob("gpu-tiny-cpu-*.json"))
    assert len(written) == 1
    report = json.loads(written[0].read_text())
    assert report["device"] == "CPU" and report["tiny"] and set(report["phases"]) == {"build", "cold", "warm"}
    main = report["sections"]["sd15_cn"]
    assert main["ours"]["s_per_image"] > 0 and main["diffusers"]["s_per_image"] > 0 and main["speedup"] > 0
    assert main["psnr_vs_diffusers"] == "inf" or main["psnr_vs_diffusers"] >= 30
    assert main["ours"]["first_image_after_start_s"] > 0 and main["warm"]["first_image_after_start_s"] > 0
    assert report["sections"]["live"]["ours"]["live_frame_s"] > 0
    assert "needs CUDA" in report["sections"]["lowvram"]["skipped"]
    assert report["targets"]["psnr_ge_30db"] is True and report["targets"]["first_image_cold_lt_60s"] is not None
