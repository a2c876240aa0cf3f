"""A byte-level BPE tokenizer trained on the corpus (tokenizers library), wrapped for transformers.

Numbers are split into pairs of digits (`7200` is `72` `00`): few enough kinds of token for a small model to
learn to copy them, short enough to copy quickly. Brackets, parentheses and the arrow `→` are tokens of their
own. An opening bracket keeps the space before it (` [` is one token, as in GPT-2's vocabulary), so a call's
` [` competes directly with the next word (` Thursday`) or the space before a number at the same position. The
brackets, the arrow and the tool names are added tokens, whole whatever the corpus holds. Encoding starts with
`<|endoftext|>`, the separator that precedes every training document.

Month and weekday names are split off whole, without the space before them (` January` is ` ` `January`): a date
copied from a question (` January 4`) into a Calendar argument (`Calendar(January 4`) is then the same
tokens. Learned with the space, the name would be one token in the question and rare pieces (`J` `an` `uary`)
after the parenthesis, and the model mis-copied months there (`January 4` -> `November 4`).
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from studio.assistant.calendar import MONTHS, WEEKDAYS
from studio.assistant.tools import TOOL_NAMES

END = "<|endoftext|>"
PAD = "<|pad|>"
NAMES = r"(?<![A-Za-z])(?:" + "|".join(MONTHS + WEEKDAYS) + r")(?![A-Za-z])"
ISOLATED = NAMES + r"|\d{1,2}| ?\[|[\]()→]"


def train_tokenizer(texts: Iterable[str], *, vocab_size: int = 3072) -> PreTrainedTokenizerFast:
    """Train the tokenizer on `texts` (deterministic for the same texts and size)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(ISOLATED), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[END, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_tokens([AddedToken(text, normalized=False) for text in (" [", "[", "→", *TOOL_NAMES)])
    end_id = tokenizer.token_to_id(END)
    tokenizer.post_processor = processors.TemplateProcessing(single=f"{END} $A", pair=f"{END} $A $B",
                                                             special_tokens=[(END, end_id)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=END, eos_token=END, pad_token=PAD)
