"""make_engine (the one way to build an engine) and EngineService (one owner, one job at a time), on tiny models."""

from __future__ import annotations

import threading

import pytest
from engine_fixtures import tiny_request, tiny_sd15  # noqa: F401

from studio.engine.accel import Accelerator
from studio.engine.errors import SettingsError
from studio.engine.factory import make_engine
from studio.engine.live import LiveRenderer
from studio.engine.service import EngineService
from studio.engine.settings import ModelEntry, ModelSettings


def _two_models(tiny) -> ModelSettings:
    entry = ModelEntry(base=str(tiny.base))
    return ModelSettings(models={"first": entry, "second": ModelEntry(base=str(tiny.base))}, active="first",
                         device="cpu")


def test_make_engine_applies_the_accelerator_like_the_cli(tiny_sd15):
    settings = ModelSettings.for_model(str(tiny_sd15.base), device="cpu")
    assert isinstance(make_engine(settings).optimize, Accelerator)
    assert make_engine(settings, "off").optimize is None
    marker = object()
    assert make_engine(settings, marker, preview_every=0).optimize is marker
    with pytest.raises(SettingsError, match="Unknown accel choice 'fast'"):
        make_engine(settings, "fast")
    with pytest.raises(SettingsError):
        make_engine(ModelSettings(models=settings.models, device="tpu"))


def test_the_service_builds_one_engine_sets_the_model_per_job_and_rebuilds_after_configure(tiny_sd15):
    built = []

    def factory(settings):
        built.append(make_engine(settings, "off"))
        return built[-1]

    service = EngineService(factory=factory)
    service.configure(_two_models(tiny_sd15))
    first = service.generate(tiny_request(steps=2), model="first")
    assert len(first.images) == 1 and built[0].settings.active == "first"
    service.generate(tiny_request(steps=2), model="second")
    assert len(built) == 1 and built[0].settings.active == "second"  # the same engine, its models reused
    service.configure(_two_models(tiny_sd15))
    service.generate(tiny_request(steps=2), model="first")
    assert len(built) == 2  # new settings: a new engine
    with pytest.raises(SettingsError, match="not in the settings"):
        service.generate(tiny_request(steps=2), model="missing")


def test_a_draft_waits_for_a_running_generation_and_keeps_its_own_model(tiny_sd15):
    service = EngineService(accel="off")
    service.configure(_two_models(tiny_sd15))
    draft = service.draft_engine("second")
    inside, release, seen = threading.Event(), threading.Event(), []

    def hold() -> None:
        with service.using("first") as engine:
            inside.set()
            release.wait(30)
            seen.append(engine.settings.active)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(30)
    frames = []
    renderer = LiveRenderer(draft, on_frame=frames.append, debounce_s=0)
    renderer.request_changed(tiny_request(steps=2))
    assert not renderer.wait_idle(0.3) and frames == []  # the draft waits for the lock
    release.set()
    holder.join(30)
    assert renderer.wait_idle(60) and len(frames) == 1
    renderer.stop(timeout=30)
    assert seen == ["first"]  # the draft never changed the model under the running job
    models, device, _family = draft.describe_models(["edge"])
    assert len(models) == 2 and models[0]["role"] == "base" and "cpu" in device


def test_pause_drafts_asks_every_hook_and_returns_their_waiters():
    service, calls = EngineService(), []
    service.add_pause_hook(lambda: (calls.append("paused"), lambda: calls.append("waited"))[1])
    waiters = service.pause_drafts()
    assert calls == ["paused"]
    for wait in waiters:
        wait()
    assert calls == ["paused", "waited"]
