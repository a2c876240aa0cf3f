"""Live mode in the window with the tiny models: frames after edits, no backlog, off, errors, Keep, Generate.

No test sleeps for a fixed time: they wait for signals, for conditions, or for the renderer to be idle.
"""

from __future__ import annotations

import re

import numpy as np
from canvas_input import drag
from history_helpers import kinds, settle, store_of
from PySide6.QtCore import QCoreApplication

from studio.engine.live import LiveSettings

WAIT_MS = 60_000


def _small(window, **changes) -> None:
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps = 2
    settings.seed = 7
    for key, value in changes.items():
        setattr(settings, key, value)
    window.generate_panel.set_settings(settings)


def _switch_on(qtbot, window):
    """Press Live and wait for the first frame (of the canvas as it is)."""
    window.live.debounce_s = 0.05
    with qtbot.waitSignal(window.live.frame_shown, timeout=WAIT_MS) as first:
        window.generate_panel.live_controls.button.click()
        assert window.live.enabled and window.docks["live"].isVisible()
    return first.args[0]


def _settle_live(qtbot, window) -> None:
    """Wait until the renderer has nothing pending or running and its last frame (if any) was shown."""
    qtbot.waitUntil(lambda: not window.live._snapshot_timer.isActive(), timeout=WAIT_MS)
    assert window.live.renderer.wait_idle(WAIT_MS / 1000)
    QCoreApplication.processEvents()


def _edge_map(frame) -> np.ndarray | None:
    return next((c.image for c in frame.request.controls if c.kind == "edge"), None)


def test_a_stroke_makes_a_live_frame_and_shows_the_frame_time(qtbot, tiny_window):
    window = tiny_window
    _small(window, prompt="a red house")
    first = _switch_on(qtbot, window)
    assert _edge_map(first.frame) is None  # the canvas was empty
    with qtbot.waitSignal(window.live.frame_shown, timeout=WAIT_MS) as after_stroke:
        drag(qtbot, window, [(60, 60), (200, 120), (400, 400)])
    shown = after_stroke.args[0]
    draft = shown.frame.request
    assert np.array_equal(_edge_map(shown.frame), window.document.control_image("edge"))
    settings = LiveSettings()
    assert (draft.steps, draft.scheduler, draft.guidance_scale) == (settings.steps, settings.scheduler,
                                                                    settings.guidance_scale)
    assert draft.prompt == "a red house" and shown.image.shape == (64, 64, 3)
    label = window.generate_panel.live_controls.label.text()
    assert re.fullmatch(r"Live: \d+\.\d\d s / frame", label)
    assert label == f"Live: {shown.frame.frame_time:.2f} s / frame"
    assert window.live_panel.keep_button.isEnabled()
    assert window.gallery_panel.entries == []  # live frames never flood the gallery
    settle(qtbot, window)
    assert "generation" not in kinds(window)  # ... nor the history
    # A prompt change is an edit too.
    with qtbot.waitSignal(window.live.frame_shown, timeout=WAIT_MS) as after_prompt:
        window.generate_panel.prompt_edit.setPlainText("a blue house")
    assert after_prompt.args[0].frame.request.prompt == "a blue house"


def test_quick_strokes_leave_no_backlog_and_the_last_frame_shows_the_last_edit(qtbot, tiny_window):
    window = tiny_window
    _small(window)
    window.live.debounce_s = 0.25
    frames = []
    window.live.frame_shown.connect(frames.append)
    window.generate_panel.live_controls.button.click()
    qtbot.waitUntil(lambda: len(frames) == 1, timeout=WAIT_MS)
    edits = 6
    for i in range(edits):
        drag(qtbot, window, [(20 + 60 * i, 30), (40 + 60 * i, 480)])
        # Each stroke reaches the renderer as its own change (no fixed sleep: wait for the snapshot to go out).
        qtbot.waitUntil(lambda: not window.live._snapshot_timer.isActive(), timeout=WAIT_MS)
    renderer = window.live.renderer
    _settle_live(qtbot, window)
    later = frames[1:]
    assert 1 <= len(later) <= edits
    assert np.array_equal(_edge_map(later[-1].frame), window.document.control_image("edge"))
    assert later[-1].frame.number == edits + 1  # the newest change (the first was the initial frame)
    numbers = [shown.frame.number for shown in later]
    assert numbers == sorted(set(numbers))
    assert renderer.frames == len(frames) and renderer.frames + renderer.superseded + renderer.cancelled >= edits + 1


def test_switching_off_stops_the_renderer(qtbot, tiny_window):
    window = tiny_window
    _small(window)
    _switch_on(qtbot, window)
    renderer = window.live.renderer
    window.generate_panel.live_controls.button.click()
    assert not window.live.enabled and window.live.renderer is None and not renderer.running
    assert renderer.wait_idle(WAIT_MS / 1000)
    assert window.generate_panel.live_controls.label.text() == "Live: off"
    shown_before = window.live.shown
    window.document.edge.stroke([(10, 10), (300, 300)], width=8)
    QCoreApplication.processEvents()
    assert renderer.frames == 1 and window.live.shown is shown_before
    assert not window.live._snapshot_timer.isActive()


def test_an_engine_error_switches_live_off_with_a_message(qtbot, make_window, app_paths, tmp_path):
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="broken", entry=ModelEntry(base=str(tmp_path / "no-such-model")))
    window = make_window()
    _small(window)
    window.live.debounce_s = 0.0
    with qtbot.waitSignal(window.live.switched, timeout=WAIT_MS, check_params_cb=lambda on: not on):
        window.generate_panel.live_controls.button.click()
    bar = window.generate_panel.message_bar
    assert bar.kind == "error" and "Live mode is off" in bar.text() and "no-such-model" in bar.text()
    assert not window.generate_panel.live_controls.button.isChecked()
    assert window.generate_panel.live_controls.label.text() == "Live: off"
    assert window.live.renderer is None


def test_live_needs_a_model(window):
    window.generate_panel.live_controls.button.click()
    assert not window.live.enabled and not window.generate_panel.live_controls.button.isChecked()
    assert "DEMO MODE" in window.generate_panel.message_bar.text()


def test_keep_adds_the_live_frame_to_the_gallery_and_history(qtbot, tiny_window):
    window = tiny_window
    _small(window)
    window.document.edge.stroke([(50, 50), (400, 300)], width=8)
    shown = _switch_on(qtbot, window)
    gallery = window.gallery_panel
    window.live_panel.keep_button.click()
    assert len(gallery.entries) == 1  # shown at once; the history id follows when the log is written
    entry = gallery.entries[0]
    assert np.array_equal(entry.image, shown.image) and entry.request is shown.frame.request
    assert entry.model == "tiny" and entry.models
    qtbot.waitUntil(lambda: entry.history_id is not None, timeout=WAIT_MS)
    settle(qtbot, window)
    assert store_of(window).generation(entry.history_id).payload["status"] == "ok"
    assert kinds(window).count("generation") == 1
    # The kept draft is a normal result: re-running it remakes the same picture.
    gallery.select([entry])
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as rerun:
        gallery.buttons["rerun"].click()
    assert np.array_equal(rerun.args[1][0].image, entry.image)


def test_generate_pauses_live_and_live_resumes_with_the_edits_made_meanwhile(qtbot, tiny_window):
    window = tiny_window
    _small(window, batch_size=2)
    _switch_on(qtbot, window)
    controls = window.generate_panel.live_controls
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        window.generate_panel.generate_button.click()
        assert window.live.renderer is None and controls.label.text() == "Live: paused while generating"
        window.document.edge.stroke([(30, 30), (480, 200)], width=8)  # while paused: drawn after the run
    assert len(finished.args[1]) == 2 and len(window.gallery_panel.entries) == 2
    with qtbot.waitSignal(window.live.frame_shown, timeout=WAIT_MS) as resumed:
        pass
    assert np.array_equal(_edge_map(resumed.args[0].frame), window.document.control_image("edge"))
    assert window.live.enabled and controls.label.text().endswith("s / frame")


def test_closing_the_window_stops_live_mode(qtbot, tiny_window):
    window = tiny_window
    _small(window)
    _switch_on(qtbot, window)
    renderer = window.live.renderer
    window.close()
    assert not renderer.running and renderer.wait_idle(0)
