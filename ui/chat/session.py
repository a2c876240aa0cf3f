"""The assistant model behind the chat panel: loaded on first use and run off the GUI thread.

`ChatSession` owns one `Assistant` and its own `JobRunner` (a thread of its own, so a reply never waits for a
long generation and a generation never waits for a reply). Every model call - loading and decoding - runs in
that thread. The job reports through its bridge, which lives in the GUI thread, so Qt queues each message and
the signals below are emitted on the GUI thread:

- `status(text)`: what the model is doing ("Loading the assistant model…", "Ready: …").
- `token(StreamPiece)`: new text of the reply being written (raw with call markup, and visible).
- `reply_finished(Reply)` or `reply_failed(message)`: how the reply ended.
- `model_failed(message)`: the model could not be loaded (the reply fails with the same message).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.assistant.assistant import Assistant
from studio.assistant.errors import AssistantError
from studio.assistant.model import DEFAULT_MODEL_DIR
from studio.assistant.prompting import Message
from studio.assistant.reply import Reply
from studio.assistant.runtime import StreamPiece
from studio.errors import StudioError
from ui.common.workers import JobHandle, JobRunner

MAX_NEW_TOKENS = 96


class ModelLoadError(StudioError):
    """The chosen assistant model could not be loaded (the message says which and why)."""


@dataclass(frozen=True)
class _Status:
    text: str


@dataclass(frozen=True)
class _Loaded:
    text: str


def model_label(path: Path | None) -> str:
    """How a model choice is named to the user."""
    return "the built-in assistant" if path is None else f"the model at {path}"


def describe_load_error(error: BaseException, path: Path | None) -> str:
    """One sentence saying which model failed and why, and what to do."""
    reason = str(error) if isinstance(error, StudioError) else f"{type(error).__name__}: {error}"
    if path is None and not DEFAULT_MODEL_DIR.is_dir():
        reason = f"the built-in model is missing from {DEFAULT_MODEL_DIR}."
    return (f"Could not load {model_label(path)}: {reason.rstrip('.')}. "
            "Choose another model in the list above; the rest of the studio is unaffected.")


class ChatSession(QObject):
    """Loads the chosen model lazily and writes replies in a background thread, one at a time."""

    status = Signal(str)
    token = Signal(object)  # StreamPiece
    reply_finished = Signal(object)  # Reply
    reply_failed = Signal(str)
    model_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, model_path: Path | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.model_path = model_path  # None: the shipped default model
        self.today: date | None = None  # fixes the Calendar's date (tests, screenshots); None: the real date
        self.max_new_tokens = MAX_NEW_TOKENS
        self.job: JobHandle | None = None
        self._replying = False  # GUI thread: set when a reply starts, cleared once its end has been signalled
        self._assistant: Assistant | None = None  # touched only in the worker thread
        self._loaded_path: Path | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """A reply is being written, or its end has not been signalled yet (so its last messages cannot be
        mistaken for the next reply's)."""
        return self._replying

    @property
    def loaded(self) -> bool:
        """Whether a model is loaded for the current choice (a reply starts at once)."""
        with self._lock:
            return self._assistant is not None and self._loaded_path == self.model_path

    def set_model(self, path: Path | None) -> None:
        """Use the model folder at `path` (None: the shipped default) from the next reply on."""
        self.model_path = Path(path) if path is not None else None

    def start_reply(self, messages: list[Message]) -> bool:
        """Start answering the last message of `messages`; False when a reply is already being written."""
        if self.busy:
            return False
        path, today, limit = self.model_path, self.today, self.max_new_tokens

        def job(report, stop: threading.Event) -> Reply:
            assistant = self._assistant_for(path, report)
            if stop.is_set():
                return Reply(raw="", finish="stopped", notes=["Stopped."])
            return assistant.generate_reply(messages, on_token=report, stop=stop, today=today,
                                            max_new_tokens=limit)

        self._replying = True
        self.job = self.runner.submit(job, on_progress=self._on_progress, on_finished=self._on_finished,
                                      on_failed=self._on_failed)
        return True

    def stop(self) -> None:
        """Ask the reply being written to stop after its current token (its `reply_finished` still comes)."""
        if self.job is not None:
            self.job.cancel()

    def shutdown(self, msecs: int = 10_000) -> bool:
        """Stop any reply and wait for the worker thread to be idle (window closing)."""
        self.stop()
        return self.runner.wait(msecs)

    # Worker thread -------------------------------------------------------------------------------
    def _assistant_for(self, path: Path | None, report) -> Assistant:
        with self._lock:
            if self._assistant is not None and self._loaded_path == path:
                return self._assistant
            self._assistant = None
        report(_Status(f"Loading {model_label(path)}…"))
        try:
            assistant = Assistant.load(path)
        except Exception as exc:  # AssistantError, or whatever a broken folder makes transformers raise
            raise ModelLoadError(describe_load_error(exc, path)) from exc
        with self._lock:
            self._assistant, self._loaded_path = assistant, path
        size = sum(p.numel() for p in assistant.loaded.model.parameters()) / 1e6
        report(_Loaded(f"Ready: {model_label(path)} ({size:.1f} M parameters)."))
        return assistant

    # GUI thread ----------------------------------------------------------------------------------
    def _on_progress(self, message: Any) -> None:
        if isinstance(message, StreamPiece):
            self.token.emit(message)
        elif isinstance(message, (_Status, _Loaded)):
            self.status.emit(message.text)

    def _on_finished(self, reply: Reply) -> None:
        self._replying = False
        self.reply_finished.emit(reply)

    def _on_failed(self, error: BaseException) -> None:
        self._replying = False
        if isinstance(error, ModelLoadError):
            self.status.emit("No model loaded.")
            self.model_failed.emit(str(error))
            self.reply_failed.emit(str(error))
            return
        if isinstance(error, AssistantError):
            self.reply_failed.emit(str(error))
            return
        self.reply_failed.emit(f"The assistant failed unexpectedly ({type(error).__name__}: {error}).")
