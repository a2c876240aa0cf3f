"""The assistant as the app uses it: load a model once, then write replies that stream and can be stopped.

    assistant = Assistant.load()                      # resources/assistant, or any causal LM folder
    reply = assistant.generate_reply("a poster of a red fox, watercolor",
                                     on_token=lambda piece: print(piece.visible, end=""),
                                     stop=threading.Event(), today=date(2026, 11, 26))
    reply.answer, reply.fields, reply.calls
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from studio.assistant.model import LoadedModel, load_model
from studio.assistant.prompting import Message, as_messages, build_prompt, trailing_user_turns
from studio.assistant.reply import Reply
from studio.assistant.runtime import DecodeOptions, StreamPiece, decode_with_tools
from studio.assistant.tools import ToolBox

MAX_MESSAGE_CHARS = 20_000


class Assistant:
    """A loaded model and the way to prompt it."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str = "cpu") -> Assistant:
        """Load the model folder at `path` (default: the shipped `resources/assistant`)."""
        return cls(load_model(path, device=device))

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    def prompt_ids(self, messages: list[Message], *, budget: int) -> tuple[list[int], list[str]]:
        """Token ids of the prompt for `messages`, at most `budget` long: older turns are dropped first, then
        the start of the last message is cut. Returns the ids and notes about what was cut."""
        notes: list[str] = []
        for first in range(len(messages)):
            ids = self.tokenizer(build_prompt(messages[first:], style=self.loaded.style))["input_ids"]
            if len(ids) <= budget:
                if first:
                    notes.append(f"Only the last {len(messages) - first} messages were read.")
                return ids, notes
        last = messages[-1]
        words = last.content.split()
        while len(ids) > budget and len(words) > 1:
            words = words[len(words) // 4 or 1:]
            text = build_prompt([Message(last.role, " ".join(words))], style=self.loaded.style)
            ids = self.tokenizer(text)["input_ids"]
        if len(ids) > budget:
            ids = ids[:1] + ids[len(ids) - budget + 1:]
        notes.append("The message was too long; only its end was read.")
        return ids, notes

    def generate_reply(self, context: str | Iterable, *, on_token: Callable[[StreamPiece], None] | None = None,
                       stop: threading.Event | None = None, today: date | None = None, tools: bool = True,
                       max_new_tokens: int = 80, max_calls: int = 3, top_k: int | None = None) -> Reply:
        """Answer the last user message of `context` (a string or a list of messages).

        `on_token` receives each new piece of text (raw and visible) as it is written; setting `stop` ends the
        reply early; `today` fixes the Calendar's date; `tools=False` never starts a call; a call starts when `[`
        is among the `top_k` most likely tokens (default: the model's own k, else the paper's 10). The project's
        own models read only the user turns after the last reply (see `prompting.trailing_user_turns`).
        """
        messages = [Message(m.role, m.content[-MAX_MESSAGE_CHARS:]) for m in as_messages(context)]
        if not messages or not messages[-1].content.strip():
            return Reply(raw="", finish="end", notes=["The message is empty: there is nothing to answer."])
        if self.loaded.style == "plain":
            messages = trailing_user_turns(messages)
        budget = max(8, self.loaded.context - max_new_tokens)
        ids, notes = self.prompt_ids(messages, budget=budget)
        options = DecodeOptions(tools=tools, top_k=top_k or self.loaded.top_k, max_new_tokens=max_new_tokens,
                                max_calls=max_calls)
        reply = decode_with_tools(self.loaded.model, self.tokenizer, ids, toolbox=ToolBox(today), options=options,
                                  on_token=on_token, stop=stop)
        reply.notes[:0] = notes
        return reply
