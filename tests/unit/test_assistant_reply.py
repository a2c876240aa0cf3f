"""Reply fields: Prompt / Negative prompt / Size parsed beside the visible answer."""

from studio.assistant.calls import ToolCall
from studio.assistant.reply import PromptFields, Reply, parse_fields, snap_side


def test_fields_are_parsed_and_sizes_are_multiples_of_eight():
    text = "Prompt: a red fox in a forest, watercolor\nNegative prompt: blurry, low quality\nSize: 770 x 1020"
    assert parse_fields(text) == PromptFields("a red fox in a forest, watercolor", "blurry, low quality", 768, 1024)


def test_fields_without_size_or_negative():
    assert parse_fields("Prompt: a cat") == PromptFields("a cat", "", None, None)
    assert parse_fields("Size: 512 × 512\nprompt:  a dog ") == PromptFields("a dog", "", 512, 512)


def test_no_prompt_line_means_no_fields():
    assert parse_fields("It is 7200 pixels wide.") is None
    assert parse_fields("Prompt:   \nSize: 512 x 512") is None


def test_snap_side_keeps_sane_limits():
    assert snap_side(3) == 64
    assert snap_side(99999) == 4096
    assert snap_side(516) == 520


def test_reply_json_has_the_batch_schema():
    reply = Reply(raw="Prompt: a fox, [Calculator(2 * 256) → 512] 512 px\nSize: 512 x 512",
                  calls=[ToolCall("Calculator", "2 * 256", "512")])
    data = reply.to_json(reply_id=7)
    assert data["id"] == 7
    assert data["answer"] == "Prompt: a fox, 512 px\nSize: 512 x 512"
    assert data["calls"] == [{"tool": "Calculator", "input": "2 * 256", "result": "512"}]
    assert data["fields"] == {"prompt": "a fox, 512 px", "negative": "", "width": 512, "height": 512}
    assert Reply(raw="hello").to_json()["fields"] == {"prompt": None, "negative": None, "width": None,
                                                     "height": None}
