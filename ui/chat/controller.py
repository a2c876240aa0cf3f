"""Chat glue: the chat panel, the assistant session, the generation panel and the history recorder.

A turn: the designer's message goes to the assistant with the earlier turns and the generation panel's current
prompt and size (`chat_context`); the reply streams into its bubble token by token; when it ends (done or stopped)
it is logged to the document's history file (a turn whose model failed to load has no reply and is not logged).
"Apply" puts the reply's prompt fields into the generation panel as one undoable step and logs the turn again as
applied; "Apply and generate" also starts a generation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from studio.app.chat_context import ChatTurn, conversation, past_turns
from studio.assistant.reply import Reply
from studio.assistant.runtime import StreamPiece
from ui.chat.panel import ChatPanel
from ui.chat.session import ChatSession, model_label
from ui.chat.settings import ChatSettings

if TYPE_CHECKING:
    from ui.common.context import AppContext
    from ui.generate.controller import GenerationController
    from ui.history.recorder import HistoryRecorder


class ChatController(QObject):
    """Runs the conversation of the window's chat panel."""

    turn_finished = Signal(int)  # index of the turn whose reply ended (done, stopped or failed)

    def __init__(self, context: "AppContext", *, panel: ChatPanel, generation: "GenerationController",
                 recorder: "HistoryRecorder") -> None:
        super().__init__(context)
        self.context = context
        self.panel = panel
        self.generation = generation
        self.generate_panel = generation.panel
        self.recorder = recorder
        self.settings = ChatSettings(context.app_settings.qsettings)
        self.session = ChatSession(self, model_path=self.settings.model_path())
        self.turns: list[ChatTurn] = []
        self._active: ChatTurn | None = None
        panel.send_requested.connect(self.send)
        panel.stop_requested.connect(self.stop)
        panel.clear_requested.connect(self.clear)
        panel.apply_requested.connect(self.apply)
        panel.model_choice.chosen.connect(self.set_model)
        self.session.status.connect(panel.set_status)
        self.session.token.connect(self._on_token)
        self.session.reply_finished.connect(self._on_finished)
        self.session.reply_failed.connect(self._on_failed)
        self.session.model_failed.connect(panel.message_bar.show_error)
        self._fill_model_choice()

    # Conversation --------------------------------------------------------------------------------
    @property
    def replying(self) -> bool:
        return self.session.busy

    def send(self, text: str) -> bool:
        """Ask the assistant about `text` in the context of the conversation and the current settings."""
        text = text.strip()
        if not text or self.session.busy:
            return False
        past = past_turns(self.turns)
        messages = conversation(past, settings=self.generate_panel.settings(), message=text)
        self.panel.message_bar.dismiss()
        self.panel.add_user_message(text)
        turn = ChatTurn(message=text, bubble=self.panel.add_reply(), context=messages)
        turn.bubble.show_waiting("…" if self.session.loaded else "Loading the model…")
        self.turns.append(turn)
        self._active = turn
        self.panel.set_replying(True)
        self.session.start_reply(messages)
        return True

    def stop(self) -> None:
        """Stop the reply being written; what it wrote so far stays."""
        self.session.stop()

    def clear(self) -> None:
        """Forget the conversation (a reply being written is stopped and dropped)."""
        self.session.stop()
        self._active = None
        self.turns.clear()
        self.panel.clear_conversation()

    def _on_token(self, piece: StreamPiece) -> None:
        turn = self._active
        if turn is None:
            return
        turn.raw += piece.raw
        turn.state = "streaming"
        turn.bubble.show_stream(turn.raw)

    def _on_finished(self, reply: Reply) -> None:
        self.panel.set_replying(False)
        turn, self._active = self._active, None
        if turn is None:  # the conversation was cleared meanwhile
            return
        turn.reply, turn.raw = reply, reply.raw
        turn.state = "stopped" if reply.finish == "stopped" else "done"
        turn.bubble.finish(reply.raw, notes=reply.notes, has_fields=reply.fields is not None)
        self._log(turn)
        self.turn_finished.emit(self.turns.index(turn))

    def _on_failed(self, message: str) -> None:
        self.panel.set_replying(False)
        turn, self._active = self._active, None
        if turn is None:
            return
        turn.state, turn.error = "failed", message
        turn.bubble.fail(message)
        self.turn_finished.emit(self.turns.index(turn))

    # Apply ---------------------------------------------------------------------------------------
    def apply(self, index: int, generate: bool = False) -> bool:
        """Put the fields of reply `index` into the generation panel (one undo step); then generate if asked."""
        turn = self.turns[index]
        fields = turn.reply.fields if turn.reply is not None else None
        if fields is None:
            return False
        self.generate_panel.apply_fields(prompt=fields.prompt, negative=fields.negative or None,
                                                width=fields.width, height=fields.height)
        turn.bubble.mark_applied()
        if not turn.applied:
            turn.applied = True
            self._log(turn)
        self.context.show_status("The assistant's prompt is in the Generate panel (Undo takes it back).")
        if generate:
            self.generation.generate()
        return True

    # Model ---------------------------------------------------------------------------------------
    def set_model(self, path: Path | None) -> None:
        """Use the model at `path` (None: the built-in one) from the next message on, and remember it."""
        self.settings.set_model_path(path)
        self.session.set_model(path)
        self._fill_model_choice()
        self.panel.message_bar.dismiss()
        self.panel.set_status(f"Using {model_label(path)}; it loads with the next message.")

    def _fill_model_choice(self) -> None:
        self.panel.model_choice.fill(current=self.session.model_path, recent=self.settings.recent_models())

    # History ---------------------------------------------------------------------------------------
    def _log(self, turn: ChatTurn) -> None:
        """Log the turn into the document's history file (on the history thread; the GUI does not wait)."""
        self.recorder.log_chat_turn(message=turn.message, reply=turn.raw, tool_calls=turn.tool_calls(),
                                           applied=turn.applied)

    def shutdown(self, msecs: int = 10_000) -> bool:
        """Stop a reply and wait for the assistant's thread (the window is closing)."""
        return self.session.shutdown(msecs)
