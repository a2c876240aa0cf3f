"""Decoding with tools, on a tiny model that the test trains to memorise scripted replies (a real model, no
mocks): calls run when the arrow is written, results are inserted, limits hold, bad calls end up as notes."""

import threading
from datetime import date

import pytest
import torch

from studio.assistant.assistant import Assistant
from studio.assistant.calls import render_visible
from studio.assistant.model import load_model, save_model
from studio.assistant.prompting import as_messages, format_document, trailing_user_turns
from studio.assistant.train.documents import document
from studio.assistant.train.lm import ModelSize, TrainSettings, new_model, train
from studio.assistant.train.tokenizer import train_tokenizer

SCRIPTS = {
    "one": "It is [Calculator(12 * 4) → 48] 48 px.",
    "wrong": "Sum [Calculator(2 + 2) → 5] 4 ok.",
    "unknown": "Odd [Foo(1) → 2] done.",
    "power": "Big [Calculator(9**9**9) → 1] done.",
    "open": "Open [Calculator(1 + 2",
    "noarrow": "Bad [Calculator 1 + 2] done.",
    "many": "Many [Calculator(1 + 1) → 2] 2 [Calculator(2 + 2) → 4] 4 [Calculator(3 + 3) → 6] 6 "
            "[Calculator(4 + 4) → 8] 8 end.",
    "date": "Day [Calendar() → x] ok.",
    "prompt": "Prompt: a red fox, watercolor\nNegative prompt: blurry\nSize: 510 x 770",
    "fieldcall": "Prompt: a fox [Calculator(1 + 1) → 2] 2 foxes\nSize: 512 x 512",
    "loop": "Prompt: red fox, red fox, red fox, red fox, red fox\nSize: 512 x 512",
    "semi": "Prompt: a cat; Size: 512 x 512.",
    "dupe": "Prompt: a cat\nNegative prompt: poorly drawn, poorly drawn, bad art, poorly drawn face\nSize: 512 x 512",
    "restate": "Size [Calculator(1000 + 234) → 1234] 12 [Calculator(1 + 1) → 2] 34 px.",
    "midway": "Day [Calendar() → Today is Thursday, November 26, 2026.] Thursday, [Calculator(1 + 1) → 2] 2 ok.",
    "long": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",
}
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    torch.manual_seed(0)
    texts = [format_document(q, a) for q, a in SCRIPTS.items()]
    tokenizer = train_tokenizer(texts * 4, vocab_size=400)
    model = new_model(tokenizer, ModelSize(hidden=64, layers=2, heads=2, intermediate=128, context=256))
    documents = [document(tokenizer, text, mask_results=False) for text in texts]
    train(model, documents * 8, pad_id=tokenizer.pad_token_id, log=lambda _: None,
          settings=TrainSettings(epochs=60, batch_size=8, block=64, learning_rate=1e-2, warmup=10))
    folder = tmp_path_factory.mktemp("memorised")
    save_model(model, tokenizer, folder)
    return Assistant.load(folder)


def reply(assistant, question, **options):
    options.setdefault("top_k", 1)
    options.setdefault("today", TODAY)
    return assistant.generate_reply(question, **options)


def test_the_model_memorised_its_scripts(assistant):
    assert reply(assistant, "prompt", tools=False).raw.strip() == SCRIPTS["prompt"]
    assert reply(assistant, "long", tools=False).raw.strip() == SCRIPTS["long"]


def test_a_call_runs_when_the_arrow_is_written(assistant):
    result = reply(assistant, "one")
    assert result.raw.strip() == SCRIPTS["one"]
    assert [(c.tool, c.input, c.result) for c in result.calls] == [("Calculator", "12 * 4", "48")]
    assert result.answer == "It is 48 px."
    assert result.notes == []


def test_the_tool_result_replaces_what_the_model_would_write(assistant):
    result = reply(assistant, "wrong")
    assert "[Calculator(2 + 2) → 4]" in result.raw
    assert result.calls[0].result == "4"


def test_calendar_uses_the_fixed_date(assistant):
    result = reply(assistant, "date")
    assert "[Calendar() → Today is Thursday, November 26, 2026.]" in result.raw


@pytest.mark.parametrize("question, note", [
    ("unknown", "There is no tool called Foo."),
    ("power", "Calculator(9**9**9) gave no result."),
    ("open", "A tool call was never closed."),
    ("noarrow", "has no arrow; it was not run."),
])
def test_bad_calls_become_notes(assistant, question, note):
    result = reply(assistant, question)
    assert any(note in n for n in result.notes), result.notes
    assert "[" not in result.answer.replace("[Calculator 1 + 2]", "")


def test_a_tool_without_result_inserts_only_the_bracket(assistant):
    result = reply(assistant, "power")
    assert "[Calculator(9**9**9) →]" in result.raw
    assert result.calls[0].result is None


def test_calls_per_reply_are_limited(assistant):
    result = reply(assistant, "many", max_calls=3)
    assert len(result.calls) == 3
    assert result.raw.count("[") == 3
    assert len(reply(assistant, "many", max_calls=10).calls) >= 4


def test_no_call_while_a_result_is_written_out_again(assistant):
    result = reply(assistant, "restate")  # memorised: "→ 1234] 12 [Calculator(1 + 1) ..."
    assert result.calls[0].input == "1000 + 234" and "→ 1234] 12" in result.raw
    assert "→ 1234] 12 [" not in result.raw, result.raw


def test_no_call_while_later_words_of_a_result_are_written_out(assistant):
    result = reply(assistant, "midway")  # memorised: "→ Today is Thursday, ...] Thursday, [Calculator(1 + 1) ..."
    assert result.calls[0].result == "Today is Thursday, November 26, 2026."
    assert "] Thursday," in result.raw and "] Thursday, [" not in result.raw, result.raw


def test_tools_disabled_never_starts_a_call(assistant):
    for question in SCRIPTS:
        result = reply(assistant, question, tools=False, top_k=1000)
        assert "[" not in result.raw
        assert result.calls == []


def test_a_bracket_in_the_top_k_starts_a_call_after_the_first_token(assistant):
    result = reply(assistant, "long", top_k=len(assistant.tokenizer), max_calls=1, max_new_tokens=30)
    first = reply(assistant, "long", tools=False, max_new_tokens=1).raw
    assert first.strip() and "[" not in first
    assert result.raw.startswith(first) and result.raw[len(first):].lstrip().startswith("["), result.raw


def test_token_limit(assistant):
    result = reply(assistant, "long", max_new_tokens=5)
    assert result.finish == "length"
    assert len(assistant.tokenizer(result.raw, add_special_tokens=False)["input_ids"]) <= 6


def test_streaming_pieces_add_up_to_the_reply(assistant):
    pieces = []
    result = reply(assistant, "one", on_token=pieces.append)
    assert len(pieces) > 3
    assert "".join(p.raw for p in pieces) == result.raw
    assert "".join(p.visible for p in pieces) == render_visible(result.raw)
    assert all("[" not in p.visible for p in pieces)


def test_stop_event_ends_the_reply(assistant):
    stop = threading.Event()
    pieces = []

    def on_token(piece):
        pieces.append(piece)
        if len(pieces) == 2:
            stop.set()

    result = reply(assistant, "long", on_token=on_token, stop=stop)
    assert result.finish == "stopped"
    assert len(result.raw.split()) < len(SCRIPTS["long"].split())
    stop.set()
    assert reply(assistant, "long", stop=stop).raw == ""


def test_no_call_starts_inside_a_prompt_field(assistant):
    result = reply(assistant, "fieldcall")
    assert result.calls == [] and "[" not in result.raw
    assert result.raw.strip().startswith("Prompt: a fox")


def test_prompt_lines_never_write_a_token_4gram_twice(assistant):
    result = reply(assistant, "loop", tools=False)
    line = result.raw.strip().splitlines()[0]
    assert line.startswith("Prompt: red fox") and line != SCRIPTS["loop"].splitlines()[0]
    ids = assistant.tokenizer(line, add_special_tokens=False)["input_ids"]
    grams = [tuple(ids[i:i + 4]) for i in range(len(ids) - 3)]
    assert len(grams) == len(set(grams))


def test_prompt_lines_never_close_a_part_twice(assistant):
    result = reply(assistant, "dupe", tools=False)
    negative = result.raw.strip().splitlines()[1]
    assert negative.startswith("Negative prompt: poorly drawn") and negative != SCRIPTS["dupe"].splitlines()[1]
    parts = [" ".join(part.split()) for part in negative[len("Negative prompt:"):].split(",")]
    assert len(parts) == len(set(parts)) > 1


def test_prompt_lines_never_take_a_semicolon(assistant):
    result = reply(assistant, "semi", tools=False)
    assert result.raw.strip().startswith("Prompt: a cat") and ";" not in result.raw


def test_fields_are_parsed_from_the_reply(assistant):
    fields = reply(assistant, "prompt").fields
    assert (fields.prompt, fields.negative, fields.width, fields.height) == (
        "a red fox, watercolor", "blurry", 512, 768)


@pytest.mark.parametrize("message", ["", "   ", [], [{"role": "user", "content": ""}]])
def test_empty_messages_are_answered_with_a_note(assistant, message):
    result = assistant.generate_reply(message)
    assert result.raw == "" and result.notes


def test_a_very_long_message_is_cut_with_a_note(assistant):
    result = reply(assistant, "word " * 5000, max_new_tokens=4)
    assert any("too long" in note for note in result.notes)


def test_conversations_keep_the_last_turns_that_fit(assistant):
    history = [{"role": "user", "content": "long " * 300}, {"role": "user", "content": "one"}]
    result = reply(assistant, history)
    assert result.raw.strip() == SCRIPTS["one"]
    assert result.notes == ["Only the last 1 messages were read."]


def test_own_models_read_only_the_user_turns_after_the_last_reply(assistant):
    history = [{"role": "user", "content": "date"}, {"role": "assistant", "content": "Day x ok."},
               {"role": "user", "content": "settings"}, {"role": "user", "content": "one"}]
    prompt = assistant.tokenizer.decode(assistant.prompt_ids(
        trailing_user_turns(as_messages(history)), budget=200)[0], skip_special_tokens=True)
    assert prompt == "User: settings\nUser: one\nAssistant:"
    assert reply(assistant, history[:2] + history[3:]).raw.strip() == SCRIPTS["one"]


def test_a_generic_model_folder_gets_the_few_shot_style(tmp_path, assistant):
    loaded = assistant.loaded
    save_model(loaded.model, loaded.tokenizer, tmp_path)
    (tmp_path / "studio_assistant.json").unlink()
    other = load_model(tmp_path)
    assert other.style == "few-shot"
    result = Assistant(other).generate_reply("one", max_new_tokens=5, today=TODAY)
    assert result.finish in ("length", "end")
