"""Live mode on the real tiny engine: debounce, newest-only, cancelling stale renders, errors, stop.

Timing is made deterministic with events: a render is held at its first step (through the progress callback)
while the test posts newer changes, so no test depends on how long a sleep lasts.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from engine_fixtures import tiny_engine, tiny_request, tiny_sd15  # noqa: F401

from studio.engine.errors import EngineError, RequestError
from studio.engine.live import LiveRenderer, LiveSettings, live_request

TIMEOUT = 60.0


class Recorder:
    """Collects frames and errors from the worker thread, with an event per new frame."""

    def __init__(self) -> None:
        self.frames = []
        self.errors = []
        self.frame_arrived = threading.Event()
        self.error_arrived = threading.Event()

    def on_frame(self, frame) -> None:
        self.frames.append(frame)
        self.frame_arrived.set()

    def on_error(self, exc) -> None:
        self.errors.append(exc)
        self.error_arrived.set()


class Gate:
    """A progress callback that holds the first render at its first step until `release()`."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self._open = threading.Event()
        self._used = False

    def __call__(self, progress) -> None:
        if not self._used:
            self._used = True
            self.holding.set()
            assert self._open.wait(TIMEOUT)

    def release(self) -> None:
        self._open.set()


def factory(calls: list[str], prompt: str, **overrides):
    """A request factory that records that it was called."""
    def make():
        calls.append(prompt)
        return tiny_request(prompt=prompt, **overrides)
    return make


def test_rapid_changes_render_once_for_the_newest(tiny_engine):
    recorder, calls = Recorder(), []
    # The five changes take microseconds; a render may start only after a full second without changes.
    with LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=1.0) as live:
        for i in range(5):
            live.request_changed(factory(calls, f"a cat {i}"))
        assert recorder.frame_arrived.wait(TIMEOUT)
        assert live.wait_idle(TIMEOUT)
    assert calls == ["a cat 4"]  # the older factories were never even called
    assert recorder.frames[0].latency >= 1.0
    assert [f.request.prompt for f in recorder.frames] == ["a cat 4"] and not recorder.errors
    assert live.superseded == 4 and live.frames == 1


def test_frames_are_drafts_with_timing(tiny_engine):
    recorder = Recorder()
    request = tiny_request(steps=30, guidance_scale=7.0, scheduler="unipc", batch_size=3, seed=None)
    with LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=0.0) as live:
        live.request_changed(request)
        assert recorder.frame_arrived.wait(TIMEOUT)
        assert live.wait_idle(TIMEOUT)
        frame = recorder.frames[0]
        assert live.last_frame_time == frame.frame_time > 0 and frame.latency >= frame.frame_time
    draft = frame.request
    assert (draft.steps, draft.guidance_scale, draft.scheduler, draft.batch_size) == (4, 1.0, "lcm", 1)
    assert draft.seed == LiveSettings().seed and draft.prompt == request.prompt and draft.controls == request.controls
    assert frame.image.size == (64, 64) and frame.lcm_model is False  # the tiny model is not LCM-distilled
    same = tiny_engine.generate(live_request(request, LiveSettings()), draft=True).images[0]
    assert np.array_equal(np.asarray(frame.image), np.asarray(same))  # a fixed seed: edits do not jump


def test_a_newer_change_cancels_the_running_render(tiny_engine):
    recorder, calls, gate = Recorder(), [], Gate()
    with LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=0.0,
                      on_progress=gate) as live:
        live.request_changed(factory(calls, "first"))
        assert gate.holding.wait(TIMEOUT)  # "first" is rendering, held after its first step
        live.request_changed(factory(calls, "second"))
        gate.release()
        assert recorder.frame_arrived.wait(TIMEOUT)
        assert live.wait_idle(TIMEOUT)
    assert calls == ["first", "second"]
    assert [f.request.prompt for f in recorder.frames] == ["second"]
    assert live.cancelled == 1 and live.frames == 1


def test_only_the_newest_pending_change_survives_a_render(tiny_engine):
    recorder, calls, gate = Recorder(), [], Gate()
    with LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=0.0,
                      on_progress=gate, cancel_running=False) as live:
        live.request_changed(factory(calls, "A"))
        assert gate.holding.wait(TIMEOUT)
        for prompt in ("B", "C", "D"):
            live.request_changed(factory(calls, prompt))
        gate.release()
        assert live.wait_idle(TIMEOUT)
    assert calls == ["A", "D"]  # B and C were dropped, never queued
    assert [f.request.prompt for f in recorder.frames] == ["A", "D"] and live.superseded == 2
    assert [f.number for f in recorder.frames] == [1, 4]


def test_errors_are_reported_and_the_worker_goes_on(tiny_engine):
    recorder = Recorder()

    def broken():
        raise ValueError("the canvas could not be read")

    with LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=0.0) as live:
        live.request_changed(tiny_request(width=65))
        assert live.wait_idle(TIMEOUT)
        live.request_changed(broken)
        assert live.wait_idle(TIMEOUT)
        live.request_changed(lambda: "not a request")
        assert live.wait_idle(TIMEOUT)
        live.request_changed(tiny_request())
        assert recorder.frame_arrived.wait(TIMEOUT)
    kinds = [type(e) for e in recorder.errors]
    assert kinds == [RequestError, ValueError, EngineError] and len(recorder.frames) == 1
    assert "multiple of 8" in str(recorder.errors[0])


def test_bad_arguments_and_use_after_stop(tiny_engine):
    with pytest.raises(EngineError):
        LiveRenderer(tiny_engine, on_frame=print, debounce_s=-1)
    live = LiveRenderer(tiny_engine, on_frame=print)
    with pytest.raises(EngineError, match="GenerationRequest"):
        live.request_changed(42)
    live.stop()
    assert not live.running and not live._thread.is_alive()
    with pytest.raises(EngineError, match="stopped"):
        live.request_changed(tiny_request())
    live.stop()  # stopping twice is harmless


def test_stop_cancels_a_render_in_progress_and_delivers_nothing(tiny_engine):
    recorder, gate = Recorder(), Gate()
    live = LiveRenderer(tiny_engine, on_frame=recorder.on_frame, on_error=recorder.on_error, debounce_s=0.0,
                        on_progress=gate)
    live.request_changed(tiny_request())
    assert gate.holding.wait(TIMEOUT)
    live.stop(timeout=0)  # cancels the held render without waiting for it
    gate.release()
    live._thread.join(TIMEOUT)
    assert not live._thread.is_alive()
    assert recorder.frames == [] and recorder.errors == [] and live.cancelled == 1
