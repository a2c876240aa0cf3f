"""The inline tool-call syntax of the Toolformer paper: `[Calculator(1080 * 5 / 4) → 1350]`.

`->` is accepted as well as `→`. A call written without a result (`[Calendar()]`) or with an empty one
(`[Calculator(1 / 0) →]`, what the runtime writes when a tool has no result) parses with `result=None`.
Text around calls is kept as it is; malformed or nested brackets are ordinary text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARROW = "→"
ARROWS = ("→", "->")
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)\((.*)\)\s*", re.DOTALL)
_ARROW_SPLIT = re.compile(r"→|->")
_CALL_IN_PROGRESS = re.compile(r"\[\s*[A-Za-z_]?\w*(\(.*)?$", re.DOTALL)


@dataclass(frozen=True)
class ToolCall:
    """One call: the tool's name, its argument text and its result (None: no result)."""

    tool: str
    input: str
    result: str | None = None

    def format(self, *, with_result: bool = True) -> str:
        """The call as text: `[Tool(input) → result]`, or `[Tool(input) →]` without a result."""
        if with_result and self.result is not None:
            return f"[{self.tool}({self.input}) {ARROW} {self.result}]"
        return f"[{self.tool}({self.input}) {ARROW}]"

    def to_json(self) -> dict:
        return {"tool": self.tool, "input": self.input, "result": self.result}


@dataclass(frozen=True)
class CallSpan:
    """Where a call sits in a text: `text[start:end]` is the whole `[...]`."""

    start: int
    end: int
    call: ToolCall


def parse_call_body(body: str) -> ToolCall | None:
    """Parse what is between the brackets (`Calculator(1 + 2) → 3`); None when it is not a call."""
    parts = _ARROW_SPLIT.split(body, maxsplit=1)
    head = _HEAD.fullmatch(parts[0])
    if head is None:
        return None
    result = parts[1].strip() if len(parts) == 2 else ""
    return ToolCall(tool=head.group(1), input=head.group(2).strip(), result=result or None)


def parse_call(text: str) -> ToolCall | None:
    """Parse one whole call `[Tool(input) → result]`; None when `text` is anything else."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")) or "[" in text[1:-1] or "]" in text[1:-1]:
        return None
    return parse_call_body(text[1:-1])


def find_calls(text: str) -> list[CallSpan]:
    """All well-formed calls in `text`, in order. A `[` followed by another `[` before its `]` is plain text."""
    spans: list[CallSpan] = []
    position = 0
    while True:
        start = text.find("[", position)
        if start < 0:
            return spans
        end = text.find("]", start + 1)
        if end < 0:
            return spans
        inner = text.find("[", start + 1, end)
        if inner >= 0:
            position = inner
            continue
        call = parse_call_body(text[start + 1:end])
        if call is not None:
            spans.append(CallSpan(start=start, end=end + 1, call=call))
        position = end + 1


def unclosed_call_start(text: str) -> int | None:
    """Where a call that is still being written (or was never closed) starts at the end of `text`, or None."""
    start = text.rfind("[")
    if start < 0 or "]" in text[start:]:
        return None
    return start if _CALL_IN_PROGRESS.match(text, start) else None


def arrow_position(call_text: str) -> int | None:
    """The index just after the first arrow in a call being written, or None while it has none."""
    match = _ARROW_SPLIT.search(call_text)
    return None if match is None else match.end()


def _leading_word(result: str) -> str:
    return re.split(r"[\s,]+", result.strip(), maxsplit=1)[0]


def render_visible(raw: str, *, complete: bool = True) -> str:
    """The text a user sees: call markup removed, results kept.

    A result is dropped when the text right after the call already repeats it (Toolformer text copies the
    result: `is [Calculator(24 * 300) → 7200] 7200 pixels` reads `is 7200 pixels`). While a reply is still
    streaming (`complete=False`) the text is cut where that choice cannot be made yet, and a call still being
    written is hidden, so each partial rendering is a prefix of the final one.
    """
    pieces: list[str] = []
    position = 0
    for span in find_calls(raw):
        before = raw[position:span.start]
        pieces.append(before)
        following = raw[span.end:].lstrip()
        result = span.call.result
        if result:
            word = _leading_word(result)
            if following.startswith(word):
                result = None
            elif not complete and word.startswith(following):
                return "".join(pieces)
        # a removed call leaves no double space: "is [call] 7200" reads "is 7200"
        drop_space = not result and "".join(pieces).endswith((" ", "\n"))
        pieces.append(result or "")
        position = span.end
        if drop_space and raw.startswith(" ", position):
            position += 1
    tail = raw[position:]
    unclosed = unclosed_call_start(tail)
    if unclosed is not None:
        tail = tail[:unclosed]
    pieces.append(tail)
    return "".join(pieces)
