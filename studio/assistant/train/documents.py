"""Turning texts into training documents: `<|endoftext|>` + tokens + `<|endoftext|>`, with a learn mask.

Tool results (the text after a call's arrow, up to and including its `]`) are not learned: at run time the
runtime writes them, so the model only learns to start calls, write their arguments, and use the results.
"""

from __future__ import annotations

from studio.assistant.calls import find_calls
from studio.assistant.prompting import ASSISTANT
from studio.assistant.train.lm import Document


def document(tokenizer, text: str, *, mask_results: bool = True, answer_only: bool = False) -> Document:
    """The training document for `text`; with `answer_only`, only the text after `Assistant:` is learned."""
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoding["input_ids"]
    hidden: list[tuple[int, int]] = []
    if mask_results:
        for span in find_calls(text):
            body = text[span.start:span.end]
            arrow = max(body.find("→"), body.find("->"))
            if arrow >= 0:
                hidden.append((span.start + arrow + (1 if body[arrow] == "→" else 2), span.end))
    if answer_only:
        hidden.append((0, text.find(ASSISTANT) + len(ASSISTANT)))
    learn = [not any(start <= begin and end <= stop for start, stop in hidden)
             for begin, end in encoding["offset_mapping"]]
    eos = tokenizer.eos_token_id
    return Document(ids=[eos] + ids + [eos], learn=[False] + learn + [True])
