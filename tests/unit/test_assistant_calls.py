"""Call syntax: parsing and formatting both ways, finding calls in text, and what the user sees."""

import pytest
from hypothesis import given, settings, strategies as st

from studio.assistant.calls import (ToolCall, arrow_position, find_calls, parse_call, render_visible,
                                    unclosed_call_start)


def test_parse_the_papers_form_and_the_ascii_arrow():
    assert parse_call("[Calculator(1080 * 5 / 4) → 1350]") == ToolCall("Calculator", "1080 * 5 / 4", "1350")
    assert parse_call("[Calculator(1080 * 5 / 4) -> 1350]") == ToolCall("Calculator", "1080 * 5 / 4", "1350")
    assert parse_call("[Calendar() → Today is Thursday, November 26, 2026.]") == ToolCall(
        "Calendar", "", "Today is Thursday, November 26, 2026.")
    assert parse_call("[Calculator((1 + 2) * 3)]") == ToolCall("Calculator", "(1 + 2) * 3", None)
    assert parse_call("[Calculator(1 / 0) →]") == ToolCall("Calculator", "1 / 0", None)


@pytest.mark.parametrize("text", ["[Calculator 1 + 2]", "[note]", "Calculator(1) → 1", "[Calculator(1 + [2]) → 3]",
                                  "[(1) → 1]", "[Calculator(1 → 1]", ""])
def test_malformed_calls_do_not_parse(text):
    assert parse_call(text) is None


def test_format_round_trips():
    call = ToolCall("Calculator", "400 / 1400", "0.29")
    assert call.format() == "[Calculator(400 / 1400) → 0.29]"
    assert parse_call(call.format()) == call
    assert call.format(with_result=False) == "[Calculator(400 / 1400) →]"
    assert parse_call(call.format(with_result=False)) == ToolCall("Calculator", "400 / 1400", None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Calculator", "Calendar", "QA"]),
       st.text(alphabet=st.characters(blacklist_characters="[]→\n", blacklist_categories=("Cs",)), max_size=30)
       .filter(lambda s: "->" not in s and s == s.strip()),
       st.one_of(st.none(), st.text(alphabet="abc 0123456789,.", min_size=1, max_size=20)
                 .map(str.strip).filter(bool)))
def test_any_call_round_trips(tool, argument, result):
    call = ToolCall(tool, argument, result)
    assert parse_call(call.format()) == call


def test_find_calls_skips_plain_brackets_and_nesting():
    text = "a [note] b [Calculator(1 + [2]) → 3] c [Calculator(2 + 2) -> 4] d [Calendar() →"
    spans = find_calls(text)
    assert [s.call for s in spans] == [ToolCall("Calculator", "2 + 2", "4")]
    assert text[spans[0].start:spans[0].end] == "[Calculator(2 + 2) -> 4]"


def test_unclosed_call_and_arrow_detection():
    assert unclosed_call_start("It is [Calculator(24 * 3") == 6
    assert unclosed_call_start("It is [Calculator(24 * 3) → 72] 72") is None
    assert unclosed_call_start("see [") == 4
    assert unclosed_call_start("a [b c] d") is None
    assert arrow_position("[Calculator(1) ->") == len("[Calculator(1) ->")
    assert arrow_position("[Calculator(1)") is None


@pytest.mark.parametrize("raw, visible", [
    ("It is [Calculator(24 * 300) → 7200] 7200 pixels wide.", "It is 7200 pixels wide."),
    ("It will be [Calendar(today + 1 day) → Friday, November 27, 2026] Friday.", "It will be Friday."),
    ("[Calendar() → Today is Thursday, November 26, 2026.] Today is Thursday.", " Today is Thursday."),
    ("That is [Calculator(2 / 3) → 0.67] about two thirds.", "That is 0.67 about two thirds."),
    ("It is [Calculator(1 / 0) →] unknown.", "It is unknown."),
    ("It is [Calculator(24 * 3", "It is "),
    ("Prompt: a fox\nSize: 512 x 512", "Prompt: a fox\nSize: 512 x 512"),
])
def test_render_visible(raw, visible):
    assert render_visible(raw) == visible


RAWS = [
    "It is [Calculator(24 * 300) → 7200] 7200 pixels wide.",
    "So [Calculator(2 / 3) → 0.67] about two thirds, [Calendar(next Friday) → Friday, November 27, 2026] Friday!",
    "[Calendar() → Today is Thursday, November 26, 2026.] Today is Thursday, November 26, 2026.",
    "a [note] and [Calculator(1 + 1) -> 2] 2 and [Calculator(3 →] x",
]


@pytest.mark.parametrize("raw", RAWS)
def test_streamed_renderings_are_prefixes_of_the_final_one(raw):
    final = render_visible(raw)
    previous = ""
    for end in range(len(raw) + 1):
        partial = render_visible(raw[:end], complete=False)
        assert final.startswith(partial), (raw[:end], partial)
        assert partial.startswith(previous) or len(partial) < len(previous)
        previous = partial
