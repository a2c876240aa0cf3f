"""The chat panel in the window with the shipped assistant model (resources/assistant): streamed replies with
tool-call chips, Apply into the generation panel (one undo step), stop, a model that fails to load, logging."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.app.generation_settings import GenerationSettings
from studio.assistant.calculator import calculate
from studio.assistant.model import DEFAULT_MODEL_DIR
from studio.assistant.runtime import StreamPiece

TODAY = date(2026, 11, 26)
WAIT_MS = 60_000
CALCULATOR_QUESTION = "A 1600 x 1200 image is resized to 800 pixels wide. How tall is it now?"
PROMPT_REQUEST = "a poster of a red fox in a forest, watercolor"


@pytest.fixture
def chat_window(window):
    assert (DEFAULT_MODEL_DIR / "config.json").is_file(), f"the shipped assistant model is missing: {DEFAULT_MODEL_DIR}"
    window.chat.session.today = TODAY
    window.docks["assistant"].raise_()
    return window


def _send(qtbot, window, text: str):
    """Type `text`, press Send and wait for the reply to end; returns the turn."""
    with qtbot.waitSignal(window.chat.turn_finished, timeout=WAIT_MS):
        window.chat_panel.input.setPlainText(text)
        window.chat_panel.send_button.click()
    return window.chat.turns[-1]


def _hold_the_worker(window) -> threading.Event:
    """Queue a job that blocks the assistant's thread until the returned event is set (so a test can connect to
    the next job's signals before it runs)."""
    gate = threading.Event()
    window.chat.session.runner.submit(lambda _report, _cancel: gate.wait(WAIT_MS / 1000))
    return gate


def test_reply_streams_in_from_the_worker_thread_with_a_calculator_chip(qtbot, chat_window):
    window = chat_window
    gate = _hold_the_worker(window)
    statuses, shown, worker_threads = [], [], []
    window.chat.session.status.connect(statuses.append)
    window.chat.session.token.connect(lambda piece: shown.append((piece, threading.current_thread())))
    window.chat_panel.input.setPlainText(CALCULATOR_QUESTION)
    window.chat_panel.send_button.click()
    job = window.chat.session.job
    job.bridge.progress.connect(lambda _m: worker_threads.append(threading.current_thread()),
                                Qt.ConnectionType.DirectConnection)
    assert window.chat_panel.stop_button.isEnabled() and not window.chat_panel.send_button.isEnabled()
    assert "Loading" in window.chat_panel.replies[0].view.toPlainText()
    with qtbot.waitSignal(window.chat.turn_finished, timeout=WAIT_MS):
        gate.set()
        assert job.done_event.wait(WAIT_MS / 1000)
        # The worker is done but the GUI has not handled the end yet: no second reply may start in between.
        assert window.chat.replying and not window.chat.send("too early")
    turn = window.chat.turns[-1]
    assert len(window.chat.turns) == 1 and turn.state == "done", turn.bubble.view.toPlainText()
    assert statuses[0].startswith("Loading the built-in assistant") and statuses[-1].startswith("Ready:")
    assert len(shown) >= 5  # several token signals, each with new text
    assert all(thread is threading.main_thread() for _piece, thread in shown)
    assert worker_threads and all(thread is not threading.main_thread() for thread in worker_threads)
    assert "".join(piece.raw for piece, _thread in shown) == turn.raw
    calls = [call for call in turn.reply.calls if call.tool == "Calculator" and call.result is not None]
    assert calls, turn.raw
    assert all(call.result == calculate(call.input) for call in calls)  # the tool ran on what the model wrote
    chips = [chip.text for chip in turn.bubble.view.chips() if chip.tool == "Calculator" and chip.state == "done"]
    assert chips == [f"Calculator({call.input}) → {call.result}" for call in calls]
    shown_text = turn.bubble.view.toPlainText()
    assert "Calculator(" not in shown_text and "→" not in shown_text
    assert window.chat_panel.send_button.isEnabled() and not window.chat_panel.stop_button.isEnabled()


def test_apply_fills_the_generation_panel_as_one_undo_step(qtbot, chat_window):
    window = chat_window
    window.generate_panel.set_settings(GenerationSettings(prompt="a lighthouse at dusk", negative_prompt="text",
                                                          width=640, height=448))
    turn = _send(qtbot, window, PROMPT_REQUEST)
    fields = turn.reply.fields
    assert fields is not None, turn.raw
    assert turn.bubble.actions.isVisible()
    turn.bubble.apply_button.click()
    settings = window.generate_panel.settings()
    assert settings.prompt == fields.prompt
    assert settings.negative_prompt == (fields.negative or "text")
    assert (settings.width, settings.height) == (fields.width or 640, fields.height or 448)
    assert turn.applied and turn.bubble.applied_label.isVisibleTo(turn.bubble)
    window.undo.undo_action.trigger()  # one step takes all the fields back
    settings = window.generate_panel.settings()
    assert (settings.prompt, settings.negative_prompt, settings.width, settings.height) == (
        "a lighthouse at dusk", "text", 640, 448)
    window.undo.redo_action.trigger()
    assert window.generate_panel.settings().prompt == fields.prompt


def test_apply_and_generate_starts_a_generation_with_the_fields(qtbot, make_window, app_paths, tiny_models):
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="tiny", entry=ModelEntry(base=str(tiny_models)))
    window = make_window()
    window.generate_panel.set_settings(GenerationSettings(model="tiny", steps=50, width=64, height=64))
    turn = _send(qtbot, window, PROMPT_REQUEST)
    assert turn.reply.fields is not None, turn.raw
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        turn.bubble.generate_button.click()
        assert window.generation.running
        window.generation.cancel()  # the run itself is the engine's business; its request is what matters here
    result, _entries = finished.args
    assert result.request.prompt == turn.reply.fields.prompt
    assert turn.applied


def test_the_assistant_reads_the_current_settings_and_the_earlier_turns(qtbot, chat_window):
    window = chat_window
    window.generate_panel.set_settings(GenerationSettings(prompt="a castle on a hill, oil painting", width=512,
                                                          height=768))
    first = _send(qtbot, window, "make it wider")
    assert [(m.role, m.content) for m in first.context] == [
        ("user", "Current settings: Prompt: a castle on a hill, oil painting; Size: 512 x 768."),
        ("user", "make it wider")]
    window.generate_panel.apply_fields(width=1024)
    second = _send(qtbot, window, "more like a watercolor")
    assert [(m.role, m.content) for m in second.context] == [
        ("user", "make it wider"), ("assistant", first.raw),
        ("user", "Current settings: Prompt: a castle on a hill, oil painting; Size: 1024 x 768."),
        ("user", "more like a watercolor")]
    assert second.state == "done" and second.raw.strip(), second.raw


def test_stop_ends_a_reply_mid_way(qtbot, chat_window):
    window = chat_window
    gate = _hold_the_worker(window)
    window.chat_panel.input.setPlainText(PROMPT_REQUEST)
    window.chat_panel.send_button.click()
    job = window.chat.session.job
    # The worker waits inside its first token report until Stop is pressed, so the stop lands mid-reply.
    job.bridge.progress.connect(lambda m: isinstance(m, StreamPiece) and job.cancel_event.wait(WAIT_MS / 1000),
                                Qt.ConnectionType.DirectConnection)
    tokens = []
    window.chat.session.token.connect(tokens.append)
    gate.set()
    qtbot.waitUntil(lambda: len(tokens) > 0, timeout=WAIT_MS)
    assert window.chat_panel.stop_button.isEnabled()
    with qtbot.waitSignal(window.chat.turn_finished, timeout=WAIT_MS):
        window.chat_panel.stop_button.click()
    turn = window.chat.turns[-1]
    assert turn.state == "stopped" and turn.reply.finish == "stopped"
    assert turn.raw and len(turn.raw) < 24 and turn.reply.fields is None, turn.raw  # cut after the first words
    assert "Stopped." in turn.bubble.notes_label.text()
    assert window.chat_panel.send_button.isEnabled() and not window.chat_panel.stop_button.isEnabled()
    again = _send(qtbot, window, "What is today's date?")
    assert again.state == "done" and again.raw.strip(), again.raw


def test_a_model_that_fails_to_load_shows_a_message_and_the_window_stays_usable(qtbot, chat_window, tmp_path: Path):
    window = chat_window
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ this is not json", encoding="utf-8")
    (broken / "model.safetensors").write_bytes(b"\x00garbage" * 100)
    window.chat.set_model(broken)
    assert window.chat_panel.model_choice.currentText() == "broken-model"
    turn = _send(qtbot, window, "hello")
    assert turn.state == "failed"
    bar = window.chat_panel.message_bar
    assert bar.isVisible() and bar.kind == "error"
    assert bar.text().startswith(f"Could not load the model at {broken}")
    assert "Could not load" in turn.bubble.view.toPlainText()
    assert window.chat_panel.status_label.text() == "No model loaded."
    assert window.chat_panel.send_button.isEnabled() and window.isEnabled()
    window.generate_panel.apply_fields(prompt="still works")
    assert window.generate_panel.settings().prompt == "still works"
    window.chat.set_model(None)  # back to the built-in model, remembered in the settings
    assert window.chat.settings.model_path() is None
    assert not bar.isVisible()
    turn = _send(qtbot, window, "What is today's date?")
    assert turn.state == "done" and turn.raw.strip(), turn.raw


def test_clear_forgets_the_conversation(qtbot, chat_window):
    window = chat_window
    _send(qtbot, window, "What is today's date?")
    window.chat_panel.clear_button.click()
    assert window.chat.turns == [] and window.chat_panel.replies == []
    turn = _send(qtbot, window, "What date will it be in 10 days?")
    assert len(window.chat.turns) == 1 and turn.state == "done"


def _chat_events(qtbot, window):
    window.recorder.flush()
    flushed = window.history.flush()
    qtbot.waitUntil(flushed.done, timeout=WAIT_MS)
    return [event.payload for event in window.history.current.store.events(kinds=["chat"])]


def test_each_turn_is_logged_in_the_history_file_and_apply_logs_it_as_applied(qtbot, chat_window):
    window = chat_window
    calc_turn = _send(qtbot, window, CALCULATOR_QUESTION)
    prompt_turn = _send(qtbot, window, PROMPT_REQUEST)
    assert prompt_turn.reply.fields is not None, prompt_turn.raw
    logged = _chat_events(qtbot, window)
    assert logged == [
        {"message": CALCULATOR_QUESTION, "reply": calc_turn.raw, "applied": False,
         "tool_calls": [{"name": c.tool, "args": c.input, "result": c.result} for c in calc_turn.reply.calls]},
        {"message": PROMPT_REQUEST, "reply": prompt_turn.raw, "applied": False,
         "tool_calls": [{"name": c.tool, "args": c.input, "result": c.result} for c in prompt_turn.reply.calls]},
    ]
    assert logged[0]["tool_calls"] and logged[0]["tool_calls"][0]["name"] == "Calculator"
    window.chat.apply(1)
    window.chat.apply(1)  # applying the same reply again logs nothing new
    logged = _chat_events(qtbot, window)
    assert len(logged) == 3 and logged[2] == dict(logged[1], applied=True)
