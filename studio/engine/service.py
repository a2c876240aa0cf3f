"""The engine as the application uses it: one `EngineService` owns the engine and hands it to one job at a time.

- The engine is built by `make_engine` (the same speed-ups as the CLI) on first use, and again after the model
  settings change (`configure`); its loaded models are reused while the settings stay the same.
- Generations (the window's job thread) and live drafts (a `LiveRenderer`'s thread) both go through the service.
  It picks the model for each job (`settings.active` is written here and nowhere else) and runs the jobs one
  after another under one lock, so a draft never changes the model under a generation.
- Before a generation the window pauses live mode: `add_pause_hook(fn)` registers a function the service calls
  (GUI thread) in `pause_drafts`; what it returns is called on the generation's thread to wait until the drafts
  have let go (see `ui.generate.live`).

`EngineClient` is the part the window uses; tests of panels and controllers pass a scripted fake
(`tests/ui/fake_engine.py`) and run without diffusers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, Protocol

from studio.engine.pipeline import CancelToken, Engine, GenerationResult, ProgressCallback
from studio.engine.request import GenerationRequest
from studio.engine.settings import ModelSettings

Waiter = Callable[[], None]
PauseHook = Callable[[], Waiter]
EngineFactory = Callable[[ModelSettings], Engine]


class EngineClient(Protocol):
    """What the window needs from the engine."""

    settings: ModelSettings

    def configure(self, settings: ModelSettings) -> None: ...

    def generate(self, request: GenerationRequest, *, model: str, on_progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> GenerationResult: ...

    def draft_engine(self, model: str) -> Any: ...

    def add_pause_hook(self, hook: PauseHook) -> None: ...

    def pause_drafts(self) -> list[Waiter]: ...


class DraftEngine:
    """The engine as one `LiveRenderer` sees it: `prepare` and `generate` with the model in `model` (the
    renderer's request factory may change it on the renderer's thread; the service applies it under its lock)."""

    def __init__(self, service: EngineService, model: str) -> None:
        self.service = service
        self.model = model

    def prepare(self, request: GenerationRequest) -> Any:
        with self.service.using(self.model) as engine:
            return engine.prepare(request)

    def generate(self, request: GenerationRequest, *, cancel: CancelToken | None = None,
                 on_progress: ProgressCallback | None = None, draft: bool = False) -> GenerationResult:
        with self.service.using(self.model) as engine:
            return engine.generate(request, cancel=cancel, on_progress=on_progress, draft=draft)

    def describe_models(self, kinds: list[str]) -> tuple[list[dict[str, Any]], str, str]:
        """The identities of the models a request with controls `kinds` uses, the device and the family."""
        with self.service.using(self.model) as engine:
            base, controlnets = engine.locate_models(kinds)
            return engine.identities([base, *controlnets], wait=False), engine.device.describe(), base.family


class _Using:
    def __init__(self, service: EngineService, model: str) -> None:
        self.service, self.model = service, model

    def __enter__(self) -> Engine:
        self.service._lock.acquire()
        try:
            return self.service._engine_for(self.model)
        except BaseException:
            self.service._lock.release()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.service._lock.release()


class EngineService:
    """Owns the engine of the current model settings (see the module docstring)."""

    def __init__(self, *, accel: str | Any = "auto", factory: EngineFactory | None = None) -> None:
        self.accel = accel
        self.settings = ModelSettings()
        self._factory = factory
        self._engine: Engine | None = None
        self._lock = threading.RLock()
        self._pause_hooks: list[PauseHook] = []
        self._stale = False

    def configure(self, settings: ModelSettings) -> None:
        """Use `settings` from now on; the next job builds a new engine (the old one is dropped with its models)."""
        self.settings = dataclasses.replace(settings)
        self._stale = True

    def using(self, model: str) -> _Using:
        """`with service.using(model) as engine:` the engine with `model` active, for this block only."""
        return _Using(self, model)

    def _engine_for(self, model: str) -> Engine:
        """Under the lock: reuse the engine (and its loaded models) until the settings are configured again."""
        engine = self._engine
        if engine is None or self._stale:
            self._engine = None  # the old engine's models are freed before the new one loads its own
            self._stale = False
            copy = dataclasses.replace(self.settings)
            engine = self._factory(copy) if self._factory is not None else _default_factory(copy, self.accel)
            self._engine = engine
        engine.settings.active = model
        return engine

    def generate(self, request: GenerationRequest, *, model: str, on_progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> GenerationResult:
        """Worker thread: run `request` on `model` (waits while a draft is being drawn)."""
        with self.using(model) as engine:
            return engine.generate(request, on_progress=on_progress, cancel=cancel)

    def draft_engine(self, model: str) -> DraftEngine:
        return DraftEngine(self, model)

    def add_pause_hook(self, hook: PauseHook) -> None:
        self._pause_hooks.append(hook)

    def pause_drafts(self) -> list[Waiter]:
        """GUI thread, before a generation: pause every draft user; call the returned waiters on the worker."""
        return [hook() for hook in self._pause_hooks]


def _default_factory(settings: ModelSettings, accel: Any) -> Engine:
    from studio.engine.factory import make_engine

    return make_engine(settings, accel)
