"""Greedy decoding with inline tool calls, over any transformers causal LM (Toolformer, Schick et al. 2023).

A call starts when `[` is among the `top_k` most likely next tokens (it is then chosen even if it is not the most
likely one), except at a reply's first token, where it starts only as the most likely one: training puts calls
after the first word of an answer, and the shipped model, with k = 2, opened prompt replies with
`[Calculator() →]` and lost the prompt. Inside a call decoding stays greedy; when the model writes the arrow
(`→` or `->`) the tool runs and ` result]` is inserted (`]` alone when it has no result), and decoding continues
from there. The KV cache (transformers' `cache`, formerly `past_key_values`) is kept throughout, so each step
feeds only the new tokens.

Limits: `max_new_tokens` (every reply token, inserted ones included), `max_calls` per reply (then `[` is no
longer allowed), no call straight after another (only whitespace between) nor while the last call's result is
being written out again (`→ Monday, May 3, 2027] Monday, May 3,`, also from a later word of it), nor in a prompt
field line (`Prompt:`, `Negative prompt:`, `Size:`: settings, not prose), `max_call_tokens` per call (a longer
call is closed unrun). In `Prompt:` and `Negative prompt:` lines no token 4-gram is written twice (a small
model otherwise loops on style words), and no comma-separated part is closed that the line already has
(`poorly drawn, poorly drawn`: the model has to go on, e.g. to `poorly drawn face`), nor a `;`, `?` or `!`: the
shipped model, which also reads settings turns (`Current settings: Prompt: …; Size: 512 x 768.`), otherwise
wrote `Negative prompt: blurry; Size: 512 x 768.` instead of a `Size:` line, or dodged the part rule with `?`.
With `tools=False`, `[` is never chosen. A stop event ends decoding between two steps. Problems (a malformed
call, an unknown tool, a tool without result, a call never closed, a
model error) end up as notes on the reply; nothing is raised.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from studio.assistant.calls import ToolCall, arrow_position, parse_call_body, render_visible
from studio.assistant.prompting import STOP_STRINGS
from studio.assistant.reply import Reply
from studio.assistant.tools import ToolBox

FIELD_LABELS = ("prompt:", "negative prompt:", "size:")
_TOKEN_KINDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class DecodeOptions:
    tools: bool = True
    top_k: int = 10
    max_new_tokens: int = 80
    max_calls: int = 3
    max_call_tokens: int = 48
    no_repeat_ngram: int = 4  # in `Prompt:` and `Negative prompt:` lines, no token n-gram is written twice


@dataclass(frozen=True)
class StreamPiece:
    """New text of a streaming reply: `raw` with call markup, `visible` as the user should see it."""

    raw: str
    visible: str


@dataclass(frozen=True)
class TokenKinds:
    """Tokens the decoding rules look for, by what their text holds."""

    brackets: list[int]  # read `[` (with or without leading spaces)
    closing: dict[int, str]  # end a part of a prompt line (a comma, a line break, end of text), with their text
    foreign: list[int]  # hold a `;`, `?` or `!`, never part of a prompt line


def token_kinds(tokenizer) -> TokenKinds:
    """The token kinds of `tokenizer`, worked out once from the text of every token and cached."""
    if tokenizer not in _TOKEN_KINDS:
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        closing = {i: text for i, text in enumerate(texts) if "," in text or "\n" in text}
        if tokenizer.eos_token_id is not None:
            closing[tokenizer.eos_token_id] = "\n"
        _TOKEN_KINDS[tokenizer] = TokenKinds(
            brackets=[i for i, text in enumerate(texts) if text.strip() == "["], closing=closing,
            foreign=[i for i, text in enumerate(texts) if any(c in text for c in ";?!")])
    return _TOKEN_KINDS[tokenizer]


def bracket_token_ids(tokenizer) -> list[int]:
    """Ids of the tokens that read `[` (with or without leading spaces)."""
    return token_kinds(tokenizer).brackets


def _part(text: str) -> str:
    return " ".join(text.lower().split())


def _held_back(raw: str) -> int:
    """How many trailing characters of `raw` might still become a stop string."""
    longest = 0
    for stop in STOP_STRINGS:
        for size in range(1, len(stop)):
            if raw.endswith(stop[:size]):
                longest = max(longest, size)
    return longest


class _Stream:
    """Emits the new raw and visible text after each step, holding back what may still change."""

    def __init__(self, callback: Callable[[StreamPiece], None] | None):
        self.callback = callback
        self.raw = ""
        self.visible = ""

    def update(self, raw: str, *, final: bool = False) -> None:
        if self.callback is None:
            return
        if not final:
            raw = raw[: len(raw) - _held_back(raw)]
        visible = render_visible(raw, complete=final)
        new_raw = raw[len(self.raw):] if raw.startswith(self.raw) else ""
        new_visible = visible[len(self.visible):] if visible.startswith(self.visible) else ""
        if new_raw or new_visible:
            self.raw = raw if new_raw else self.raw
            self.visible = visible if new_visible else self.visible
            self.callback(StreamPiece(raw=new_raw, visible=new_visible))


class _Decoder:
    """One reply's decoding state."""

    def __init__(self, model, tokenizer, *, toolbox: ToolBox, options: DecodeOptions):
        self.model = model
        self.tokenizer = tokenizer
        self.toolbox = toolbox
        self.options = options
        self.brackets = torch.tensor(bracket_token_ids(tokenizer), dtype=torch.long)
        self.eos = tokenizer.eos_token_id
        self.ids: list[int] = []
        self.raw = ""
        self.calls: list[ToolCall] = []
        self.notes: list[str] = []
        self.call_start: int | None = None
        self.call_end: int | None = None
        self.last_result: str | None = None
        self.call_tokens = 0
        self.line_ids: list[int] = []
        self.cache = None
        self.logits: torch.Tensor | None = None

    def feed(self, ids: Sequence[int], *, first: bool = False) -> None:
        device = self.model.device
        with torch.inference_mode():
            output = self.model(input_ids=torch.tensor([list(ids)], device=device), cache=self.cache,
                                use_cache=True, logits_to_keep=1)
        self.cache = output.cache
        self.logits = output.logits[0, -1].float()
        if not first:
            self.ids.extend(ids)
            self.raw = self.tokenizer.decode(self.ids, skip_special_tokens=True)
            for token in ids:
                self.line_ids = [] if "\n" in self.tokenizer.decode([token]) else self.line_ids + [token]

    def in_field_line(self) -> bool:
        """Whether the current line is a prompt field (`Prompt:`, `Negative prompt:`, `Size:`)."""
        line = self.raw[self.raw.rfind("\n") + 1:].lstrip().lower()
        return line.startswith(FIELD_LABELS)

    def repeated_ngram_ends(self) -> list[int]:
        """Tokens that would write an n-gram twice in a prompt line (see DecodeOptions.no_repeat_ngram)."""
        size = self.options.no_repeat_ngram
        line = self.raw[self.raw.rfind("\n") + 1:].lstrip().lower()
        if size < 2 or not line.startswith(FIELD_LABELS[:2]) or len(self.line_ids) < size - 1:
            return []
        tail = self.line_ids[len(self.line_ids) - size + 1:]
        return [self.line_ids[i + size - 1] for i in range(len(self.line_ids) - size + 1)
                if self.line_ids[i:i + size - 1] == tail]

    def banned_in_prompt_line(self) -> list[int]:
        """Tokens that would close a comma-separated part that the prompt line already has, and any `;`, `?`
        or `!`."""
        line = self.raw[self.raw.rfind("\n") + 1:].lstrip()
        label = next((label for label in FIELD_LABELS[:2] if line.lower().startswith(label)), None)
        if label is None:
            return []
        kinds = token_kinds(self.tokenizer)
        banned = list(kinds.foreign)
        *earlier, current = line[len(label):].split(",")
        earlier_parts = {_part(text) for text in earlier}
        for token, text in kinds.closing.items():
            closed = current + text
            cut = min(i for i in (closed.find(","), closed.find("\n")) if i >= 0)
            if _part(closed[:cut]) in earlier_parts and _part(closed[:cut]):
                banned.append(token)
        return banned

    def restating_result(self) -> bool:
        """Whether the text since the last call is empty or words of that call's result being written out, from
        its start or from a later word (`→ Monday, May 3, 2027] Monday, May 3,`; `→ Today is Thursday, November
        26, 2026.] Thursday,`), not yet to its end: a call there would cut it short."""
        if self.call_end is None:
            return False
        since = " ".join(self.raw[self.call_end:].split())
        result = self.last_result
        whole = " " + " ".join(result.split()) if result else ""
        start = whole.find(" " + since)
        return not since or (start >= 0 and start + 1 + len(since) < len(whole))

    def choose(self) -> int:
        scores = self.logits.clone()
        in_call = self.call_start is not None
        if not in_call:
            banned = self.repeated_ngram_ends() + self.banned_in_prompt_line()
            if banned:
                scores[banned] = float("-inf")
        calls_allowed = (self.options.tools and len(self.calls) < self.options.max_calls
                         and not self.restating_result() and not self.in_field_line())
        if len(self.brackets) and (in_call or not calls_allowed):
            scores[self.brackets] = float("-inf")
        elif len(self.brackets):
            k = self.options.top_k if self.ids else 1
            top = torch.topk(scores, min(k, scores.numel())).indices.tolist()
            bracket_set = set(self.brackets.tolist())
            for token in top:
                if token in bracket_set:
                    return token
            scores[self.brackets] = float("-inf")
        return int(torch.argmax(scores))

    def text_with(self, token: int) -> str:
        return self.tokenizer.decode(self.ids + [token], skip_special_tokens=True)

    def step_in_call(self, token: int) -> list[int]:
        """The ids to feed after `token` was chosen inside a call (the tool runs when the arrow appears)."""
        text = self.text_with(token)
        call_text = text[self.call_start:]
        arrow = arrow_position(call_text)
        if arrow is None:
            self.call_tokens += 1
            if "]" in call_text:
                self.notes.append(f"The call {call_text.strip()} has no arrow; it was not run.")
                self.call_start = None
            elif self.call_tokens > self.options.max_call_tokens:
                self.notes.append("A tool call grew too long; it was closed without running.")
                self.call_start = None
                return [token] + self._encode("]")
            return [token]
        call = parse_call_body(call_text[1:arrow])
        result = None
        if call is None:
            self.notes.append(f"The call {call_text.strip()} is malformed; it was not run.")
        else:
            result = self.toolbox.run(call.tool, call.input)
            if call.tool not in self.toolbox.names:
                self.notes.append(f"There is no tool called {call.tool}.")
            elif result is None:
                self.notes.append(f"{call.tool}({call.input}) gave no result.")
            self.calls.append(ToolCall(tool=call.tool, input=call.input, result=result))
        inserted = text[len(self.raw):self.call_start + arrow] + (f" {result}]" if result else "]")
        self.call_start = None
        self.call_end = len(self.raw) + len(inserted)  # where the raw text ends once `inserted` is fed
        self.last_result = result
        return self._encode(inserted)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]


def decode_with_tools(model, tokenizer, prompt_ids: Sequence[int], *, toolbox: ToolBox,
                      options: DecodeOptions = DecodeOptions(),
                      on_token: Callable[[StreamPiece], None] | None = None,
                      stop: threading.Event | None = None) -> Reply:
    """Continue `prompt_ids` greedily with tool calls; returns the reply (see the module docstring)."""
    decoder = _Decoder(model, tokenizer, toolbox=toolbox, options=options)
    stream = _Stream(on_token)
    finish = "end"
    try:
        decoder.feed(prompt_ids, first=True)
        while True:
            if stop is not None and stop.is_set():
                finish = "stopped"
                break
            if len(decoder.ids) >= options.max_new_tokens:
                finish = "length"
                break
            token = decoder.choose()
            if token == decoder.eos:
                break
            if decoder.call_start is not None:
                ids = decoder.step_in_call(token)
            else:
                ids = [token]
                if token in decoder.brackets.tolist():
                    decoder.call_start = decoder.text_with(token).rfind("[")
                    decoder.call_tokens = 0
            decoder.feed(ids)
            cut = min((decoder.raw.find(s) for s in STOP_STRINGS if s in decoder.raw), default=-1)
            if cut >= 0:
                decoder.raw = decoder.raw[:cut]
                break
            stream.update(decoder.raw)
    except (RuntimeError, ValueError, IndexError) as exc:
        finish = "error"
        decoder.notes.append(f"The model failed while writing: {exc}")
    if decoder.call_start is not None:
        decoder.notes.append("A tool call was never closed.")
    if finish == "length":
        decoder.notes.append(f"The reply reached the limit of {options.max_new_tokens} tokens.")
    if finish == "stopped":
        decoder.notes.append("Stopped.")
    stream.update(decoder.raw, final=True)
    return Reply(raw=decoder.raw, calls=decoder.calls, finish=finish, notes=decoder.notes)
