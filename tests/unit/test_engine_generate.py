"""Generation on tiny models: determinism, progress, cancel, schedulers, multi-ControlNet, refine, OOM."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from engine_fixtures import stripes, tiny_engine, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401

from studio.app.gallery import GalleryEntry
from studio.engine.control_images import fit_image
from studio.engine.control_modes import soft_injection_scales
from studio.engine.errors import DeviceOutOfMemoryError, RequestError
from studio.engine.pipeline import CancelToken, Engine
from studio.engine.preview import wants_preview
from studio.engine.request import SCHEDULERS, ControlInput
from studio.engine.settings import ModelSettings


def _pixels(result, index: int = 0) -> np.ndarray:
    return np.asarray(result.images[index])


def test_same_request_and_seed_give_the_same_image(tiny_engine):
    first = tiny_engine.generate(tiny_request())
    second = tiny_engine.generate(tiny_request())
    assert first.images[0].size == (64, 64) and first.seed == 3
    assert np.array_equal(_pixels(first), _pixels(second))
    other_seed = tiny_engine.generate(tiny_request(seed=4))
    assert not np.array_equal(_pixels(first), _pixels(other_seed))


def test_result_reports_models_device_and_timings(tiny_engine, tiny_sd15):
    result = tiny_engine.generate(tiny_request())
    roles = [m["role"] for m in result.models]
    assert roles == ["base", "edge", "pose"]
    assert result.models[0]["path"] == str(tiny_sd15.base) and result.models[0]["size_bytes"] > 0
    assert result.device == "cpu float32" and result.family == "sd1" and not result.cancelled
    assert set(result.timings) == {"load", "prepare", "run", "total"}
    timings = result.timings
    assert timings["total"] == pytest.approx(timings["load"] + timings["prepare"] + timings["run"])
    entry = GalleryEntry(image=np.zeros((8, 8, 3), np.uint8), request=result.request, model="tiny",
                         timings=dict(timings))
    assert entry.seconds == timings["total"]  # the parts are inside the total, not added to it
    assert f"Time: {timings['total']:.1f} s" in entry.describe().splitlines()


def test_missing_seed_is_picked_and_reported(tiny_engine):
    result = tiny_engine.generate(tiny_request(seed=None, controls=[]))
    again = tiny_engine.generate(tiny_request(seed=result.seed, controls=[]))
    assert np.array_equal(_pixels(result), _pixels(again))


def test_batch_image_i_equals_a_single_image_with_seed_plus_i(tiny_engine):
    batch = tiny_engine.generate(tiny_request(batch_size=2, seed=10))
    assert batch.seeds == [10, 11] and len(batch.images) == 2
    single = tiny_engine.generate(tiny_request(seed=11))
    assert np.array_equal(_pixels(batch, 1), _pixels(single))


def test_progress_reports_every_step_with_previews(tiny_sd15):
    engine = Engine(ModelSettings.for_model(str(tiny_sd15.base)), preview_every=2)
    seen = []
    engine.generate(tiny_request(steps=5), on_progress=seen.append)
    assert [p.step for p in seen] == [1, 2, 3, 4, 5] and all(p.total == 5 for p in seen)
    previews = [p.step for p in seen if p.preview is not None]
    assert previews == [1, 2, 3, 4]  # from the first step; a 5-step run is too short to skip any
    assert seen[0].preview.size == (8, 8) and seen[0].preview.mode == "RGB"
    assert all(b.elapsed_s >= a.elapsed_s for a, b in zip(seen, seen[1:]))


def test_previews_start_at_the_first_step_and_thin_out_on_long_runs():
    def shown(total, every=5):
        return [step for step in range(1, total + 1) if wants_preview(step, total, every)]

    assert shown(8) == [1, 2, 4, 6]  # the demo's 8 steps: four previews, the first after step 1
    assert shown(20) == [1, 5, 10, 15]
    assert shown(1) == [] and shown(20, every=0) == []


def test_cancel_between_steps(tiny_engine):
    token = CancelToken()
    steps = []

    def cancel_after_two(progress):
        steps.append(progress.step)
        if progress.step == 2:
            token.cancel()

    result = tiny_engine.generate(tiny_request(steps=8), on_progress=cancel_after_two, cancel=token)
    assert result.cancelled and result.images == []
    assert steps == [1, 2]  # the remaining steps were skipped
    assert tiny_engine.generate(tiny_request()).images  # still usable


def test_cancel_before_start_runs_nothing(tiny_engine):
    token = CancelToken()
    token.cancel()
    seen = []
    result = tiny_engine.generate(tiny_request(), on_progress=seen.append, cancel=token)
    assert result.cancelled and seen == [] and result.images == []


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_each_scheduler_runs_and_is_deterministic(tiny_engine, scheduler):
    request = tiny_request(scheduler=scheduler, steps=3)
    first, second = tiny_engine.generate(request), tiny_engine.generate(request)
    assert np.array_equal(_pixels(first), _pixels(second))
    assert type(tiny_engine.prepare(request).scheduler).__name__ != "PNDMScheduler"


def test_schedulers_give_different_images(tiny_engine):
    images = {s: _pixels(tiny_engine.generate(tiny_request(scheduler=s, steps=3))) for s in ("ddim", "euler_a")}
    assert not np.array_equal(images["ddim"], images["euler_a"])


def test_controls_change_the_image_and_multi_controlnet_uses_all(tiny_engine):
    both = _pixels(tiny_engine.generate(tiny_request()))
    edge_only = _pixels(tiny_engine.generate(tiny_request(controls=tiny_request().controls[:1])))
    other_edge = tiny_request()
    other_edge.controls[0].image = stripes(seed=9, vertical=False)
    assert not np.array_equal(both, edge_only)
    assert not np.array_equal(both, _pixels(tiny_engine.generate(other_edge)))
    pipe = tiny_engine.prepare(tiny_request())
    assert type(pipe.controlnet).__name__ == "MultiControlNetModel" and len(pipe.controlnet.nets) == 2


def test_three_controls_weights_and_ranges(tiny_engine):
    controls = [ControlInput("edge", stripes(), weight=0.5, start=0.0, end=0.5),
                ControlInput("pose", stripes(vertical=False), weight=1.5, start=0.25),
                ControlInput("depth", np.full((32, 32, 3), 128, np.uint8), weight=1.0)]
    result = tiny_engine.generate(tiny_request(controls=controls))
    zero = [ControlInput(c.kind, c.image, weight=0.0) for c in controls]
    assert not np.array_equal(_pixels(result), _pixels(tiny_engine.generate(tiny_request(controls=zero))))
    no_control = tiny_engine.generate(tiny_request(controls=[]))
    assert np.array_equal(_pixels(tiny_engine.generate(tiny_request(controls=zero))), _pixels(no_control))


def test_control_modes_differ_and_leave_no_hooks(tiny_engine):
    images = {}
    for mode in ("balanced", "prompt", "control"):
        request = tiny_request()
        request.controls[0].mode = mode
        images[mode] = _pixels(tiny_engine.generate(request))
    assert not np.array_equal(images["balanced"], images["prompt"])
    assert not np.array_equal(images["prompt"], images["control"])
    pipe = tiny_engine.prepare(tiny_request())
    assert all(not net._forward_hooks for net in pipe.controlnet.nets)
    again = tiny_request()
    assert np.array_equal(_pixels(tiny_engine.generate(again)), images["balanced"])


def test_soft_injection_scales():
    scales = soft_injection_scales(13)
    assert scales[-1] == 1.0 and scales[0] == pytest.approx(0.825 ** 12)
    assert scales == sorted(scales)


def test_refine_an_image(tiny_engine):
    base = tiny_engine.generate(tiny_request())
    refine = tiny_request(init_image=_pixels(base), strength=0.5)
    refined = tiny_engine.generate(refine)
    assert type(tiny_engine.prepare(refine)).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    assert refined.images[0].size == (64, 64)
    assert np.array_equal(_pixels(refined), _pixels(tiny_engine.generate(refine)))
    light = _pixels(tiny_engine.generate(tiny_request(init_image=_pixels(base), strength=0.25, steps=8)))
    strong = _pixels(tiny_engine.generate(tiny_request(init_image=_pixels(base), strength=1.0, steps=8)))
    distance = lambda a: np.abs(a.astype(int) - _pixels(base).astype(int)).mean()  # noqa: E731
    assert distance(light) < distance(strong)
    plain = tiny_request(init_image=_pixels(base), strength=0.5, controls=[])
    assert tiny_engine.generate(plain).images[0].size == (64, 64)


def test_out_of_memory_inside_the_pipeline_is_a_clear_error_and_the_engine_recovers(tiny_engine):
    """Simulated: the progress callback, called from inside the real pipeline's step loop, raises torch's OOM."""

    def run_out_of_memory(progress):
        if progress.step == 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(DeviceOutOfMemoryError, match="ran out of memory making 1 image"):
        tiny_engine.generate(tiny_request(), on_progress=run_out_of_memory)
    assert tiny_engine.generate(tiny_request()).images
    pipe = tiny_engine.prepare(tiny_request())
    assert all(not net._forward_hooks for net in pipe.controlnet.nets)


def test_invalid_request_is_refused_before_anything_runs(tiny_engine):
    with pytest.raises(RequestError, match="multiple of 8"):
        tiny_engine.generate(tiny_request(width=70))


def test_pipelines_and_models_are_reused(tiny_engine):
    first = tiny_engine.prepare(tiny_request())
    assert tiny_engine.prepare(tiny_request()) is first
    edge_only = tiny_engine.prepare(tiny_request(controls=tiny_request().controls[:1]))
    assert edge_only.controlnet is first.controlnet.nets[0] and edge_only.unet is first.unet


def test_one_generation_at_a_time_from_threads(tiny_engine):
    reference = _pixels(tiny_engine.generate(tiny_request()))
    results, errors = [], []

    def work():
        try:
            results.append(_pixels(tiny_engine.generate(tiny_request())))
        except Exception as exc:  # noqa: BLE001 (collected for the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 3
    assert all(np.array_equal(r, reference) for r in results)


def test_sdxl_family_generates(tiny_sdxl):
    engine = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    request = tiny_request()
    result = engine.generate(request)
    assert result.family == "sdxl" and result.images[0].size == (64, 64)
    assert type(engine.prepare(request)).__name__ == "StableDiffusionXLControlNetPipeline"
    assert np.array_equal(_pixels(result), _pixels(engine.generate(request)))
    refined = engine.generate(tiny_request(init_image=_pixels(result), strength=0.5))
    assert refined.images[0].size == (64, 64)


@pytest.mark.parametrize("mode", ["just_resize", "crop_and_resize", "resize_and_fill"])
def test_resize_modes_give_the_output_size(mode):
    tall = np.zeros((100, 40, 3), np.uint8)
    tall[:, 18:22] = 255
    fitted = fit_image(tall, width=64, height=48, mode=mode)
    assert fitted.shape == (48, 64, 3) and fitted.dtype == np.uint8
    if mode == "resize_and_fill":  # fitted inside, black bars left and right
        assert fitted[:, :10].max() == 0 and fitted[:, 30:34].max() == 255
    if mode == "crop_and_resize":  # the line, centred, survives the crop
        assert fitted[:, 30:34].max() == 255 and fitted[:, :20].max() == 0
    if mode == "just_resize":
        assert fitted[:, 28:36].max() > 0
