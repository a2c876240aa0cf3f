"""Every edit of the window is logged into the document's history file while the designer works: strokes,
pose drags, undo/redo, layer properties, prompts and settings, generations, gallery feedback and chat turns."""

from __future__ import annotations

import numpy as np
from canvas_input import drag
from history_helpers import WAIT_MS, kinds, settle, store_of, wait_future

from studio.document.serialize import document_to_files
from studio.history.record import document_at


def test_a_canvas_stroke_is_one_stroke_event_with_its_region(qtbot, window):
    settle(qtbot, window)
    before = len(store_of(window).revisions())
    window.tool_actions["brush"].trigger()
    drag(qtbot, window, [(100, 100), (150, 120), (200, 160), (260, 200)])
    settle(qtbot, window)
    store = store_of(window)
    strokes = store.events(kinds=["stroke"])
    assert len(strokes) == 1  # one event per stroke, not one per dab
    x, y, w, h = strokes[0].payload["bbox"]
    assert strokes[0].payload["layer"] == "edge"
    assert 85 <= x <= 100 and 85 <= y <= 100 and 255 <= x + w <= 275 and 195 <= y + h <= 215
    assert len(store.revisions()) == before + 1
    assert store.revision(strokes[0].revision).thumbnail is not None
    # The file holds the canvas as it is (replaying the history gives the same pixels).
    assert np.array_equal(document_at(store).edge.data, window.document.edge.data)


def test_undo_redo_pose_drag_and_depth_are_logged_as_edits(qtbot, window):
    document = window.document
    document.edge.stroke([(20, 20), (300, 200)], width=6)
    document.depth.stroke([(50, 400), (400, 400)])
    window.view.run_edit(lambda: window.view.tools["pose"].add_template("standing"))
    window.tool_actions["pose"].trigger()
    wrist = document.pose.people[0].body.xy[4].copy()
    drag(qtbot, window, [tuple(wrist), tuple(wrist + [10, -5]), tuple(wrist + [30, -20])])
    settle(qtbot, window)
    assert kinds(window)[2:] == ["stroke", "stroke", "pose", "pose"]  # after created, snapshot: one pose per drag
    window.commands["undo"].trigger()  # the drag
    window.commands["undo"].trigger()  # the template
    window.commands["undo"].trigger()  # the depth stroke
    window.commands["redo"].trigger()
    settle(qtbot, window)
    assert kinds(window)[6:] == ["pose", "pose", "stroke", "stroke"]
    store = store_of(window)
    assert document_to_files(document_at(store)) == document_to_files(document)


def test_whole_layer_edits_are_logged_in_order_without_an_explicit_flush(qtbot, window):
    window.document.depth.fill(0.5)  # reports its pixels just after its undo step
    window.generate_panel.prompt_edit.setPlainText("after the fill")
    window.commands["invert_edges"].trigger()
    qtbot.wait(50)  # one turn of the event loop logs the last edit
    wait_future(qtbot, window.history.flush())
    events = store_of(window).events()[2:]
    assert [(e.kind, e.payload.get("layer") or e.payload.get("field")) for e in events] == [
        ("stroke", "depth"), ("setting", "prompt"), ("stroke", "edge")]
    assert events[0].payload["bbox"] == [0, 0, 512, 512]
    assert document_to_files(document_at(store_of(window))) == document_to_files(window.document)


def test_layer_properties_are_logged_once_per_change_burst(qtbot, window):
    slider = window.layers_panel.rows["edge"].opacity
    for value in (90, 70, 50, 30):  # a slider drag
        slider.setValue(value)
    window.layers_panel.rows["depth"].visible.setChecked(False)
    qtbot.wait(700)  # the property delay passes
    settle(qtbot, window)
    layers = [event.payload for event in store_of(window).events(kinds=["layer"])]
    assert {"layer": "edge", "changes": {"opacity": 0.3}} in layers
    assert {"layer": "depth", "changes": {"visible": False}} in layers
    assert len(layers) == 2


def test_prompt_typing_is_coalesced_and_settings_are_logged(qtbot, window):
    panel = window.generate_panel
    for text in ("a", "a r", "a red", "a red fox"):
        panel.prompt_edit.setPlainText(text)
    panel.steps_spin.setValue(7)
    panel.control_table.rows["depth"].weight.setValue(0.4)
    settle(qtbot, window)
    store = store_of(window)
    prompts = store.events(kinds=["setting"], text="fox")
    assert len(prompts) == 1 and prompts[0].payload == {"field": "prompt", "value": "a red fox"}
    state = store.state_at()
    assert state.settings["steps"] == 7 and state.settings["controls"]["depth"]["weight"] == 0.4
    prompt, numbers = store.events(kinds=["setting"])  # steps and the depth weight: one revision
    assert set(numbers.payload["fields"]) == {"steps", "controls"} and numbers.payload["fields"]["steps"] == 7


def test_generation_is_logged_with_request_results_and_gallery_feedback(qtbot, tiny_window):
    window = tiny_window
    window.document.edge.stroke([(50, 50), (400, 300)], width=8)
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.batch_size, settings.prompt = 2, 77, 2, "a lighthouse"
    window.generate_panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS * 3) as finished:
        assert window.generation.generate()
    result, entries = finished.args
    qtbot.waitUntil(lambda: not window.generation.running, timeout=WAIT_MS)
    settle(qtbot, window)
    store = store_of(window)
    generation = store.generation(entries[0].history_id)
    assert entries[1].history_id == generation.id
    payload = generation.payload
    assert payload["status"] == "ok" and payload["seed"] == 77 and payload["timings"]["total"] > 0
    assert generation.request["prompt"] == "a lighthouse" and generation.request["steps"] == 2
    control = generation.request["controls"][0]
    assert control["kind"] == "edge" and store.image(control["image"]).shape == (512, 512, 3)
    assert [store.image(h).tolist() for h in generation.results] == [e.image.tolist() for e in entries]
    # Feedback from the gallery: star = accept, reject = reject, on that result of the generation.
    gallery = window.gallery_panel
    second = next(entry for entry in gallery.entries if entry.index_in_batch == 1)
    gallery.select([second])
    gallery.buttons["star"].click()
    gallery.buttons["reject"].click()
    settle(qtbot, window)
    feedback = store.generation(generation.id).feedback
    assert [(f.result, f.verdict) for f in feedback] == [(1, "accept"), (1, "reject")]
    assert store.generation(generation.id).verdict == "reject"


def test_failed_generation_is_logged_as_failed(qtbot, make_window, app_paths, tmp_path):
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="broken", entry=ModelEntry(base=str(tmp_path / "no-such-model")))
    window = make_window()
    window.document.edge.stroke([(10, 10), (100, 100)])
    window.generate_panel.prompt_edit.setPlainText("never made")
    with qtbot.waitSignal(window.generation.failed, timeout=WAIT_MS):
        window.generation.generate()
    settle(qtbot, window)
    (generation,) = store_of(window).generations()
    assert generation.payload["status"] == "failed" and "no-such-model" in generation.payload["error"]
    assert generation.payload["results"] == []


def test_chat_turns_are_logged_and_searchable(qtbot, window):
    committed = []
    future = window.recorder.log_chat_turn(
        message="How wide is 400 of 1400?", reply="About [Calculator(400 / 1400) → 0.29] of it.",
        tool_calls=[{"name": "Calculator", "args": "400 / 1400", "result": "0.29"}], applied=True,
        on_committed=committed.append)
    wait_future(qtbot, future)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bool(committed), timeout=WAIT_MS)
    (chat,) = store_of(window).events(text="Calculator")
    assert chat.kind == "chat" and chat.payload["applied"] is True and chat.id == committed[0].event


def test_consecutive_number_fields_are_one_revision_and_other_events_end_the_group(qtbot, window):
    panel = window.generate_panel
    settle(qtbot, window)
    store = store_of(window)
    before = len(store.revisions())
    panel.width_spin.setValue(640)
    panel.height_spin.setValue(384)
    panel.steps_spin.setValue(12)
    panel.batch_spin.setValue(2)
    settle(qtbot, window)
    assert len(store.revisions()) == before + 1  # not four
    grouped = store.events(kinds=["setting"])[-1]
    assert grouped.payload["fields"] == {"width": 640, "height": 384, "steps": 12, "batch_size": 2}
    assert store.state_at().settings["batch_size"] == 2 and store.state_at().settings["height"] == 384
    window.document.edge.stroke([(10, 10), (90, 10)], width=4)  # a drawing between: a new group next
    panel.steps_spin.setValue(14)
    settle(qtbot, window)
    assert [e.kind for e in store.events()[-2:]] == ["stroke", "setting"]
    assert store.events(kinds=["setting"])[-1].payload == {"field": "steps", "value": 14}
    assert len(store.revisions()) == before + 3
