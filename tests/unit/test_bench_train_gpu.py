"""tests/benchmarks/bench_train_gpu.py without a GPU: the --tiny smoke run goes through the studio's training
loop and prints its figures; without CUDA the full run says SKIP; the full-size SD 1.5 model it would train
has the real shapes (built on the meta device: no memory, no download)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train_gpu.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def test_the_tiny_smoke_run_prints_steps_per_second(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--tiny", "--steps", "3", "--warmup", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "steps/s" in done.stdout and "tiny 64x64" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["timed_steps"] == 2 and figures["steps_per_s"] > 0 and figures["losses_finite"]
    assert figures["trainable_params_m"] > 0 and figures["lora_file_mb"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message printed where there is no CUDA")
def test_without_cuda_the_full_run_says_skip():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300, env=ENV)
    assert done.returncode == 0
    assert done.stdout.startswith("SKIP: bench_train_gpu needs a CUDA device")


def test_the_full_size_model_has_sd15_shapes():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_train_gpu
    finally:
        sys.path.remove(str(SCRIPT.parent))
    from diffusers import DDPMScheduler

    from studio.train.base import BaseModel
    from studio.train.lora import LoraTask
    from studio.train.options import TrainOptions

    pipe = bench_train_gpu._full_pipe("sd15", "meta")
    assert 855e6 < sum(p.numel() for p in pipe.unet.parameters()) < 865e6  # SD 1.5's UNet: 0.86 B
    assert pipe.unet.config.cross_attention_dim == 768 and pipe.text_encoder.config.hidden_size == 768
    base = BaseModel(pipe=pipe, family="sd1", identity={}, noise_scheduler=DDPMScheduler.from_config(
        pipe.scheduler.config))
    task = LoraTask(base, TrainOptions(rank=8))
    trained = sum(p.numel() for p in task.module.parameters() if p.requires_grad)
    assert 1.5e6 < trained < 1.7e6  # rank 8 on to_q/to_k/to_v/to_out of every attention block
