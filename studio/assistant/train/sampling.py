"""Step (c): where calls might go, and which calls to try there.

For every document, the model reads a fixed few-shot prefix of documents with calls (the paper's P(x)) and then
the document; at each token of the answer it gives the probability that `[` comes next. Positions where that
probability reaches `tau_s` are kept (at most `positions` per document, most probable first), and the proposer
(`proposer.propose_calls`) suggests calls for each from the text before it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch

from studio.assistant.calls import ToolCall
from studio.assistant.prompting import ASSISTANT, format_document
from studio.assistant.runtime import bracket_token_ids
from studio.assistant.train.examples import Example
from studio.assistant.train.proposer import propose_calls

SAMPLING_EXAMPLES = (
    ("How many pixels wide is a 12 inch print at 150 dpi?",
     "It is [Calculator(12 * 150) → 1800] 1800 pixels wide."),
    ("What date will it be in 3 weeks?",
     "It will be [Calendar(today + 3 weeks) → Thursday, December 17, 2026] Thursday, December 17, 2026."),
    ("Tom had 9 apples and ate 4. How many are left?", "The answer is [Calculator(9 - 4) → 5] 5."),
    ("How many days until March 5, 2027?", "It is [Calendar(days until March 5, 2027) → 99] 99 days."),
)


@dataclass
class Candidate:
    """A document, a character position in its text, and the calls to try there."""

    index: int
    position: int
    probability: float
    calls: list[ToolCall]

    def to_json(self) -> dict:
        data = asdict(self)
        data["calls"] = [call.to_json() for call in self.calls]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Candidate:
        return cls(index=data["index"], position=data["position"], probability=data["probability"],
                   calls=[ToolCall(c["tool"], c["input"], c.get("result")) for c in data["calls"]])


def sampling_prefix() -> str:
    """P(x): the documents with calls that the model reads before each document."""
    return "\n".join(format_document(q, a) for q, a in SAMPLING_EXAMPLES)


def bracket_probabilities(model, tokenizer, texts: Sequence[str], *,
                          prefix_ids: list[int]) -> list[list[tuple[int, float]]]:
    """For each text, (character offset, probability that `[` or ` [` comes next) at each token of its answer."""
    brackets = bracket_token_ids(tokenizer)
    encodings = [tokenizer(text, add_special_tokens=False, return_offsets_mapping=True) for text in texts]
    width = max(len(e["input_ids"]) for e in encodings)
    inputs = torch.full((len(texts), width), tokenizer.pad_token_id, dtype=torch.long)
    for row, encoding in enumerate(encodings):
        inputs[row, : len(encoding["input_ids"])] = torch.tensor(encoding["input_ids"])
    with torch.inference_mode():  # the prefix is read once, and its cache shared by the whole batch
        cache = model(input_ids=torch.tensor([prefix_ids + [tokenizer.eos_token_id]]), use_cache=True,
                      logits_to_keep=1).cache
        cache.batch_repeat_interleave(len(texts))
        logits = model(input_ids=inputs, cache=cache).logits.float()
    probabilities = torch.softmax(logits, dim=-1)[:, :, brackets].sum(dim=-1)
    found = []
    for row, (text, encoding) in enumerate(zip(texts, encodings)):
        answer_start = text.find(ASSISTANT) + len(ASSISTANT)
        found.append([(begin, float(probabilities[row, index - 1]))
                      for index, (begin, _) in enumerate(encoding["offset_mapping"])
                      if begin > answer_start and index > 0])
    return found


def sample_candidates(model, tokenizer, examples: Sequence[Example], *, tau_s: float = 0.01, positions: int = 1,
                      calls_per_tool: int = 12, seed: int = 0, batch_size: int = 32,
                      log: Callable[[str], None] = print) -> list[Candidate]:
    """Candidate positions and calls for every example (see the module docstring)."""
    rng = random.Random(seed)
    prefix_ids = tokenizer(sampling_prefix())["input_ids"]
    candidates: list[Candidate] = []
    for first in range(0, len(examples), batch_size):
        batch = examples[first:first + batch_size]
        scored_batch = bracket_probabilities(model, tokenizer, [e.text for e in batch], prefix_ids=prefix_ids)
        for offset, (example, scored) in enumerate(zip(batch, scored_batch)):
            kept = sorted((s for s in scored if s[1] >= tau_s), key=lambda s: -s[1])[:positions]
            for position, probability in kept:
                calls = propose_calls(example.text[:position], limit=calls_per_tool, rng=rng)
                if calls:
                    candidates.append(Candidate(index=first + offset, position=position,
                                                probability=round(probability, 4), calls=calls))
        if first % (batch_size * 40) == 0:
            log(f"sampled {first + len(batch)}/{len(examples)} documents, {len(candidates)} positions")
    return candidates
