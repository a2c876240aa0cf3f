"""Step (d): run the candidate calls and keep those that make the following tokens easier to predict.

The weighted loss over the tokens from the call's position i on is L(z) = -sum_t w_t log p(x_{i+t} | ...) with
w_t proportional to max(0, 1 - 0.2 t) (normalised to sum 1), where the call z is written into the text at i,
exactly as it will be in the fine-tuning data. (The paper gives z as a prefix of the document instead, because
its model had never seen calls in the middle of text; our base corpus shows bracketed working in answers, so
the call can sit where it will be used.) A call c with result r is kept when
min(L(nothing), L(c without result)) - L(c with result) >= tau_f; at most the best call per position is kept.
tau_f is 0.5 for both tools, the value the paper used for its calculator: with 1.0, `next Friday` calls were
rejected in 401 of 492 documents, because the weekday of `It is Friday, July 21, 2023.` is already in the
question and only the month and day are left to predict.

Tokens that are only white space carry no weight and do not advance t: our tokenizer writes the space before a
weekday, a month or a number as a token of its own, and in `Monday, June 21, 2027` three of the paper's five
tokens would be spaces, so a call that gets the date right had too little loss left to remove to pass tau_f:
the shipped model of 2026-11-26 (session 3) kept calls in only 247 of the 1,802 searched date documents whose
answer is a whole date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import torch

from studio.assistant.calls import ToolCall
from studio.assistant.tools import ToolBox
from studio.assistant.train.examples import Example
from studio.assistant.train.sampling import Candidate

TAU_F = 0.5
WINDOW = 5


def loss_weights(count: int = WINDOW) -> torch.Tensor:
    """w_t = max(0, 1 - 0.2 t) for the first `count` tokens, normalised to sum 1 (a document may end before
    the paper's five tokens with weight)."""
    raw = torch.tensor([max(0.0, 1.0 - 0.2 * t) for t in range(count)])
    return raw / raw.sum()


def window_weights(counted: Sequence[bool]) -> list[float]:
    """The weights of a window's tokens: `loss_weights` over the counted ones in order, 0 for the others."""
    weights = iter(loss_weights(sum(counted)).tolist())
    return [next(weights) if flag else 0.0 for flag in counted]


@dataclass
class KeptCall:
    """A call kept for a document at a character position, with the loss reduction that kept it."""

    index: int
    position: int
    call: ToolCall
    reduction: float

    def to_json(self) -> dict:
        return {"index": self.index, "position": self.position, "call": self.call.to_json(),
                "reduction": self.reduction}

    @classmethod
    def from_json(cls, data: dict) -> KeptCall:
        call = data["call"]
        return cls(index=data["index"], position=data["position"],
                   call=ToolCall(call["tool"], call["input"], call.get("result")), reduction=data["reduction"])


def weighted_losses(model, sequences: Sequence[list[int]], weights: Sequence[Sequence[float]], *, pad_id: int,
                    batch_size: int = 96) -> list[float]:
    """For each sequence, the loss of its last `len(weights[i])` tokens, weighted by `weights[i]`.

    Sequences are batched by length, padded on the left (rotary positions make the shift harmless) and only the
    last logits are computed.
    """
    results = [0.0] * len(sequences)
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    for first in range(0, len(order), batch_size):
        rows = order[first:first + batch_size]
        width = max(len(sequences[i]) for i in rows)
        inputs = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for row, index in enumerate(rows):
            sequence = sequences[index]
            inputs[row, width - len(sequence):] = torch.tensor(sequence)
            mask[row, width - len(sequence):] = 1
        span = max(len(weights[i]) for i in rows)
        with torch.inference_mode():
            logits = model(input_ids=inputs, attention_mask=mask, logits_to_keep=span + 1).logits.float()
        log_probs = torch.log_softmax(logits[:, :-1], dim=-1)  # predictions of the last `span` tokens
        targets = inputs[:, -span:]
        picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (rows, span)
        for row, index in enumerate(rows):
            row_weights = torch.tensor(weights[index], dtype=picked.dtype)
            results[index] = -float((picked[row, span - len(row_weights):] * row_weights).sum())
    return results


@dataclass
class Trial:
    """One candidate position: the text before it, the tokens of the plain document up to the end of the
    window, the window (the tokens the loss is measured on) and their weights."""

    candidate: Candidate
    calls: list[ToolCall]
    before: str
    separator: str
    plain: list[int]
    lead: list[int]
    window: list[int]
    weights: list[float]


def prepare_trial(tokenizer, example: Example, candidate: Candidate) -> Trial | None:
    toolbox = ToolBox(date.fromisoformat(example.today) if example.today else None)
    executed = [ToolCall(c.tool, c.input, toolbox.run(c.tool, c.input)) for c in candidate.calls]
    executed = [c for c in executed if c.result is not None]
    text = example.text
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoding["input_ids"]
    index = next((i for i, (begin, _) in enumerate(encoding["offset_mapping"]) if begin >= candidate.position),
                 len(ids))
    blank = [not tokenizer.decode(token).strip() for token in ids]
    lead_start = index
    while index < len(ids) and blank[index]:
        index += 1  # a bare space before a number tells nothing: the window starts at the number
    end, counted = index, 0
    while end < len(ids) and counted < WINDOW:
        counted += not blank[end]
        end += 1
    window = ids[index:end]
    if not executed or not window:
        return None
    before, after = text[:candidate.position], text[candidate.position:]
    if before and not before.endswith((" ", "\n")):
        before += " "
    separator = "" if after.startswith((" ", "\n")) else " "
    return Trial(candidate=candidate, calls=executed, before=before, separator=separator,
                  plain=[tokenizer.eos_token_id] + ids[:end], lead=ids[lead_start:index], window=window,
                  weights=window_weights([not flag for flag in blank[index:end]]))


def _with_call(tokenizer, trial: Trial, call: ToolCall, *, with_result: bool) -> list[int]:
    """The document with `call` written in at the position (as `merge.insert_call` does), up to the window."""
    head = trial.before + call.format(with_result=with_result) + (trial.separator if not trial.lead else "")
    ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    return [tokenizer.eos_token_id] + ids + trial.lead + trial.window


def filter_candidates(model, tokenizer, examples: Sequence[Example], candidates: Sequence[Candidate], *,
                      tau_f: dict[str, float] | None = None, log: Callable[[str], None] = print) -> list[KeptCall]:
    """Execute the candidates and keep the calls that pass the loss criterion (best one per position)."""
    thresholds = tau_f or {}
    pad = tokenizer.pad_token_id
    trials = [t for t in (prepare_trial(tokenizer, examples[c.index], c) for c in candidates) if t is not None]
    sequences, weights = [], []
    for trial in trials:
        sequences.append(trial.plain)
        sequences += [_with_call(tokenizer, trial, call, with_result=True) for call in trial.calls]
        weights += [trial.weights] * (1 + len(trial.calls))
    log(f"filtering {len(trials)} positions: {len(sequences)} sequences")
    losses = weighted_losses(model, sequences, weights, pad_id=pad)
    passing: list[tuple[Trial, ToolCall, float, float]] = []  # trial, call, L(nothing), L(call with result)
    offset = 0
    for trial in trials:
        baseline = losses[offset]
        for call, loss in zip(trial.calls, losses[offset + 1: offset + 1 + len(trial.calls)]):
            if baseline - loss >= thresholds.get(call.tool, TAU_F):
                passing.append((trial, call, baseline, loss))
        offset += 1 + len(trial.calls)
    empty = weighted_losses(model, [_with_call(tokenizer, t, c, with_result=False) for t, c, _, _ in passing],
                            [t.weights for t, _, _, _ in passing], pad_id=pad)
    best: dict[int, KeptCall] = {}
    for (trial, call, baseline, loss), empty_loss in zip(passing, empty):
        reduction = min(baseline, empty_loss) - loss
        key = id(trial)
        if reduction >= thresholds.get(call.tool, TAU_F) and (key not in best or
                                                                        reduction > best[key].reduction):
            best[key] = KeptCall(index=trial.candidate.index, position=trial.candidate.position, call=call,
                                 reduction=round(reduction, 4))
    kept = sorted(best.values(), key=lambda k: (k.index, k.position))
    log(f"kept {len(kept)} calls at {len(trials)} positions")
    return kept
