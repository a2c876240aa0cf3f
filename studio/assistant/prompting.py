"""How conversations become model input text.

The project's own models ("plain" style) read `User: ...\nAssistant: ...` turns, the format of their training
documents. Other local causal LMs ("few-shot" style) get an instruction and worked examples in the same call
syntax first, so that a large instruction-following model writes calls without fine-tuning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

USER = "User:"
ASSISTANT = "Assistant:"
STOP_STRINGS = ("\nUser:", "\nAssistant:")

FEW_SHOT_INSTRUCTION = (
    "You are a design assistant. You write image prompts as three lines, `Prompt: ...`, `Negative prompt: ...`"
    " and `Size: W x H` (multiples of 8), and answer questions about sizes, prices and dates. For arithmetic"
    " write a call `[Calculator(expression) → ` using + - * / and parentheses; for dates write"
    " `[Calendar() → ` for today or `[Calendar(ARGUMENT) → ` with ARGUMENT like `today + 10 days`,"
    " `March 5, 2027`, `next Friday`, `days until December 25`. The result is filled in after the arrow;"
    " then repeat it in your answer."
)
FEW_SHOT_EXAMPLES = (
    ("A print is 24 inches wide at 300 dpi. How many pixels wide is it?",
     "It is [Calculator(24 * 300) → 7200] 7200 pixels wide."),
    ("What day of the week will it be in 10 days?",
     "It will be [Calendar(today + 10 days) → Sunday, December 6, 2026] Sunday."),
    ("a poster of a red fox in a forest, watercolor",
     "Prompt: a poster of a red fox in a forest, watercolor, soft light, highly detailed\n"
     "Negative prompt: blurry, low quality\nSize: 768 x 1024"),
)


@dataclass(frozen=True)
class Message:
    """One chat turn: role "user" or "assistant", and its text."""

    role: str
    content: str


def as_messages(context: str | Iterable) -> list[Message]:
    """Turn a question string, or a list of `Message`, `{"role", "content"}` dicts or `(role, text)` pairs,
    into messages."""
    if isinstance(context, str):
        return [Message("user", context)]
    messages = []
    for item in context:
        if isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, dict):
            messages.append(Message(str(item.get("role", "user")), str(item.get("content", ""))))
        else:
            role, content = item
            messages.append(Message(str(role), str(content)))
    return messages


def trailing_user_turns(messages: Sequence[Message]) -> list[Message]:
    """The messages after the last assistant message: all that the project's own ("plain") models read. They
    learned single requests, some after a settings turn, never earlier replies; given earlier turns they lost
    the thread (a follow-up after three turns was answered `Prompt: a Sunday`). The settings turn carries what
    a follow-up needs."""
    last = max((i for i, message in enumerate(messages) if message.role == "assistant"), default=-1)
    return list(messages[last + 1:])


def format_turn(message: Message) -> str:
    label = ASSISTANT if message.role == "assistant" else USER
    return f"{label} {' '.join(message.content.split())}"


def format_document(question: str, answer: str) -> str:
    """A training document: one question and its answer."""
    return f"{USER} {question}\n{ASSISTANT} {answer}"


def settings_line(prompt: str, negative: str, width: int, height: int) -> str:
    """The turn that tells the assistant the generation settings a request refers to:
    `Current settings: Prompt: …; Negative prompt: …; Size: 512 x 768.` (empty prompts are left out)."""
    parts = [f"{label}: {' '.join(text.split())}" for label, text in (("Prompt", prompt),
                                                                      ("Negative prompt", negative)) if text.strip()]
    parts.append(f"Size: {width} x {height}")
    return "Current settings: " + "; ".join(parts) + "."


def build_prompt(messages: Sequence[Message], *, style: str = "plain") -> str:
    """The text the model continues: the conversation, then `Assistant:`."""
    turns = [format_turn(message) for message in messages]
    text = "\n".join(turns + [ASSISTANT])
    if style == "few-shot":
        examples = "\n\n".join(format_document(q, a) for q, a in FEW_SHOT_EXAMPLES)
        text = f"{FEW_SHOT_INSTRUCTION}\n\n{examples}\n\n{text}"
    return text
