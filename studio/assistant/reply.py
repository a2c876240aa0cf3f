"""A finished assistant reply: raw text with calls, the text a user sees, the calls made, and prompt fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from studio.assistant.calls import ToolCall, render_visible

MIN_SIDE = 64
MAX_SIDE = 4096
_PROMPT = re.compile(r"^[ \t]*prompt[ \t]*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_NEGATIVE = re.compile(r"^[ \t]*negative(?: prompt)?[ \t]*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_SIZE = re.compile(r"^[ \t]*size[ \t]*:[ \t]*(\d{1,5})[ \t]*[x×*][ \t]*(\d{1,5})", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class PromptFields:
    """Image-generation settings written by the assistant: `Prompt:`, `Negative prompt:`, `Size: W x H`.

    Width and height are multiples of 8 within [MIN_SIDE, MAX_SIDE], or None when the reply gave no size.
    """

    prompt: str
    negative: str = ""
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict:
        return {"prompt": self.prompt, "negative": self.negative, "width": self.width, "height": self.height}


def snap_side(value: int) -> int:
    """`value` rounded to the nearest multiple of 8 and kept within [MIN_SIDE, MAX_SIDE]."""
    return min(MAX_SIDE, max(MIN_SIDE, (int(value) + 4) // 8 * 8))


def parse_fields(text: str) -> PromptFields | None:
    """The prompt fields in a reply's visible text, or None when it has no `Prompt:` line."""
    prompt = _PROMPT.search(text)
    if prompt is None or not prompt.group(1).strip():
        return None
    negative = _NEGATIVE.search(text)
    size = _SIZE.search(text)
    width = height = None
    if size is not None:
        width, height = snap_side(int(size.group(1))), snap_side(int(size.group(2)))
    return PromptFields(prompt=prompt.group(1).strip(), negative=negative.group(1).strip() if negative else "",
                        width=width, height=height)


@dataclass
class Reply:
    """One assistant reply.

    `raw` is the model's text with tool calls and their results; `answer` is what the user sees (markup
    removed, results kept); `calls` lists the calls in order; `fields` holds parsed prompt fields (or None);
    `finish` says why decoding ended ("end", "length", "stopped", "error"); `notes` are short
    sentences about anything that went wrong (a tool without result, a call never closed, a long message cut).
    """

    raw: str
    calls: list[ToolCall] = field(default_factory=list)
    finish: str = "end"
    notes: list[str] = field(default_factory=list)

    @property
    def answer(self) -> str:
        return render_visible(self.raw).strip()

    @property
    def fields(self) -> PromptFields | None:
        return parse_fields(self.answer)

    def to_json(self, *, reply_id: object = None) -> dict:
        fields = self.fields
        empty = {"prompt": None, "negative": None, "width": None, "height": None}
        return {"id": reply_id, "reply": self.raw, "answer": self.answer,
                "calls": [call.to_json() for call in self.calls],
                "fields": fields.to_json() if fields else empty,
                "finish": self.finish, "notes": list(self.notes)}
