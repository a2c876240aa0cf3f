"""Step (d): run the candidate calls and keep those that make the following tokens easier to predict.

The weighted loss over the tokens from the call's position i on is L(z) = -sum_t w_t log p(x_{i+t} | ...) with
w_t proportional to max(0, 1 - 0.2 t) (normalised to sum 1), where the call z is written into the text at i,
exactly as it will be in the fine-tuning data. (The paper gives z as a prefix of the document instead, because
its model had never seen calls in the middle of text; our base corpus shows bracketed working in answers, so
the call can sit where it will be used.) A call c with result r is kept when
min(L(nothing), L(c without result)) - L(c with result) >= tau_f (1.0; 0.5 for the Calculator); at most the best
call per position is kept.
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

TAU_F = {"Calculator": 0.5}
DEFAULT_TAU_F = 1.0
WINDOW = 5


def loss_weights(count: int = WINDOW) -> torch.Tensor:
    """w_t = max(0, 1 - 0.2 t) for the first `count` tokens, normalised to sum 1 (a document may end before
    the paper's five tokens with weight)."""
    raw = torch.tensor([max(0.0, 1.0 - 0.2 * t) for t in range(count)])
    return raw / raw.sum()


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


def weighted_losses(model, sequences: Sequence[list[int]], windows: Sequence[int], *, pad_id: int,
                    batch_size: int = 96) -> list[float]:
    """For each sequence, the weighted loss of its last `window` tokens (at most WINDOW).

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
        with torch.inference_mode():
            logits = model(input_ids=inputs, attention_mask=mask, logits_to_keep=WINDOW + 1).logits.float()
        log_probs = torch.log_softmax(logits[:, :-1], dim=-1)  # predictions of the last WINDOW tokens
        targets = inputs[:, -WINDOW:]
        picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (rows, WINDOW)
        for row, index in enumerate(rows):
            count = windows[index]
            results[index] = -float((picked[row, WINDOW - count:] * loss_weights(count)).sum())
    return results


@dataclass
class _Trial:
    """One candidate position: the text before it, the tokens of the plain document up to the end of the
    window, and the window (the tokens the loss is measured on)."""

    candidate: Candidate
    calls: list[ToolCall]
    before: str
    separator: str
    plain: list[int]
    lead: list[int]
    window: list[int]


def _prepare(tokenizer, example: Example, candidate: Candidate) -> _Trial | None:
    toolbox = ToolBox(date.fromisoformat(example.today) if example.today else None)
    executed = [ToolCall(c.tool, c.input, toolbox.run(c.tool, c.input)) for c in candidate.calls]
    executed = [c for c in executed if c.result is not None]
    text = example.text
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoding["input_ids"]
    index = next((i for i, (begin, _) in enumerate(encoding["offset_mapping"]) if begin >= candidate.position),
                 len(ids))
    lead_start = index
    while index < len(ids) and not tokenizer.decode(ids[index]).strip():
        index += 1  # a bare space before a number tells nothing: the window starts at the number
    window = ids[index: index + WINDOW]
    if not executed or not window:
        return None
    before, after = text[:candidate.position], text[candidate.position:]
    if before and not before.endswith((" ", "\n")):
        before += " "
    separator = "" if after.startswith((" ", "\n")) else " "
    return _Trial(candidate=candidate, calls=executed, before=before, separator=separator,
                  plain=[tokenizer.eos_token_id] + ids[: index + WINDOW], lead=ids[lead_start:index],
                  window=window)


def _with_call(tokenizer, trial: _Trial, call: ToolCall, *, with_result: bool) -> list[int]:
    """The document with `call` written in at the position (as `merge.insert_call` does), up to the window."""
    head = trial.before + call.format(with_result=with_result) + (trial.separator if not trial.lead else "")
    ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    return [tokenizer.eos_token_id] + ids + trial.lead + trial.window


def filter_candidates(model, tokenizer, examples: Sequence[Example], candidates: Sequence[Candidate], *,
                      tau_f: dict[str, float] | None = None, log: Callable[[str], None] = print) -> list[KeptCall]:
    """Execute the candidates and keep the calls that pass the loss criterion (best one per position)."""
    thresholds = {**TAU_F, **(tau_f or {})}
    pad = tokenizer.pad_token_id
    trials = [t for t in (_prepare(tokenizer, examples[c.index], c) for c in candidates) if t is not None]
    sequences, windows = [], []
    for trial in trials:
        sequences.append(trial.plain)
        sequences += [_with_call(tokenizer, trial, call, with_result=True) for call in trial.calls]
        windows += [len(trial.window)] * (1 + len(trial.calls))
    log(f"filtering {len(trials)} positions: {len(sequences)} sequences")
    losses = weighted_losses(model, sequences, windows, pad_id=pad)
    passing: list[tuple[_Trial, ToolCall, float, float]] = []  # trial, call, L(nothing), L(call with result)
    offset = 0
    for trial in trials:
        baseline = losses[offset]
        for call, loss in zip(trial.calls, losses[offset + 1: offset + 1 + len(trial.calls)]):
            if baseline - loss >= thresholds.get(call.tool, DEFAULT_TAU_F):
                passing.append((trial, call, baseline, loss))
        offset += 1 + len(trial.calls)
    empty = weighted_losses(model, [_with_call(tokenizer, t, c, with_result=False) for t, c, _, _ in passing],
                            [len(t.window) for t, _, _, _ in passing], pad_id=pad)
    best: dict[int, KeptCall] = {}
    for (trial, call, baseline, loss), empty_loss in zip(passing, empty):
        reduction = min(baseline, empty_loss) - loss
        key = id(trial)
        if reduction >= thresholds.get(call.tool, DEFAULT_TAU_F) and (key not in best or
                                                                        reduction > best[key].reduction):
            best[key] = KeptCall(index=trial.candidate.index, position=trial.candidate.position, call=call,
                                 reduction=round(reduction, 4))
    kept = sorted(best.values(), key=lambda k: (k.index, k.position))
    log(f"kept {len(kept)} calls at {len(trials)} positions")
    return kept
