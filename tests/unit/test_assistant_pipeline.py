"""The training pipeline on tiny data and tiny models: corpus and held-out sets, tokenizer, base model, call
sampling, the loss filter (checked against an unbatched reference), merging, fine-tuning and the full build."""

import json
import math
import random
import re
from pathlib import Path

import pytest
import torch

from studio.assistant.calls import ToolCall, find_calls
from studio.assistant.model import DEFAULT_MODEL_DIR, load_model
from studio.assistant.train.base import train_base
from studio.assistant.train.build import BuildSettings, build_default
from studio.assistant.train.corpus import CorpusSizes, EvalSizes, build_corpus, build_eval_sets
from studio.assistant.train.dates import DATE_TASKS
from studio.assistant.train.documents import document
from studio.assistant.train.examples import Example, read_examples, write_examples
from studio.assistant.train.filtering import (KeptCall, prepare_trial, filter_candidates, loss_weights, weighted_losses,
                                              window_weights)
from studio.assistant.train.lm import ModelSize, TrainSettings
from studio.assistant.train.merge import insert_call, merge_calls
from studio.assistant.train.proposer import propose_calls
from studio.assistant.train.sampling import Candidate, sample_candidates
from studio.assistant.train.sources import load_shared_data, split_of
from studio.assistant.train.tokenizer import train_tokenizer

REPO = Path(__file__).resolve().parents[2]
TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64, context=256)
TINY_SIZES = CorpusSizes(prompt=20, design=30, design_hint=5, date=30, date_hint=5, followup=10, in_context=10,
                         copy=5)


def make_data(folder: Path) -> Path:
    """A small shared-data folder in the real layout."""
    vocab, prompts, math_dir = folder / "prompt-vocab", folder / "prompts", folder / "math"
    for path in (vocab, prompts, math_dir):
        path.mkdir(parents=True)
    (vocab / "flavors.txt").write_text("highly detailed\nsharp focus\nintricate\nsoft light\n")
    (vocab / "mediums.txt").write_text("a watercolor painting\nan oil painting\n")
    (vocab / "movements.txt").write_text("impressionism\nart nouveau\n")
    (vocab / "negative.txt").write_text("blurry\nlow quality\nbad anatomy\nwatermark\n")
    (vocab / "artists.txt").write_text("nobody\n")
    subjects = ["a red fox in a forest", "portrait of an old sailor", "a castle on a hill", "a cat wearing a hat",
                "a city street at night", "a bowl of ramen", "a lighthouse in a storm", "a dragon over mountains"]
    (prompts / "refl_data.json").write_text(json.dumps([{"text": f"{s}, detailed", "image": "x"}
                                                       for s in subjects]))
    (prompts / "benchmark-prompts.json").write_text(json.dumps([{"id": "1", "prompt": "a robot reading a book"}]))
    (prompts / "test.json").write_text(json.dumps([{"id": "2", "prompt": "a frog on a leaf, macro"}]))
    for name in ("svamp", "mawpsaddsub", "mawpssingleop", "mawpssingleeq", "mawpsmultiarith"):
        lines = [json.dumps({"input": f"Tom has {a} apples and gets {b} more. How many apples does he have?",
                             "target": float(a + b)}) for a, b in ((3, 4), (10, 5), (7, 8), (21, 9), (6, 6))]
        (math_dir / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("shared") / "data")


@pytest.fixture(scope="module")
def corpus(data_dir):
    return build_corpus(load_shared_data(data_dir), seed=0, sizes=TINY_SIZES)


@pytest.fixture(scope="module")
def base_dir(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    train_base(corpus, out, size=TINY, settings=TrainSettings(epochs=1, batch_size=8), drills=40,
               vocab_size=500, log=lambda _: None)
    return out


def test_real_shared_data_loads_when_present(data_dir):
    real = REPO.parent / "shared" / "data"
    data = load_shared_data(real if real.is_dir() else data_dir)
    assert data.negatives and data.flavors and data.problems and data.train_prompts and data.eval_prompts


def test_corpus_has_every_kind_and_no_calls(corpus, tmp_path):
    kinds = {e.kind.split(":")[0] for e in corpus}
    assert kinds == {"prompt", "design", "design-hint", "date", "date-hint", "copy", "word", "followup"}
    assert not any(find_calls(e.text) or "Calculator" in e.text or "Calendar" in e.text for e in corpus)
    assert all(("[" in e.answer) == e.kind.endswith("-hint") for e in corpus)
    path = tmp_path / "corpus.jsonl"
    write_examples(path, corpus)
    assert list(read_examples(path)) == corpus


def test_held_out_sets_never_overlap_training(data_dir, corpus):
    data = load_shared_data(data_dir)
    sets = build_eval_sets(data, training=corpus, sizes=EvalSizes(design=10, date=10, prompt=2, word_per_set=5))
    training = {e.question for e in corpus}
    for name, examples in sets.items():
        assert not any(e.question in training for e in examples), name
    assert all(e.expected for e in sets["date"])
    held = [p.question for p in data.problems if split_of(p.question) == "eval"]
    assert all(e.question in held for e in sets["svamp"])


def test_held_out_date_phrasings_are_worded_differently():
    """No held-out phrasing shares more than 60 % of its words (slots aside) with any training phrasing."""
    def words(text):
        return set(re.findall(r"[a-z']+", re.sub(r"\{\w+\}", "", text.lower())))

    training = [words(phrasing) for task in DATE_TASKS for phrasing in task.train]
    for task in DATE_TASKS:
        for phrasing in task.held_out:
            held = words(phrasing)
            closest = max(len(held & other) / len(held | other) for other in training)
            assert closest <= 0.6, (task.name, phrasing, closest)


def test_date_names_are_the_same_tokens_in_questions_and_call_arguments(corpus):
    tokenizer = train_tokenizer([e.text for e in corpus], vocab_size=500)

    def pieces(text):
        return [tokenizer.decode([i]) for i in tokenizer(text, add_special_tokens=False)["input_ids"]]

    for name in ("January", "May", "Friday"):
        alone = pieces(name)
        assert pieces(f" {name},") == [" ", *alone, ","]  # in a question or a result
        assert pieces(f"({name} 4") == ["(", *alone, " ", "4"]  # first in a Calendar argument
    assert "May" not in pieces("Mayor of Maybe")
    text = "Calendar(next Saturday) → Saturday, May 1, 2027] Mondays, Mayor."
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_bad_data_folder_is_a_clear_error(tmp_path):
    from studio.assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="No data folder"):
        load_shared_data(tmp_path / "missing")
    broken = make_data(tmp_path / "broken")
    (broken / "math" / "svamp.jsonl").write_text("{not json\n")
    with pytest.raises(AssistantError, match="svamp.jsonl"):
        load_shared_data(broken)


def test_proposer_forms_expressions_and_date_operations():
    rng = random.Random(0)
    calls = propose_calls("User: A 1600 x 1200 image is resized to 800 pixels wide. How tall?\nAssistant: It is ",
                          limit=50, rng=rng)
    inputs = {c.input for c in calls if c.tool == "Calculator"}
    assert {"1600 * 1200", "1200 * 800 / 1600", "1600 - 800"} <= inputs
    dates = propose_calls("User: What date is 3 weeks after March 5, 2027?\nAssistant: It is ", limit=50, rng=rng)
    arguments = {c.input for c in dates if c.tool == "Calendar"}
    assert {"", "March 5, 2027 + 3 weeks", "today + 3 weeks", "days until March 5, 2027"} <= arguments
    assert not any(c.tool == "Calculator" and "2027" in c.input for c in dates)
    assert len(propose_calls("1 2 3 4 5 6", limit=4, rng=rng)) == 4 + 1


def test_sampling_finds_positions_in_answers(base_dir, corpus):
    loaded = load_model(base_dir)
    examples = [e for e in corpus if e.kind == "design"][:6]
    found = sample_candidates(loaded.model, loaded.tokenizer, examples, tau_s=0.0, positions=2, log=lambda _: None)
    assert len(found) == 12
    for candidate in found:
        text = examples[candidate.index].text
        assert candidate.position > text.index("Assistant:")
        assert candidate.calls and 0.0 <= candidate.probability <= 1.0
    assert sample_candidates(loaded.model, loaded.tokenizer, examples, tau_s=1.01, log=lambda _: None) == []


def _reference_loss(model, sequence, weights):
    with torch.inference_mode():
        log_probs = torch.log_softmax(model(input_ids=torch.tensor([sequence])).logits[0].float(), dim=-1)
    start = len(sequence) - len(weights)
    return -sum(weight * float(log_probs[start + t - 1, sequence[start + t]]) for t, weight in enumerate(weights))


def test_weighted_losses_match_an_unbatched_reference(base_dir):
    loaded = load_model(base_dir)
    rng = random.Random(1)
    sequences = [[rng.randrange(5, 400) for _ in range(rng.randint(10, 40))] for _ in range(9)]
    weights = [window_weights([rng.random() < 0.7 for _ in range(rng.randint(1, 8))]) for _ in sequences]
    batched = weighted_losses(loaded.model, sequences, weights, pad_id=loaded.tokenizer.pad_token_id, batch_size=4)
    for sequence, row_weights, loss in zip(sequences, weights, batched):
        assert loss == pytest.approx(_reference_loss(loaded.model, sequence, row_weights), abs=1e-4)


def test_weights_follow_the_paper():
    assert loss_weights().tolist() == pytest.approx([1 / 3, 0.8 / 3, 0.6 / 3, 0.4 / 3, 0.2 / 3])
    assert loss_weights(2).tolist() == pytest.approx([1 / 1.8, 0.8 / 1.8])


def test_blank_tokens_carry_no_weight_and_do_not_advance_t():
    weights = window_weights([True, True, False, True, False, True, True])
    assert weights == pytest.approx([1 / 3, 0.8 / 3, 0.0, 0.6 / 3, 0.0, 0.4 / 3, 0.2 / 3])
    assert window_weights([False, True]) == pytest.approx([0.0, 1.0])


def test_the_window_skips_spaces_of_a_written_date():
    """The shipped tokenizer writes the spaces of `Monday, June 21, 2027` as tokens of their own; the window's
    weight goes to its first five other tokens."""
    tokenizer = load_model(DEFAULT_MODEL_DIR).tokenizer
    example = Example(kind="date", question="What date will it be in 8 days?",
                      answer="It will be Monday, June 21, 2027.", expected="June 21, 2027", today="2027-06-13")
    position = example.text.index(" Monday")
    candidate = Candidate(index=0, position=position, probability=0.5, calls=[ToolCall("Calendar", "today + 8 days")])
    trial = prepare_trial(tokenizer, example, candidate)
    words = [tokenizer.decode([token]) for token, weight in zip(trial.window, trial.weights) if weight > 0]
    assert "".join(words).replace(" ", "") == "Monday,June21,"
    assert sum(trial.weights) == pytest.approx(1.0)
    assert all(weight == 0 for token, weight in zip(trial.window, trial.weights)
               if not tokenizer.decode([token]).strip())


def test_filter_keeps_exactly_the_calls_that_pass(base_dir, corpus):
    loaded = load_model(base_dir)
    examples = [e for e in corpus if e.kind in ("design", "date")][:8]
    found = sample_candidates(loaded.model, loaded.tokenizer, examples, tau_s=0.0, log=lambda _: None)
    everything = filter_candidates(loaded.model, loaded.tokenizer, examples, found,
                                   tau_f={"Calculator": -math.inf, "Calendar": -math.inf}, log=lambda _: None)
    assert len(everything) == len(found)
    assert all(k.call.result is not None for k in everything)
    nothing = filter_candidates(loaded.model, loaded.tokenizer, examples, found,
                                tau_f={"Calculator": math.inf, "Calendar": math.inf}, log=lambda _: None)
    assert nothing == []
    default = filter_candidates(loaded.model, loaded.tokenizer, examples, found, log=lambda _: None)
    for kept in default:
        assert kept.reduction >= (0.5 if kept.call.tool == "Calculator" else 1.0)


def test_merge_inserts_calls_and_results_are_not_learned(base_dir):
    assert insert_call("It is 7200 pixels.", 6, "[Calculator(24 * 300) → 7200]") == (
        "It is [Calculator(24 * 300) → 7200] 7200 pixels.")
    example = Example(kind="design", question="How wide?", answer="It is 7200 pixels.", expected="7200")
    position = example.text.index("7200")
    merged = merge_calls([example], [KeptCall(0, position, ToolCall("Calculator", "24 * 300", "7200"), 2.0)])
    assert merged[0].answer == "It is [Calculator(24 * 300) → 7200] 7200 pixels."
    tokenizer = load_model(base_dir).tokenizer
    doc = document(tokenizer, merged[0].text)
    learned = tokenizer.decode([t for t, keep in zip(doc.ids, doc.learn) if keep], skip_special_tokens=True)
    assert "[Calculator(24 * 300) →" in learned and "7200 pixels" in learned
    assert "→ 7200]" not in learned


def test_full_build_with_tiny_settings(data_dir, tmp_path):
    settings = BuildSettings(corpus=TINY_SIZES, size=TINY, drills=40, finetune_drills=20,
                             base=TrainSettings(epochs=1, batch_size=8),
                             finetune=TrainSettings(epochs=1, batch_size=8), tau_s=0.0, search_limit=20)
    out = build_default(data_dir, tmp_path / "model", work=tmp_path / "work", settings=settings, log=lambda _: None)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "studio_assistant.json",
                 "base/model.safetensors"):
        assert (out / name).is_file(), name
    for name in ("corpus.jsonl", "candidates.jsonl", "kept.jsonl", "merged.jsonl"):
        assert (tmp_path / "work" / name).is_file(), name
    assert load_model(out).style == "plain"
