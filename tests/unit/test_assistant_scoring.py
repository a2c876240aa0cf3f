"""How the evaluation scores a reply: prompt fields, dates, numbers."""

from studio.assistant.reply import Reply
from studio.assistant.train.evaluate import complete_fields, is_correct, score_prompt
from studio.assistant.train.examples import Example

POSTER = Example(kind="prompt", question="a poster of a red fox in a forest",
                 answer="Prompt: a poster of a red fox in a forest, watercolor, soft light\n"
                        "Negative prompt: blurry, text\nSize: 768 x 1024",
                 expected="red fox forest")


def reply(text: str) -> Reply:
    return Reply(raw=" " + text)


def test_a_prompt_keeps_every_subject_word_and_adds_a_modifier():
    assert score_prompt(POSTER, reply(POSTER.answer)).correct
    assert not score_prompt(POSTER, reply("Prompt: a poster of a red fix in a forest, watercolor")).kept
    assert not score_prompt(POSTER, reply("Prompt: a poster of a red fox in a forest")).modifiers
    assert not score_prompt(POSTER, reply("Prompt: a red fox in a forest, oil, oil")).no_loop


def test_complete_fields_need_all_three_and_the_asked_size():
    assert complete_fields(POSTER, reply(POSTER.answer))
    assert not complete_fields(POSTER, reply(POSTER.answer.replace("768 x 1024", "512 x 512")))
    assert not complete_fields(POSTER, reply(POSTER.answer.replace("\nSize: 768 x 1024", "")))
    assert not complete_fields(POSTER, reply("Prompt: a poster of a red fox, watercolor\nSize: 768 x 1024"))
    assert not complete_fields(POSTER, reply("It is 12."))


def test_dates_weekdays_and_numbers():
    day = Example(kind="date", question="q", answer="", expected="June 21, 2027")
    assert is_correct(day, reply("It will be Monday, June 21, 2027."))
    assert not is_correct(day, reply("It will be Monday, June 22, 2027."))
    weekday = Example(kind="date", question="q", answer="", expected="Monday")
    assert is_correct(weekday, reply("It will be Monday.")) and not is_correct(weekday, reply("Sunday."))
    number = Example(kind="design", question="q", answer="", expected="1350")
    assert is_correct(number, reply("The height is 1,350 pixels.")) and not is_correct(number, reply("1351"))
