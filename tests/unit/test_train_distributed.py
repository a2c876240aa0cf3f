"""The same `studio train` run as several processes, the way `accelerate launch --multi_gpu` / `--num_machines`
starts it (torch's launcher sets RANK / WORLD_SIZE; accelerate picks DDP on gloo for the CPU): two processes
train one LoRA, only the main one writes it and logs the run, and the file loads in the engine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from engine_fixtures import tiny_request, tiny_sd15  # noqa: F401
from train_fixtures import make_export

from studio.engine.lora import LoraInput
from studio.engine.pipeline import Engine
from studio.engine.settings import ModelSettings
from studio.history.store import HistoryStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_one_lora(tiny_sd15, tmp_path):
    document, data = make_export(tmp_path)
    out = tmp_path / "ddp.safetensors"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root), "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(_free_port()), "-m", "studio.cli", "train", "lora", "--data", str(data),
               "--model", str(tiny_sd15.base), "--out", str(out), "--steps", "4", "--resolution", "64",
               "--batch", "1", "--rank", "2", "--lr", "1e-2", "--validate-every", "0", "--validation-steps", "2",
               "--checkpoint-every", "2", "--document", str(document), "--device", "cpu"]
    done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es)" in done.stdout and done.stdout.count("wrote ") == 1
    checkpoint = out.with_name(out.name + ".train") / "checkpoints" / "step-4"
    assert (checkpoint / "random_states_0.pkl").is_file() and (checkpoint / "random_states_1.pkl").is_file()
    with HistoryStore.open(document, readonly=True) as store:
        runs = [e.payload for e in store.events(kinds=["training"])]
    assert len(runs) == 1 and runs[0]["status"] == "ok" and runs[0]["steps"] == 4
    assert runs[0]["settings"]["ran_on"] == {"device": "cpu:0", "processes": 2, "mixed_precision": "no"}
    engine = Engine(ModelSettings.for_model(str(tiny_sd15.base)))
    plain = np.asarray(engine.generate(tiny_request(controls=[])).images[0]).astype(int)
    styled = np.asarray(engine.generate(tiny_request(controls=[], loras=[LoraInput(str(out))])).images[0]).astype(int)
    assert np.abs(styled - plain).mean() > 0
