"""Follow-up requests about the current settings: each edit changes what it names and keeps the rest, the
question reads exactly as the chat panel asks it, and the evaluation compares all three fields."""

import random

import pytest

from studio.assistant.prompting import Message, build_prompt, settings_line
from studio.assistant.reply import Reply, parse_fields
from studio.assistant.train.evaluate import conversation_of, is_correct
from studio.assistant.train.examples import Example
from studio.assistant.train.followups import EDITS, followup_example, in_context
from studio.assistant.train.sources import SharedData

DATA = SharedData(flavors=["soft light", "highly detailed", "sharp focus"], mediums=["a watercolor painting"],
                  movements=["art nouveau"], negatives=["blurry", "low quality", "watermark"],
                  train_prompts=[], eval_prompts=[], problems=[])
SETTINGS = Example(kind="prompt", question="a poster of a red fox, watercolor",
                   answer="Prompt: a poster of a red fox, watercolor, soft light\nNegative prompt: blurry\n"
                          "Size: 768 x 1024")


def fields(example):
    return parse_fields(example.answer)


def test_every_edit_keeps_what_it_does_not_change():
    rng = random.Random(0)
    seen = set()
    for _ in range(300):
        example = followup_example(rng, SETTINGS, DATA)
        request = example.question.split("\nUser: ")[1]
        got = fields(example)
        seen.add(request)
        assert got.width % 8 == 0 and got.height % 8 == 0
        if "wider" in request or "landscape" in request:
            assert (got.width, got.height) == (1024, 768)  # a portrait turned on its side
        if "taller" in request or "portrait" in request:
            pytest.fail("a portrait cannot be made taller by these edits")
        if "square" in request or "1:1" in request:
            assert (got.width, got.height) == (1024, 1024)
        if request.startswith(("avoid", "I don't want", "make sure")):
            assert got.negative.startswith("blurry, ") and got.prompt == "a poster of a red fox, watercolor, soft light"
        if request.startswith(("remove", "drop", "take out", "without", "no ")):
            assert got.prompt in ("a poster of a red fox, soft light", "a poster of a red fox, watercolor")
        if request.startswith(("make it a", "make it an", "turn it into a", "now as", "I need it as")):
            assert got.prompt.endswith(" of a red fox, watercolor, soft light") and got.negative == "blurry"
    assert len(seen) > 30


def test_the_question_is_what_the_chat_panel_sends():
    example = followup_example(random.Random(1), SETTINGS, DATA)
    line = settings_line("a poster of a red fox, watercolor, soft light", "blurry", 768, 1024)
    messages = conversation_of(example.question)
    assert messages[0] == Message("user", line) and len(messages) == 2
    assert example.text == build_prompt(messages) + " " + example.answer


def test_other_requests_after_the_settings_keep_their_answer():
    date = Example(kind="date", question="What day is it today?", answer="Today is Friday.", expected="Friday",
                   today="2026-11-27")
    example = in_context(SETTINGS, date)
    assert example.question.endswith("\nUser: What day is it today?")
    assert (example.kind, example.answer, example.today) == ("date", date.answer, date.today)


@pytest.mark.parametrize("edit", EDITS)
def test_each_edit_applies_to_some_settings(edit):
    sizes = ((512, 768), (768, 512), (512, 512))
    results = [edit(random.Random(seed), ["a red fox", "watercolor", "soft light"], ["blurry"], *size, DATA)
               for seed in range(10) for size in sizes]
    assert any(result is not None for result in results)


def test_followups_are_scored_on_all_three_fields():
    example = followup_example(random.Random(2), SETTINGS, DATA)
    assert is_correct(example, Reply(raw=" " + example.answer))
    changed = example.answer.replace("Negative prompt: ", "Negative prompt: text, ")
    assert not is_correct(example, Reply(raw=" " + changed))
    assert not is_correct(example, Reply(raw=" It is 12."))
