"""Shared fixtures for the engine tests: tiny models made once per session, control images, a fake HF cache.

Import the fixtures you use into a test module (`from engine_fixtures import tiny_sd15, ...`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.engine.pipeline import Engine
from studio.engine.request import ControlInput, GenerationRequest
from studio.engine.settings import ModelSettings
from studio.engine.tiny import TinyModels, make_tiny, write_single_files

torch.set_num_threads(1)  # the test machines have 2 shared cores; extra threads only add contention


def stripes(*, height: int = 64, width: int = 64, vertical: bool = True, seed: int = 0) -> np.ndarray:
    """A white-on-black line drawing (what an edge layer exports), with a little seeded jitter."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), dtype=np.uint8)
    for position in range(4, width if vertical else height, 12):
        position += int(rng.integers(0, 3))
        if vertical:
            image[:, position:position + 2] = 255
        else:
            image[position:position + 2, :] = 255
    return image


def tiny_request(**overrides) -> GenerationRequest:
    """A 64x64, 4-step request with an edge and a pose control."""
    values = dict(prompt="a cat", negative_prompt="blurry", width=64, height=64, steps=4, guidance_scale=5.0,
                  seed=3, controls=[ControlInput("edge", stripes()), ControlInput("pose", stripes(vertical=False))])
    values.update(overrides)
    return GenerationRequest(**values)


@pytest.fixture(scope="session")
def tiny_sd15(tmp_path_factory) -> TinyModels:
    """Tiny SD 1.x-style base model + edge/pose/depth ControlNets (diffusers folders)."""
    return make_tiny(tmp_path_factory.mktemp("tiny") / "sd15", family="sd15")


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory) -> TinyModels:
    """Tiny SDXL-style base model + ControlNets."""
    return make_tiny(tmp_path_factory.mktemp("tiny") / "sdxl", family="sdxl")


@pytest.fixture(scope="session")
def tiny_single_files(tiny_sd15, tmp_path_factory) -> dict[str, Path]:
    """The tiny SD 1.x models as original-layout single .safetensors files with NAME.config/ folders."""
    return write_single_files(tiny_sd15, tmp_path_factory.mktemp("single"))


@pytest.fixture(scope="session")
def tiny_engine(tiny_sd15) -> Engine:
    """An engine on the tiny SD 1.x models (shared: tests must not change its settings)."""
    return Engine(ModelSettings.for_model(str(tiny_sd15.base)))


def fake_hf_cache(home: Path, repo_id: str, source: Path, *, commit: str = "0" * 40) -> Path:
    """Lay out `source` as a cached snapshot of `repo_id` under `home` the way huggingface_hub does."""
    repo = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(source, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def config_home(tmp_path, monkeypatch) -> Path:
    """An empty Studio config folder for this test ($STUDIO_CONFIG_DIR)."""
    folder = tmp_path / "config"
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(folder))
    return folder
