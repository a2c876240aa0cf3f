"""The chat session's turns, and what the assistant reads for a turn: the earlier turns, the current generation
settings, the message.

The current prompt, negative prompt and size go in as a line of their own just before the new message, in the
same `Prompt:` / `Negative prompt:` / `Size: W x H` words the assistant writes its answers in, so a request like
"make it wider" or "more like a watercolor" has something to work on. When the conversation is too long for
the model, the assistant drops the oldest turns first; this line stays, next to the message it explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.app.generation_settings import GenerationSettings
from studio.assistant.prompting import Message, settings_line
from studio.assistant.reply import Reply


@dataclass(frozen=True)
class PastTurn:
    """A finished turn the assistant may read again: the user's message and the raw reply (calls included)."""

    message: str
    reply: str


@dataclass
class ChatTurn:
    """One turn of the chat session: a message, what the assistant read for it (`context`: earlier turns, current
    settings, the message) and its reply. state: "waiting", "streaming", "done", "stopped" or "failed"."""

    message: str
    bubble: Any = field(default=None, repr=False)  # the view that shows it (the window's reply bubble)
    context: list[Message] = field(default_factory=list)
    raw: str = ""
    reply: Reply | None = None
    state: str = "waiting"
    error: str = ""
    applied: bool = False

    def tool_calls(self) -> list[dict]:
        """The calls made while writing the reply, with their results, as the history store records them."""
        calls = self.reply.calls if self.reply is not None else []
        return [{"name": call.tool, "args": call.input, "result": call.result} for call in calls]


def past_turns(turns: Sequence[ChatTurn]) -> list[PastTurn]:
    """The finished turns with a reply, as the assistant reads them again."""
    return [PastTurn(turn.message, turn.raw) for turn in turns if turn.state == "done" and turn.raw.strip()]


def context_line(settings: GenerationSettings) -> str:
    """`Current settings: Prompt: …; Negative prompt: …; Size: 512 x 768.` (see `prompting.settings_line`)."""
    return settings_line(settings.prompt, settings.negative_prompt, settings.width, settings.height)


def conversation(past: Sequence[PastTurn], *, settings: GenerationSettings, message: str) -> list[Message]:
    """The messages for answering `message` after the `past` turns, with the current settings just before it
    (left out while the prompt is empty: there is nothing for a follow-up to change, and the built-in model,
    which learned the settings turn with a prompt in it, misreads one without)."""
    messages: list[Message] = []
    for turn in past:
        messages.append(Message("user", turn.message))
        messages.append(Message("assistant", turn.reply))
    if settings.prompt.strip():
        messages.append(Message("user", context_line(settings)))
    messages.append(Message("user", message))
    return messages
