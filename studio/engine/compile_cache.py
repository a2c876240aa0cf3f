"""Where torch.compile keeps its work between runs, so that a second start of the app compiles from cache.

TorchInductor writes its FX-graph and AOTAutograd caches and the Triton kernels it builds under
`TORCHINDUCTOR_CACHE_DIR` (Triton's under `<that>/triton/` unless `TRITON_CACHE_DIR` says otherwise). By default
this is a temporary folder that the system may clear; Studio points it at
`<user cache dir>/torch-compile/<torch version>/`, where the user cache dir is `$STUDIO_CACHE_DIR` when set (tests,
benchmarks) or the platform's user cache folder. A folder the user already named in the environment is kept. The
folder is per torch version because the cached artifacts are only valid for the version that wrote them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from studio.engine.errors import EngineError

CACHE_ENV = "STUDIO_CACHE_DIR"
INDUCTOR_ENV = "TORCHINDUCTOR_CACHE_DIR"


def user_cache_dir() -> Path:
    """Studio's cache folder: $STUDIO_CACHE_DIR, else the platform's user cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("controlnet-studio", appauthor=False))


def default_compile_cache_dir() -> Path:
    """The compile cache folder for the installed torch version."""
    import torch

    version = torch.__version__.replace("+", "-")
    return user_cache_dir() / "torch-compile" / version


def use_compile_cache(folder: str | Path | None = None) -> Path:
    """Point TorchInductor at `folder`; with None, keep a folder the environment already names, else use
    `default_compile_cache_dir()`. Creates the folder and returns it. Call before the first compile."""
    if folder is not None:
        chosen = Path(folder)
    elif os.environ.get(INDUCTOR_ENV):
        chosen = Path(os.environ[INDUCTOR_ENV])
    else:
        chosen = default_compile_cache_dir()
    try:
        chosen.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineError(f"Cannot create the compile cache folder {chosen} ({exc}).") from exc
    os.environ[INDUCTOR_ENV] = str(chosen)
    return chosen


def cache_size_bytes(folder: str | Path) -> int:
    """Total size of the files under `folder` (0 when it does not exist)."""
    root = Path(folder)
    if not root.exists():
        return 0
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def clear_compile_cache(folder: str | Path | None = None) -> Path:
    """Delete the compile cache folder (default: `default_compile_cache_dir()`); returns the folder."""
    target = Path(folder) if folder is not None else default_compile_cache_dir()
    if target.exists():
        try:
            shutil.rmtree(target)
        except OSError as exc:
            raise EngineError(f"Cannot delete the compile cache folder {target} ({exc}).") from exc
    return target
