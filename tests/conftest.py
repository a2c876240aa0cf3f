"""Shared test set-up: headless Qt, offline hubs, few threads, and the `gpu` marker."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
if not os.environ.get("STUDIO_CACHE_DIR"):  # model hashes and compile caches of tests stay out of the user's cache
    import atexit
    import shutil
    import tempfile

    os.environ["STUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="studio-test-cache-")
    atexit.register(shutil.rmtree, os.environ["STUDIO_CACHE_DIR"], True)

import pytest  # noqa: E402


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
