"""Prompt weighting in A1111's syntax, and prompts longer than CLIP's 77 tokens, for SD 1.x/2.x and SDXL.

Syntax (as in A1111): `(word)` x1.1, `((word))` x1.21, `[word]` /1.1, `(word:1.3)` exactly 1.3, `\\(` `\\)` `\\[`
`\\]` `\\\\` literal characters, `BREAK` (upper case, a word of its own) starts a new 77-token chunk. Unbalanced
brackets are taken as A1111 takes them: an unclosed `(` weights everything after it, a stray `)` is dropped.

`parse_weighted(prompt)` turns the text into chunks of (text, weight) fragments (that part is ours: no kept
library reads A1111's syntax; the grammar is a dozen lines). The embeddings come from `compel` (kept, MIT): it
weights the fragments' token embeddings and chunks long prompts into 77-token windows each with its own start
and end marker. `BREAK` chunks are encoded separately and joined along the token axis, as A1111 does.

A prompt with no weights other than 1, no `BREAK` and at most 75 tokens is passed to diffusers as plain text
(`plain_text`), so it gives exactly the picture it always gave: `(cat:1.0)` is the picture of `cat`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from studio.engine.errors import RequestError

ROUND_FACTOR = 1.1
SQUARE_FACTOR = 1 / 1.1
MAX_WEIGHT = 100.0
_TOKEN = re.compile(r"\\[\\()\[\]]|\\|\(|\)|\[|\]|:\s*[-+]?(?:\d+\.?\d*|\.\d+)\s*\)|\bBREAK\b|[^\\()\[\]:B]+|[:B]")

Fragment = tuple[str, float]


@dataclass(frozen=True)
class WeightedPrompt:
    """A prompt parsed into chunks (split at BREAK) of (text, weight) fragments."""

    chunks: tuple[tuple[Fragment, ...], ...]

    @property
    def is_plain(self) -> bool:
        """True when every weight is 1 and there is a single chunk (nothing for compel to do)."""
        return len(self.chunks) == 1 and all(weight == 1.0 for _, weight in self.chunks[0])

    @property
    def plain_text(self) -> str:
        """The text without syntax (escapes resolved, weights dropped, chunks joined with a space)."""
        return " ".join("".join(text for text, _ in chunk) for chunk in self.chunks).strip()


def parse_weighted(prompt: str) -> WeightedPrompt:
    """Parse A1111 prompt syntax (see the module docstring)."""
    if not isinstance(prompt, str):
        raise RequestError("The prompt must be text.")
    chunks: list[list[Fragment]] = [[]]
    stack: list[tuple[str, int]] = []  # open brackets: (kind, index of the first fragment inside)

    def add(text: str) -> None:
        if text:
            chunks[-1].append((text, 1.0))

    def scale(start: int, factor: float) -> None:
        chunk = chunks[-1]
        for i in range(start, len(chunk)):
            chunk[i] = (chunk[i][0], chunk[i][1] * factor)

    for match in _TOKEN.finditer(prompt):
        token = match.group(0)
        if token.startswith("\\") and len(token) == 2:
            add(token[1])
        elif token == "(" or token == "[":
            stack.append((token, len(chunks[-1])))
        elif token.startswith(":") and token.endswith(")") and stack and stack[-1][0] == "(":
            weight = float(token[1:-1])
            if not abs(weight) <= MAX_WEIGHT:
                raise RequestError(f"The prompt weight {weight:g} is out of range (at most {MAX_WEIGHT:g}).")
            scale(stack.pop()[1], weight)
        elif token.startswith(":") and token.endswith(")"):
            add(token[:-1])  # "(a:1.2)" outside parentheses: the ")" is stray and dropped, like A1111
        elif token == ")" and stack and stack[-1][0] == "(":
            scale(stack.pop()[1], ROUND_FACTOR)
        elif token == "]" and stack and stack[-1][0] == "[":
            scale(stack.pop()[1], SQUARE_FACTOR)
        elif token in (")", "]"):
            continue
        elif token == "BREAK":
            for kind, start in stack:  # A1111 closes open brackets at the end of the text, not at BREAK
                scale(start, ROUND_FACTOR if kind == "(" else SQUARE_FACTOR)
            stack.clear()
            chunks.append([])
        else:
            add(token)
    for kind, start in reversed(stack):
        scale(start, ROUND_FACTOR if kind == "(" else SQUARE_FACTOR)
    merged = []
    for chunk in chunks:
        out: list[Fragment] = []
        for text, weight in chunk:
            if out and out[-1][1] == weight:
                out[-1] = (out[-1][0] + text, weight)
            else:
                out.append((text, weight))
        merged.append(tuple(out) if out else (("", 1.0),))
    return WeightedPrompt(tuple(merged))


def needs_embeddings(prompt: WeightedPrompt, tokenizer: Any) -> bool:
    """True when the prompt cannot go to diffusers as plain text: weights, BREAK, or more than 75 tokens."""
    if not prompt.is_plain:
        return True
    limit = tokenizer.model_max_length - 2
    return len(tokenizer(prompt.plain_text, add_special_tokens=False).input_ids) > limit


def _compels(pipe: Any, family: str) -> list[Any]:
    from compel import Compel, ReturnedEmbeddingsType

    if family == "sdxl":
        kind = ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
        return [Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, returned_embeddings_type=kind,
                       truncate_long_prompts=False),
                Compel(tokenizer=pipe.tokenizer_2, text_encoder=pipe.text_encoder_2, returned_embeddings_type=kind,
                       truncate_long_prompts=False, requires_pooled=True)]
    return [Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, truncate_long_prompts=False)]


def _encode(compel: Any, prompt: WeightedPrompt) -> tuple[Any, Any]:
    """(embeddings [1, tokens, width], pooled of the first chunk or None) of all chunks joined."""
    import torch
    from compel.prompt_parser import Conjunction, FlattenedPrompt

    parts, pooled = [], None
    for chunk in prompt.chunks:
        conjunction = Conjunction([FlattenedPrompt([(text, float(weight)) for text, weight in chunk])])
        embeds, _ = compel.build_conditioning_tensor_for_conjunction(conjunction)
        if compel.requires_pooled and pooled is None:
            pooled = _pooled(compel, "".join(t for t, _ in chunk))
        parts.append(embeds if embeds.dim() == 3 else embeds.unsqueeze(0))
    return torch.cat(parts, dim=1), pooled


def _pooled(compel: Any, text: str) -> Any:
    """SDXL's pooled text embedding of the first chunk, as diffusers computes it (unweighted, truncated)."""
    provider = compel.conditioning_provider
    tokenizer, encoder = provider.tokenizer, provider.text_encoder
    ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids.to(encoder.device)
    return encoder(ids)[0]


def _pad(compel: Any, tensors: list[Any], length: int) -> list[Any]:
    """Pad [1, n, width] tensors to `length` tokens with that encoder's empty-prompt chunks."""
    import torch

    empty = compel.conditioning_provider.empty_z
    empty = empty if empty.dim() == 3 else empty.unsqueeze(0)
    out = []
    for tensor in tensors:
        missing = length - tensor.shape[1]
        if missing % empty.shape[1]:
            raise RequestError("Prompt chunks of different lengths cannot be joined.")
        if missing:
            tensor = torch.cat([tensor, empty.to(tensor).repeat(1, missing // empty.shape[1], 1)], dim=1)
        out.append(tensor)
    return out


def prompt_embeddings(pipe: Any, family: str, prompt: str, negative: str) -> dict[str, Any] | None:
    """Keyword arguments with `prompt_embeds` etc. for the pipeline call, or None when both prompts are plain
    (then pass the texts; see `plain_text`)."""
    positive, negative_p = parse_weighted(prompt), parse_weighted(negative)
    if not (needs_embeddings(positive, pipe.tokenizer) or needs_embeddings(negative_p, pipe.tokenizer)):
        return None
    import torch

    with torch.no_grad():
        compels = _compels(pipe, family)
        encoded = [(_encode(c, positive), _encode(c, negative_p)) for c in compels]
        length = max(t.shape[1] for (pos, _), (neg, _) in encoded for t in (pos, neg))
        pos_parts, neg_parts = [], []
        for compel, ((pos, pooled), (neg, neg_pooled)) in zip(compels, encoded):
            pos, neg = _pad(compel, [pos, neg], length)
            pos_parts.append(pos)
            neg_parts.append(neg)
        kwargs = {"prompt_embeds": torch.cat(pos_parts, dim=-1), "negative_prompt_embeds": torch.cat(neg_parts, dim=-1)}
        if family == "sdxl":
            kwargs["pooled_prompt_embeds"] = encoded[-1][0][1]
            kwargs["negative_pooled_prompt_embeds"] = encoded[-1][1][1]
    return kwargs
