"""A scripted `EngineClient` for window tests that need no diffusers (controller and panel logic).

It makes flat images whose grey level is the seed (so a test can tell results apart), reports one progress
message per step, honours cancellation between steps, and runs what the test queued in `script` instead when
there is something: an exception to raise, or a function `(request, model) -> GenerationResult`. `hold` (a
`threading.Event`, set by default) lets a test keep a run going until it has looked at the window.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from PIL import Image

from studio.engine.pipeline import CancelToken, GenerationResult, Progress
from studio.engine.request import GenerationRequest
from studio.engine.settings import ModelSettings


class FakeEngineClient:
    def __init__(self) -> None:
        self.settings = ModelSettings()
        self.configured = 0
        self.calls: list[tuple[GenerationRequest, str]] = []
        self.script: list[BaseException | Callable[[GenerationRequest, str], GenerationResult]] = []
        self.hold = threading.Event()
        self.hold.set()
        self._hooks = []

    def configure(self, settings: ModelSettings) -> None:
        self.settings = dataclasses.replace(settings)
        self.configured += 1

    def generate(self, request: GenerationRequest, *, model: str, on_progress=None,
                 cancel: CancelToken | None = None) -> GenerationResult:
        request.validate()
        self.calls.append((request, model))
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step(request, model)
        seed = 40 if request.seed is None else request.seed
        seeds = [seed + i for i in range(request.batch_size)]
        cancelled = False
        for step in range(1, request.steps + 1):
            self.hold.wait(30)
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            if on_progress is not None:
                on_progress(Progress(step=step, total=request.steps, elapsed_s=0.0))
        images = [] if cancelled else [Image.new("RGB", (request.width, request.height), (s % 256,) * 3)
                                       for s in seeds]
        return GenerationResult(request=request, images=images, seed=seed, seeds=seeds, cancelled=cancelled,
                                timings={"total": 0.01}, models=[{"role": "base", "name": model}],
                                device="fake", family="sd15")

    def draft_engine(self, model: str):
        raise NotImplementedError("the fake engine draws no live drafts")

    def add_pause_hook(self, hook) -> None:
        self._hooks.append(hook)

    def pause_drafts(self) -> list:
        return [hook() for hook in self._hooks]
