"""Chat panel pieces without a model: chips from call markup, copying, bubbles, the context line, the model list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QFileDialog

from studio.app.chat_context import PastTurn, context_line, conversation
from studio.app.generation_settings import GenerationSettings
from studio.assistant.prompting import build_prompt
from ui.chat.bubbles import ReplyBubble
from ui.chat.chips import Chip, split_reply
from ui.chat.model_choice import BUILT_IN_LABEL, ModelChoice
from ui.chat.panel import ChatPanel
from ui.chat.settings import ChatSettings

RAW = " The height is [Calculator(1080 * 5 / 4) → 1350] 1350 pixels.\nPrompt: a red fox\nSize: 1080 x 1352"


def test_split_reply_turns_calls_into_chips():
    pieces = split_reply(RAW, streaming=False)
    assert pieces[0] == "The height is "
    assert pieces[1] == Chip(tool="Calculator", argument="1080 * 5 / 4", result="1350")
    assert pieces[2].startswith(" 1350 pixels.")
    failed = split_reply("It is [Calendar(someday) →] unknown", streaming=False)[1]
    assert failed.state == "failed" and failed.result is None
    broken = split_reply("It is [Calculator(5000 * 2000] 2000 pixels [note] tall.", streaming=False)
    assert broken == ["It is ", Chip(tool="Calculator", argument="5000 * 2000", result=None, state="failed"),
                      " 2000 pixels [note] tall."]


def test_a_call_being_written_is_a_pending_chip_only_while_streaming():
    raw = " It is [Calculator(1080 * 5"
    pieces = split_reply(raw, streaming=True)
    assert pieces == ["It is ", Chip(tool="Calculator", argument="1080 * 5", result=None, state="pending")]
    never_closed = Chip(tool="Calculator", argument="1080 * 5", result=None, state="failed")
    assert split_reply(raw, streaming=False) == ["It is ", never_closed]
    assert split_reply("Size: [ x 3024", streaming=False) == ["Size: [ x 3024"]  # not a call: text
    arrow = split_reply(" It is [Calculator(2 * 3) →", streaming=True)[1]
    assert arrow.argument == "2 * 3" and arrow.state == "pending"


def test_reply_view_shows_chips_not_markup_and_copies_calls(qtbot):
    bubble = ReplyBubble()
    qtbot.addWidget(bubble)
    bubble.resize(420, 200)
    bubble.show()
    bubble.finish(RAW, notes=["A note."], has_fields=True)
    view = bubble.view
    assert [chip.text for chip in view.chips()] == ["Calculator(1080 * 5 / 4) → 1350"]
    assert "[" not in view.toPlainText() and "Calculator" not in view.toPlainText()
    assert view.text_with_calls().startswith("The height is [Calculator(1080 * 5 / 4) → 1350] 1350 pixels.")
    view.selectAll()
    assert view.createMimeDataFromSelection().text() == view.text_with_calls()
    assert bubble.actions.isVisible() and bubble.notes_label.text() == "A note."
    assert view.height() > view.fontMetrics().lineSpacing() * 3  # three lines, no scroll bar


def test_chip_is_painted_as_a_tinted_box(qtbot):
    bubble = ReplyBubble()
    qtbot.addWidget(bubble)
    bubble.resize(420, 120)
    bubble.show()
    bubble.finish("[Calculator(2 * 3) → 6]", notes=[], has_fields=False)
    qtbot.wait(10)
    image = bubble.view.viewport().grab().toImage()
    fill = QColor("#203a5c")
    tinted = sum(
        1
        for x in range(0, min(image.width(), 200))
        for y in range(image.height())
        if abs(image.pixelColor(x, y).blue() - fill.blue()) < 6 and abs(image.pixelColor(x, y).red() - fill.red()) < 6
    )
    assert tinted > 200


def test_streaming_shows_a_caret_and_finishing_removes_it(qtbot):
    bubble = ReplyBubble()
    qtbot.addWidget(bubble)
    bubble.show_stream(" Prompt: a fox")
    assert bubble.view.toPlainText().endswith("▍")
    bubble.finish(" Prompt: a fox", notes=[], has_fields=True)
    assert bubble.view.toPlainText() == "Prompt: a fox"


def test_panel_sends_on_enter_not_while_replying(qtbot):
    panel = ChatPanel()
    qtbot.addWidget(panel)
    sent = []
    panel.send_requested.connect(sent.append)
    panel.input.setPlainText("hello")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sent == ["hello"] and panel.input.toPlainText() == ""
    panel.set_replying(True)
    panel.input.setPlainText("again")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sent == ["hello"] and panel.input.toPlainText() == "again"  # kept for when the reply is done
    panel.input.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert panel.input.toPlainText() == "again\n"


def test_panel_clear_removes_bubbles(qtbot):
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.add_user_message("hi")
    panel.add_reply().finish("Hello.", notes=[], has_fields=False)
    assert not panel.hint_label.isVisibleTo(panel)
    panel.clear_conversation()
    assert panel.replies == [] and panel.user_bubbles == []
    assert panel.column.count() == 2 and panel.hint_label.isVisibleTo(panel)


def test_context_line_names_the_current_prompt_and_size():
    settings = GenerationSettings(prompt="a red fox,\n watercolor", negative_prompt="", width=512, height=768)
    assert context_line(settings) == "Current settings: Prompt: a red fox, watercolor; Size: 512 x 768."
    messages = conversation([PastTurn("a fox", " Prompt: a fox")], settings=settings, message="make it wider")
    assert [m.role for m in messages] == ["user", "assistant", "user", "user"]
    prompt = build_prompt(messages)
    assert prompt.endswith("User: Current settings: Prompt: a red fox, watercolor; Size: 512 x 768.\n"
                           "User: make it wider\nAssistant:")
    empty = GenerationSettings(prompt=" ", negative_prompt="blurry", width=512, height=768)
    assert [m.content for m in conversation([], settings=empty, message="a fox")] == ["a fox"]


def test_model_choice_lists_built_in_recent_and_browse(qtbot, tmp_path: Path):
    settings = ChatSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert settings.model_path() is None
    settings.set_model_path(tmp_path / "a")
    settings.set_model_path(tmp_path / "b")
    assert settings.model_path() == tmp_path / "b"
    assert settings.recent_models() == [tmp_path / "b", tmp_path / "a"]
    choice = ModelChoice()
    qtbot.addWidget(choice)
    choice.fill(current=settings.model_path(), recent=settings.recent_models())
    labels = [choice.itemText(i) for i in range(choice.count())]
    assert labels[0] == BUILT_IN_LABEL and labels[1:3] == ["b", "a"] and labels[-1].startswith("Browse")
    assert choice.currentText() == "b"
    chosen = []
    choice.chosen.connect(chosen.append)
    choice.activated.emit(0)
    assert chosen == [None]


def test_browse_picks_a_folder_and_cancel_keeps_the_choice(qtbot, tmp_path: Path, monkeypatch):
    choice = ModelChoice()
    qtbot.addWidget(choice)
    choice.fill(current=None, recent=[])
    chosen = []
    choice.chosen.connect(chosen.append)
    browse = choice.findData("browse")
    answers = iter([str(tmp_path / "my-model"), ""])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: next(answers))
    choice.setCurrentIndex(browse)
    choice.activated.emit(browse)
    assert chosen == [tmp_path / "my-model"]
    choice.setCurrentIndex(browse)
    choice.activated.emit(browse)  # the dialog is cancelled: the built-in model stays chosen
    assert chosen == [tmp_path / "my-model"] and choice.currentText() == BUILT_IN_LABEL
