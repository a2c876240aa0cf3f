"""Live mode: re-render a quick draft a moment after the canvas stops changing (Qt-free core).

    live = LiveRenderer(engine, on_frame=show, on_error=report, debounce_s=0.25)
    live.request_changed(lambda: build_request())   # on every canvas edit; a request or a factory
    ...
    live.stop()                                      # or use it as a context manager
    live.last_frame_time                             # seconds the latest frame took to render

- Debounce: a render starts once `debounce_s` seconds pass without a new change; each change restarts the wait.
- Only the newest change survives: changes are never queued. A change that arrives while a frame renders cancels
  that render (through the engine's `CancelToken`, after its current step) when `cancel_running` is true; the
  newer change renders next; a frame whose change was superseded while it rendered is dropped. A factory is
  called on the worker thread, only for the change that gets rendered.
- Draft settings (`LiveSettings`): the request's own prompt, controls and size with few steps (4), the LCM
  scheduler and low guidance (1.0: no classifier-free guidance, half the work), batch 1 and a fixed seed, so
  that edits do not make the picture jump. With an LCM-distilled model (or LCM-LoRA fused) this gives usable
  drafts; with an ordinary model it still runs at the same speed, but 4 LCM steps leave a blurry, washed-out
  picture (`LiveFrame.lcm_model` tells the UI which case it is). Runs are `draft=True`: an accelerator with a
  tiny VAE decodes live frames with it.
- Frames arrive through `on_frame(LiveFrame)` and errors (one clear sentence, a `StudioError`, or anything a
  factory raised) through `on_error(exc)`, both called on the worker thread; the worker keeps going afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from studio.engine.errors import EngineError
from studio.engine.pipeline import CancelToken, Engine, Progress
from studio.engine.request import GenerationRequest

RequestSource = GenerationRequest | Callable[[], GenerationRequest]
LIVE_SEED = 1


@dataclass(frozen=True)
class LiveSettings:
    """How a live draft differs from the user's request."""

    steps: int = 4
    guidance_scale: float = 1.0
    scheduler: str = "lcm"
    seed: int | None = LIVE_SEED


@dataclass(frozen=True)
class LiveFrame:
    """One rendered draft: the image, the draft request, how long the render took (`frame_time`, seconds) and
    how long after the change that produced it (`latency`: debounce + waiting + render)."""

    image: Image.Image
    request: GenerationRequest
    frame_time: float
    latency: float
    number: int
    lcm_model: bool


def live_request(request: GenerationRequest, settings: LiveSettings) -> GenerationRequest:
    """The draft version of `request`: few steps, the live scheduler and guidance, one image, a fixed seed."""
    seed = request.seed if settings.seed is None else settings.seed
    return replace(request, steps=settings.steps, guidance_scale=settings.guidance_scale,
                   scheduler=settings.scheduler, batch_size=1, seed=seed)


def is_lcm_distilled(pipe: Any) -> bool:
    """True for an LCM-distilled UNet (it embeds the guidance scale: `time_cond_proj_dim` is set)."""
    return pipe.unet.config.get("time_cond_proj_dim") is not None


@dataclass
class _Change:
    source: RequestSource
    number: int
    at: float


class LiveRenderer:
    """Renders drafts of the newest canvas state on its own worker thread (see the module docstring)."""

    def __init__(self, engine: Engine, *, on_frame: Callable[[LiveFrame], None],
                 on_error: Callable[[Exception], None] | None = None, debounce_s: float = 0.25,
                 settings: LiveSettings | None = None, cancel_running: bool = True,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        if debounce_s < 0:
            raise EngineError(f"The live debounce must be 0 seconds or more, got {debounce_s!r}.")
        self.engine = engine
        self.on_frame = on_frame
        self.on_error = on_error
        self.on_progress = on_progress
        self.debounce_s = float(debounce_s)
        self.settings = settings or LiveSettings()
        self.cancel_running = cancel_running
        self.last_frame_time: float | None = None
        self.frames = 0
        self.cancelled = 0
        self.superseded = 0
        self._cond = threading.Condition()
        self._pending: _Change | None = None
        self._running: CancelToken | None = None
        self._changes = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="studio-live", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------------------------------ public API
    def request_changed(self, source: RequestSource) -> None:
        """Note that the canvas changed: `source` is the new request or a zero-argument factory making it."""
        if not isinstance(source, GenerationRequest) and not callable(source):
            raise EngineError("Live mode needs a GenerationRequest or a function that returns one.")
        with self._cond:
            if self._stopping:
                raise EngineError("Live mode is stopped; start a new live renderer.")
            if self._pending is not None:
                self.superseded += 1
            self._changes += 1
            self._pending = _Change(source=source, number=self._changes, at=time.monotonic())
            if self._running is not None and self.cancel_running:
                self._running.cancel()
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no change is pending and no frame renders; False if `timeout` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and self._running is None, timeout)

    @property
    def running(self) -> bool:
        """True until `stop()`."""
        return not self._stopping

    def stop(self, timeout: float | None = 10.0) -> None:
        """Drop any pending change, cancel a render in progress and end the worker thread."""
        with self._cond:
            self._stopping = True
            self._pending = None
            if self._running is not None:
                self._running.cancel()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    close = stop

    def __enter__(self) -> LiveRenderer:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------------- worker
    def _next_change(self) -> tuple[_Change, CancelToken] | None:
        """Wait for a change that has been quiet for the debounce time; None when stopping."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._pending is None:
                    self._cond.wait()
                    continue
                quiet = time.monotonic() - self._pending.at
                if quiet < self.debounce_s:
                    self._cond.wait(self.debounce_s - quiet)
                    continue
                change, self._pending = self._pending, None
                self._running = CancelToken()
                return change, self._running

    def _work(self) -> None:
        while True:
            taken = self._next_change()
            if taken is None:
                return
            change, token = taken
            try:
                self._render(change, token)
            except Exception as exc:  # noqa: BLE001 - reported to the UI; the worker keeps serving
                self._report(exc)
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()

    def _render(self, change: _Change, token: CancelToken) -> None:
        request = change.source() if callable(change.source) else change.source
        if not isinstance(request, GenerationRequest):
            raise EngineError(f"The live request factory returned {type(request).__name__}, not a request.")
        draft = live_request(request, self.settings)
        draft.validate()
        pipe = self.engine.prepare(draft)
        started = time.perf_counter()
        result = self.engine.generate(draft, cancel=token, on_progress=self.on_progress, draft=True)
        if result.cancelled or not result.images or token.cancelled:
            self.cancelled += 1
            return
        frame_time = time.perf_counter() - started
        self.last_frame_time = frame_time
        self.frames += 1
        self.on_frame(LiveFrame(image=result.images[0], request=draft, frame_time=frame_time,
                                latency=time.monotonic() - change.at, number=change.number,
                                lcm_model=is_lcm_distilled(pipe)))

    def _report(self, exc: Exception) -> None:
        if self.on_error is not None:
            self.on_error(exc)
